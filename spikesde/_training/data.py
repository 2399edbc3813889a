"""The training and test data of a fit: spike-train containers, padded buffers, or simulated sets."""

import hashlib
import warnings

import jax
import numpy as np

from .._io import SpikeTrains
from .simulation import Simulated, Simulation


def as_buffers(data, simulation: Simulation, name: str) -> np.ndarray:
    """``data`` as ``(trials, neurons, max_spikes)`` buffers padded with ``+inf`` on the simulation's window.

    ``data`` is a :class:`spikesde.SpikeTrains` (its window must be the simulation's), an array of
    padded buffers, or :class:`Simulated` (drawn here). Errors name ``name`` (``"data"``/``"test"``).
    """
    if isinstance(data, Simulated):
        buffers, overflow = data.draw(simulation)
        if overflow > 0 and not simulation.keep_first:
            warnings.warn(
                f"{name}: {overflow:.1%} of the simulated trains fired more than max_spikes={simulation.max_spikes} "
                f"times{overflow_cause(simulation)} and hold only the spikes before that; raise simulation.max_spikes"
                f"{'' if simulation.max_events is None else ' (or max_events)'}",
                RuntimeWarning,
                stacklevel=3,
            )
        return buffers
    if isinstance(data, SpikeTrains):
        if (float(data.t0), float(data.t1)) != (float(simulation.t0), float(simulation.t1)):
            raise ValueError(
                f"{name}: the window [{data.t0}, {data.t1}] of the spike trains is not the simulation's "
                f"[{simulation.t0}, {simulation.t1}]; restrict the data or change the simulation window"
            )
        try:
            if simulation.keep_first:
                return np.asarray(data.to_buffers(None))[..., : simulation.max_spikes]
            return np.asarray(data.to_buffers(simulation.max_spikes))
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    if isinstance(data, (jax.Array, np.ndarray, list, tuple)):
        return _check_array(np.asarray(data), simulation, name)
    raise TypeError(f"{name} must be SpikeTrains, an array of padded spike buffers or Simulated, got {type(data).__name__}")


def _check_array(buffers: np.ndarray, simulation: Simulation, name: str) -> np.ndarray:
    if buffers.ndim != 3 or not np.issubdtype(buffers.dtype, np.floating):
        raise ValueError(f"{name} must be a float array of shape (trials, neurons, max_spikes), got {buffers.dtype} {buffers.shape}")
    if buffers.shape[-1] > simulation.max_spikes and simulation.keep_first:
        buffers = buffers[..., : simulation.max_spikes]
    bad = np.isnan(buffers) | (buffers == -np.inf)
    finite = np.isfinite(buffers)
    bad |= finite & ((buffers < simulation.t0) | (buffers > simulation.t1))
    bad[..., 1:] |= finite[..., 1:] & ~finite[..., :-1]  # a spike after the +inf padding
    with np.errstate(invalid="ignore"):  # inf - inf in the padding
        bad[..., 1:] |= finite[..., 1:] & finite[..., :-1] & (np.diff(buffers, axis=-1) < 0)
    if bad.any():
        trial, neuron, slot = np.argwhere(bad)[0]
        raise ValueError(
            f"{name}: trial {trial}, neuron {neuron}, slot {slot} holds {buffers[trial, neuron, slot]}: spike times "
            f"must be sorted, inside [{simulation.t0}, {simulation.t1}] and padded with +inf at the end"
        )
    return buffers


def split(buffers: np.ndarray, fraction: float, key) -> tuple[np.ndarray, np.ndarray]:
    """A random ``fraction`` of the trials held out as the test set (the rest trains)."""
    if not 0 < fraction < 1:
        raise ValueError(f"test as a fraction must lie in (0, 1), got {fraction}")
    n_test = int(round(fraction * buffers.shape[0]))
    if n_test < 1 or n_test >= buffers.shape[0]:
        raise ValueError(f"test={fraction} of {buffers.shape[0]} trials leaves no training or no test trials")
    order = np.asarray(jax.random.permutation(key, buffers.shape[0]))
    return buffers[order[n_test:]], buffers[order[:n_test]]


def array_digest(array: np.ndarray | None) -> str:
    if array is None:
        return "none"
    array = np.ascontiguousarray(array)
    text = f"{array.dtype}{array.shape}".encode() + array.tobytes()
    return hashlib.sha256(text).hexdigest()[:16]


def overflow_cause(simulation) -> str:
    """The event-budget half of an overflow message (a budget exists only when one was set)."""
    if simulation.max_events is None:
        return ""
    return f" or used up the event budget max_events={simulation.max_events} (spikes of all neurons)"
