"""The errors of the fitting layer: each names the folder or file at fault in one line.

Both derive from :class:`ValueError`, so a command line can catch them, print ``str(error)`` and
exit with status 2.
"""


class RunFolderError(ValueError):
    """The output folder cannot be used: it is a file, read-only, holds someone else's files, is
    locked by another live process, or already holds a run that was not to be resumed.

    Example:
        ```python
        import optax
        open("results", "w").close()
        try:
            sd.fit(sd.SLIF(), sd.SpikeTrains([[[0.5]]], t0=0.0, t1=1.0), learn=["mu_v"], loss=sd.FirstSpikeTimeLoss(1, t1=1.0),
                   simulation=sd.Simulation(0.0, 1.0, 0.01, 4), key=jax.random.key(0), steps=1, optimizer=optax.sgd(0.1), out_dir="results")
        except sd.RunFolderError as error:
            print(error)   # results: is a file, not a folder
        ```
    """

    def __init__(self, path, message: str):
        self.path = str(path)
        super().__init__(f"{path}: {message}")


class CheckpointError(ValueError):
    """A checkpoint is empty, truncated, not a spikesde checkpoint, or from another configuration.

    Example:
        ```python
        error = sd.CheckpointError("run/checkpoint.eqx", "is empty; delete it to start the run afresh")
        isinstance(error, ValueError), error.path   # True, 'run/checkpoint.eqx': fit(..., resume=True) raises it
        ```
    """

    def __init__(self, path, message: str):
        self.path = str(path)
        super().__init__(f"{path}: {message}")
