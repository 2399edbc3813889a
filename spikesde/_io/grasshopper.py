"""The locust auditory receptor recording shipped with nitime (Rokem et al. 2006, J Neurophysiol 95:2541).

Files ``nitime/data/grasshopper_spike_times{1,2}.txt`` (a ``#`` header, then spike times in
microseconds) and ``grasshopper_stimulus{1,2}.txt`` (two columns: time in microseconds, sound
envelope; 10 s at 20 kHz). They are read from the installed nitime package at run time, never copied.

:func:`read_grasshopper` returns the package's :class:`SpikeTrains` (one trial, one neuron, window
``[0, 10]`` s) with the stimulus as per-trial covariates:

    ``"stimulus"``       ``(1, samples)``: the envelope at ``t0 + n dt``;
    ``"stimulus_dt"``    ``(1,)``: its sampling step ``dt`` (s);
    ``"intensity_db"``   ``(1,)``: the sound intensity of the header.

:func:`stimulus_of` reads the first two back.
"""

import re

import numpy as np

from .spike_trains import SpikeTrains

_EXTRA = "the grasshopper recording needs nitime: pip install spikesde[data]"


def _data_file(name: str):
    try:
        import importlib.resources

        import nitime  # noqa: F401
    except ImportError as error:
        raise ImportError(_EXTRA) from error
    path = importlib.resources.files("nitime") / "data" / name
    if not path.is_file():
        raise FileNotFoundError(f"{name} is not in the installed nitime package ({path})")
    return path


def parse_header(text: str) -> dict:
    """``# key: value`` lines at the top of a spike file, as a dict of strings."""
    header = {}
    for line in text.splitlines():
        match = re.match(r"#\s*(.+?):\s*(.*)$", line)
        if match:
            header[match.group(1)] = match.group(2).strip()
    return header


def read_grasshopper(recording: int = 1) -> SpikeTrains:
    """Read recording 1 or 2 from the installed nitime package (times converted to seconds) as
    :class:`SpikeTrains` with the stimulus envelope as a covariate (see the module docstring).

    Example:
        ```python
        trains = sd.datasets.read_grasshopper(1)   # from the nitime package's data
        trains.n_trials, trains.n_neurons, sorted(trains.covariates)
        ```
    """
    if recording not in (1, 2):
        raise ValueError(f"recording must be 1 or 2, got {recording}")
    spike_path = _data_file(f"grasshopper_spike_times{recording}.txt")
    stimulus_path = _data_file(f"grasshopper_stimulus{recording}.txt")
    header = parse_header(spike_path.read_text())
    spikes = np.loadtxt(spike_path, comments="#", ndmin=1) * 1e-6
    stimulus = np.loadtxt(stimulus_path, ndmin=2)
    if stimulus.shape[1] != 2:
        raise ValueError(f"{stimulus_path}: expected two columns (time in us, envelope), got {stimulus.shape[1]}")
    step_us = float(np.median(np.diff(stimulus[:, 0])))
    dt = step_us * 1e-6
    if not np.allclose(np.diff(stimulus[:, 0]), step_us, rtol=1e-6) or abs(stimulus[0, 0]) > step_us / 2:
        raise ValueError(f"{stimulus_path}: the stimulus is not sampled regularly from t = 0")
    if np.any(np.diff(spikes) <= 0):
        raise ValueError(f"{spike_path}: spike times are not strictly increasing")
    if "intensity (dB)" not in header:
        raise ValueError(f"{spike_path}: the header has no 'intensity (dB)' line")
    covariates = {
        "stimulus": stimulus[None, :, 1],
        "stimulus_dt": np.array([dt]),
        "intensity_db": np.array([float(header["intensity (dB)"])]),
    }
    duration = stimulus.shape[0] * dt
    return SpikeTrains([[spikes]], 0.0, duration, covariates=covariates, neuron_names=(f"grasshopper{recording}",))


def stimulus_of(trains: SpikeTrains, trial: int = 0) -> tuple[np.ndarray, float]:
    """``(values, dt)``: the ``"stimulus"`` covariate of ``trial``, sampled at ``t0 + n dt``
    (``dt`` from the ``"stimulus_dt"`` covariate).

    Example:
        ```python
        trains = sd.datasets.read_grasshopper(1)
        values, dt = sd.datasets.stimulus_of(trains)   # the stimulus envelope, sampled every dt
        ```
    """
    for name in ("stimulus", "stimulus_dt"):
        if name not in trains.covariates:
            raise ValueError(f"the spike trains have no {name!r} covariate (have {sorted(trains.covariates)})")
    values = np.asarray(trains.covariates["stimulus"][trial], dtype=np.float64)
    dt = float(np.asarray(trains.covariates["stimulus_dt"][trial]).reshape(()))
    if values.ndim != 1 or not dt > 0:
        raise ValueError(f"trial {trial}: the stimulus must be one-dimensional with a positive stimulus_dt")
    return values, dt
