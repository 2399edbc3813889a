"""Rounding modes: how a value between two representable numbers picks one of them."""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray


class AbstractRounding(eqx.Module):
    """Rounds a value ``z``, given in units of the last place (LSB), to an integer-valued float.

    Formats scale a value ``x`` to ``z = x / lsb``, round, and scale back; a rounding mode only
    sees ``z``. Every mode is exact on integers.

    Example:
        ```python
        isinstance(sd.hardware.Floor(), sd.hardware.AbstractRounding)   # True: LowPrecisionEuler(dt, format, rounding)
        ```
    """

    #: Whether the mode draws random numbers (then ``key`` must be given).
    needs_key: eqx.AbstractClassVar[bool]

    @abc.abstractmethod
    def __call__(self, z: Float[Array, "*s"], key: PRNGKeyArray | None = None) -> Float[Array, "*s"]:
        """The integer chosen for ``z``."""


class NearestEven(AbstractRounding):
    """Round to the nearest integer, ties to even (IEEE 754 default).

    Example:
        ```python
        sd.hardware.NearestEven()(jnp.array([0.5, 1.5, 2.4]))   # [0.0, 2.0, 2.0]
        ```
    """

    needs_key = False

    def __call__(self, z, key=None):
        return jnp.round(z)


class TowardZero(AbstractRounding):
    """Truncate toward zero (``sign(z) floor(|z|)``; the ``>>`` of sign-magnitude chips).

    Example:
        ```python
        sd.hardware.TowardZero()(jnp.array([-0.5, 1.7]))   # [-0.0, 1.0]
        ```
    """

    needs_key = False

    def __call__(self, z, key=None):
        return jnp.trunc(z)


class Floor(AbstractRounding):
    """Round toward minus infinity (dropping the low bits of a two's-complement number).

    Example:
        ```python
        sd.hardware.Floor()(jnp.array([-0.5, 1.7]))   # [-1.0, 1.0]
        ```
    """

    needs_key = False

    def __call__(self, z, key=None):
        return jnp.floor(z)


class Stochastic(AbstractRounding):
    """``floor(z + U)`` with ``U ~ Uniform[0, 1)``: rounds up with probability ``z - floor(z)``,
    so the rounded value is unbiased, ``E[round(z)] = z``. Reproducible: the draws come from ``key``.

    ``bits`` sets the resolution of ``U`` (``U = r / 2^bits`` with ``r`` a ``bits``-bit uniform
    integer, as from a chip's random number generator); ``None`` uses the carrier float's resolution.

    Example:
        ```python
        sd.hardware.Stochastic()(jnp.full(1000, 0.25), jax.random.key(0)).mean()   # 0 or 1, 1 with probability 0.25
        chip = sd.hardware.LowPrecisionEuler(1e-3, sd.hardware.FixedPoint(7, 12), sd.hardware.Stochastic(), key=jax.random.key(1))
        ```
    """

    bits: int | None = eqx.field(static=True, default=None)
    needs_key = True

    def __check_init__(self):
        if self.bits is not None and not 1 <= self.bits <= 23:
            raise ValueError(f"Stochastic rounding: bits must be between 1 and 23, got {self.bits}")

    def __call__(self, z, key=None):
        if key is None:
            raise ValueError("stochastic rounding needs a random key (pass key=...)")
        if self.bits is None:
            u = jax.random.uniform(key, jnp.shape(z), jnp.result_type(z))
        else:
            r = jax.random.randint(key, jnp.shape(z), 0, 2**self.bits)
            u = r.astype(jnp.result_type(z)) / 2**self.bits
        return jnp.floor(z + u)


_NAMES = {
    "nearest": NearestEven,
    "nearest_even": NearestEven,
    "toward_zero": TowardZero,
    "truncate": TowardZero,
    "floor": Floor,
    "stochastic": Stochastic,
}


def as_rounding(rounding: "str | AbstractRounding") -> AbstractRounding:
    """A rounding mode from its name (``"nearest"``/``"nearest_even"``, ``"toward_zero"``/``"truncate"``,
    ``"floor"``, ``"stochastic"``) or an :class:`AbstractRounding` (returned as is).

    Example:
        ```python
        sd.hardware.as_rounding("toward_zero")   # TowardZero()
        ```
    """
    if isinstance(rounding, AbstractRounding):
        return rounding
    if isinstance(rounding, str) and rounding in _NAMES:
        return _NAMES[rounding]()
    raise ValueError(f"unknown rounding mode {rounding!r}; expected one of {sorted(_NAMES)} or an AbstractRounding")
