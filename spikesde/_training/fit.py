r"""Fit any model to spike-train data: the loop around :class:`spikesde.Trainer`, with a run folder.

:func:`fit` validates every argument before it writes anything, draws or pads the data, then runs
``steps`` compiled training steps (one XLA program per step, compiled once per shapes and reused by
later fits with equal settings). With ``out_dir`` it keeps a run folder (see
:mod:`spikesde._training.run_folder`): ``metrics.jsonl`` (one line per step), ``checkpoint.eqx``
every ``checkpoint_every`` steps and at the end, ``final.json``. A killed run resumes
(``resume=True``) from its last checkpoint to bit-identical parameters, with every step's line
in ``metrics.jsonl`` exactly once.

With several devices the steps are data-parallel over a :class:`jax.sharding.Mesh` (see
:mod:`spikesde._training.sharding`); with several processes (:func:`jax.distributed.initialize`)
every process calls :func:`fit` with the same arguments, and process 0 alone keeps the run folder.
"""

import dataclasses
import json
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import equinox as eqx
import jax
import numpy as np
import optax
from jax.sharding import Mesh
from jaxtyping import PRNGKeyArray

from .checkpoint import check_fingerprint, load_checkpoint, save_checkpoint
from .data import array_digest, as_buffers, overflow_cause, split
from .errors import RunFolderError
from .estimator import AbstractGradientEstimator, MaximumLikelihood, PathwiseGradient
from .likelihood_fit import maximum_likelihood_fit
from .fingerprint import digest
from .learn import Learn
from .run_folder import RunLock, check_out_dir, read_run_file, remove_owned_files, write_run_file, RUN_FILE
from .sharding import from_writer, is_writer
from .simulation import Simulation
from .tracker import JsonLinesTracker, read_metrics, repair_metrics, to_json
from .trainer import Trainer, TrainState


@dataclasses.dataclass(frozen=True)
class FitResult:
    """The outcome of :func:`fit`.

    Fields:
        model: the fitted model (the learned values in place).
        values: the learned values by path (NumPy arrays).
        history: one metrics record per step (``step``, ``loss``, ``test_loss``, ``test_<metric>``,
            ``overflow``, ``values``, ``seconds``).
        final: the test metrics of the final parameters on fresh model samples (empty without test data).
        state: the final :class:`TrainState`.
        trainer: the :class:`Trainer` (its ``step``, ``sample``, ``evaluate`` for further use).
        out_dir: the run folder, or ``None``.

    Example:
        ```python
        import optax
        simulation = sd.Simulation(t0=0.0, t1=2.0, dt=0.01, max_spikes=3, keep_first=True)
        result = sd.fit(sd.SLIF(1, 1.0), sd.Simulated(sd.SLIF(1, 1.5), 16, jax.random.key(1)),
                        learn=["input_current.value"], loss=sd.FirstSpikeTimeLoss(3, t1=2.0),
                        optimizer=optax.adam(0.05), simulation=simulation, steps=3, key=jax.random.key(0), progress=False)
        result.model.input_current.value, len(result.history), result.state.step   # fitted model, 3 records, 3
        ```
    """

    model: object
    values: dict
    history: list
    final: dict
    state: TrainState
    trainer: Trainer
    out_dir: Path | None


@eqx.filter_jit
def _train_step(trainer, state, data, test_data):
    return trainer.step(state, data, test_data)


@eqx.filter_jit
def _evaluate(trainer, params, key, test_data):
    return trainer.evaluate(params, key, test_data)


def fit(
    model,
    data,
    *,
    learn: Sequence[str | Learn],
    loss=None,
    optimizer: optax.GradientTransformation | None = None,
    simulation: Simulation,
    steps: int | None = None,
    key: PRNGKeyArray,
    model_samples: int | None = None,
    test=None,
    gradient: str = "auto",
    metrics: Mapping[str, Callable] | None = None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    checkpoint_every: int = 100,
    tracker=None,
    progress: bool = True,
    callback: Callable | None = None,
    estimator: AbstractGradientEstimator | None = None,
    mesh: Mesh | None = None,
) -> FitResult:
    """Learn the parameters ``learn`` of ``model`` from spike-train ``data``.

    Arguments:
        model: a neuron population or a :class:`spikesde.Network` (everything not learned is fixed).
        data: a :class:`spikesde.SpikeTrains` on the simulation window, an array of padded buffers
            ``(trials, neurons, max_spikes)``, or :class:`spikesde.Simulated` (drawn here).
        learn, loss, optimizer, simulation, gradient, metrics, estimator: as for :class:`spikesde.Trainer`
            (``estimator``: the gradient estimator, an option object; default exact pathwise
            gradients, :class:`spikesde.PathwiseGradient`).
        steps: optimiser steps in total (a resumed run continues up to ``steps``).
        key: PRNG key of the run (model samples, the test split, the final evaluation).
        model_samples: model samples per step (default: the number of training trials).
        test: test data (as ``data``), a fraction of ``data`` held out at random, or ``None``.
        out_dir: the run folder (``None``: nothing is written). It must be new, empty, or a run
            folder of :func:`fit`; nothing else in it is ever deleted.
        resume: continue the run in ``out_dir`` from its checkpoint (a new run if there is none).
            A run folder of another configuration is refused.
        overwrite: start again in a run folder (only the files a run writes are replaced).
        checkpoint_every: steps between checkpoints (0: only at the end).
        tracker: an extra sink for the records: any object with ``log(step, record)`` and ``close()``.
        progress: show a tqdm progress bar (if tqdm is installed).
        callback: called as ``callback(step, state, record)`` after every step; an exception
            from it stops the run (which then resumes from its last checkpoint).
        mesh: the devices of the steps, a :class:`jax.sharding.Mesh` (default: all devices when there
            are several): model samples and data trials are split over it, the parameters replicated.
            The run folder does not record it, so a run resumes on another number of devices.

    With several processes, process 0 alone writes ``out_dir`` and calls ``tracker`` and the
    progress bar (``callback`` runs on every process; an exception from it must stop them all);
    the others return the history of the steps they ran.

    With ``estimator=MaximumLikelihood()`` and no ``loss`` the fit maximises the data's likelihood
    by Newton steps (:func:`spikesde.fit_likelihood`) and returns a :class:`spikesde.LikelihoodFit`
    (no ``optimizer``, no model samples; ``steps`` caps the Newton steps); with a ``loss`` it runs
    the optimiser's steps on the likelihood's gradient as before (with a run folder).

    Raises:
        RunFolderError, CheckpointError: the folder or checkpoint cannot be used (one-line messages);
        ValueError, TypeError: a bad argument, named.

    Example:
        ```python
        import optax
        simulation = sd.Simulation(t0=0.0, t1=2.0, dt=0.01, max_spikes=3, keep_first=True)
        result = sd.fit(sd.SLIF(1, 1.0), sd.Simulated(sd.SLIF(1, 1.5), 16, jax.random.key(1)),
                        learn=["input_current.value"], loss=sd.FirstSpikeTimeLoss(3, t1=2.0),
                        optimizer=optax.adam(0.05), simulation=simulation, steps=3, key=jax.random.key(0), progress=False)
        result.values["input_current.value"]   # moving from 1.0 towards 1.5
        ```
    """
    if isinstance(estimator, MaximumLikelihood) and loss is None:  # no loss, optimiser or samples: see fit_likelihood
        return maximum_likelihood_fit(estimator, model, data, learn=learn, simulation=simulation, steps=steps, test=test,
                                      key=key, metrics=metrics, model_samples=model_samples, out_dir=out_dir)  # fmt: skip
    if loss is None or optimizer is None or steps is None:
        raise TypeError("fit needs loss=, optimizer= and steps= (only estimator=MaximumLikelihood() goes without them)")
    key = _check_options(steps=steps, checkpoint_every=checkpoint_every, key=key, callback=callback, tracker=tracker)
    if out_dir is None and (resume or overwrite):
        raise ValueError("resume and overwrite need out_dir (the run folder to continue or replace)")
    writer = is_writer()
    mode = None if out_dir is None else _agree(writer and check_out_dir, out_dir, resume=resume, overwrite=overwrite)
    if not isinstance(simulation, Simulation):
        raise TypeError(f"simulation must be a Simulation, got {type(simulation).__name__}")
    state_key, split_key, eval_key = jax.random.split(key, 3)
    train, test_buffers = _data(data, test, simulation, split_key)
    trainer = Trainer(
        model, learn=learn, loss=loss, optimizer=optimizer, simulation=simulation,
        model_samples=train.shape[0] if model_samples is None else model_samples, gradient=gradient, metrics=metrics,
        estimator=estimator, mesh=mesh,
    )  # fmt: skip
    train = trainer.check_data(train, "data")
    test_buffers = None if test_buffers is None else trainer.check_data(test_buffers, "test")
    fingerprint = _fingerprint(model, learn, loss, optimizer, simulation, trainer, gradient, train, test_buffers, key, estimator)
    folder = None if out_dir is None else Path(out_dir)
    lock = None if folder is None else _agree(writer and _open_folder, folder, mode, fingerprint)
    try:
        state = _agree(_start_state, trainer, state_key, folder if writer else None, fingerprint, steps)
        state = trainer.replicated(_from_writer(state))
        sinks = [s for s in (None if folder is None else JsonLinesTracker(folder / "metrics.jsonl"), tracker) if s is not None]
        sinks = sinks if writer else []
        # The data are fixed for the whole run: what the loss computes from them alone is computed once.
        state, history = _loop(trainer.replicated(trainer.prepared(train)), state, trainer.sharded(train),
                               trainer.sharded(test_buffers), steps, checkpoint_every, folder if writer else None,
                               fingerprint, sinks, progress and writer, callback)  # fmt: skip
        trainer = trainer.replicated(trainer)
        final = {}
        if test_buffers is not None:
            final = to_json(jax.device_get(_evaluate(trainer, state.params, eval_key, trainer.sharded(test_buffers))))
        if folder is not None and writer:
            history = _finish(folder, trainer, state, fingerprint, final)
    finally:
        if lock is not None:
            lock.release()
    values = {path: np.asarray(v) for path, v in trainer.values(state.params).items()}
    return FitResult(trainer.model_at(state.params), values, history, final, state, trainer, folder)


def _fingerprint(model, learn, loss, optimizer, simulation, trainer, gradient, train, test, key, estimator=None) -> dict[str, str]:
    """Hashes of everything that determines the run, by component (what a checkpoint must match)."""
    learn = learn if isinstance(learn, (str, Learn)) else tuple(learn)
    # The default estimator leaves the hash as it was before estimators were options (old runs resume).
    training = [trainer.model_samples, gradient] + ([] if estimator is None or isinstance(estimator, PathwiseGradient) else [estimator])
    return {
        "model": digest(model), "learn": digest(learn), "loss": digest(loss), "optimizer": digest(optimizer),
        "simulation": digest(simulation), "training": digest(training),
        "data": array_digest(np.asarray(train)), "test": array_digest(None if test is None else np.asarray(test)),
        "key": digest(key),
    }  # fmt: skip


def _finish(folder: Path, trainer: Trainer, state: TrainState, fingerprint: dict, final: dict) -> list[dict]:
    """The last checkpoint and ``final.json``; returns the whole history from ``metrics.jsonl``."""
    save_checkpoint(folder / "checkpoint.eqx", state, fingerprint)
    summary = {"steps": int(state.step), "values": to_json(trainer.values(state.params)), "test": final}
    (folder / "final.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return read_metrics(folder / "metrics.jsonl")


def _agree(work, *args, **kwargs):
    """``work(*args, **kwargs)`` where ``work`` is not ``False`` (process 0 alone, for the run
    folder); with several processes all of them raise when it raised on one, so none waits on a
    collective the others never reach."""
    failure, result = None, None
    try:
        result = work(*args, **kwargs) if work else None
    except BaseException as error:  # re-raised below, after the other processes hear of it
        failure = error
    if jax.process_count() > 1:
        failed = from_writer(np.asarray(failure is not None)) or failure is not None
        if failed and failure is None:
            raise RuntimeError("process 0 could not start the run; its error says why")
    if failure is not None:
        raise failure
    return result


def _from_writer(state: TrainState) -> TrainState:
    """The starting state of process 0 (a fresh one, or its checkpoint's) on every process."""
    if jax.process_count() == 1:
        return state
    impl = jax.random.key_impl(state.key)
    host = jax.device_get((state.step, state.params, state.opt_state, jax.random.key_data(state.key)))
    step, params, opt_state, key = from_writer(host)
    return TrainState(step, params, opt_state, jax.random.wrap_key_data(key, impl=impl))


def _check_options(*, steps, checkpoint_every, key, callback, tracker) -> PRNGKeyArray:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, (int, np.integer)) or checkpoint_every < 0:
        raise ValueError(f"checkpoint_every must be a non-negative integer, got {checkpoint_every!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    if tracker is not None and not (callable(getattr(tracker, "log", None)) and callable(getattr(tracker, "close", None))):
        raise TypeError(f"tracker must have log(step, record) and close() methods, got {type(tracker).__name__}")
    if isinstance(key, jax.Array) and jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key) and key.shape == ():
        return key
    if isinstance(key, (jax.Array, np.ndarray)) and key.dtype == np.uint32 and key.shape == (2,):
        return jax.random.wrap_key_data(key)
    raise TypeError(f"key must be one JAX PRNG key (jax.random.key(seed)), got {type(key).__name__}")


def _data(data, test, simulation, split_key):
    train = as_buffers(data, simulation, "data")
    if test is None:
        return train, None
    if isinstance(test, float):
        return split(train, test, split_key)
    return train, as_buffers(test, simulation, "test")


def _open_folder(folder: Path, mode: str, fingerprint: dict) -> RunLock:
    """Create or reopen the run folder and lock it (everything was validated before)."""
    if mode == "resume":
        check_fingerprint(folder / RUN_FILE, read_run_file(folder), fingerprint)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunFolderError(folder, f"cannot be created ({error.strerror})") from None
    lock = RunLock(folder).acquire()
    try:
        if mode == "overwrite":
            remove_owned_files(folder)
        if mode != "resume":
            write_run_file(folder, fingerprint)
    except BaseException:
        lock.release()
        raise
    return lock


def _start_state(trainer: Trainer, key, folder: Path | None, fingerprint: dict, steps: int) -> TrainState:
    state = trainer.init(key)
    if folder is None:
        return state
    checkpoint = folder / "checkpoint.eqx"
    if checkpoint.exists():
        state = load_checkpoint(checkpoint, state, fingerprint)
    if int(state.step) > steps:
        raise ValueError(f"steps={steps} is below the step {int(state.step)} of the checkpoint in {folder}")
    # Lines of steps at or after the checkpoint came from the killed run: they are redone now.
    repair_metrics(folder / "metrics.jsonl", int(state.step))
    return state


def _loop(trainer, state, train, test, steps, checkpoint_every, folder, fingerprint, sinks, progress, callback):
    history, warned, warned_nonfinite = [], trainer.simulation.keep_first, False
    bar = _progress_bar(progress, steps, int(state.step))
    try:
        for step in range(int(state.step), steps):
            tic = time.perf_counter()
            state, metrics = _train_step(trainer, state, train, test)
            record = {**to_json(jax.device_get(metrics)), "seconds": time.perf_counter() - tic}
            for sink in sinks:
                sink.log(step, record)
            history.append({"step": step, **record})
            if record["overflow"] > 0 and not warned:
                warned = True
                _warn_overflow(step, record["overflow"], trainer.simulation)
            if not np.isfinite(record["loss"]) and not warned_nonfinite:
                warned_nonfinite = True
                warnings.warn(f"step {step}: the training loss is {record['loss']} (the parameters before the "
                              f"update: {_summary(record)}); the records show every such step", RuntimeWarning, stacklevel=3)  # fmt: skip
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(_summary(record), refresh=False)
            if folder is not None and checkpoint_every and (step + 1) % checkpoint_every == 0:
                save_checkpoint(folder / "checkpoint.eqx", state, fingerprint)
            if callback is not None:
                callback(step + 1, state, record)
    finally:
        for sink in sinks:
            sink.close()
        if bar is not None:
            bar.close()
    return state, history


def _warn_overflow(step: int, fraction: float, simulation) -> None:
    warnings.warn(
        f"step {step}: {fraction:.1%} of the model samples fired more than max_spikes={simulation.max_spikes} "
        f"times{overflow_cause(simulation)}; "
        "the loss sees only the spikes they hold. Raise simulation.max_spikes (or max_events), or pass "
        "keep_first=True if comparing the first spikes is intended (the fraction is logged as 'overflow' every step)",
        RuntimeWarning,
        stacklevel=4,
    )


def _summary(record: dict) -> str:
    parts = [f"loss={record['loss']:.4g}"]
    if "test_loss" in record:
        parts.append(f"test={record['test_loss']:.4g}")
    for path, value in record["values"].items():
        if np.size(value) == 1:
            parts.append(f"{path.rsplit('.', 1)[-1]}={float(np.ravel(value)[0]):.4f}")
    return " ".join(parts)


def _progress_bar(enabled: bool, total: int, initial: int):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm  # noqa: PLC0415 (optional dependency)
    except ImportError:
        return None  # the bar is a convenience; the run goes on without it
    return tqdm(total=total, initial=initial, dynamic_ncols=True, mininterval=0.2)
