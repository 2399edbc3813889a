"""The time grid on which an observed spike train's likelihood is evaluated."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int


class EventGrid(eqx.Module):
    """Nodes ``t0 = tau_0 < tau_1 < ... < tau_N = t1``: a regular grid of step ``dt`` merged with
    the observed spike times, so every spike sits on a node; ``counts[n]`` spikes at node ``n``.

    Build it with :meth:`from_spike_times` (host side; the arrays are data, not parameters).
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

        A spike within ``tolerance`` of a grid point is put on it. Two spikes on one node raise a
        ValueError (the reset between them would be lost): use a smaller ``dt``.
        """
        spikes = np.sort(np.asarray(spike_times, dtype=np.float64).ravel())
        if not t1 > t0:
            raise ValueError(f"need t1 > t0, got t0={t0}, t1={t1}")
        if spikes.size and (spikes[0] <= t0 or spikes[-1] > t1):
            raise ValueError(f"spike_times must lie in (t0, t1] = ({t0}, {t1}], got [{spikes[0]}, {spikes[-1]}]")
        if not np.all(np.isfinite(spikes)):
            raise ValueError("spike_times contains NaN or inf")
        n_steps = int(round((t1 - t0) / dt))
        if not np.isclose(t0 + n_steps * dt, t1, rtol=0, atol=tolerance * max(1.0, abs(t1))):
            raise ValueError(f"(t1 - t0) / dt must be an integer, got {(t1 - t0) / dt}")
        regular = t0 + dt * np.arange(n_steps + 1)
        index = np.clip(np.searchsorted(regular, spikes), 0, n_steps)
        below = np.clip(index - 1, 0, n_steps)
        nearest = np.where(np.abs(regular[index] - spikes) < np.abs(regular[below] - spikes), index, below)
        on_grid = np.abs(regular[nearest] - spikes) <= tolerance * max(1.0, abs(t1))
        times = np.union1d(regular, spikes[~on_grid])
        spike_nodes = np.searchsorted(times, np.where(on_grid, regular[nearest], spikes))
        counts = np.bincount(spike_nodes, minlength=times.size)
        if counts.max(initial=0) > 1:
            node = int(np.argmax(counts))
            raise ValueError(f"two spikes share the node t={times[node]}; use a smaller dt than {dt}")
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
