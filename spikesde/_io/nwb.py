r"""Spike trains in Neurodata Without Borders (NWB 2) files, through pynwb.

The mapping (what :func:`save_nwb` writes and :func:`load_nwb` reads):

* one **unit** of the Units table per neuron; its ``spike_times`` are the spikes of all trials on
  the session clock, its ``obs_intervals`` the trial intervals; neuron names, if any, go to a
  ``neuron_name`` column;
* one row of the **trials** table per trial: a time ``t`` on trial ``i``'s own clock is
  ``t + clock_offset[i]`` on the session clock, with ``clock_offset[i] = i * stride`` and
  ``stride`` the smallest power of two at least ``1.5 (t1 - t0)`` (trials never touch, so a spike
  on a window edge belongs to one trial); ``start_time`` and ``stop_time`` are ``t0`` and ``t1``
  on the session clock; the columns ``clock_offset``, ``clock_start = t0`` and ``clock_stop = t1``
  record the exact numbers;
* each **covariate** is a column of the trials table (one row, any shape, per trial).

Reading a file someone else wrote: trials come from the trials table if there is one, else from
``obs_intervals`` shared by every unit, else the whole recording ``[0, last spike]`` is one trial.
Spike times are taken relative to each trial's ``start_time`` (window ``[0, duration]``);
spikes outside every trial are dropped; numeric and string columns of the trials table become
covariates. Trials of different durations need ``window=(a, b)``: the window on each trial's
own clock.

Units: NWB stores every time in seconds (the NWB 2 specification), so :func:`load_nwb` accepts
``units="s"`` only and refuses another unit instead of rescaling a file that the specification says
is already in seconds.

Precision: adding ``clock_offset`` rounds to the session clock's float64 grid, so
``spike_times - clock_offset`` is within half an ulp of the session time of the original spike
(about ``1.1e-16 * (|t| + i * stride)`` s). Files spikesde writes therefore also hold the
unrounded own-clock times in the ragged Units column ``trial_spike_times`` (same order as
``spike_times``); the reader uses them, after checking that the two columns agree to rounding, and
the round trip is bit-identical. Files without that column are read from ``spike_times``.
"""

from __future__ import annotations

import datetime
import math
import uuid
from pathlib import Path

import numpy as np

from .spike_trains import SpikeTrains, seconds_per

_NAME = "neuron_name"
_EXACT = "trial_spike_times"
_CLOCK_COLUMNS = {
    "clock_offset": "session time minus the trial's own clock (spikesde)",
    "clock_start": "the window start on the trial's own clock (spikesde t0)",
    "clock_stop": "the window stop on the trial's own clock (spikesde t1)",
}
_TRIAL_COLUMNS = ("start_time", "stop_time", "tags", "timeseries", *_CLOCK_COLUMNS)


def _pynwb():
    try:
        import pynwb
    except ImportError:
        raise ImportError("reading and writing NWB files needs pynwb: pip install spikesde[nwb]") from None
    return pynwb


def trial_stride(duration: float) -> float:
    """Session-clock distance between trial starts: the smallest power of two above ``1.5 duration``."""
    return 2.0 ** math.ceil(math.log2(1.5 * duration))


def save_nwb(trains: SpikeTrains, path: Path) -> None:
    """Write ``trains`` to an NWB file at ``path`` with the mapping of this module."""
    pynwb = _pynwb()
    reserved = set(_TRIAL_COLUMNS) | {"id"}
    clash = reserved.intersection(trains.covariates)
    if clash:
        raise ValueError(f"covariate name(s) {sorted(clash)} are reserved in the NWB trials table; rename them")
    nwb = pynwb.NWBFile(
        session_description="spike trains written by spikesde",
        identifier=str(uuid.uuid4()),
        session_start_time=datetime.datetime.now(datetime.timezone.utc),
    )
    offsets = trial_stride(trains.duration) * np.arange(trains.n_trials)
    intervals = np.stack([trains.t0 + offsets, trains.t1 + offsets], axis=1)
    for name, description in _CLOCK_COLUMNS.items():
        nwb.add_trial_column(name, description)
    for name in trains.covariates:
        nwb.add_trial_column(name, f"per-trial covariate {name!r}")
    for i, (start, stop) in enumerate(intervals):
        values = {name: value[i] for name, value in trains.covariates.items()}
        clock = {"clock_offset": offsets[i], "clock_start": trains.t0, "clock_stop": trains.t1}
        nwb.add_trial(start_time=float(start), stop_time=float(stop), **clock, **values)
    if trains.neuron_names is not None:
        nwb.add_unit_column(_NAME, "name of the neuron")
    nwb.add_unit_column(_EXACT, "spike_times on each trial's own clock (spike_times - clock_offset, unrounded)", index=True)
    for k in range(trains.n_neurons):
        session = [trains.times[i][k] + offsets[i] for i in range(trains.n_trials)]
        own = np.concatenate([trains.times[i][k] for i in range(trains.n_trials)])
        name = {} if trains.neuron_names is None else {_NAME: trains.neuron_names[k]}
        nwb.add_unit(spike_times=np.concatenate(session), obs_intervals=intervals, **{_EXACT: own}, **name)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def load_nwb(path: Path, *, window: tuple[float, float] | None = None, names_column: str | None = None, units: str | None = None) -> SpikeTrains:
    """Read spike trains from the Units (and trials) table of an NWB file.

    Arguments:
        path: the file.
        window: ``(a, b)``, the window on each trial's own clock (needed when trials differ in
            duration); default: the trials' common window (``[t0, t1]`` for files spikesde wrote).
        names_column: Units column holding neuron names (default ``neuron_name`` if present).
        units: only ``"s"`` (or ``None``): NWB stores spike times, trial times and ``window`` in
            seconds by specification, so another unit conflicts with the file and raises rather than
            rescaling it. (A file that breaks the rule: load it and call ``.converted(unit)``.)
    """
    _check_seconds(units)
    pynwb = _pynwb()
    path = Path(path)
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: empty file (0 bytes)")
    try:
        io = pynwb.NWBHDF5IO(str(path), "r")
    except Exception as error:  # h5py raises OSError, pynwb several kinds for a non-NWB file
        raise ValueError(f"{path}: not an NWB file ({type(error).__name__}: {error})") from None
    with io:
        try:
            nwb = io.read()
        except Exception as error:
            raise ValueError(f"{path}: not a readable NWB file ({type(error).__name__}: {error})") from None
        try:
            return _read(nwb, window=window, names_column=names_column)
        except (ValueError, TypeError) as error:
            raise type(error)(f"{path}: {error}") from None


def _check_seconds(units: str | None) -> None:
    if units is not None and seconds_per(units) != 1.0:
        raise ValueError(
            f"load_nwb: units={units!r} conflicts with NWB, which stores spike times in seconds by specification; "
            "use units='s' (or none), or, for a file written against the specification, .converted(unit) on the result"
        )


def _read(nwb, *, window, names_column) -> SpikeTrains:
    units = nwb.units
    if units is None or len(units) == 0:
        raise ValueError("no units (the file has no Units table or it is empty)")
    if "spike_times" not in units.colnames:
        raise ValueError(f"the Units table has no spike_times column (columns: {list(units.colnames)})")
    spikes = [np.asarray(units["spike_times"][k], dtype=np.float64) for k in range(len(units))]
    offsets, clock_windows, covariates = _trials(nwb, units, spikes)
    a, b = _window(clock_windows, window)
    exact = _exact_times(units, spikes)
    times = []
    for offset in offsets:
        # Select on the session clock with the writer's own arithmetic, so edge spikes stay in.
        lo, hi = a + offset, b + offset
        masks = [(s >= lo) & (s <= hi) for s in spikes]
        if exact is None:
            times.append([np.clip(s[mask] - offset, a, b) for s, mask in zip(spikes, masks)])
        else:
            _check_exact(spikes, exact, masks, offset)
            times.append([own[mask] for own, mask in zip(exact, masks)])
    names_column = names_column or (_NAME if _NAME in units.colnames else None)
    names = None
    if names_column is not None:
        if names_column not in units.colnames:
            raise ValueError(f"names_column {names_column!r} is not a Units column ({units.colnames})")
        names = tuple(str(name) for name in units[names_column].data[:])
    return SpikeTrains(times, a, b, covariates=covariates, neuron_names=names)


def _exact_times(units, spikes) -> list[np.ndarray] | None:
    """The unrounded own-clock spike times spikesde stores next to ``spike_times``, if present."""
    if _EXACT not in units.colnames:
        return None
    exact = [np.asarray(units[_EXACT][k], dtype=np.float64) for k in range(len(units))]
    for k, (own, session) in enumerate(zip(exact, spikes)):
        if own.shape != session.shape:
            raise ValueError(f"unit {k}: {_EXACT} has {own.size} times but spike_times has {session.size}")
    return exact


def _check_exact(spikes, exact, masks, offset) -> None:
    """Refuse a file whose two spike-time columns disagree (one edited without the other)."""
    for k, (session, own, mask) in enumerate(zip(spikes, exact, masks)):
        rounding = 2 * np.spacing(np.abs(session[mask]) + abs(offset))
        bad = np.flatnonzero(np.abs(session[mask] - offset - own[mask]) > rounding)
        if bad.size:
            raise ValueError(
                f"unit {k}: {_EXACT} {own[mask][bad[0]]!r} disagrees with spike_times {session[mask][bad[0]]!r} "
                f"- clock_offset {offset!r}; was one column edited without the other?"
            )


def _column(table, name) -> np.ndarray:
    return np.asarray(table[name].data[:], dtype=np.float64)


def _trials(nwb, units, spikes):
    """Each trial's clock offset (session time minus own-clock time), its window on its own
    clock ``(trials, 2)``, and the covariates."""
    trials = nwb.trials
    if trials is not None and len(trials) > 0:
        starts, stops = _column(trials, "start_time"), _column(trials, "stop_time")
        if set(_CLOCK_COLUMNS) <= set(trials.colnames):
            offsets = _column(trials, "clock_offset")
            windows = np.stack([_column(trials, "clock_start"), _column(trials, "clock_stop")], axis=1)
        else:
            offsets, windows = starts, np.stack([np.zeros_like(starts), stops - starts], axis=1)
        covariates = {}
        for name in trials.colnames:
            column = trials[name]
            if name in _TRIAL_COLUMNS or type(column).__name__ != "VectorData":  # ragged columns are not covariates
                continue
            value = np.asarray(column.data[:])
            covariates[name] = value.astype(str) if value.dtype == object else value
        return offsets, windows, covariates
    if "obs_intervals" in units.colnames:
        intervals = [np.asarray(units["obs_intervals"][k], dtype=np.float64).reshape(-1, 2) for k in range(len(units))]
        if not (all(np.array_equal(iv, intervals[0]) for iv in intervals) and len(intervals[0])):
            raise ValueError("no trials table, and the units' obs_intervals differ: cannot tell the trials apart")
        starts = intervals[0][:, 0]
        return starts, np.stack([np.zeros_like(starts), intervals[0][:, 1] - starts], axis=1), {}
    last = max((s.max() for s in spikes if s.size), default=0.0)
    if not last > 0:
        raise ValueError("no trials table, no obs_intervals and no positive spike time: cannot infer a window")
    return np.zeros(1), np.array([[0.0, last]]), {}


def _window(windows, window) -> tuple[float, float]:
    """The common window of the trials on their own clocks (or the one asked for)."""
    durations = windows[:, 1] - windows[:, 0]
    if (durations <= 0).any():
        i = int(np.argmax(durations <= 0))
        raise ValueError(f"trial {i}: stop_time is not after start_time (window {windows[i].tolist()} on its own clock)")
    if window is not None:
        return float(window[0]), float(window[1])
    spread = np.abs(windows - windows[0]).max(axis=1)
    if spread.max() > 1e-9 * max(1.0, float(np.abs(windows).max())):
        i = int(np.argmax(spread))
        raise ValueError(
            f"trial {i} spans {windows[i].tolist()} on its own clock but trial 0 spans {windows[0].tolist()} "
            "(trials differ in duration); pass window=(a, b) on the trials' own clock"
        )
    return float(windows[0, 0]), float(windows[:, 1].max())
