"""The errors of the fitting layer: each names the folder or file at fault in one line.

Both derive from :class:`ValueError`, so a command line can catch them, print ``str(error)`` and
exit with status 2.
"""


class RunFolderError(ValueError):
    """The output folder cannot be used: it is a file, read-only, holds someone else's files, is
    locked by another live process, or already holds a run that was not to be resumed."""

    def __init__(self, path, message: str):
        self.path = str(path)
        super().__init__(f"{path}: {message}")


class CheckpointError(ValueError):
    """A checkpoint is empty, truncated, not a spikesde checkpoint, or from another configuration."""

    def __init__(self, path, message: str):
        self.path = str(path)
        super().__init__(f"{path}: {message}")
