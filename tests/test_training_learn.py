"""Learn: paths, reparametrisations, bounds and connectivity masks (no simulation needed)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd
from spikesde._training.learn import constrained_values, fill, initial_params, prepare


@pytest.mark.parametrize("lower, upper", [(None, None), (0.5, None), (None, 3.0), (-1.0, 2.0)])
def test_reparametrisation_round_trip_and_domain(x64, lower, upper):
    spec = sd.Learn("mu_v", lower=lower, upper=upper)
    x = jnp.array([0.7, 1.3, 1.9])
    assert np.allclose(spec.constrain(spec.unconstrain(x)), x, rtol=1e-12)
    u = jnp.linspace(-30.0, 30.0, 61)
    y = spec.constrain(u)
    assert np.all(np.isfinite(y)) and np.all(np.diff(y) * (1 if upper is None or lower is not None else -1) >= 0)
    if lower is not None:
        assert np.all(y >= lower)
    if upper is not None:
        assert np.all(y <= upper)


def test_constrain_formulas(x64):
    u = jnp.asarray(0.3)
    assert sd.Learn("a", lower=1.0).constrain(u) == pytest.approx(1.0 + np.log1p(np.exp(0.3)))
    assert sd.Learn("a", upper=1.0).constrain(u) == pytest.approx(1.0 - np.log1p(np.exp(0.3)))
    assert sd.Learn("a", lower=1.0, upper=3.0).constrain(u) == pytest.approx(1.0 + 2.0 / (1 + np.exp(-0.3)))


def test_prepare_fills_init_and_values_round_trip():
    model = sd.SLIF(3, 1.0)
    model, specs = prepare(model, ["input_current.value", sd.Learn("mu_v", init=[10.0, 12.0, 14.0], lower=0.0)])
    assert model.mu_v.shape == (3,) and specs[1].init is None
    params = initial_params(model, specs)
    values = constrained_values(model, specs, params)
    assert np.allclose(values["mu_v"], [10.0, 12.0, 14.0], rtol=1e-6)
    assert float(values["input_current.value"]) == 1.0
    filled = fill(model, specs, {**params, "input_current.value": jnp.asarray(2.5)})
    assert float(filled.input_current.value) == 2.5 and np.allclose(filled.mu_v, [10.0, 12.0, 14.0], rtol=1e-6)


def test_errors_name_the_path():
    model = sd.Network(sd.SLIF(2, 1.0), weights=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"learn path 'neuron.mu_x': neuron \(SLIF\) has no field 'mu_x'"):
        prepare(model, ["neuron.mu_x"])
    with pytest.raises(ValueError, match="learn path 'mu_v': the model .Network. has no field"):
        prepare(model, ["mu_v"])
    with pytest.raises(TypeError, match="'neuron.n_neurons' is not a floating-point array in the model .it is int"):
        prepare(model, ["neuron.n_neurons"])
    with pytest.raises(TypeError, match="'mask' is not a floating-point array in the model .it is None"):
        prepare(model, ["mask"])
    with pytest.raises(ValueError, match="learn 'neuron.mu_v': starting value -1 is outside the domain"):
        prepare(model, [sd.Learn("neuron.mu_v", init=-1.0, lower=0.0)])
    with pytest.raises(ValueError, match="learn 'weights': init has shape"):
        prepare(model, [sd.Learn("weights", init=np.ones((3, 3)))])
    with pytest.raises(ValueError, match="given more than once"):
        prepare(model, ["weights", sd.Learn("weights")])
    with pytest.raises(ValueError, match="lower=2.0 must be below upper=1.0"):
        sd.Learn("weights", lower=2.0, upper=1.0)
    with pytest.raises(ValueError, match="dot-separated attribute names"):
        sd.Learn("neuron..mu_v")


def test_masked_weights_keep_their_value_and_get_no_gradient(x64):
    mask = np.array([[False, True], [False, False]])
    weights = np.array([[0.3, 0.8], [0.5, 0.0]])  # masked-out entries hold values of their own
    model, specs = prepare(sd.Network(sd.SLIF(2, 1.0), weights=weights, mask=mask), [sd.Learn("weights", lower=0.0)])
    params = initial_params(model, specs)
    assert np.all(np.isfinite(params["weights"]))

    def objective(p):
        return jnp.sum(fill(model, specs, p).weights ** 2)

    grad = jax.grad(objective)(params)["weights"]
    assert np.all(grad[~mask] == 0) and grad[0, 1] != 0
    moved = fill(model, specs, {"weights": params["weights"] + 1.0}).weights
    assert np.array_equal(moved[~mask], weights[~mask]) and moved[0, 1] > 0.8
