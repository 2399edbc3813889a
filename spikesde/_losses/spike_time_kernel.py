r"""A Gaussian kernel on the first spike times (or inter-spike intervals) of each neuron.

The expected signature of the counting path sees a spike train through a few iterated integrals of
``(t, N(t))``; two single-neuron models with the same rate and nearly the same mean spike times can
differ in the shape of the inter-spike-interval (ISI) law (how deep the reset pushes the membrane,
how fast it recovers) and in the serial dependence of successive intervals, and the depth-3 expected
signature barely tells them apart. This kernel compares the whole joint law of the first ``K``
spikes instead: each train becomes the vector

    f(x) = (u_1, u_2 - u_1, ..., u_K - u_{K-1}) / time_unit   (intervals, the default), or
    f(x) = (u_1, ..., u_K) / time_unit                       (times),
    u_j = min(tau_j, t1),  tau_0 = t0,

per neuron (concatenated), with a spike that did not happen by ``t1`` counting as ``t1``, and

    k(x, y) = (1 / |B|) sum_{b in B} exp(-|f(x) - f(y)|^2 / (2 b^2)),

a mixture of Gaussian kernels over the bandwidths ``B``. Each Gaussian kernel is characteristic on
``R^{nK}``, so the MMD under ``k`` (:class:`spikesde.KernelMMD`) is zero only when the laws of the
first ``K`` spikes of model and data agree. With ``marginal=True`` the kernel is instead the mean
over the ``nK`` coordinates of one-dimensional kernels,

    k(x, y) = (1 / (nK |B|)) sum_{i} sum_{b in B} exp(-(f_i(x) - f_i(y))^2 / (2 b^2)),

whose MMD^2 is the mean of the per-coordinate MMD^2s: zero exactly when every coordinate (each
interval's position-by-position law) agrees, blind to dependence between intervals, but with far
less sampling noise than a Gaussian kernel in ``nK`` dimensions, whose values at typical distances
are small (measured in notes/muv-reset.md (git history): about 30 standard errors against 3-5 for joint kernels
between the truth and a wrong fit of ``configs/slif_mu_v_reset.toml``). ``f`` is continuous in the spike times (a spike that
leaves the window moves its entry to ``t1`` continuously), so the loss is differentiable in them;
a spike that does not exist has no gradient, as with every pathwise loss.
"""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .mmd import AbstractSpikeTrainKernel, KernelMMD
from .paths import first_spike_times


def _as_tuple(values):
    return tuple(values) if isinstance(values, (tuple, list)) else (values,)


class SpikeTimeKernel(AbstractSpikeTrainKernel):
    r"""Mixture of Gaussian kernels on each neuron's first ``num_spikes`` intervals (or times).

    Arguments:
        num_spikes: ``K``, the spikes per neuron compared (at most the buffer length).
        t0, t1: the observation window.
        bandwidths: the Gaussian widths ``b``, in units of ``time_unit`` (one or several).
        time_unit: the feature scale: times and intervals are divided by it.
        intervals: compare the intervals ``u_j - u_{j-1}`` (default) or the times ``u_j``.
        marginal: average one-dimensional kernels over the coordinates instead of one joint kernel.

    Example:
        ```python
        kernel = sd.losses.SpikeTimeKernel(num_spikes=2, t0=0.0, t1=1.0, bandwidths=(0.1, 0.3))
        x = jnp.array([[[0.2, 0.6]], [[0.3, jnp.inf]]])   # 2 trains of 1 neuron, +inf padded
        kernel.gram(x, x)   # (2, 2)
        ```
    """

    num_spikes: int = eqx.field(static=True)
    t0: float = eqx.field(static=True)
    t1: float = eqx.field(static=True)
    bandwidths: tuple[float, ...] = eqx.field(static=True, default=(0.5, 1.0, 2.0), converter=_as_tuple)
    time_unit: float = eqx.field(static=True, default=1.0)
    intervals: bool = eqx.field(static=True, default=True)
    marginal: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if isinstance(self.num_spikes, bool) or not isinstance(self.num_spikes, int) or self.num_spikes < 1:
            raise ValueError(f"num_spikes must be a positive integer, got {self.num_spikes!r}")
        if not self.t1 > self.t0:
            raise ValueError(f"t1 must be greater than t0, got t0={self.t0}, t1={self.t1}")
        if not self.bandwidths or not all(
            isinstance(b, (int, float)) and not isinstance(b, bool) and 0 < b < float("inf") for b in self.bandwidths
        ):
            raise ValueError(f"bandwidths must be one or more positive finite numbers, got {self.bandwidths!r}")
        if not 0 < self.time_unit < float("inf"):
            raise ValueError(f"time_unit must be positive and finite, got {self.time_unit!r}")

    def features(self, spike_times: Float[ArrayLike, "b n k"]) -> Float[Array, "b features"]:
        """``f(x)`` of every train in the batch, shape ``(b, n * num_spikes)``."""
        times = first_spike_times(spike_times, self.num_spikes, self.t1)
        if self.intervals:
            start = jnp.full((*times.shape[:-1], 1), self.t0, times.dtype)
            times = jnp.diff(jnp.concatenate([start, times], axis=-1), axis=-1)
        else:
            times = times - self.t0
        return times.reshape(times.shape[0], -1) / self.time_unit

    def gram(self, x, y):
        fx, fy = self.features(x), self.features(y)
        # Differences, not |a|^2 + |b|^2 - 2ab: exact zero (and a zero gradient) on the diagonal.
        squared = (fx[:, None, :] - fy[None, :, :]) ** 2
        if not self.marginal:
            squared = jnp.sum(squared, axis=-1, keepdims=True)
        gram = sum(jnp.exp(-squared / (2 * b**2)) for b in self.bandwidths) / len(self.bandwidths)
        return jnp.mean(gram, axis=-1)


class SpikeTimeMMD(KernelMMD):
    """Unbiased squared MMD under :class:`SpikeTimeKernel`: ``KernelMMD(SpikeTimeKernel(...))``.

    Example:
        ```python
        loss = sd.SpikeTimeMMD(num_spikes=2, t0=0.0, t1=1.0, bandwidths=(0.1, 0.3))
        x = jnp.array([[[0.2, 0.6]], [[0.3, jnp.inf]]])   # 2 trains of 1 neuron, +inf padded
        loss(x, x + 0.05)
        ```
    """

    def __init__(self, num_spikes, t0, t1, bandwidths=(0.5, 1.0, 2.0), time_unit=1.0, intervals=True, marginal=False):
        self.kernel = SpikeTimeKernel(
            num_spikes=num_spikes, t0=t0, t1=t1, bandwidths=bandwidths, time_unit=time_unit, intervals=intervals,
            marginal=marginal,
        )
