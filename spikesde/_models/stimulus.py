"""Stimulus-driven input currents and after-spike (spike-history) currents.

``c(t) = b + (k * s)(t)`` with the filter ``k = sum_j w_j phi_j`` on a fixed basis ``phi_j``
(raised cosines on a log-time axis over the last ~30 ms, Pillow et al. 2008). The basis-filtered
stimulus ``(phi_j * s)`` is computed once, on the stimulus' own sampling grid, so evaluating
``c(t)`` is a lookup plus linear interpolation, linear (hence differentiable) in ``b`` and ``w``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._core.current import AbstractCurrent


def raised_cosine_basis(
    n_basis: int, duration: float, dt: float, *, first_peak: float = 0.0, stretch: float = 0.002
) -> Float[np.ndarray, "lags n_basis"]:
    r"""Raised cosines on a log-time axis, sampled at lags ``0, dt, ..., < duration``.

    ``phi_j(tau) = (1 + cos(clip(x(tau) - c_j, -pi, pi))) / 2`` with ``x(tau) = log(tau + stretch)``
    scaled so that the ``n_basis`` centres ``c_j`` are spaced by ``pi / 2`` (neighbours overlap
    by half; the sum of the basis is flat between the first and last centre). The first centre is
    at lag ``first_peak``, the last at ``duration`` minus half a bump, so the filter covers
    ``[0, duration)``. Small ``stretch`` puts more, narrower bumps at short lags. Each column is
    normalised to sum to one, so a weight multiplies a weighted average of the stimulus.

    Returns an array ``(lags, n_basis)``; each column is one basis function.

    Example:
        ```python
        basis = sd.likelihood.raised_cosine_basis(5, duration=0.05, dt=1e-3)            # (lags, 5)
        features = sd.likelihood.filter_stimulus(jnp.sin(jnp.linspace(0.0, 6.0, 1000)), basis)
        ```
    """
    if n_basis < 1:
        raise ValueError(f"n_basis must be at least 1, got {n_basis}")
    if not 0 < dt < duration:
        raise ValueError(f"need 0 < dt < duration, got dt={dt}, duration={duration}")
    lags = np.arange(0.0, duration, dt)
    x = np.log(lags + stretch)
    x_first, x_end = np.log(first_peak + stretch), np.log(duration + stretch)
    # Centres spaced by pi/2 in scaled log-time; the last bump ends at duration.
    spacing = (x_end - x_first) / (n_basis + 1)
    scale = (np.pi / 2) / spacing
    centres = x_first + spacing * np.arange(n_basis)
    arg = np.clip((x[:, None] - centres[None, :]) * scale, -np.pi, np.pi)
    basis = (1 + np.cos(arg)) / 2
    return basis / basis.sum(axis=0)


def filter_stimulus(
    stimulus: Float[ArrayLike, " samples"], basis: Float[ArrayLike, "lags n_basis"]
) -> Float[np.ndarray, "samples n_basis"]:
    """Causal convolution of a sampled stimulus with each basis column,
    ``(phi_j * s)[n] = sum_{m >= 0} phi_j[m] s[n - m]`` (samples before the start count as zero).
    The basis must be sampled at the stimulus' sampling step.

    Example:
        ```python
        basis = jnp.array([[1.0], [0.5]])                                # one filter, 2 lags
        sd.likelihood.filter_stimulus(jnp.array([1.0, 0.0, 2.0]), basis)  # [[1.0], [0.5], [2.0]]
        ```
    """
    stimulus = np.asarray(stimulus, dtype=np.float64)
    basis = np.asarray(basis, dtype=np.float64)
    if stimulus.ndim != 1:
        raise ValueError(f"stimulus must be one-dimensional, got shape {stimulus.shape}")
    if basis.ndim != 2:
        raise ValueError(f"basis must be (lags, n_basis), got shape {basis.shape}")
    n = stimulus.shape[0] + basis.shape[0] - 1
    spectrum = np.fft.rfft(stimulus, n)[:, None] * np.fft.rfft(basis, n, axis=0)
    return np.fft.irfft(spectrum, n, axis=0)[: stimulus.shape[0]]


class StimulusCurrent(AbstractCurrent):
    r"""``c(t) = bias + sum_j weights[j] features(t)[j]``, features linearly interpolated in time.

    ``features[n]`` is the basis-filtered stimulus at ``t0 + n dt`` (see :func:`filter_stimulus`);
    it is data, not a parameter: gradients stop at it. Outside the sampled window the features
    hold their end values.

    Arguments:
        features: ``(samples, n_basis)`` basis-filtered stimulus.
        dt: its sampling step; t0: time of the first sample.
        weights: ``(n_basis,)`` filter weights; bias: the constant ``b``.

    Example:
        ```python
        current = sd.likelihood.StimulusCurrent(jnp.array([[0.0], [1.0], [2.0]]), dt=0.1, weights=jnp.array([2.0]), bias=1.0)
        current(0.05)   # 1 + 2 * 0.5 = 2.0, features interpolated in time
        ```
    """

    features: Float[Array, "samples n_basis"]
    weights: Float[Array, " n_basis"]
    bias: Float[Array, ""]
    dt: float = eqx.field(static=True)
    t0: float = eqx.field(static=True)

    def __init__(self, features: ArrayLike, dt: float, weights: ArrayLike | None = None, bias: ArrayLike = 0.0,
                 t0: float = 0.0):
        features = jnp.asarray(features, dtype=float)
        if features.ndim != 2:
            raise ValueError(f"features must be (samples, n_basis), got shape {features.shape}")
        if not dt > 0:
            raise ValueError(f"dt must be positive, got {dt}")
        self.features = features
        self.weights = jnp.zeros(features.shape[1]) if weights is None else jnp.asarray(weights, dtype=float)
        if self.weights.shape != (features.shape[1],):
            raise ValueError(f"weights must have shape ({features.shape[1]},), got {self.weights.shape}")
        self.bias = jnp.asarray(bias, dtype=float)
        self.dt = float(dt)
        self.t0 = float(t0)

    def feature_values(self, t: Float[ArrayLike, "*batch"]) -> Float[Array, "*batch n_basis"]:
        """The basis-filtered stimulus at times ``t`` (linear interpolation, clamped at the ends)."""
        features = jax.lax.stop_gradient(self.features)
        position = jnp.clip((jnp.asarray(t) - self.t0) / self.dt, 0.0, features.shape[0] - 1.0)
        index = jnp.minimum(jnp.floor(position).astype(jnp.int32), features.shape[0] - 2)
        frac = (position - index)[..., None]
        return features[index] * (1 - frac) + features[index + 1] * frac

    def __call__(self, t):
        return self.bias + self.feature_values(t) @ self.weights

    def filter(self, basis: Float[ArrayLike, "lags n_basis"]) -> Float[Array, " lags"]:
        """The learned filter ``k = basis @ weights`` on the basis' lag grid."""
        return jnp.asarray(basis) @ self.weights


class AfterSpikeCurrent(eqx.Module):
    r"""Spike-history current ``h(t) = sum_{t_s < t} sum_j amplitudes[j] exp(-(t - t_s) / taus[j])``.

    Added to the input current after every spike of the neuron itself (a negative slow amplitude
    is spike-frequency adaptation). Exponential kernels make it a linear state: each trace decays
    at rate ``1/tau_j`` and jumps by one at each spike, so it costs one state per time constant.

    Arguments:
        taus: time constants (fixed, static); amplitudes: ``(n_taus,)`` learned amplitudes.

    Example:
        ```python
        history = sd.likelihood.AfterSpikeCurrent(taus=(0.01, 0.1), amplitudes=jnp.array([-2.0, 0.5]))
        history.kernel(jnp.array([0.0, 0.01]))   # [-1.5, -2 / e + 0.5 exp(-0.1)]: log_likelihood(neuron, grid, history)
        ```
    """

    amplitudes: Float[Array, " n_taus"]
    taus: tuple[float, ...] = eqx.field(static=True)

    def __init__(self, taus, amplitudes: ArrayLike | None = None):
        self.taus = tuple(float(tau) for tau in np.atleast_1d(taus))
        if not self.taus or min(self.taus) <= 0:
            raise ValueError(f"taus must be a non-empty list of positive time constants, got {taus}")
        n = len(self.taus)
        self.amplitudes = jnp.zeros(n) if amplitudes is None else jnp.asarray(amplitudes, dtype=float)
        if self.amplitudes.shape != (n,):
            raise ValueError(f"amplitudes must have shape ({n},), got {self.amplitudes.shape}")

    def kernel(self, lags: Float[ArrayLike, " lags"]) -> Float[Array, " lags"]:
        """``h`` as a function of the time since one spike."""
        lags = jnp.asarray(lags)[:, None]
        return jnp.exp(-lags / jnp.asarray(self.taus)) @ self.amplitudes


class ContinuedHistoryCurrent(AbstractCurrent):
    r"""``c(t) + sum_j amplitudes[j] traces[j] exp(-(t - start) / taus[j])``: an input current plus the
    after-spike current that the spikes before ``start`` still carry after it.

    A model run started at ``start`` from a recorded history (and its own after-spike current from
    zero traces) then sees the same total after-spike current as the model that produced the
    history: the recorded spikes' part decays deterministically, so it is an input.

    Arguments:
        base: the input current ``c(t)``; amplitudes: ``(n_taus,)``; traces: ``(n_taus,)`` the
        history's traces ``sum_{t_s < start} exp(-(start - t_s) / tau_j)`` at ``start``.
        taus: time constants (static); start: the time the traces are given at.
    """

    base: AbstractCurrent
    amplitudes: Float[Array, " n_taus"]
    traces: Float[Array, " n_taus"]
    taus: tuple[float, ...] = eqx.field(static=True)
    start: float = eqx.field(static=True)

    def __call__(self, t):
        decay = jnp.exp(-(jnp.asarray(t) - self.start) / jnp.asarray(self.taus))
        return self.base(t) + (self.amplitudes * self.traces) @ decay
