"""Simulated data sets: many trials of :func:`spikesde.simulate` as :class:`SpikeTrains`."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np

from jaxtyping import PRNGKeyArray

from .._core import AbstractNeuron, Network, simulate
from .spike_trains import SpikeTrains


def simulate_spike_trains(
    model: Network | AbstractNeuron,
    *,
    num_trials: int,
    key: PRNGKeyArray,
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
    float64 as in :meth:`SpikeTrains.from_buffers`.

    Arguments:
        model: a :class:`spikesde.Network` or neuron population.
        num_trials: number of trials (independent noise), at least 1.
        key: a JAX random key.
        t0, t1, dt, max_spikes: as for :func:`spikesde.simulate`.
        covariates, neuron_names: stored in the result (covariates' leading axis = trials).
        simulate_kwargs: further arguments of :func:`spikesde.simulate` (``stepper``, ``dtype``, ...)
            except ``on_overflow``.

    Example:
        ```python
        trains = sd.simulate_spike_trains(sd.SLIF(1, 1.5), num_trials=16, key=jax.random.key(1),
                                          t0=0.0, t1=1.0, dt=0.01, max_spikes=16)
        trains.n_trials, trains.n_neurons   # 16, 1
        ```
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
        count = int(solution.spike_counts[i, k])
        raise ValueError(
            f"trial {i}, neuron {k} fired {count} times, more than max_spikes = {max_spikes} "
            f"({int(overflow.sum())} overflowing trains in all); raise max_spikes"
        )
    exhausted = np.asarray(solution.budget_exhausted)
    if exhausted.any():
        i = int(np.argmax(exhausted))
        raise ValueError(
            f"trial {i}: the event budget ran out at t = {float(solution.t_final[i])} before t1 = {t1} "
            f"({int(exhausted.sum())} trials in all); raise max_events"
        )
    # from_buffers puts spikes that the solve's dtype rounded just past the window on its edge.
    return SpikeTrains.from_buffers(np.asarray(solution.spike_times), t0, t1, covariates=covariates, neuron_names=neuron_names)


@eqx.filter_jit
def _run_trials(model, keys, **kwargs):
    return jax.vmap(lambda key: simulate(model, key=key, on_overflow="ignore", **kwargs))(keys)
