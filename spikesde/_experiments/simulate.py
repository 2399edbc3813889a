"""``spikesde simulate``: write spike trains of a configuration's true model to a file.

The trains are ``data.num_samples`` samples of ``[model]`` with the ``[data.true]`` values, drawn
with ``data.seed`` on the ``[simulation]`` window (the training data that ``spikesde fit`` would draw
are keyed per run, so these are a fresh set). ``[sweep]`` is ignored: the base values are used.
"""

import os
from pathlib import Path

import jax
import numpy as np

from .._training import Simulated
from .._training.data import overflow_cause
from . import schema
from .build import build_model, build_simulation, true_model
from .config import ConfigError, convert

_SUFFIXES = (".npz", ".nwb", ".mat")


def simulate_to_file(raw: dict, out: Path, *, overwrite: bool = False):
    """Draw and write the trains; returns the path and the :class:`spikesde.SpikeTrains`."""
    config = convert(raw)
    if not isinstance(config.data, schema.SimulatedData):
        raise ConfigError("data.source", "is 'file'; simulate needs data.source = \"simulate\" and its [data.true]")
    _check_out(out, overwrite)
    simulation = build_simulation(config)
    truth = true_model(config, build_model(config.model))
    buffers, overflow = Simulated(truth, config.data.num_samples, jax.random.key(config.data.seed)).draw(simulation)
    if overflow > 0 and not config.simulation.keep_first:
        raise ConfigError("simulation.max_spikes", f"{overflow:.0%} of the trains fired more than max_spikes = "
                          f"{config.simulation.max_spikes} times{overflow_cause(simulation)}; raise it "
                          "(or set keep_first = true)")  # fmt: skip
    from .._io import SpikeTrains, save_spike_trains  # noqa: PLC0415

    s = config.simulation
    # In the solve's dtype: from_buffers puts spikes that float32 rounded just past the window on its edge.
    trains = SpikeTrains.from_buffers(np.asarray(buffers), s.t0, s.t1)
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")  # written whole, then renamed: no torn file
    try:
        save_spike_trains(trains, tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out, trains


def _check_out(out: Path, overwrite: bool) -> None:
    if out.is_dir():
        raise ConfigError("--out", f"{out} is a folder; name a file")
    if out.suffix.lower() not in _SUFFIXES:
        raise ConfigError("--out", f"{out}: the suffix must be one of {', '.join(_SUFFIXES)} (it picks the format)")
    if out.exists() and not overwrite:
        raise ConfigError("--out", f"{out} exists; pass --overwrite to replace it, or choose another file")
    parent = out.absolute().parent
    if not parent.is_dir():
        raise ConfigError("--out", f"{parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError("--out", f"{parent} is not writable")
