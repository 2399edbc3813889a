import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

from spikesde._estimators import ArcTan, FastSigmoid, SigmoidDerivative, Triangle

SURROGATES = [FastSigmoid(25.0), SigmoidDerivative(8.0), Triangle(0.5), ArcTan(2.0)]


@pytest.mark.parametrize("surrogate", SURROGATES, ids=lambda s: type(s).__name__)
def test_forward_is_the_step_and_backward_the_surrogate(surrogate):
    x = jnp.linspace(-2.0, 2.0, 41) + 0.013
    np.testing.assert_array_equal(surrogate(x), (x > 0).astype(x.dtype))
    slopes = jax.vmap(jax.grad(surrogate))(x)
    np.testing.assert_allclose(slopes, surrogate.derivative(x), rtol=1e-6)
    # jit and vmap compose with the custom rule
    np.testing.assert_allclose(jax.jit(jax.vmap(jax.grad(surrogate)))(x), slopes, rtol=1e-6)


def test_known_values():
    assert float(FastSigmoid(100.0).derivative(jnp.array(0.0))) == 1.0
    assert float(FastSigmoid(100.0).derivative(jnp.array(0.01))) == pytest.approx(0.25)
    assert float(SigmoidDerivative(8.0).derivative(jnp.array(0.0))) == pytest.approx(2.0)
    assert float(Triangle(0.5).derivative(jnp.array(0.0))) == pytest.approx(2.0)
    assert float(Triangle(0.5).derivative(jnp.array(0.5))) == 0.0
    assert float(ArcTan(2.0).derivative(jnp.array(0.0))) == pytest.approx(1.0)


@pytest.mark.parametrize("surrogate", [SigmoidDerivative(8.0), Triangle(0.5), ArcTan(2.0)], ids=lambda s: type(s).__name__)
def test_normalised_surrogates_integrate_to_one(surrogate):
    # These are derivatives of smoothed steps from 0 to 1.
    def g(x):
        return float(surrogate.derivative(jnp.array(x)))

    value = integrate.quad(g, -np.inf, 0.0, limit=200)[0] + integrate.quad(g, 0.0, np.inf, limit=200)[0]
    assert value == pytest.approx(1.0, rel=1e-4)


@pytest.mark.parametrize("make", [FastSigmoid, SigmoidDerivative, ArcTan])
def test_invalid_parameters(make):
    with pytest.raises(ValueError, match="must be positive"):
        make(-1.0)
    with pytest.raises(ValueError, match="width must be positive"):
        Triangle(0.0)
