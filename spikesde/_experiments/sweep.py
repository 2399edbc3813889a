"""Run every configuration of a sweep through :func:`spikesde.fit` and write the sweep's folder.

    <out>/config.toml              the resolved configuration (every default filled in)
    <out>/sweep.json               what makes the folder a sweep folder: the runs and their folders
    <out>/summary.json, summary.md final estimates (truth and error when the data are simulated), test metrics
    <out>/figure.png               test metric and learned values against the step
    <out>/<key>=<value>/.../       one run folder of :func:`spikesde.fit` per run (``run/`` without a sweep)

Everything is built and checked (every run's model, data, loss, optimiser) before anything is
written, so a bad value leaves no folder behind. ``--overwrite`` deletes only the files this
program writes, and refuses a folder that is not a sweep folder; ``--resume`` takes a lock on the
folder, refuses a folder made by another configuration, skips finished runs and resumes the others
from their checkpoints.
"""

import dataclasses
import json
import os
import time
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

from typing import Literal

import jax
import msgspec
import numpy as np

from .._training import Learn, RunFolderError, Simulated, Trainer, fit
from .._training.run_folder import OWNED_FILES, RunLock, check_out_dir, remove_owned_files
from .._training.tracker import read_metrics
from . import schema
from .build import (
    build_estimator, build_loss, build_model, build_optimizer, build_simulation, check_learn, test_metrics, true_model,
)
from .config import ConfigError, Run, config_to_toml, convert, expand_sweep, read_toml, to_builtins
from .summary import RunSummary, summarize, summary_table

SWEEP_FILE = "sweep.json"
SWEEP_FILES = ("config.toml", SWEEP_FILE, "summary.json", "summary.md", "figure.png")


@dataclasses.dataclass(frozen=True)
class PlannedRun:
    """One run, fully built: everything :func:`spikesde.fit` takes, and the truth if known."""

    run: Run
    kwargs: dict
    truth: dict | None
    masks: dict


@dataclasses.dataclass(frozen=True)
class SweepResult:
    out_dir: Path
    runs: list[RunSummary]
    figure: Path | None


def _fold(value) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value % 2**32
    if isinstance(value, float):
        return round(value * 1_000_000) % 2**32
    return zlib.crc32(json.dumps(value, sort_keys=True).encode())


def run_keys(seed: int, run: Run) -> list[jax.Array]:
    """Four keys of a run (data, test data, training, spare) drawn from ``seed`` and the run's values.

    The swept values are folded in by key name (integers as they are, other numbers times 10^6),
    not by position, so editing the sweep does not change a run; for the Figure-1 sweep this is
    the derivation of the earlier experiment code, so the same seed draws the same data sets.
    """
    key = jax.random.key(seed)
    for name in sorted(run.values):
        key = jax.random.fold_in(key, _fold(run.values[name]))
    return list(jax.random.split(key, 4))


def _data(c: schema.Config, run: Run, model):
    """Training and test data of a run, and the true model (``None`` for a file)."""
    if isinstance(c.data, schema.GrasshopperData):
        raise ConfigError("data.source", "the grasshopper recording is fitted with loss.kind = 'exact_likelihood'")
    if isinstance(c.data, schema.FileData):
        from .._io import load_spike_trains  # noqa: PLC0415

        try:
            trains = load_spike_trains(c.data.path, format=None if c.data.format == "auto" else c.data.format)
        except (OSError, ValueError, TypeError) as error:
            raise ConfigError("data.path", f"{c.data.path}: {error}") from None
        return trains, (c.data.test_fraction or None), None
    truth = true_model(c, model)
    data_key, test_key = run_keys(c.data.seed, run)[:2]
    test_size = c.data.test_size or c.data.num_samples
    return Simulated(truth, c.data.num_samples, data_key), Simulated(truth, test_size, test_key), truth


def plan(runs: list[Run], out_dir: Path) -> list[PlannedRun]:
    """Build every run's arguments to :func:`spikesde.fit` and check them; writes nothing."""
    planned = []
    for run in runs:
        c = run.config
        try:
            model = build_model(c.model)
        except ConfigError as error:
            swept = [k for k in run.values if error.path == k or error.path.startswith(f"{k}.")]
            where = f'sweep."{swept[0]}"' if swept else error.path
            raise ConfigError(where, f"{error.message} (in the sweep run {run.folder})" if run.values else error.message) from None
        check_learn(c, model)
        data, test, truth_model = _data(c, run, model)
        learn = [Learn(path, init=e.init, lower=e.lower, upper=e.upper) for path, e in c.learn.items()]
        kwargs = dict(
            learn=learn, loss=build_loss(c), optimizer=build_optimizer(c), simulation=build_simulation(c),
            model_samples=c.training.model_samples or None, gradient=c.training.gradient,
            metrics=test_metrics(c), estimator=build_estimator(c, model),
        )  # fmt: skip
        try:  # the trainer checks the learned paths against the model, as fit will
            Trainer(model, **{**kwargs, "model_samples": kwargs["model_samples"] or 2})
        except (TypeError, ValueError) as error:
            raise ConfigError("learn", str(error)) from None
        kwargs.update(model=model, data=data, test=test, steps=c.training.steps, checkpoint_every=c.training.checkpoint_every,
                      key=run_keys(c.training.seed, run)[2], out_dir=out_dir / run.folder)  # fmt: skip
        truth = None if truth_model is None else {p: np.asarray(_get(truth_model, p)) for p in c.learn}
        mask = getattr(model, "mask", None)
        masks = {"weights": np.asarray(mask)} if mask is not None and "weights" in c.learn else {}
        planned.append(PlannedRun(run, kwargs, truth, masks))
    return planned


def _get(model, path: str):
    for part in path.split("."):
        model = getattr(model, part)
    return model


# ---------------------------------------------------------------------------------------------
# The sweep folder.


def check_sweep_folder(out_dir: Path, config: schema.Config, *, resume: bool, overwrite: bool) -> str:
    """``"new"``, ``"resume"`` or ``"overwrite"`` for ``out_dir``, or a one-line error; writes nothing."""
    if out_dir.exists() and out_dir.is_dir() and any(out_dir.iterdir()):
        if not (out_dir / SWEEP_FILE).is_file():
            raise RunFolderError(out_dir, "is not empty and is not a spikesde sweep folder (no sweep.json); "
                                 "choose an empty or new folder with --out (nothing was changed)")  # fmt: skip
        _read_sweep_file(out_dir)  # a corrupted sweep.json is refused, whatever the mode
        if resume:
            _check_same_config(out_dir, config)
            return "resume"
        if overwrite:
            return "overwrite"
        raise RunFolderError(out_dir, "already holds a run; pass --resume to continue it, --overwrite to replace it, "
                             "or choose another folder with --out")  # fmt: skip
    check_out_dir(out_dir, resume=False, overwrite=False)  # a file, an unwritable parent: one-line errors
    return "new"


class _SweepFile(msgspec.Struct):
    spikesde_sweep: Literal[1]
    runs: list[str]


def _read_sweep_file(out_dir: Path) -> _SweepFile:
    path = out_dir / SWEEP_FILE
    try:
        return msgspec.json.decode(path.read_bytes(), type=_SweepFile)
    except (OSError, msgspec.DecodeError):
        raise RunFolderError(path, "is corrupted or not a spikesde sweep file; move the folder aside") from None


def _check_same_config(out_dir: Path, config: schema.Config) -> None:
    try:
        stored = to_builtins(convert(read_toml(out_dir / "config.toml")))
    except ConfigError as error:
        raise RunFolderError(out_dir / "config.toml", f"cannot be read back ({error}); start a new run with --out") from None
    changed = _diff(stored, to_builtins(config))
    if changed:
        raise ConfigError(changed[0], f"differs from the configuration of the run in {out_dir} ({', '.join(changed)}); "
                          "resume with the same configuration and --set values, or start a new run with --out")  # fmt: skip


def _diff(a, b, prefix: str = "") -> list[str]:
    keys = []
    for key in sorted(set(a) | set(b)):
        path = f"{prefix}{key}"
        if isinstance(a.get(key), dict) and isinstance(b.get(key), dict):
            keys += _diff(a[key], b[key], path + ".")
        elif a.get(key) != b.get(key):
            keys.append(path)
    return keys


def _remove_written(out_dir: Path, keep: list[str]) -> None:
    """Delete what an earlier sweep wrote in ``out_dir`` (its own files only; user files stay).

    Run folders in ``keep`` are left to :func:`spikesde.fit` (``overwrite=True``), which replaces its files.
    """
    for folder in _read_sweep_file(out_dir).runs:
        if folder in keep:
            continue
        run_dir = (out_dir / folder).resolve()
        if out_dir.resolve() not in run_dir.parents or not run_dir.is_dir():
            continue  # never follow a path out of the sweep folder
        remove_owned_files(run_dir)
        if _lock_is_stale(run_dir):  # left by a killed process; the sweep's own lock is held
            (run_dir / ".lock").unlink(missing_ok=True)
        while run_dir != out_dir.resolve() and not any(run_dir.iterdir()):
            run_dir.rmdir()
            run_dir = run_dir.parent
    for name in SWEEP_FILES:
        (out_dir / name).unlink(missing_ok=True)


def _lock_is_stale(folder: Path) -> bool:
    try:
        os.kill(int((folder / ".lock").read_text().strip()), 0)
    except (OSError, ValueError):
        return True
    return False


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Running.


def run_sweep(config: schema.Config | dict, out_dir: str | Path | None = None, *, resume: bool = False,
              overwrite: bool = False, progress: bool = True, plot: bool = True,
              callback: Callable | None = None) -> SweepResult:  # fmt: skip
    """Run every run of a configuration's sweep through :func:`spikesde.fit` into ``out_dir``.

    Arguments:
        config: a :class:`spikesde.Config` (:func:`spikesde.load_config`) or its raw TOML data.
        out_dir: the sweep folder (default ``runs/<config.name>``).
        resume: continue the sweep in ``out_dir``: finished runs are kept, the others resume from
            their checkpoints; the configuration must be the one the sweep was started with.
        overwrite: replace the sweep in ``out_dir`` (only files this program wrote are deleted).
        progress: progress bars; plot: draw ``figure.png`` (needs matplotlib).
        callback: passed to :func:`spikesde.fit` (``callback(step, state, record)``).

    Example:
        ```python
        config = {"name": "fit", "model": {"kind": "slif", "input_current": {"kind": "constant", "value": 1.0}},
                  "data": {"source": "simulate", "num_samples": 16, "true": {"input_current.value": 1.5}},
                  "learn": {"input_current.value": {}}, "simulation": {"t0": 0.0, "t1": 2.0, "dt": 0.01, "max_spikes": 3},
                  "loss": {"kind": "spike_time_mse"}, "optimizer": {"name": "adam", "lr": 0.05}, "training": {"steps": 3}}
        result = sd.experiments.run_sweep(config, "runs", progress=False, plot=False)   # also a Config from load_config
        result.runs[0].folder   # one run folder per sweep point, each with its summary
        ```
    """
    raw = to_builtins(config) if isinstance(config, schema.Config) else config
    config = convert(raw)
    runs = expand_sweep(raw)
    out_dir = Path(out_dir) if out_dir is not None else Path("runs") / config.name
    if isinstance(config.loss, schema.ExactLikelihood):  # Newton steps on the exact likelihood, not the trainer
        from .likelihood_run import run_likelihood_fit  # noqa: PLC0415

        folder, figure = run_likelihood_fit(config, out_dir, resume=resume, overwrite=overwrite, plot=plot)
        return SweepResult(folder, [], figure)
    planned = plan(runs, out_dir)
    mode = check_sweep_folder(out_dir, config, resume=resume, overwrite=overwrite)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunFolderError(out_dir, f"cannot be created ({error.strerror})") from None
    with RunLock(out_dir):
        if mode == "overwrite":
            _remove_written(out_dir, keep=[r.folder for r in runs])
        if mode != "resume":
            _write(out_dir / "config.toml", config_to_toml(config))
            _write(out_dir / SWEEP_FILE, msgspec.json.format(msgspec.json.encode(_SweepFile(1, [r.folder for r in runs]))).decode())
        summaries = [_execute(p, mode, progress=progress, callback=callback) for p in planned]
        _write(out_dir / "summary.json", json.dumps([_plain(s) for s in summaries], indent=2) + "\n")
        _write(out_dir / "summary.md", summary_table(summaries))
        figure = None
        if plot:
            from .plotting import plot_sweep  # noqa: PLC0415 (matplotlib only when plotting)

            try:
                figure = plot_sweep(out_dir, config, summaries, planned[0].masks)
            except ImportError as error:  # the results are written; only the figure is missing
                warnings.warn(f"no figure: {error}", RuntimeWarning, stacklevel=2)
    return SweepResult(out_dir, summaries, figure)


def _plain(summary: RunSummary) -> dict:
    return msgspec.to_builtins(summary)


def _execute(p: PlannedRun, mode: str, *, progress: bool, callback) -> RunSummary:
    folder = p.kwargs["out_dir"]
    t = p.run.config.training
    wall = None
    if not (mode == "resume" and _finished(folder, t.steps)):
        tic = time.perf_counter()
        fit(**p.kwargs, resume=mode == "resume", overwrite=mode == "overwrite", progress=progress, callback=callback)
        wall = time.perf_counter() - tic
    records = read_metrics(folder / "metrics.jsonl")  # every step, also those of a killed earlier session
    return summarize(p.run.folder, p.run.values, records, steps=t.steps, final_window=t.final_window,
                     tolerance=t.tolerance, truth=p.truth, masks=p.masks, wall_seconds=wall)  # fmt: skip


def _finished(folder: Path, steps: int) -> bool:
    """A run that completed in an earlier session (its ``final.json`` records every step)."""
    try:
        return json.loads((folder / "final.json").read_text(encoding="utf-8")).get("steps") == steps
    except (OSError, ValueError, AttributeError):
        return False


__all__ = ["OWNED_FILES", "SweepResult", "run_sweep"]
