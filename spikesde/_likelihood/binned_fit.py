r"""The binned Poisson likelihood of a stimulus-driven SLIF, the way the protocol scores it, and its
maximisation over the linear parameters.

At bin width ``w`` the protocol (:func:`spikesde._likelihood.protocol.binned_bits`) knows the history
at bin resolution: a spike in ``[k w, (k+1) w)`` is moved to ``(k+1) w`` (its bin's right edge), and
the expected count of bin ``k`` is the conditional intensity integrated over it,

    m_k(theta) = int_{k w}^{(k+1) w} lambda*(t | spikes moved to edges) dt,

so the score of a window is the Poisson log-likelihood ``sum_k n_k log m_k - m_k - log n_k!`` of
its counts. A model fitted on exact spike times and scored this way sees its reset and after-spike
current up to ``w`` late. :class:`BinnedData` holds one recording's counts and the
:class:`~spikesde._likelihood.design.StimulusDesign` on its edge-moved spikes;
:func:`binned_fit` maximises the same binned likelihood on the training bins (Newton on the linear
parameters at fixed ``mu_v``, warm-started): a fit like for like with the score, as a per-width
GLM is.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from .design import StimulusDesign
from .grid import EventGrid
from .metrics import bin_counts, bin_index, grid_nodes_at
from .newton import maximise
from .stimulus_fit import roughness, split_theta


def edge_moved(spikes, bin_width: float, t0: float = 0.0) -> np.ndarray:
    """Every spike moved to the right edge ``t0 + (k+1) w`` of its bin ``[t0 + k w, t0 + (k+1) w)``.

    >>> edge_moved([0.0004, 0.001, 0.0025], 0.001).tolist()
    [0.001, 0.002, 0.003]
    """
    return t0 + (bin_index(spikes, t0, bin_width) + 1) * bin_width


class BinnedData(eqx.Module):
    """The binned data of ``[0, end)`` at one bin width: the design on the edge-moved spikes, and for
    every occupied bin its index, its edges as node indices of the design's grid and its count.

    Empty bins enter only through the integrated intensity, so the arrays are as long as the
    occupied bins: the same shapes at every bin width that no two spikes share (one compiled fit
    serves them all). Build it with :meth:`build`; spikes at or after ``end`` are never read.
    """

    design: StimulusDesign
    bins: Int[Array, " occupied"]
    edges: Int[Array, "occupied 2"]
    counts: Float[Array, " occupied"]
    bin_width: Float[Array, ""]

    @classmethod
    def build(cls, spikes, bin_width: float, end: float, dt: float, make_design) -> "BinnedData":
        """``make_design(grid)`` turns the grid of the edge-moved spikes of ``[0, end)`` (step ``dt``,
        a divisor of ``bin_width`` and of ``end``) into a :class:`StimulusDesign`."""
        per_bin = int(round(bin_width / dt))
        if per_bin < 1 or not np.isclose(per_bin * dt, bin_width):
            raise ValueError(f"bin_width {bin_width} must be a multiple of dt {dt}")
        spikes = np.asarray(spikes, dtype=np.float64)
        spikes = spikes[(spikes >= 0) & (spikes < end)]
        grid = EventGrid.from_spike_times(np.minimum(edge_moved(spikes, bin_width), end), 0.0, end, dt)
        counts = bin_counts(spikes, 0.0, end, bin_width)
        bins = np.flatnonzero(counts)
        times = np.asarray(grid.times)
        edges = grid_nodes_at(times, np.stack([bins, bins + 1], axis=1) * bin_width, bin_width)
        return cls(make_design(grid), jnp.asarray(bins, dtype=jnp.int32), jnp.asarray(edges, dtype=jnp.int32),
                   jnp.asarray(counts[bins], dtype=times.dtype), jnp.asarray(bin_width, dtype=times.dtype))  # fmt: skip

    def window(self, start: float, stop: float) -> tuple[Float[Array, " occupied"], Float[Array, " steps"]]:
        """``(bin_weights, step_weights)`` selecting the bins of ``[start, stop)`` (edges on the grid)."""
        width, times = float(self.bin_width), np.asarray(self.design.grid.times)
        bins = np.asarray(self.bins)
        occupied = (bins >= round(start / width)) & (bins < round(stop / width))
        steps = (times[:-1] >= start - 1e-9 * width) & (times[1:] <= stop + 1e-9 * width)
        return jnp.asarray(occupied, dtype=times.dtype), jnp.asarray(steps, dtype=times.dtype)

    def integrated_intensity(self, theta: dict, columns=None) -> Float[Array, " nodes"]:
        """``int_0^{tau_n} lambda* dt`` at every node ``tau_n`` of the design's grid."""
        _, step_terms = self.design.terms(theta, columns)
        return jnp.concatenate([jnp.zeros(1, step_terms.dtype), jnp.cumsum(-step_terms)])

    def expected(self, theta: dict, start: float, stop: float) -> np.ndarray:
        """``m_k(theta)`` for every bin of ``[start, stop)`` (host side)."""
        cumulative = np.asarray(self.integrated_intensity(theta))
        width, times = float(self.bin_width), np.asarray(self.design.grid.times)
        at = np.arange(round(start / width), round(stop / width) + 1) * width
        return np.diff(cumulative[grid_nodes_at(times, at, width)])

    def log_likelihood(self, theta: dict, weights, columns=None) -> Float[Array, ""]:
        """``sum_k (n_k log m_k - m_k - log n_k!)`` over the bins that ``weights`` (from
        :meth:`window`) select: the occupied ones give ``n_k log m_k - log n_k!``, and the steps
        give ``- sum_k m_k``."""
        bin_weights, step_weights = weights
        cumulative = self.integrated_intensity(theta, columns)
        m = cumulative[self.edges[:, 1]] - cumulative[self.edges[:, 0]]
        spikes = self.counts * jnp.log(m) - jax.scipy.special.gammaln(self.counts + 1)
        return jnp.sum(bin_weights * spikes) - jnp.sum(step_weights * jnp.diff(cumulative))


@functools.partial(jax.jit, static_argnames=("n_iter",))
def binned_fit(data: BinnedData, theta: dict, weights, *, n_iter: int = 10, damping: float = 1e-3, smoothness=0.0):
    """Damped Newton steps (:func:`~spikesde._likelihood.newton.maximise`) on the linear parameters
    at ``theta``'s ``mu_v``, maximising :meth:`BinnedData.log_likelihood` on the bins that
    ``weights`` select (:meth:`BinnedData.window`) minus ``smoothness / 2 * roughness(weights)`` (the prior of
    :func:`~spikesde._likelihood.stimulus_fit.linear_fit`). The binned likelihood is not concave in
    them (``log m_k`` is a log-sum-exp), so start from a good fit (the exact-time one): a step is
    taken only if it raises the objective. Returns ``(theta, value, (steps, converged))``.
    """
    linear, log_mu_v = split_theta(theta)
    columns = data.design.columns(jnp.exp(log_mu_v))

    def objective(lin):
        value = data.log_likelihood({**lin, "log_mu_v": log_mu_v}, weights, columns)
        return value - 0.5 * smoothness * roughness(lin["weights"])

    linear, value, state = maximise(objective, linear, n_iter=n_iter, damping=damping, info=True)
    return {**linear, "log_mu_v": log_mu_v}, value, state
