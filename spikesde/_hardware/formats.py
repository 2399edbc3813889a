"""Number formats of neuromorphic chips: signed fixed point and low-precision floats.

A format maps a float ``x`` (held in a float carrier: the state of the event core is a float
array) to the nearest representable values chosen by a rounding mode. Values of a format are
held exactly by the carrier; formats too wide for their carrier are rejected.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .rounding import AbstractRounding, NearestEven, as_rounding

_OVERFLOW = ("saturate", "wrap")
#: Significand bits (with the implicit one) of the float carriers.
_CARRIER_BITS = {"float32": 24, "float64": 53}


def carrier_bits(dtype) -> int:
    """Bits of integer precision of a float carrier dtype (24 for float32, 53 for float64)."""
    name = jnp.dtype(dtype).name
    if name not in _CARRIER_BITS:
        raise ValueError(f"carrier dtype must be float32 or float64, got {name}")
    return _CARRIER_BITS[name]


class AbstractFormat(eqx.Module):
    """A number format: ``quantize(x, rounding, key)`` returns the representable value chosen for ``x``.

    Example:
        ```python
        isinstance(sd.hardware.FixedPoint(7, 12), sd.hardware.AbstractFormat)   # True: LowPrecisionEuler(dt, format)
        ```
    """

    @property
    @abc.abstractmethod
    def bits(self) -> int:
        """Significant bits a carrier must hold exactly (the sign included)."""

    @abc.abstractmethod
    def quantize(
        self, x: Float[Array, "*s"], rounding: AbstractRounding = NearestEven(), key: PRNGKeyArray | None = None
    ) -> Float[Array, "*s"]:
        """``x`` rounded into the format (in the dtype of ``x``)."""

    def check_carrier(self, dtype) -> None:
        """Raise when values of this format are not exact in the float ``dtype``."""
        if self.bits > carrier_bits(dtype):
            raise ValueError(
                f"{self} needs {self.bits} significant bits, more than the {carrier_bits(dtype)} of a "
                f"{jnp.dtype(dtype).name} carrier: simulate with dtype=float64 under jax.enable_x64"
            )


class FixedPoint(AbstractFormat):
    """Signed two's-complement fixed point ``s<integer_bits>.<fraction_bits>``: a sign bit,
    ``integer_bits`` integer bits and ``fraction_bits`` fraction bits; values ``k 2^-fraction_bits``
    for integers ``-2^(i+f) <= k < 2^(i+f)``. Out-of-range results ``saturate`` (clip to the
    extremes) or ``wrap`` (modulo ``2^(i+f+1)``, as integer adders do).

    SpiNNaker's ``accum`` type is ``FixedPoint(16, 15)``; Loihi's 24-bit state is ``FixedPoint(23, 0)``.

    Example:
        ```python
        q = sd.hardware.FixedPoint(3, 8)     # s3.8: sign, 3 integer and 8 fraction bits
        q.quantize(jnp.array(0.1234))        # 32 / 256 = 0.125
        chip = sd.hardware.LowPrecisionEuler(1e-3, q, sd.hardware.NearestEven())
        ```
    """

    integer_bits: int = eqx.field(static=True)
    fraction_bits: int = eqx.field(static=True)
    overflow: str = eqx.field(static=True, default="saturate")

    def __check_init__(self):
        for name in ("integer_bits", "fraction_bits"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"FixedPoint: {name} must be a non-negative integer, got {value!r}")
        if self.integer_bits + self.fraction_bits == 0:
            raise ValueError("FixedPoint: zero bits (integer_bits + fraction_bits must be at least 1)")
        if self.bits > 53:
            raise ValueError(f"FixedPoint: {self.bits} bits overflow the widest carrier (float64 holds 53)")
        if self.overflow not in _OVERFLOW:
            raise ValueError(f"FixedPoint: overflow must be one of {_OVERFLOW}, got {self.overflow!r}")

    def __str__(self):
        return f"FixedPoint(s{self.integer_bits}.{self.fraction_bits}, {self.overflow})"

    @property
    def bits(self):
        return 1 + self.integer_bits + self.fraction_bits

    @property
    def lsb(self) -> float:
        return 2.0**-self.fraction_bits

    @property
    def max(self) -> float:
        return (2.0 ** (self.integer_bits + self.fraction_bits) - 1) * self.lsb

    @property
    def min(self) -> float:
        return -(2.0 ** (self.integer_bits + self.fraction_bits)) * self.lsb

    def quantize(self, x, rounding=NearestEven(), key=None):
        self.check_carrier(jnp.result_type(x))
        k = as_rounding(rounding)(x * 2.0**self.fraction_bits, key)
        return self.overflow_integer(k) * self.lsb

    def overflow_integer(self, k: Float[Array, "*s"]) -> Float[Array, "*s"]:
        """Bring an integer-valued ``k`` (in LSB units) into range by saturation or wrapping."""
        span = 2.0 ** (self.integer_bits + self.fraction_bits)
        if self.overflow == "saturate":
            return jnp.clip(k, -span, span - 1)
        return jnp.mod(k + span, 2 * span) - span


class LowPrecisionFloat(AbstractFormat):
    """A binary float with ``exponent_bits`` and ``mantissa_bits`` (explicit, stored bits), IEEE-style
    bias ``2^(e-1) - 1`` and subnormals. Overflow saturates to the largest finite value (chips
    clamp; use ``lax.reduce_precision`` for IEEE infinities). Build it from a name with
    :func:`float_format` (``"bfloat16"``, ``"float16"``, ``"float8_e4m3fn"``, ``"float8_e5m2"``, ...).

    The largest finite value is ``max_value``, by default that of the IEEE layout,
    ``(2 - 2^-m) 2^(2^(e-1) - 1)`` (formats without infinities, such as ``float8_e4m3fn``, go further).

    Example:
        ```python
        fp8 = sd.hardware.LowPrecisionFloat(exponent_bits=4, mantissa_bits=3)
        fp8.quantize(jnp.array(0.3))   # 0.3125, the nearest value with a 3-bit mantissa
        ```
    """

    exponent_bits: int = eqx.field(static=True)
    mantissa_bits: int = eqx.field(static=True)
    name: str = eqx.field(static=True, default="")
    max_value: float | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        if not isinstance(self.exponent_bits, (int, np.integer)) or not 2 <= self.exponent_bits <= 11:
            raise ValueError(f"LowPrecisionFloat: exponent_bits must be between 2 and 11, got {self.exponent_bits!r}")
        if not isinstance(self.mantissa_bits, (int, np.integer)) or not 0 <= self.mantissa_bits <= 52:
            raise ValueError(f"LowPrecisionFloat: mantissa_bits must be between 0 and 52, got {self.mantissa_bits!r}")

    def __str__(self):
        return f"LowPrecisionFloat({self.name or 'custom'}: e{self.exponent_bits}m{self.mantissa_bits})"

    @property
    def bits(self):
        return 1 + self.mantissa_bits

    @property
    def min_exponent(self) -> int:
        """Exponent of the smallest normal number."""
        return 2 - 2 ** (self.exponent_bits - 1)

    @property
    def max(self) -> float:
        if self.max_value is not None:
            return self.max_value
        return (2.0 - 2.0**-self.mantissa_bits) * 2.0 ** (2 ** (self.exponent_bits - 1) - 1)

    def check_carrier(self, dtype) -> None:
        super().check_carrier(dtype)
        if self.min_exponent - self.mantissa_bits < np.finfo(jnp.dtype(dtype)).minexp - np.finfo(jnp.dtype(dtype)).nmant:
            raise ValueError(f"{self} has numbers smaller than a {jnp.dtype(dtype).name} carrier holds")

    def quantize(self, x, rounding=NearestEven(), key=None):
        self.check_carrier(jnp.result_type(x))
        _, exponent = jnp.frexp(x)  # x = m 2^exponent, 1/2 <= |m| < 1
        # The LSB at x: 2^(e - m) for the leading exponent e of x, fixed at the subnormal range.
        scale = jnp.maximum(exponent - 1, self.min_exponent) - self.mantissa_bits
        # ldexp scales by a power of two exactly (exp2 of a float need not be exact).
        q = jnp.ldexp(as_rounding(rounding)(jnp.ldexp(x, -scale), key), scale)
        return jnp.clip(q, -self.max, self.max)


def float_format(name: str) -> LowPrecisionFloat:
    """The :class:`LowPrecisionFloat` of an ``ml_dtypes``/NumPy float type, by name (``"bfloat16"``,
    ``"float16"``, ``"float8_e4m3fn"``, ``"float8_e5m2"``, ``"float8_e4m3b11fnuz"``, ...).

    The exponent and mantissa widths and the largest finite value are taken from ``ml_dtypes``;
    the emulation uses IEEE-style bias, subnormals and saturation for every name (formats with
    an unusual bias, the ``fnuz`` ones, differ at the bottom of their range).

    Example:
        ```python
        bf16 = sd.hardware.float_format("bfloat16")   # 8 exponent and 7 mantissa bits
        chip = sd.hardware.LowPrecisionEuler(1e-3, bf16, sd.hardware.Stochastic(), key=jax.random.key(1))
        ```
    """
    import ml_dtypes

    try:
        dtype = np.dtype(getattr(ml_dtypes, name)) if hasattr(ml_dtypes, name) else np.dtype(name)
        info = ml_dtypes.finfo(dtype)
    except (TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"unknown float format {name!r} (not an ml_dtypes or NumPy float type)") from error
    return LowPrecisionFloat(exponent_bits=int(info.nexp), mantissa_bits=int(info.nmant), name=name, max_value=float(info.max))


def as_format(spec: "str | AbstractFormat") -> AbstractFormat:
    """A format from an :class:`AbstractFormat`, a float name (see :func:`float_format`) or a
    fixed-point name ``"s<i>.<f>"`` (saturating), e.g. ``"s16.15"``.

    Example:
        ```python
        sd.hardware.as_format("s16.15"), sd.hardware.as_format("bfloat16")   # FixedPoint(16, 15), LowPrecisionFloat
        ```
    """
    if isinstance(spec, AbstractFormat):
        return spec
    if isinstance(spec, str) and spec.startswith("s") and "." in spec:
        integer, _, fraction = spec[1:].partition(".")
        if integer.isdigit() and fraction.isdigit():
            return FixedPoint(int(integer), int(fraction))
    if isinstance(spec, str):
        return float_format(spec)
    raise TypeError(f"expected a format name or an AbstractFormat, got {type(spec).__name__}")
