"""The time grid on which an observed spike train's likelihood is evaluated."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int


class EventGrid(eqx.Module):
    """Nodes ``t0 = tau_0 < tau_1 < ... < tau_N = t1``: a regular grid of step ``dt`` merged with
    the observed spike times, so every spike sits on a node; ``counts[n]`` spikes at node ``n``.

    Build it with :meth:`from_spike_times` (host side; the arrays are data, not parameters).

    Example:
        ```python
        grid = sd.likelihood.EventGrid.from_spike_times([0.3, 0.7], t0=0.0, t1=1.0, dt=0.01)
        grid.n_spikes, grid.times.shape   # 2 spikes on the nodes 0, 0.01, ..., 1
        ```
    """

    times: Float[Array, " nodes"]
    counts: Int[Array, " nodes"]

    @property
    def steps(self) -> Float[Array, " steps"]:
        return jnp.diff(self.times)

    @property
    def n_spikes(self) -> Int[Array, ""]:
        return self.counts.sum()

    @classmethod
    def from_spike_times(cls, spike_times, t0: float, t1: float, dt: float, *, tolerance: float = 1e-9) -> "EventGrid":
        """Merge ``spike_times`` (seconds, in ``(t0, t1]``) into the regular grid ``t0 + k dt``.

        A spike within ``tolerance max(1, |t1|)`` of a grid point is put on it. Equal times (two
        spikes in one step of a simulator that stamps spikes on its grid, as NEST does) are two
        spikes on one node: ``counts`` is 2 there, and the likelihood applies two resets.
        """
        regular = regular_nodes(t0, t1, dt, tolerance)
        times, nodes = merge_spikes(regular, [np.asarray(spike_times, dtype=np.float64).ravel()], t0, t1, tolerance)
        counts = np.bincount(nodes[0], minlength=times.size)
        return cls(jnp.asarray(times), jnp.asarray(counts, dtype=jnp.int32))

    @classmethod
    def regular(cls, counts, t0: float, dt: float) -> "EventGrid":
        """A regular grid whose nodes carry the given spike ``counts`` (as from a grid sampler)."""
        counts = jnp.asarray(counts, dtype=jnp.int32)
        return cls(t0 + dt * jnp.arange(counts.shape[-1]), counts)

    def window(self, start: float, stop: float) -> tuple[Float[Array, " nodes"], Float[Array, " steps"]]:
        """Weights selecting the spikes (nodes) in ``(start, stop]`` and the steps inside ``[start, stop]``."""
        node = (self.times > start) & (self.times <= stop)
        step = (self.times[:-1] >= start) & (self.times[1:] <= stop)
        return node.astype(self.times.dtype), step.astype(self.times.dtype)

    def spike_times(self) -> Float[np.ndarray, " spikes"]:
        """The spike times, host side."""
        return np.repeat(np.asarray(self.times), np.asarray(self.counts))


def regular_nodes(t0: float, t1: float, dt: float, tolerance: float = 1e-9) -> np.ndarray:
    """The grid ``t0 + k dt`` up to ``t1`` (a ValueError unless ``dt`` divides ``t1 - t0``)."""
    if not t1 > t0:
        raise ValueError(f"need t1 > t0, got t0={t0}, t1={t1}")
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt}")
    n_steps = int(round((t1 - t0) / dt))
    if n_steps < 1 or not np.isclose(t0 + n_steps * dt, t1, rtol=0, atol=tolerance * max(1.0, abs(t1))):
        raise ValueError(f"(t1 - t0) / dt must be an integer, got {(t1 - t0) / dt}")
    return t0 + dt * np.arange(n_steps + 1)


def merge_spikes(regular: np.ndarray, trains: list, t0: float, t1: float, tolerance: float):
    """The nodes (``regular`` merged with the spikes of ``trains`` that are not within tolerance of a
    grid point) and, per train, the node index of each spike (host side)."""
    t0, t1 = float(t0), float(t1)
    atol = tolerance * max(1.0, abs(t1))
    snapped, off_grid = [], []
    for k, spikes in enumerate(trains):
        spikes = np.sort(np.asarray(spikes, dtype=np.float64).ravel())
        if not np.all(np.isfinite(spikes)):
            raise ValueError(f"spike train {k}: spike_times contains NaN or inf")
        if spikes.size and (spikes[0] <= t0 or spikes[-1] > t1):
            raise ValueError(f"spike train {k}: spike_times must lie in (t0, t1] = ({t0}, {t1}], got [{spikes[0]}, {spikes[-1]}]")
        index = np.clip(np.rint((spikes - t0) / (regular[1] - regular[0])).astype(np.int64), 0, regular.size - 1)
        on_grid = np.abs(regular[index] - spikes) <= atol
        snapped.append(np.where(on_grid, regular[index], spikes))
        off_grid.append(spikes[~on_grid])
    times = np.union1d(regular, np.concatenate(off_grid)) if any(o.size for o in off_grid) else regular
    return times, [np.searchsorted(times, s) for s in snapped]


class TrialGrid(eqx.Module):
    """Spike trains of several trials and neurons, each trial on its own :class:`EventGrid` nodes
    (the grid ``t0 + k dt`` merged with the spikes of all its neurons), padded to one length with
    empty steps at ``t1``; build it once (host side) with :meth:`from_spike_trains`.

    Fields: ``times``, ``(nodes,)`` when every spike is on the grid (shared by all trials), else
    ``(trials, nodes)``; ``counts``, ``(trials, nodes, neurons)``; ``max_count``, the most spikes of
    one neuron on one node.

    Example:
        ```python
        trains = sd.SpikeTrains([[[0.3, 0.7]], [[0.5]]], t0=0.0, t1=1.0)   # 2 trials, 1 neuron
        grid = sd.likelihood.TrialGrid.from_spike_trains(trains, dt=0.01)   # for repeated log_likelihood calls
        grid.n_trials   # 2
        ```
    """

    times: Float[Array, "*trials nodes"]
    counts: Int[Array, "trials nodes neurons"]
    max_count: int = eqx.field(static=True)

    @classmethod
    def from_spike_times(cls, spike_times, t0: float, t1: float, dt: float, *, tolerance: float = 1e-9) -> "TrialGrid":
        """``spike_times[trial][neuron]``: sorted times in ``(t0, t1]`` (see :meth:`EventGrid.from_spike_times`)."""
        regular = regular_nodes(t0, t1, dt, tolerance)
        merged = [merge_spikes(regular, list(trial), t0, t1, tolerance) for trial in spike_times]
        n_nodes = max(times.size for times, _ in merged)
        shared = all(times.size == regular.size for times, _ in merged)
        n_neurons = len(merged[0][1])
        counts = np.zeros((len(merged), n_nodes, n_neurons), np.int32)
        times = np.full((len(merged), n_nodes), float(t1))
        for i, (nodes_i, spikes_i) in enumerate(merged):
            if len(spikes_i) != n_neurons:
                raise ValueError(f"trial {i} has {len(spikes_i)} neurons, trial 0 has {n_neurons}")
            times[i, : nodes_i.size] = nodes_i
            for k, nodes in enumerate(spikes_i):
                np.add.at(counts[i, :, k], nodes, 1)
        return cls(jnp.asarray(regular if shared else times), jnp.asarray(counts), int(counts.max(initial=0)))

    @classmethod
    def from_spike_trains(cls, trains, dt: float, *, tolerance: float = 1e-9) -> "TrialGrid":
        """From a :class:`spikesde.SpikeTrains` on its window (a spike exactly at ``t0`` is refused:
        the likelihood is of spikes in ``(t0, t1]``)."""
        return cls.from_spike_times(trains.times, trains.t0, trains.t1, dt, tolerance=tolerance)

    @classmethod
    def from_event_grid(cls, grid: EventGrid) -> "TrialGrid":
        """One trial of one neuron."""
        counts = jnp.asarray(grid.counts)
        # Under jit the counts are not known: two resets per node at most (the likelihood checks it).
        max_count = 2 if isinstance(counts, jax.core.Tracer) else int(np.max(np.asarray(counts), initial=0))
        return cls(grid.times, counts[None, :, None], max_count)

    @property
    def n_trials(self) -> int:
        return self.counts.shape[0]
