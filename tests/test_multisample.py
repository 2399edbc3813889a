import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikesde._estimators import BernoulliSNN, MultiSampleEM


def _setup():
    steps = 4
    model = BernoulliSNN(
        jnp.array([[0.8, -0.5]]), jnp.array([[0.3, 1.5], [-0.8, 0.2]]), jnp.array([-0.2, 0.1]), trace_decay=0.6
    )
    inputs = jnp.array([[1.0], [0.0], [1.0], [1.0]])
    observed = jnp.zeros((steps, 2)).at[:, 1].set(jnp.array([0.0, 1.0, 1.0, 0.0]))
    visible = jnp.array([False, True])  # neuron 1 observed, neuron 0 hidden
    hidden = jnp.asarray(list(itertools.product([0.0, 1.0], repeat=steps)))
    rasters = observed.at[:, 0].set(0.0)[None].repeat(len(hidden), 0).at[:, :, 0].set(hidden)
    return model, inputs, observed, visible, rasters


def _exact_log_marginal(model, inputs, rasters):
    return jax.scipy.special.logsumexp(jax.vmap(lambda s: model.log_prob(inputs, s))(rasters))


@pytest.mark.slow  # statistical (issue 25: `make test` keeps the exact checks)
def test_gradient_converges_to_fishers_identity(x64):
    model, inputs, observed, visible, rasters = _setup()
    truth = eqx.filter_grad(lambda m: _exact_log_marginal(m, inputs, rasters))(model)
    em = MultiSampleEM(2048)
    keys = jax.random.split(jax.random.key(0), 16)
    results = jax.jit(jax.vmap(lambda k: em.value_and_grad(model, inputs, observed, visible, k)))(keys)
    grads = results[1]
    for name in ("recurrent_weights", "bias", "input_weights"):
        values = np.asarray(getattr(grads, name))
        mean = values.mean(axis=0)
        spread = values.std(axis=0) / np.sqrt(len(values))
        # self-normalised importance sampling: consistent, O(1/K) bias, tiny at K = 2048
        assert np.all(np.abs(mean - np.asarray(getattr(truth, name))) < 5 * spread + 2e-3), name


@pytest.mark.slow  # statistical (issue 25: `make test` keeps the exact checks)
def test_bound_tightens_with_k(x64):
    model, inputs, observed, visible, rasters = _setup()
    exact = float(_exact_log_marginal(model, inputs, rasters))
    means = []
    for k in (1, 4, 32):
        keys = jax.random.split(jax.random.key(k), 2000)
        bounds = jax.jit(jax.vmap(lambda key: MultiSampleEM(k).value_and_grad(model, inputs, observed, visible, key)[0]))(keys)
        means.append(float(jnp.mean(bounds)))
        assert means[-1] <= exact + 3 * float(jnp.std(bounds)) / np.sqrt(2000)
    assert means[0] < means[1] < means[2]
    assert exact - means[2] < 0.1 * (exact - means[0])


def test_weights_are_a_distribution():
    model, inputs, observed, visible, _ = _setup()
    _, _, weights = MultiSampleEM(8).value_and_grad(model, inputs, observed, visible, jax.random.key(1))
    assert weights.shape == (8,) and float(jnp.sum(weights)) == pytest.approx(1.0, rel=1e-5)
    with pytest.raises(ValueError, match="num_compartments must be a positive integer"):
        MultiSampleEM(0)
