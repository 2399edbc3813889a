"""The models of one run of a configuration: the truth, the start and the fitted model.

Notebooks and reports compare what the data came from, where training started and where it ended:
``run_models(config, summary)`` rebuilds all three from the configuration (with the run's swept
values) and the run's final estimates, without reading checkpoints.
"""

from typing import Any, NamedTuple

from . import schema
from .build import build_model, build_simulation, replace_at, true_model
from .config import ConfigError, expand_sweep, to_builtins
from .summary import RunSummary


class RunModels(NamedTuple):
    """``truth`` (``None`` for recorded data), ``start``, ``fitted`` (``None`` without a summary), ``simulation``.

    Example:
        ```python
        models = sd.experiments.RunModels(truth=sd.SLIF(1, 1.5), start=sd.SLIF(1, 1.0), fitted=None,
                                          simulation=sd.Simulation(0.0, 2.0, 0.01, 3))   # what run_models returns
        truth, start, fitted, simulation = models
        ```
    """

    truth: Any
    start: Any
    fitted: Any
    simulation: Any


def run_models(config: schema.Config | dict, summary: RunSummary | None = None) -> RunModels:
    """The true, starting and fitted models of the run of ``config`` that ``summary`` describes.

    Arguments:
        config: the sweep's configuration (:func:`spikesde.load_config`) or its raw TOML data.
        summary: one entry of ``run_sweep(...).runs``; ``None`` for a configuration of one run
            (then ``fitted`` is ``None``).
    Raises:
        ConfigError: ``summary`` names no run of this configuration's sweep, or ``summary`` is
            missing for a sweep of several runs.

    Example:
        ```python
        config = {"name": "fit", "model": {"kind": "slif", "input_current": {"kind": "constant", "value": 1.0}},
                  "data": {"source": "simulate", "num_samples": 16, "true": {"input_current.value": 1.5}},
                  "learn": {"input_current.value": {}}, "simulation": {"t0": 0.0, "t1": 2.0, "dt": 0.01, "max_spikes": 3},
                  "loss": {"kind": "spike_time_mse"}, "optimizer": {"name": "adam", "lr": 0.05}, "training": {"steps": 3}}
        models = sd.experiments.run_models(config)   # or a Config from load_config
        models.truth.input_current.value, models.start.input_current.value   # 1.5, 1.0
        ```
    """
    runs = expand_sweep(to_builtins(config) if isinstance(config, schema.Config) else config)
    if summary is None and len(runs) != 1:
        raise ConfigError("sweep", f"has {len(runs)} runs: pass the summary of the one wanted")
    matching = runs if summary is None else [r for r in runs if r.folder == summary.folder]
    if not matching:
        raise ConfigError("sweep", f"no run {summary.folder!r} (runs: {', '.join(r.folder for r in runs)})")
    c = matching[0].config
    model = build_model(c.model)
    truth = true_model(c, model) if isinstance(c.data, schema.SimulatedData) else None
    start = model
    for path, entry in c.learn.items():
        if entry.init is not None:
            start = replace_at(start, path, entry.init, f"learn.{path}.init")
    fitted = None
    if summary is not None:
        fitted = start
        for path, value in summary.estimate.items():
            fitted = replace_at(fitted, path, value, f"learn.{path}")
    return RunModels(truth, start, fitted, build_simulation(c))
