import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikesde._estimators import BernoulliSNN, LeaveOneOut, NoBaseline, RunningMean, ScoreFunction


def _independent(bias):
    n = len(bias)
    return BernoulliSNN(jnp.zeros((1, n)), jnp.zeros((n, n)), jnp.asarray(bias), trace_decay=0.0)


def _estimates(estimator, loss, model, inputs, repeats, seed=0):
    keys = jax.random.split(jax.random.key(seed), repeats)
    return jax.jit(jax.vmap(lambda k: estimator.value_and_grad(loss, model, inputs, k)[1].bias))(keys)


@pytest.mark.slow  # statistical (issue 25: `make test` keeps the exact checks)
def test_unbiased_with_variance_falling_as_one_over_m():
    # Independent Bernoulli(sigma(b)) neurons over T steps; L = spike count.
    # E[L] = T sum sigma(b_i), so dE/db_i = T sigma(b_i)(1 - sigma(b_i)).
    bias = jnp.array([-1.0, 0.5])
    steps = 10
    model, inputs = _independent(bias), jnp.zeros((steps, 1))
    exact = steps * jax.nn.sigmoid(bias) * (1 - jax.nn.sigmoid(bias))
    repeats = 400
    small = _estimates(ScoreFunction(8, LeaveOneOut()), jnp.sum, model, inputs, repeats)
    large = _estimates(ScoreFunction(32, LeaveOneOut()), jnp.sum, model, inputs, repeats, seed=1)
    for estimates in (small, large):
        error = np.asarray(jnp.mean(estimates, axis=0) - exact)
        standard_error = np.asarray(jnp.std(estimates, axis=0)) / np.sqrt(repeats)
        assert np.all(np.abs(error) < 4 * standard_error)
    ratio = np.asarray(jnp.var(small, axis=0) / jnp.var(large, axis=0))
    assert np.all((ratio > 2.8) & (ratio < 5.6))  # 4 expected (F-distribution spread at 400 repeats)


@pytest.mark.slow  # statistical (issue 25: `make test` keeps the exact checks)
def test_baselines_reduce_variance():
    model, inputs = _independent(jnp.array([0.3])), jnp.zeros((20, 1))

    def loss(spikes):
        return jnp.sum(spikes) + 5.0  # an offset that a baseline removes

    plain = _estimates(ScoreFunction(16, NoBaseline()), loss, model, inputs, 300)
    loo = _estimates(ScoreFunction(16, LeaveOneOut()), loss, model, inputs, 300)
    assert float(jnp.var(loo)) < 0.5 * float(jnp.var(plain))


def test_running_mean_state():
    baseline = RunningMean(decay=0.5)
    state = baseline.init()
    b, state = baseline(jnp.array([1.0, 3.0]), state)
    np.testing.assert_allclose(b, [0.0, 0.0])  # nothing seen yet
    b, state = baseline(jnp.array([5.0, 5.0]), state)
    np.testing.assert_allclose(b, [2.0, 2.0])
    assert float(state[0]) == pytest.approx(3.5)


def _all_rasters(steps, n):
    return jnp.asarray(list(itertools.product([0.0, 1.0], repeat=steps * n))).reshape(-1, steps, n)


def test_recurrent_network_against_enumeration(x64):
    # With recurrence the spikes are dependent; enumerate all 2^(T n) rasters for the exact gradient.
    steps, n = 3, 2
    key = jax.random.key(3)
    model = BernoulliSNN(
        0.8 * jax.random.normal(key, (2, n)), jnp.array([[0.9, -1.2], [0.7, 0.4]]), jnp.array([-0.3, 0.2])
    )
    inputs = jnp.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    rasters = _all_rasters(steps, n)
    weights = jnp.linspace(0.5, 2.0, steps * n).reshape(steps, n)

    def loss(spikes):
        return jnp.sum(weights * spikes) ** 2

    @eqx.filter_grad
    def exact(m):
        probabilities = jnp.exp(jax.vmap(lambda s: m.log_prob(inputs, s))(rasters))
        return jnp.sum(probabilities * jax.vmap(loss)(rasters))

    assert float(jnp.sum(jnp.exp(jax.vmap(lambda s: model.log_prob(inputs, s))(rasters)))) == pytest.approx(1.0)
    truth = exact(model)
    keys = jax.random.split(jax.random.key(4), 200)
    estimates = jax.jit(jax.vmap(lambda k: ScoreFunction(64).value_and_grad(loss, model, inputs, k)[1]))(keys)
    for name in ("recurrent_weights", "bias", "input_weights"):
        values = getattr(estimates, name)
        error = np.asarray(jnp.mean(values, axis=0) - getattr(truth, name))
        standard_error = np.asarray(jnp.std(values, axis=0)) / np.sqrt(values.shape[0])
        assert np.all(np.abs(error) < 4.5 * standard_error + 1e-12), name


def test_errors():
    with pytest.raises(ValueError, match="num_samples must be a positive integer"):
        ScoreFunction(0)
    with pytest.raises(ValueError, match="at least two samples"):
        ScoreFunction(1).value_and_grad(jnp.sum, _independent(jnp.zeros(1)), jnp.zeros((3, 1)), jax.random.key(0))
    with pytest.raises(ValueError, match=r"recurrent_weights must have shape \(2, 2\)"):
        BernoulliSNN(jnp.zeros((1, 2)), jnp.zeros((3, 3)), jnp.zeros(2))
