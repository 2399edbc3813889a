r"""A fitted noise-free SLIF (input current and after-spike current) as a model the protocol scores
(:func:`spikesde._likelihood.protocol.score`): expected counts per bin, the continuous-time
log-likelihood of a window, and samples continued from a recorded history.

Binned expected counts: a spike in the bin ``[k w, (k+1) w)`` is moved to the bin's right edge, so
the model sees the history at bin resolution, as a GLM does, and the expected count of a bin is the
conditional intensity integrated over it (``-step_terms`` of :func:`likelihood_terms`, summed).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._models.slif import SLIF
from .._models.stimulus import AfterSpikeCurrent, ContinuedHistoryCurrent
from .exact import likelihood_terms, log_intensity, membrane
from .grid import EventGrid
from .metrics import bin_index, grid_nodes_at
from .sampler import sample_spikes, spike_times_from_grid


def half_open_weights(grid: EventGrid, start: float, stop: float):
    """Weights selecting the spikes (nodes) in ``[start, stop)`` and the steps inside ``[start, stop]``."""
    node = (grid.times >= start) & (grid.times < stop)
    step = (grid.times[:-1] >= start) & (grid.times[1:] <= stop)
    return node.astype(grid.times.dtype), step.astype(grid.times.dtype)


@jax.jit
def _terms(neuron, history, grid):
    return likelihood_terms(neuron, grid, history)


class FittedSLIF(eqx.Module):
    """A noise-free SLIF with after-spike current, scored on a recording of ``[0, duration)``.

    Arguments:
        neuron: the SLIF (``sigma_v = sigma_i = 0``); history: its :class:`AfterSpikeCurrent`.
        dt: the likelihood and sampling grid (s); duration: the recording's length (s).
    """

    neuron: SLIF
    history: AfterSpikeCurrent
    dt: float = eqx.field(static=True)
    duration: float = eqx.field(static=True)

    def _grid(self, spikes) -> EventGrid:
        return EventGrid.from_spike_times(spikes, 0.0, self.duration, self.dt)

    def expected_counts(self, spikes, bin_width: float, start: float, stop: float, *, exact_history: bool = False) -> np.ndarray:
        """Expected counts of the bins ``[k w, (k+1) w)`` covering ``[start, stop)``, the history of
        each bin being the recorded spikes of the bins before it (``exact_history``: the recorded
        spikes at their own times, the conditional intensity itself; not a binned score)."""
        per_bin = int(round(bin_width / self.dt))
        if not np.isclose(per_bin * self.dt, bin_width):
            raise ValueError(f"bin_width {bin_width} must be a multiple of the model's dt {self.dt}")
        edges = np.asarray(spikes) if exact_history else (bin_index(spikes, 0.0, bin_width) + 1) * bin_width
        grid = self._grid(np.minimum(edges, self.duration))
        _, step_terms = _terms(self.neuron, self.history, grid)
        # The integrated intensity at the bin edges (grid nodes: bin_width is a multiple of dt).
        cumulative = np.concatenate([[0.0], np.cumsum(-np.asarray(step_terms))])
        first, last = int(round(start / bin_width)), int(round(stop / bin_width))
        at_edges = grid_nodes_at(grid.times, np.arange(first, last + 1) * bin_width, bin_width)
        return np.diff(cumulative[at_edges])

    def continuous_log_likelihood(self, spikes, start: float, stop: float) -> float:
        """``log L`` of the spikes in ``[start, stop)`` given the recorded ones before ``start``."""
        grid = self._grid(spikes)
        spike_terms, step_terms = _terms(self.neuron, self.history, grid)
        node, step = half_open_weights(grid, start, stop)
        return float(jnp.sum(jnp.where(node > 0, spike_terms, 0.0)) + jnp.sum(step * step_terms))

    def state_at(self, spikes, start: float):
        """``(V(start^-), traces at start, clock run since the last spike before start)`` of the
        recorded history (``start`` must be a grid point)."""
        before = np.asarray(spikes)[np.asarray(spikes) < start]
        grid = EventGrid.from_spike_times(before, 0.0, start, self.dt) if before.size else None
        taus = np.asarray(self.history.taus)
        traces = np.exp(-(start - before[:, None]) / taus).sum(axis=0) if before.size else np.zeros_like(taus)
        if grid is None:
            return jnp.reshape(self.neuron.v0, ()), jnp.asarray(traces), 0.0
        v_minus, v_plus = jax.jit(membrane)(self.neuron, grid, self.history)
        lam = lambda v: jnp.exp(log_intensity(self.neuron, v))  # noqa: E731
        runs = 0.5 * grid.steps * (lam(v_plus[:-1]) + lam(v_minus[1:]))
        last = int(np.flatnonzero(np.asarray(grid.counts))[-1])
        return v_minus[-1], jnp.asarray(traces), float(jnp.sum(runs[last:]))

    def sample(self, spikes, start: float, stop: float, n: int, key) -> list:
        """``n`` spike trains on ``(start, stop)`` continued from the recorded history before ``start``:
        membrane, after-spike traces and (with ``alpha = 0`` or a clock past ``alpha``) the clock."""
        v, traces, clock = self.state_at(spikes, start)
        alpha = float(np.reshape(np.asarray(self.neuron.alpha), ()))
        if clock < alpha:
            raise ValueError(f"the clock has run {clock:.3g} < alpha = {alpha} since the last recorded spike: "
                             "a continued sample needs alpha = 0 or a clock past alpha")  # fmt: skip
        current = ContinuedHistoryCurrent(self.neuron.input_current, self.history.amplitudes, traces,
                                          self.history.taus, float(start))  # fmt: skip
        neuron = eqx.tree_at(lambda m: (m.input_current, m.v0), self.neuron, (current, jnp.reshape(v, jnp.shape(self.neuron.v0))))
        draw = jax.jit(jax.vmap(lambda k: sample_spikes(neuron, self.history, t0=start, t1=stop, dt=self.dt, key=k)))
        return [t[t < stop] for t in spike_times_from_grid(draw(jax.random.split(key, n)), start, self.dt)]


class PerWidthSLIF(eqx.Module):
    """An SLIF scored at each bin width by its own parameters (fitted to that width's binned data),
    in continuous time and for samples by the exact-time fit.

    Arguments:
        exact: the :class:`FittedSLIF` fitted on exact spike times.
        binned: ``{bin_width: FittedSLIF}``; a width not in it is scored by ``exact``.
    """

    exact: FittedSLIF
    binned: dict

    def expected_counts(self, spikes, bin_width: float, start: float, stop: float, *, exact_history: bool = False) -> np.ndarray:
        """:meth:`FittedSLIF.expected_counts` of the model fitted at ``bin_width`` (the exact-time
        one with ``exact_history``, which is no binned score)."""
        model = self.exact if exact_history else self.binned.get(bin_width, self.exact)
        return model.expected_counts(spikes, bin_width, start, stop, exact_history=exact_history)

    def continuous_log_likelihood(self, spikes, start: float, stop: float) -> float:
        """:meth:`FittedSLIF.continuous_log_likelihood` of the exact-time fit."""
        return self.exact.continuous_log_likelihood(spikes, start, stop)

    def sample(self, spikes, start: float, stop: float, n: int, key) -> list:
        """:meth:`FittedSLIF.sample` of the exact-time fit."""
        return self.exact.sample(spikes, start, stop, n, key)
