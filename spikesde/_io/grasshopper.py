"""The locust auditory receptor recording shipped with nitime (Rokem et al. 2006, J Neurophysiol 95:2541).

Files ``nitime/data/grasshopper_spike_times{1,2}.txt`` (a ``#`` header, then spike times in
microseconds) and ``grasshopper_stimulus{1,2}.txt`` (two columns: time in microseconds, sound
envelope; 10 s at 20 kHz). They are read from the installed nitime package at run time, never copied.
"""

import dataclasses
import re

import numpy as np

_EXTRA = "the grasshopper recording needs nitime: pip install spikesde[data]"


@dataclasses.dataclass(frozen=True)
class GrasshopperRecording:
    """One recording: spike times (s), the stimulus envelope sampled every ``dt`` (s) from 0, the header."""

    spike_times: np.ndarray
    stimulus: np.ndarray
    dt: float
    header: dict

    @property
    def duration(self) -> float:
        return self.stimulus.shape[0] * self.dt

    @property
    def intensity_db(self) -> float:
        return float(self.header["intensity (dB)"])


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


def read_grasshopper(recording: int = 1) -> GrasshopperRecording:
    """Read recording 1 or 2 from the installed nitime package (times converted to seconds)."""
    if recording not in (1, 2):
        raise ValueError(f"recording must be 1 or 2, got {recording}")
    spike_path = _data_file(f"grasshopper_spike_times{recording}.txt")
    stimulus_path = _data_file(f"grasshopper_stimulus{recording}.txt")
    text = spike_path.read_text()
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
    return GrasshopperRecording(spikes, stimulus[:, 1].copy(), dt, parse_header(text))
