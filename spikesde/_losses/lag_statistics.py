r"""Lag statistics of spike trains: how often one neuron fires shortly before or after another.

The expected signature of a network's spike trains sees each neuron's total input weight well, but
hardly how that weight splits among presynaptic neurons that fire almost together (reference
experiment (b): the signature loss is ~7,000x less sensitive to such a split than to the sum). These
statistics look at the pairs directly: a presynaptic spike raises the postsynaptic neuron's rate for
a few membrane time constants, so the count of postsynaptic spikes at short lags after each
presynaptic spike, per pair, carries that pair's weight.
"""

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float

from .base import AbstractSpikeTrainLoss, _check_batches


class LagStatisticLoss(AbstractSpikeTrainLoss):
    r"""Squared distance of the mean lag statistics of two batches of spike trains.

    Per spike train, with spike times ``t_ka`` (neuron ``k``, spike ``a``) in ``[t0, t1]``, the taper
    ``g(t) = min(1, (t1 - t) / taper)`` (``1`` when ``taper = 0``) and the alpha kernel
    ``k_tau(l) = (l / tau) exp(1 - l / tau)`` for ``l > 0``, ``0`` otherwise, the statistics are

        counts      c_k = sum_a g(t_ka)
        moments     m_k = sum_a g(t_ka) (t_ka - t0)
        lags        q_{ij,tau,+} = sum_{a,b} g(t_ia) g(t_jb) k_tau(t_jb - t_ia)     (j fires after i)
                    q_{ij,tau,-} = sum_{a,b} g(t_ia) g(t_jb) k_tau(t_ia - t_jb)     (j fires before i)

    for each pair ``(i, j)`` (every connection ``i -> j`` of ``connections``, or every pair ``i < j``)
    and each ``tau`` in ``taus``. Every statistic is continuous in every spike time (the kernel
    vanishes at lag 0 and the taper at ``t1``), so pathwise gradients through the spike times are
    unbiased. The loss is

        L(X, Y) = || S^{-1} (mean_i phi(x_i) - mean_j phi(y_j)) ||^2

    with ``S = 1`` (``whiten="none"``); ``S = diag(sigma)``, ``sigma_s`` the standard deviation of
    ``phi_s`` over the data (``"diagonal"``: every statistic on the scale of its own noise); or ``S``
    the Cholesky factor of the data's covariance shrunk towards its diagonal,
    ``(1 - shrinkage) Cov + shrinkage diag(Cov)`` (``"full"``: a Mahalanobis distance, which also
    separates correlated statistics, such as the lags of neurons that fire together). Statistics
    that never vary in the data keep variance 1. The expectation for two independent samples of one
    law, of sizes ``m`` and ``n``, is ``tr(S^{-1} Cov S^{-T}) (1/m + 1/n)``, not 0 (a V-statistic,
    as :class:`spikesde.ExpectedSignatureLoss`).

    ``loss.prepare(data)`` returns a copy holding the data's mean statistics (and ``sigma``), computed
    once; calls of the copy then ignore their second argument's values (only its shape is checked).

    Arguments:
        t0, t1: the observation window.
        taus: the kernel's time scales (each its peak lag), positive.
        taper: the width over which a spike fades in as it enters the window at ``t1`` (0: none).
        connections: a boolean ``(n, n)`` matrix, ``connections[i, j]`` for a connection ``i -> j``
            (e.g. ``network.mask``); ``None``: every pair of distinct neurons.
        whiten: ``"none"``, ``"diagonal"`` or ``"full"`` (``True``: ``"diagonal"``, ``False``: ``"none"``).
        shrinkage: the weight of the diagonal in the ``"full"`` covariance, in ``(0, 1]``.

    Example:
        ```python
        mask = sd.feedforward_mask([1, 2])   # neuron 0 -> neurons 1 and 2
        loss = sd.LagStatisticLoss(0.0, 1.0, taus=(0.05, 0.15), connections=mask)
        x = jnp.array([[[0.2, 0.6], [0.25, jnp.inf], [0.3, 0.7]]] * 4)
        loss(x, x + 0.01)
        ```
    """

    t0: float = eqx.field(static=True)
    t1: float = eqx.field(static=True)
    taus: tuple[float, ...] = eqx.field(static=True)
    taper: float = eqx.field(static=True)
    whiten: Literal["none", "diagonal", "full"] = eqx.field(static=True)
    shrinkage: float = eqx.field(static=True)
    sources: tuple[int, ...] | None = eqx.field(static=True)
    targets: tuple[int, ...] | None = eqx.field(static=True)
    target: Float[Array, " statistics"] | None
    scale: Float[Array, " statistics"] | None

    def __init__(
        self,
        t0: float,
        t1: float,
        taus: tuple[float, ...] = (0.05, 0.15),
        taper: float = 0.1,
        connections: Bool[ArrayLike, "n n"] | None = None,
        whiten: bool | Literal["none", "diagonal", "full"] = "none",
        shrinkage: float = 0.1,
        *,
        target: Float[ArrayLike, " statistics"] | None = None,
        scale: Float[ArrayLike, " statistics"] | None = None,
    ):
        if not t1 > t0:
            raise ValueError(f"t1 must be greater than t0, got t0={t0}, t1={t1}")
        taus = tuple(float(tau) for tau in np.atleast_1d(taus))
        if not taus or not all(tau > 0 for tau in taus):
            raise ValueError(f"taus must be one or more positive time scales, got {taus}")
        if not taper >= 0:
            raise ValueError(f"taper must be non-negative, got {taper}")
        whiten = {True: "diagonal", False: "none"}.get(whiten, whiten) if isinstance(whiten, bool) else whiten
        if whiten not in ("none", "diagonal", "full"):
            raise ValueError(f"whiten must be 'none', 'diagonal' or 'full', got {whiten!r}")
        if not 0 < shrinkage <= 1:
            raise ValueError(f"shrinkage must lie in (0, 1], got {shrinkage}")
        self.t0, self.t1, self.taus, self.taper = float(t0), float(t1), taus, float(taper)
        self.whiten, self.shrinkage = whiten, float(shrinkage)
        if connections is None:
            self.sources = self.targets = None
        else:
            mask = np.asarray(connections)
            if mask.ndim != 2 or mask.shape[0] != mask.shape[1] or mask.dtype != bool:
                raise ValueError(f"connections must be a square boolean matrix, got {mask.dtype} {mask.shape}")
            if not mask.any():
                raise ValueError("connections must hold at least one connection")
            sources, targets = np.nonzero(mask)
            self.sources, self.targets = tuple(sources.tolist()), tuple(targets.tolist())
        self.target = None if target is None else jnp.asarray(target)
        self.scale = None if scale is None else jnp.asarray(scale)

    def pairs(self, n_neurons: int) -> tuple[np.ndarray, np.ndarray]:
        """The (source, target) neuron indices of the lag statistics for ``n_neurons`` neurons."""
        if self.sources is None:
            return np.triu_indices(n_neurons, k=1)
        if max(max(self.sources), max(self.targets)) >= n_neurons:
            raise ValueError(f"connections name neurons beyond the spike trains' {n_neurons} neurons")
        return np.asarray(self.sources), np.asarray(self.targets)

    def statistics(self, spike_times: Float[ArrayLike, "*batch n k"]) -> Float[Array, "*batch statistics"]:
        """Per-train statistics ``phi``: counts (n), moments (n), then per ``tau`` and order the lags."""
        spike_times = jnp.asarray(spike_times)
        finite = jnp.isfinite(spike_times)
        t = jnp.where(finite, spike_times, self.t1)  # padding: weight 0, and a finite time for the gradient
        fade = jnp.clip((self.t1 - t) / self.taper, 0.0, 1.0) if self.taper > 0 else jnp.ones_like(t)
        g = jnp.where(finite, fade, 0.0)
        sources, targets = self.pairs(spike_times.shape[-2])
        lag = t[..., targets, None, :] - t[..., sources, :, None]  # (*batch, pair, a, b): t_jb - t_ia
        weight = g[..., sources, :, None] * g[..., targets, None, :]
        stats = [jnp.sum(g, -1), jnp.sum(g * (t - self.t0), -1)]
        for tau in self.taus:
            for order in (1.0, -1.0):
                x = jnp.maximum(order * lag, 0.0) / tau
                stats.append(jnp.sum(weight * x * jnp.exp(1.0 - x), axis=(-2, -1)))
        return jnp.concatenate(stats, axis=-1)

    def data_moments(self, data_spike_times) -> tuple[Float[Array, " statistics"], Float[Array, "..."]]:
        """The data's mean statistics and the scale ``S``: a vector (``"none"``: ones, ``"diagonal"``)
        or a lower-triangular matrix (``"full"``)."""
        phi = jax.lax.stop_gradient(self.statistics(data_spike_times))
        mean = jnp.mean(phi, axis=0)
        if self.whiten == "none":
            return mean, jnp.ones_like(mean)
        variance = jnp.var(phi, axis=0)
        variance = jnp.where(variance > 0, variance, 1.0)
        if self.whiten == "diagonal":
            return mean, jnp.sqrt(variance)
        centred = phi - mean
        covariance = centred.T @ centred / phi.shape[0]
        shrunk = (1 - self.shrinkage) * covariance + self.shrinkage * jnp.diag(variance)
        return mean, jnp.linalg.cholesky(shrunk)

    def prepare(self, data_spike_times) -> "LagStatisticLoss":
        mean, scale = self.data_moments(jnp.asarray(data_spike_times))
        return eqx.tree_at(lambda loss: (loss.target, loss.scale), self, (mean, scale), is_leaf=lambda x: x is None)

    def __call__(self, model_spike_times, data_spike_times):
        x, y = _check_batches(model_spike_times, data_spike_times)
        target, scale = self.data_moments(y) if self.target is None else (self.target, self.scale)
        difference = jnp.mean(self.statistics(x), axis=0) - target
        if scale.ndim == 2:  # the Cholesky factor of the covariance: a Mahalanobis distance
            return jnp.sum(jax.scipy.linalg.solve_triangular(scale, difference, lower=True) ** 2)
        return jnp.sum((difference / scale) ** 2)
