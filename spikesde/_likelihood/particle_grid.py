"""Observation grids for the particle filter: from spike buffers (fixed shapes, under ``jit``) and
from host-side spike-time lists (padded to one length, so trials stack and ``vmap``)."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._core.brownian import _num_steps
from .grid import EventGrid


def grid_from_buffer(spike_times: Float[Array, " max_spikes"], *, t0: float, t1: float, dt: float) -> tuple[EventGrid, Float[Array, " steps"]]:
    """One neuron's spike buffer (``+inf`` padded, as ``Solution.spike_times``) merged into the grid
    ``t0 + k dt``, with fixed shapes: ``(grid, input_times)``.

    ``input_times[n]`` is the grid point that starts the simulation step holding piece ``n``: the
    event core reads the input there, so the filter reproduces its discretisation exactly. Padding
    entries become zero-length steps at ``t1`` (they change nothing). A spike on a grid point comes
    before it, as in the event core (it ends the step). A full buffer (the neuron may have fired
    more often than it holds) raises at run time: raise ``max_spikes``.

    Example: ``grid_from_buffer(jnp.array([0.25, jnp.inf]), t0=0.0, t1=1.0, dt=0.1)``.
    """
    spikes = jnp.asarray(spike_times)
    spikes = spikes.astype(spikes.dtype if jnp.issubdtype(spikes.dtype, jnp.floating) else jnp.result_type(float))
    if spikes.ndim != 1:
        raise ValueError(f"spike_times must be one neuron's buffer (a vector), got shape {spikes.shape}")
    spikes = eqx.error_if(spikes, jnp.all(jnp.isfinite(spikes)), "a full spike buffer: its spikes after the last are lost; raise max_spikes")
    finite = jnp.isfinite(spikes)
    regular = t0 + dt * jnp.arange(_num_steps(t0, t1, dt) + 1, dtype=spikes.dtype)
    times = jnp.concatenate([jnp.where(finite, spikes, t1), regular])
    order = jnp.argsort(times, stable=True)
    on_grid = jnp.concatenate([jnp.zeros(spikes.shape, jnp.int32), jnp.ones(regular.shape, jnp.int32)])[order]
    counts = jnp.concatenate([finite.astype(jnp.int32), jnp.zeros(regular.shape, jnp.int32)])[order]
    grid_index = jnp.maximum(jnp.cumsum(on_grid) - 1, 0)
    times = jnp.minimum(times[order], t1)
    return EventGrid(times, counts), t0 + dt * grid_index[:-1].astype(spikes.dtype)


def stack_grids(grids: list[EventGrid]) -> EventGrid:
    """Trials' grids with one batch axis, each padded at its end by zero-length steps (repeats of
    its last node, no spikes) to the longest; the filter passes over the padding unchanged."""
    if not grids:
        raise ValueError("grids: need at least one trial")
    length = max(int(g.times.shape[0]) for g in grids)
    times, counts = [], []
    for g in grids:
        pad = length - int(g.times.shape[0])
        times.append(np.concatenate([np.asarray(g.times), np.full(pad, float(g.times[-1]))]))
        counts.append(np.concatenate([np.asarray(g.counts), np.zeros(pad, np.int32)]))
    return EventGrid(jnp.asarray(np.stack(times)), jnp.asarray(np.stack(counts), dtype=jnp.int32))
