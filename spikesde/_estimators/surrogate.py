r"""Surrogate gradients for hard-threshold spikes (Neftci, Mostafa & Zenke 2019).

A spike is the Heaviside step ``S = H(x)`` of the distance to threshold ``x = U - theta``. Its
derivative is zero almost everywhere, so backpropagation through time learns nothing. A surrogate
keeps ``H`` in the forward pass and replaces ``H'`` in the backward pass by a smooth bump ``g(x)``.
The forward values are exact; the gradient is a biased but useful pseudo-derivative.
"""

import abc
import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


class AbstractSurrogate(eqx.Module):
    """A pseudo-derivative ``g(x)`` used in place of the Heaviside step's derivative.

    Calling the surrogate on ``x`` returns ``H(x)`` (1 where ``x > 0``) with ``dH/dx := g(x)``.

    Example:
        ```python
        classifier = sd.estimators.SurrogateClassifier(surrogate=sd.estimators.Triangle(0.5))   # any AbstractSurrogate
        ```
    """

    @abc.abstractmethod
    def derivative(self, x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """The pseudo-derivative ``g(x)``."""

    def __call__(self, x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        return _heaviside(self, x)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _heaviside(surrogate: AbstractSurrogate, x):
    return (x > 0).astype(x.dtype)


@_heaviside.defjvp
def _heaviside_jvp(surrogate, primals, tangents):
    (x,), (x_dot,) = primals, tangents
    return _heaviside(surrogate, x), surrogate.derivative(x) * x_dot


def _positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive and finite, got {value}")


class FastSigmoid(AbstractSurrogate):
    r"""SuperSpike's fast sigmoid (Zenke & Ganguli 2018): ``g(x) = 1 / (beta |x| + 1)^2``; ``g(0) = 1``.

    Example:
        ```python
        surrogate = sd.estimators.FastSigmoid(beta=10.0)
        jax.grad(surrogate)(jnp.array(0.0))   # H(x) forward; its derivative is 1 / (1 + beta |x|)^2, 1 at the threshold
        ```
    """

    beta: float = eqx.field(static=True, default=100.0)

    def __check_init__(self):
        _positive("beta", self.beta)

    def derivative(self, x):
        return 1.0 / (self.beta * jnp.abs(x) + 1.0) ** 2


class SigmoidDerivative(AbstractSurrogate):
    r"""The derivative of a steep logistic: ``g(x) = beta sigma(beta x) (1 - sigma(beta x))``; ``g(0) = beta / 4``.

    Example:
        ```python
        surrogate = sd.estimators.SigmoidDerivative(beta=10.0)
        surrogate.derivative(jnp.array(0.0))   # beta / 4 = 2.5
        ```
    """

    beta: float = eqx.field(static=True, default=10.0)

    def __check_init__(self):
        _positive("beta", self.beta)

    def derivative(self, x):
        s = jax.nn.sigmoid(self.beta * x)
        return self.beta * s * (1.0 - s)


class Triangle(AbstractSurrogate):
    r"""Piecewise-linear bump (Esser et al. 2016; Bellec et al. 2018):
    ``g(x) = max(0, 1 - |x| / width) / width``, which integrates to 1.

    Example:
        ```python
        surrogate = sd.estimators.Triangle(width=0.5)
        surrogate.derivative(jnp.array([0.0, 0.25, 1.0]))   # [2.0, 1.0, 0.0]
        ```
    """

    width: float = eqx.field(static=True, default=0.5)

    def __check_init__(self):
        _positive("width", self.width)

    def derivative(self, x):
        return jnp.maximum(0.0, 1.0 - jnp.abs(x) / self.width) / self.width


class ArcTan(AbstractSurrogate):
    r"""The derivative of ``arctan(pi alpha x / 2) / pi + 1/2`` (Fang et al. 2021):
    ``g(x) = (alpha / 2) / (1 + (pi alpha x / 2)^2)``, which integrates to 1.

    Example:
        ```python
        surrogate = sd.estimators.ArcTan(alpha=2.0)
        surrogate.derivative(jnp.array(0.0))   # alpha / 2 = 1.0
        ```
    """

    alpha: float = eqx.field(static=True, default=2.0)

    def __check_init__(self):
        _positive("alpha", self.alpha)

    def derivative(self, x):
        return (self.alpha / 2) / (1.0 + (jnp.pi * self.alpha * x / 2) ** 2)
