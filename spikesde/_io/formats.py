"""Saving and loading :class:`SpikeTrains`, the file format chosen from the suffix.

========  =========  ===========================================================
format    suffixes   layout
========  =========  ===========================================================
``npz``   ``.npz``   numpy archive (see :mod:`spikesde._io.npz`), no extra deps
``nwb``   ``.nwb``   NWB 2 Units + trials tables (:mod:`spikesde._io.nwb`), pynwb
``neo``   ``.mat``   Neo Block in a MATLAB file (:mod:`spikesde._io.neo_convert`), neo
========  =========  ===========================================================
"""

from __future__ import annotations

import os
from pathlib import Path

from .neo_convert import load_neo_mat, save_neo_mat
from .npz import load_npz, save_npz
from .nwb import load_nwb, save_nwb
from .spike_trains import SpikeTrains, seconds_per

_WRITERS = {"npz": save_npz, "nwb": save_nwb, "neo": save_neo_mat}
_READERS = {"npz": load_npz, "nwb": load_nwb, "neo": load_neo_mat}
_SUFFIXES = {".npz": "npz", ".nwb": "nwb", ".mat": "neo"}


def _format(path: Path, format: str | None) -> str:
    if format is not None:
        if format not in _READERS:
            raise ValueError(f"unknown spike-train format {format!r}; known: {sorted(_READERS)}")
        return format
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValueError(f"{path}: cannot tell the format from the suffix {suffix!r}; use one of {sorted(_SUFFIXES)} or pass format=")
    return _SUFFIXES[suffix]


def save_spike_trains(trains: SpikeTrains, path: str | os.PathLike, format: str | None = None) -> Path:
    """Write ``trains`` to ``path`` (format from the suffix: ``.npz``, ``.nwb``, ``.mat``); returns the path.

    Example:
        ```python
        trains = sd.SpikeTrains([[[0.1, 0.7]]], t0=0.0, t1=1.0)
        path = sd.save_spike_trains(trains, "trains.npz")
        assert sd.load_spike_trains(path) == trains
        ```
    """
    if not isinstance(trains, SpikeTrains):
        raise TypeError(f"trains must be SpikeTrains, got {type(trains).__name__}")
    path = Path(path)
    _WRITERS[_format(path, format)](trains, path)
    return path


def load_spike_trains(path: str | os.PathLike, format: str | None = None, *, units: str | None = None, **options) -> SpikeTrains:
    """Read spike trains from ``path`` (format from the suffix, or ``format``).

    ``units`` (``"s"``, ``"ms"``, ``"us"``): the unit of the file's times where the file does not say
    (an ``.npz`` without a ``units`` key, e.g. NEST's milliseconds); where it does, a different unit
    raises rather than reinterpreting the file: NWB is in seconds by specification, a spikesde
    ``.npz`` records its unit, Neo's trains carry theirs. The result is always in seconds.
    ``options`` go to the reader: for NWB ``window=(a, b)`` and ``names_column=``; npz and Neo
    take none. A missing, empty, foreign or broken file raises naming the file and the problem.

    For example, ``load_spike_trains("nest_output.npz", units="ms")``.

    Example:
        ```python
        sd.save_spike_trains(sd.SpikeTrains([[[100.0, 700.0]]], t0=0.0, t1=1000.0, units="ms"), "trains.npz")
        trains = sd.load_spike_trains("trains.npz")   # times in seconds
        trains.t1, trains.times[0][0]                  # 1.0, [0.1, 0.7]
        ```
    """
    if units is not None:
        seconds_per(units)
        options["units"] = units
    path = Path(path)
    kind = _format(path, format)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such spike-train file")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: empty file (0 bytes)")
    try:
        return _READERS[kind](path, **options)
    except TypeError as error:
        if "unexpected keyword" in str(error):
            raise TypeError(f"the {kind} reader does not take option(s) {sorted(options)}") from None
        raise
