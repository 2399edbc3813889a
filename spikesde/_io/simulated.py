"""Simulated data sets: many trials of :func:`spikesde.simulate` as :class:`SpikeTrains`."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np

from .._core import simulate
from .spike_trains import SpikeTrains


def simulate_spike_trains(
    model,
    *,
    num_trials: int,
    key,
    t0: float,
    t1: float,
    dt: float,
    max_spikes: int,
    covariates=None,
    neuron_names=None,
    **simulate_kwargs,
) -> SpikeTrains:
    """Simulate ``num_trials`` independent trials of ``model`` (one ``jax.vmap`` of :func:`simulate`).

    Trial ``i`` uses key ``jax.random.split(key, num_trials)[i]``. A neuron that fires more than
    ``max_spikes`` times (or an event budget that runs out before ``t1``) is an error naming the
    trial and the neuron: the data are never silently truncated. The times are converted to
    float64 and, where the solve's dtype rounded a spike just past the window, clipped to ``[t0, t1]``.

    Arguments:
        model: a :class:`spikesde.Network` or neuron population.
        num_trials: number of trials (independent noise), at least 1.
        key: a JAX random key.
        t0, t1, dt, max_spikes: as for :func:`spikesde.simulate`.
        covariates, neuron_names: stored in the result (covariates' leading axis = trials).
        simulate_kwargs: further arguments of :func:`spikesde.simulate` (``stepper``, ``dtype``, ...)
            except ``on_overflow``.
    """
    if "on_overflow" in simulate_kwargs:
        raise TypeError("simulate_spike_trains always raises on a buffer overflow; do not pass on_overflow")
    if isinstance(num_trials, bool) or int(num_trials) != num_trials or num_trials < 1:
        raise ValueError(f"num_trials must be a positive integer, got {num_trials!r}")
    keys = jax.random.split(key, int(num_trials))
    solution = _run_trials(model, keys, t0=t0, t1=t1, dt=dt, max_spikes=max_spikes, **simulate_kwargs)
    overflow = np.asarray(solution.overflow)
    if overflow.any():
        i, k = np.argwhere(overflow)[0]
        count, t_final = int(solution.spike_counts[i, k]), float(solution.t_final[i])
        why = (
            f"fired {count} times, more than max_spikes = {max_spikes}"
            if count > max_spikes
            else f"had a spike due when the event budget ran out at t = {t_final}"
        )
        raise ValueError(f"trial {i}, neuron {k} {why} ({int(overflow.sum())} overflowing trains in all); raise max_spikes")
    return SpikeTrains.from_buffers(
        _clip_rounding(solution.spike_times, t0, t1), t0, t1, covariates=covariates, neuron_names=neuron_names
    )


def _clip_rounding(spike_times, t0: float, t1: float) -> np.ndarray:
    """float64 buffers; spikes within a few ulps (of the solve's dtype) outside ``[t0, t1]`` are
    put on the edge, anything further out is left for SpikeTrains to reject."""
    tolerance = 4 * np.finfo(spike_times.dtype).eps * max(abs(t0), abs(t1), 1.0)
    buffers = np.asarray(spike_times, dtype=np.float64)
    near = np.isfinite(buffers) & (buffers >= t0 - tolerance) & (buffers <= t1 + tolerance)
    return np.where(near, np.clip(buffers, t0, t1), buffers)


@eqx.filter_jit
def _run_trials(model, keys, **kwargs):
    return jax.vmap(lambda key: simulate(model, key=key, on_overflow="ignore", **kwargs))(keys)
