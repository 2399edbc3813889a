"""NIR's spike-data containers (``nir.data_ir``) <-> :class:`SpikeTrains`.

``nir.EventData`` holds, per sample (trial), parallel arrays of neuron indices and event times,
padded with index ``-1`` and time ``inf``, plus ``n_neurons`` and ``t_max``; ``nir.TimeGriddedData``
holds a boolean ``(samples, time_steps, neurons)`` array (spike or not) on a grid of step ``dt``
(a spike at ``t`` is in bin ``floor(t / dt)``). Both start at time 0.
"""

from __future__ import annotations

import numpy as np

from .spike_trains import SpikeTrains


def _nir():
    try:
        import nir
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("NIR support needs the nir package: pip install spikesde[nir]") from error
    return nir


def to_nir_events(trains: SpikeTrains):
    """The spikes of ``trains`` as a ``nir.EventData`` (trials become samples, events sorted by time).

    NIR's clock starts at 0: the window must start at ``t0 = 0`` (use :meth:`SpikeTrains.restrict`
    and shift otherwise).

    Example:
        ```python
        events = sd.io.to_nir_events(sd.SpikeTrains([[[0.1, 0.7], [0.4]]], t0=0.0, t1=1.0))   # a nir.EventData
        trains = sd.io.from_nir_events(events)
        ```
    """
    nir = _nir()
    if trains.t0 != 0.0:
        raise ValueError(f"NIR event data starts at time 0, but the spike trains start at t0 = {trains.t0}")
    per_sample = []
    for trial in trains.times:
        idx = np.concatenate([np.full(len(train), k, np.int64) for k, train in enumerate(trial)])
        time = np.concatenate(trial)
        order = np.argsort(time, kind="stable")
        per_sample.append((idx[order], time[order]))
    width = max(1, max(len(idx) for idx, _ in per_sample))
    idx = np.full((len(per_sample), width), -1, np.int64)
    time = np.full((len(per_sample), width), np.inf)
    for s, (i, t) in enumerate(per_sample):
        idx[s, : len(i)], time[s, : len(t)] = i, t
    return nir.EventData(idx=idx, time=time, n_neurons=trains.n_neurons, t_max=float(trains.t1))


def from_nir_events(data) -> SpikeTrains:
    """:class:`SpikeTrains` on ``[0, t_max]`` from a ``nir.EventData``; bad indices or times raise
    naming the sample and event.

    Example:
        ```python
        events = sd.io.to_nir_events(sd.SpikeTrains([[[0.1, 0.7], [0.4]]], t0=0.0, t1=1.0))
        trains = sd.io.from_nir_events(events)   # SpikeTrains on [0, t_max]
        ```
    """
    idx, time = np.asarray(data.idx), np.asarray(data.time, dtype=np.float64)
    if idx.ndim != 2 or idx.shape != time.shape:
        raise ValueError(f"EventData: idx and time must be (samples, events) arrays of one shape, got {idx.shape} and {time.shape}")
    n = int(data.n_neurons)
    trials = []
    for s in range(idx.shape[0]):
        present = idx[s] != -1
        bad = np.flatnonzero(present & ((idx[s] < 0) | (idx[s] >= n)))
        if bad.size:
            raise ValueError(f"EventData sample {s}, event {bad[0]}: neuron index {idx[s, bad[0]]} is not in [0, {n})")
        bad = np.flatnonzero(present & ~np.isfinite(time[s]))
        if bad.size:
            raise ValueError(f"EventData sample {s}, event {bad[0]}: time {time[s, bad[0]]} is not finite")
        trials.append([np.sort(time[s][present & (idx[s] == k)]) for k in range(n)])
    return SpikeTrains(trials, 0.0, float(data.t_max))


def to_nir_gridded(trains: SpikeTrains, dt: float):
    """The spikes of ``trains`` in bins of ``dt`` as a boolean ``nir.TimeGriddedData``
    (``(samples, ceil(t1 / dt), neurons)``; the window must start at 0; two spikes in one bin raise).

    Example:
        ```python
        gridded = sd.io.to_nir_gridded(sd.SpikeTrains([[[0.1, 0.7], [0.4]]], t0=0.0, t1=1.0), dt=0.1)
        gridded.data.shape   # (1, 10, 2): samples, bins, neurons
        ```
    """
    nir = _nir()
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt}")
    if trains.t0 != 0.0:
        raise ValueError(f"NIR gridded data starts at time 0, but the spike trains start at t0 = {trains.t0}")
    steps = int(np.ceil(trains.t1 / dt - 1e-9))
    counts = np.zeros((trains.n_trials, steps, trains.n_neurons), np.int64)
    for s, trial in enumerate(trains.times):
        for k, train in enumerate(trial):
            np.add.at(counts[s, :, k], np.minimum(np.floor(train / dt).astype(np.int64), steps - 1), 1)
    if np.any(counts > 1):
        s, step, k = np.argwhere(counts > 1)[0]
        raise ValueError(f"trial {s}, neuron {k}: {counts[s, step, k]} spikes in bin {step} of dt = {dt} (NIR gridded data holds one per bin); use a smaller dt")
    return nir.TimeGriddedData(data=counts.astype(bool), dt=float(dt))


def from_nir_gridded(data, position: float = 0.0) -> SpikeTrains:
    """:class:`SpikeTrains` from a ``nir.TimeGriddedData``: each count ``c`` in bin ``i`` becomes
    ``c`` spikes at ``(i + position) dt`` (``position`` in ``[0, 1]``: 0 the bin's start, 1 its end,
    the time at which a clock-driven simulator reports the spike).

    Example:
        ```python
        gridded = sd.io.to_nir_gridded(sd.SpikeTrains([[[0.1, 0.7], [0.4]]], t0=0.0, t1=1.0), dt=0.1)
        trains = sd.io.from_nir_gridded(gridded, position=0.0)   # each spike at its bin's start
        ```
    """
    counts = np.asarray(data.data)
    if counts.ndim != 3:
        raise ValueError(f"TimeGriddedData: data must be (samples, time_steps, neurons), got shape {counts.shape}")
    counts = counts.astype(np.int64) if counts.dtype == bool else counts
    if np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise ValueError("TimeGriddedData: data must hold non-negative spike counts")
    if not 0.0 <= position <= 1.0:
        raise ValueError(f"position must lie in [0, 1], got {position}")
    dt = float(data.dt)
    steps = counts.shape[1]
    times = (np.arange(steps) + position) * dt
    trials = [[np.repeat(times, counts[s, :, k].astype(np.int64)) for k in range(counts.shape[2])] for s in range(counts.shape[0])]
    return SpikeTrains(trials, 0.0, steps * dt)
