"""Number formats and rounding modes: exact values on hand-picked inputs, unbiased stochastic rounding."""

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest

from spikesde._hardware.formats import FixedPoint, LowPrecisionFloat, as_format, float_format
from spikesde._hardware.rounding import Floor, NearestEven, Stochastic, TowardZero, as_rounding

X = jnp.array([0.3, -0.3, 0.5, 1.5, 2.5, -2.5, -0.75, 7.9], jnp.float32)


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("nearest", [0.25, -0.25, 0.5, 1.5, 2.5, -2.5, -0.75, 7.75]),
        ("toward_zero", [0.25, -0.25, 0.5, 1.5, 2.5, -2.5, -0.75, 7.75]),
        ("floor", [0.25, -0.5, 0.5, 1.5, 2.5, -2.5, -0.75, 7.75]),
    ],
)
def test_fixed_point_two_fraction_bits(mode, expected):
    # s3.2: LSB 1/4, range [-8, 7.75]; 0.3 lies between 0.25 and 0.5 (nearer 0.25).
    out = FixedPoint(3, 2).quantize(X, as_rounding(mode))
    np.testing.assert_array_equal(np.asarray(out), np.array(expected, np.float32))


def test_ties_to_even_and_directions_at_integer_lsb():
    z = jnp.array([0.5, 1.5, 2.5, -0.5, -1.5, 1.7, -1.7])
    np.testing.assert_array_equal(NearestEven()(z), [0, 2, 2, -0, -2, 2, -2])
    np.testing.assert_array_equal(TowardZero()(z), [0, 1, 2, -0, -1, 1, -1])
    np.testing.assert_array_equal(Floor()(z), [0, 1, 2, -1, -2, 1, -2])


def test_saturate_and_wrap():
    x = jnp.array([8.0, 9.25, -8.25, -20.0])
    np.testing.assert_array_equal(FixedPoint(3, 2).quantize(x), [7.75, 7.75, -8.0, -8.0])
    # wrap modulo 16: 8 -> -8, 9.25 -> -6.75, -8.25 -> 7.75, -20 -> -4
    np.testing.assert_array_equal(FixedPoint(3, 2, "wrap").quantize(x), [-8.0, -6.75, 7.75, -4.0])


def test_stochastic_rounding_is_unbiased_and_reproducible():
    x = jnp.full((20000,), 0.3, jnp.float32)
    key = jax.random.key(0)
    out = FixedPoint(3, 2).quantize(x, Stochastic(), key)
    assert set(np.unique(np.asarray(out)).tolist()) == {0.25, 0.5}
    # P(up) = 0.2: mean 0.3, standard error 0.25 * sqrt(0.16 / n).
    se = 0.25 * np.sqrt(0.2 * 0.8 / x.size)
    assert abs(float(out.mean()) - 0.3) < 4 * se
    np.testing.assert_array_equal(out, FixedPoint(3, 2).quantize(x, Stochastic(), key))
    coarse = FixedPoint(3, 2).quantize(x, Stochastic(bits=8), key)
    assert abs(float(coarse.mean()) - 0.3) < 4 * se + 0.25 / 256


def test_stochastic_needs_key():
    with pytest.raises(ValueError, match="key"):
        FixedPoint(3, 2).quantize(X, Stochastic())


@pytest.mark.parametrize("name", ["bfloat16", "float16", "float8_e4m3fn", "float8_e5m2"])
def test_float_nearest_matches_ml_dtypes(name):
    rng = np.random.default_rng(0)
    fmt = float_format(name)
    x = rng.standard_normal(4000) * np.exp(rng.uniform(-25, 25, 4000))
    x = np.clip(x, -fmt.max, fmt.max).astype(np.float32)
    dtype = np.dtype(getattr(ml_dtypes, name, name))
    np.testing.assert_array_equal(np.asarray(fmt.quantize(jnp.asarray(x))), x.astype(dtype).astype(np.float32))


def test_float_directed_and_stochastic():
    fmt = float_format("bfloat16")  # 7 mantissa bits: LSB of [1, 2) is 2^-7
    x = jnp.array([1.0 + 1.5 / 128, -(1.0 + 1.5 / 128)], jnp.float32)
    np.testing.assert_array_equal(fmt.quantize(x, TowardZero()), [1 + 1 / 128, -(1 + 1 / 128)])
    np.testing.assert_array_equal(fmt.quantize(x, Floor()), [1 + 1 / 128, -(1 + 2 / 128)])
    # 1 + 2^-9 is a quarter LSB above 1: nearest drops it, stochastic keeps it on average.
    y = jnp.full((20000,), 1.0 + 2.0**-9, jnp.float32)
    assert float(fmt.quantize(y).mean()) == 1.0
    mean = float(fmt.quantize(y, Stochastic(), jax.random.key(1)).mean())
    assert abs(mean - (1 + 2.0**-9)) < 4 * 2.0**-7 * np.sqrt(0.25 * 0.75 / y.size)
    half = float_format("float16")
    np.testing.assert_array_equal(half.quantize(jnp.array([1e5, -7e4]), NearestEven()), [65504.0, -65504.0])


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: FixedPoint(0, 0), "zero bits"),
        (lambda: FixedPoint(-1, 4), "integer_bits"),
        (lambda: FixedPoint(40, 20), "overflow the widest carrier"),
        (lambda: FixedPoint(3, 2, "clamp"), "overflow must be"),
        (lambda: float_format("float7"), "unknown float format 'float7'"),
        (lambda: LowPrecisionFloat(1, 3), "exponent_bits"),
        (lambda: as_rounding("up"), "unknown rounding mode 'up'"),
        (lambda: FixedPoint(16, 15).quantize(jnp.ones(2, jnp.float32)), "32 significant bits.*float32 carrier"),
    ],
)
def test_invalid_formats_name_the_problem(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_as_format_names():
    assert as_format("s16.15") == FixedPoint(16, 15)
    assert as_format("bfloat16").mantissa_bits == 7
