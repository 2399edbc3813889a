r"""The ``.npz`` layout of :class:`SpikeTrains` (numpy only, no pickles).

Keys of a file (format version 1):

==================  ==================================================================
``format``          the string ``"spikesde.spike_trains"``
``version``         ``1``
``t0``, ``t1``      the window (float64 scalars)
``shape``           ``[n_trials, n_neurons]`` (int64)
``offsets``         ``(n_trials * n_neurons + 1,)`` int64: the spikes of trial ``i``, neuron
                    ``k`` are ``times[offsets[j]:offsets[j + 1]]`` with ``j = i * n_neurons + k``
``times``           all spike times, float64, concatenated in that order
``neuron_names``    optional, ``(n_neurons,)`` unicode strings
``units``           optional, the unit of ``times``, ``t0``, ``t1`` (``"s"``, ``"ms"``, ``"us"``);
                    absent: seconds, or what the reader's ``units=`` says (files written by other
                    tools, e.g. NEST's milliseconds); :func:`save_npz` writes ``"s"``
``covariate/NAME``  one per covariate, leading axis the trials
==================  ==================================================================

The file is read with ``allow_pickle=False``, so an untrusted file cannot run code.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .spike_trains import UNITS, SpikeTrains, seconds_per

FORMAT = "spikesde.spike_trains"
VERSION = 1
COVARIATE = "covariate/"
_REQUIRED = ("format", "version", "t0", "t1", "shape", "offsets", "times")


def save_npz(trains: SpikeTrains, path: Path) -> None:
    """Write ``trains`` to ``path`` in the layout above (compressed)."""
    counts = trains.spike_counts().reshape(-1)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    flat = [train for trial in trains.times for train in trial]
    arrays = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION, dtype=np.int64),
        "t0": np.array(trains.t0, dtype=np.float64),
        "t1": np.array(trains.t1, dtype=np.float64),
        "shape": np.array([trains.n_trials, trains.n_neurons], dtype=np.int64),
        "offsets": offsets,
        "times": np.concatenate(flat) if flat else np.zeros(0),
        "units": np.array("s"),
    }
    if trains.neuron_names is not None:
        arrays["neuron_names"] = np.array(trains.neuron_names, dtype=str)
    for name, value in trains.covariates.items():
        arrays[COVARIATE + name] = value
    with open(path, "wb") as file:
        np.savez_compressed(file, **arrays)


def load_npz(path: Path, *, units: str | None = None) -> SpikeTrains:
    """Read a file in the layout above; a foreign or broken file names the problem. ``units``: the
    unit of the file's times when it records none (default seconds); where it records one, a
    different ``units`` raises (the file is not silently reinterpreted)."""
    if units is not None:
        seconds_per(units)
    try:
        archive = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise ValueError(f"{path}: not a spikesde .npz spike-train file ({error})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: a single .npy array, not a spikesde .npz spike-train file")
    with archive:
        try:
            data = {key: archive[key] for key in archive.files}
        except ValueError as error:  # object arrays need pickles, which we refuse
            raise ValueError(f"{path}: unreadable entry ({error})") from None
    return _from_arrays(data, path, units)


def _file_units(data: dict[str, np.ndarray], path, units: str | None) -> str:
    """The unit of the times: the file's ``units`` key, else ``units``, else seconds."""
    if "units" not in data:
        return "s" if units is None else units
    declared = str(data["units"])
    if data["units"].shape != () or declared not in UNITS:
        raise ValueError(f"{path}: key 'units' is {data['units']!r}, expected one of {sorted(UNITS)}")
    if units is not None and units != declared:
        raise ValueError(f"{path}: the file records its times in {declared!r}, but units={units!r} was given; drop units= (the file's unit is used)")
    return declared


def _from_arrays(data: dict[str, np.ndarray], path, units: str | None = None) -> SpikeTrains:
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise ValueError(f"{path}: not a spikesde spike-train file: missing key(s) {missing} (has {sorted(data)})")
    if data["format"].shape != () or str(data["format"]) != FORMAT:
        raise ValueError(f"{path}: key 'format' is {data['format']!r}, expected {FORMAT!r}")
    if int(data["version"]) > VERSION:
        raise ValueError(f"{path}: format version {int(data['version'])} is newer than this reader ({VERSION})")
    shape, offsets, flat = data["shape"], data["offsets"], data["times"]
    if shape.shape != (2,) or (shape < 0).any():
        raise ValueError(f"{path}: key 'shape' must be [n_trials, n_neurons], got {shape.tolist()}")
    n_trials, n_neurons = (int(n) for n in shape)
    n = n_trials * n_neurons
    if offsets.shape != (n + 1,) or offsets[0] != 0 or (np.diff(offsets) < 0).any() or offsets[-1] != flat.shape[0]:
        raise ValueError(f"{path}: key 'offsets' does not index {flat.shape[0]} spike times of {n_trials} trials x {n_neurons} neurons")
    trains = [flat[offsets[j] : offsets[j + 1]] for j in range(n)]
    times = [trains[i * n_neurons : (i + 1) * n_neurons] for i in range(n_trials)]
    covariates = {key[len(COVARIATE) :]: value for key, value in data.items() if key.startswith(COVARIATE)}
    names = tuple(str(name) for name in data["neuron_names"]) if "neuron_names" in data else None
    try:
        return SpikeTrains(times, float(data["t0"]), float(data["t1"]), covariates=covariates, neuron_names=names, units=_file_units(data, path, units))
    except (ValueError, TypeError) as error:
        raise type(error)(f"{path}: {error}") from None
