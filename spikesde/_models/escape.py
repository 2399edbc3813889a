r"""Escape functions: the firing intensity ``lambda(v)`` of an escape-noise neuron as an option object.

A neuron with escape noise fires at the instantaneous rate ``lambda(V)`` (a point process whose
conditional intensity depends on the membrane potential). Each escape function gives ``log lambda``
(computed in the log domain, so that likelihoods stay finite where ``lambda`` under- or overflows)
and ``lambda``; both are differentiable in the function's fields, which are learnable parameters
(learn path ``"neuron.escape.<field>"``).

    ExponentialEscape:        lambda(v) = exp(beta min(v - v_threshold, 10)) / tau_s
    RectifiedLinearEscape:    lambda(v) = slope max(v - v_threshold, 0)
    ExponentialLinearEscape:  lambda(v) = max(c1 v + c2 exp(c3 v), 0)    (NEST's pp_psc_delta)

Example:

    >>> import spikesde as sd
    >>> escape = sd.ExponentialLinearEscape(c1=0.0, c2=1.238, c3=0.25)   # Hz, v in mV
    >>> neuron = sd.SLIF(1, 15.0, mu_v=100.0, escape=escape, reset_rule=sd.SetReset(0.0), alpha=0.0)
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._core.neuron import _as_parameter, max_exponent
from .._core.validation import check_parameters


class AbstractEscape(eqx.Module):
    """An escape rate ``lambda(v) >= 0`` of the membrane potential ``v``.

    Example:
        ```python
        class Quadratic(sd.AbstractEscape):   # lambda(v) = v^2: log_rate and rate
            def log_rate(self, v):
                return 2.0 * jnp.log(jnp.abs(v))
            def rate(self, v):
                return v**2
        ```
    """

    @abc.abstractmethod
    def log_rate(self, v: Float[Array, "*n"]) -> Float[Array, "*n"]:
        """``log lambda(v)`` (``-inf`` where the rate is zero)."""

    def rate(self, v: Float[Array, "*n"]) -> Float[Array, "*n"]:
        """``lambda(v)``."""
        return jnp.exp(self.log_rate(v))


def _check(escape, domains):
    check_parameters(type(escape).__name__, domains, {name: getattr(escape, name) for name in domains})


def _safe_log(x):
    """``log x`` for ``x >= 0`` with ``-inf`` at 0 and a finite gradient wherever ``x > 0``."""
    positive = x > 0
    return jnp.where(positive, jnp.log(jnp.where(positive, x, 1.0)), -jnp.inf)


class ExponentialEscape(AbstractEscape):
    """``lambda(v) = exp(beta min(v - v_threshold, 10)) / tau_s`` (the SLIF's own intensity); the
    exponent is also capped at ``max_exponent(dtype) + min(log tau_s, 0)`` so that the rate and its
    gradients stay finite for any finite parameters.

    Example:
        ```python
        escape = sd.ExponentialEscape(beta=5.0, v_threshold=1.0, tau_s=1.0)   # the SLIF's own intensity
        escape.rate(jnp.array([0.0, 1.0]))                                      # [exp(-5), 1.0]
        neuron = sd.SLIF(escape=escape, alpha=0.0)
        ```
    """

    beta: Float[Array, "*n"] = eqx.field(converter=_as_parameter)
    v_threshold: Float[Array, "*n"] = eqx.field(converter=_as_parameter)
    tau_s: Float[Array, "*n"] = eqx.field(converter=_as_parameter)

    def __check_init__(self):
        _check(self, dict(beta="finite", v_threshold="finite", tau_s="positive"))

    def _exponent(self, v):
        exponent = self.beta * jnp.minimum(v - self.v_threshold, 10.0)
        return jnp.minimum(exponent, max_exponent(exponent.dtype) + jnp.minimum(jnp.log(self.tau_s), 0.0))

    def log_rate(self, v):
        return self._exponent(v) - jnp.log(self.tau_s)

    def rate(self, v):
        # Dividing by tau_s (rather than subtracting its log in the exponent) keeps the SLIF's rate to the last bit.
        return jnp.exp(self._exponent(v)) / self.tau_s


class RectifiedLinearEscape(AbstractEscape):
    """``lambda(v) = slope max(v - v_threshold, 0)``: no spikes below ``v_threshold`` (the
    likelihood of a spike there is zero, ``log L = -inf``).

    Example:
        ```python
        escape = sd.RectifiedLinearEscape(slope=20.0, v_threshold=0.5)
        escape.rate(jnp.array([0.0, 1.0]))   # [0.0, 10.0]: no spikes below v_threshold
        neuron = sd.SLIF(escape=escape, alpha=0.0)
        ```
    """

    slope: Float[Array, "*n"] = eqx.field(converter=_as_parameter)
    v_threshold: Float[Array, "*n"] = eqx.field(converter=_as_parameter)

    def __check_init__(self):
        _check(self, dict(slope="nonnegative", v_threshold="finite"))

    def log_rate(self, v):
        return _safe_log(self.rate(v))

    def rate(self, v):
        return self.slope * jnp.maximum(v - self.v_threshold, 0.0)


class ExponentialLinearEscape(AbstractEscape):
    """``lambda(v) = max(c1 v + c2 exp(c3 v), 0)``, the rate of NEST's ``pp_psc_delta``
    (Hz with ``v`` in mV relative to rest in NEST's units). With ``c1 = 0`` the log-rate is
    ``log c2 + c3 v``, computed without forming the exponential (the SLIF's intensity is the case
    ``c2 = exp(-beta v_threshold) / tau_s``, ``c3 = beta``).

    Example:
        ```python
        escape = sd.ExponentialLinearEscape(c1=0.0, c2=1.238, c3=0.25)   # NEST's pp_psc_delta: Hz, v in mV
        escape.rate(jnp.array(0.0))                                       # 1.238
        neuron = sd.SLIF(1, 15.0, mu_v=100.0, escape=escape, reset_rule=sd.SetReset(0.0), alpha=0.0)
        ```
    """

    c1: Float[Array, "*n"] = eqx.field(converter=_as_parameter)
    c2: Float[Array, "*n"] = eqx.field(converter=_as_parameter)
    c3: Float[Array, "*n"] = eqx.field(converter=_as_parameter)

    def __init__(self, c1: ArrayLike = 0.0, c2: ArrayLike = 1.238, c3: ArrayLike = 0.25):
        self.c1, self.c2, self.c3 = c1, c2, c3

    def __check_init__(self):
        _check(self, dict(c1="finite", c2="nonnegative", c3="finite"))

    def log_rate(self, v):
        cap = max_exponent(jnp.result_type(v, self.c3))
        # log(c2 e^{c3 v} + c1 v) = log c2 + c3 v + log(1 + c1 v e^{-c3 v} / c2): the exponential part
        # exactly, the linear part as a relative correction (0 when c1 = 0, with the right gradient in c1).
        log_exp = _safe_log(self.c2) + jnp.minimum(self.c3 * v, cap)
        ratio = self.c1 * v * jnp.exp(jnp.minimum(-log_exp, cap))
        with_exp = log_exp + _safe_log(1.0 + ratio)
        return jnp.where(self.c2 > 0, with_exp, _safe_log(jnp.maximum(self.c1 * v, 0.0)))

    def rate(self, v):
        exponent = jnp.minimum(self.c3 * v, max_exponent(jnp.result_type(v, self.c3)))
        return jnp.maximum(self.c1 * v + self.c2 * jnp.exp(exponent), 0.0)
