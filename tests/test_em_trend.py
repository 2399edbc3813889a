"""Why multi-sample EM's K helps the likelihood but not the Yin-Yang readout (issue 11, acceptance 2).

Exact expectations by enumerating every hidden raster of a 2-neuron network (one hidden, one visible
neuron, 4 steps: 16 rasters, 256 pairs), and the decision rules of ``benchmarks/em_trend.py``.
"""

import functools
import importlib.util
import itertools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikesde._estimators import BernoulliSNN, MultiSampleEM

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "em_trend.py"
_SPEC = importlib.util.spec_from_file_location("em_trend_benchmark", _PATH)
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)


def _setup():
    model = BernoulliSNN(jnp.array([[0.8, -0.5]]), jnp.array([[0.3, 1.5], [-0.8, 0.2]]), jnp.array([-0.2, 0.1]), trace_decay=0.6)
    inputs = jnp.array([[1.0], [0.0], [1.0], [1.0]])
    observed = jnp.zeros((4, 2)).at[:, 1].set(jnp.array([0.0, 1.0, 1.0, 0.0]))
    hidden = jnp.asarray(list(itertools.product([0.0, 1.0], repeat=4)))
    rasters = observed[None].repeat(len(hidden), 0).at[:, :, 0].set(hidden)
    return model, inputs, observed, jnp.array([False, True]), rasters


@functools.partial(jax.jit, static_argnums=3)
def _exact_expected_gradient(model, inputs, rasters, k):
    """``E[sum_k w^k grad log p(x, h^k)]`` over ``h^1..h^k ~ p(h || x)`` i.i.d., by enumeration (k <= 2)."""
    per_neuron = jax.vmap(lambda s: model.log_prob_per_neuron(inputs, s))(rasters)
    grads = jax.vmap(lambda s: jax.grad(lambda m: m.log_prob(inputs, s))(model))(rasters)
    log_hidden, log_visible = per_neuron[:, 0], per_neuron[:, 1]  # log p(h || x), log p(x || h)
    tuples = np.array(list(itertools.product(range(len(rasters)), repeat=k)))
    prob = jnp.exp(jnp.sum(log_hidden[tuples], axis=1))  # p(h^1 || x) ... p(h^k || x)
    weights = jax.nn.softmax(log_visible[tuples], axis=1)
    return jax.tree_util.tree_map(lambda g: jnp.einsum("t,tk,tk...->...", prob, weights, g[tuples]), grads)


@pytest.mark.slow  # compiles the enumeration (16-20 s at load 12-16 on 2 cores)
def test_hidden_neurons_get_no_expected_update_at_k1_but_do_at_k2(x64):
    """At K = 1 the hidden synapses' update is their own score, whose mean is 0: only K >= 2 trains them.
    The outputs' expected update also changes with K (the outputs read the hidden neurons)."""
    model, inputs, _, _, rasters = _setup()
    one, two = (_exact_expected_gradient(model, inputs, rasters, k) for k in (1, 2))
    hidden_one = np.concatenate([np.ravel(a[..., 0]) for a in jax.tree_util.tree_leaves(one)])
    hidden_two = np.concatenate([np.ravel(a[..., 0]) for a in jax.tree_util.tree_leaves(two)])
    assert np.max(np.abs(hidden_one)) < 1e-12
    assert np.max(np.abs(hidden_two)) > 1e-2
    output_one = np.concatenate([np.ravel(a[..., 1]) for a in jax.tree_util.tree_leaves(one)])
    output_two = np.concatenate([np.ravel(a[..., 1]) for a in jax.tree_util.tree_leaves(two)])
    assert np.max(np.abs(output_one - output_two)) > 1e-2


@pytest.mark.slow  # 2 x 4000 estimates (36 s at load 16 on 2 cores)
def test_multisample_em_matches_the_exact_expectation(x64):
    model, inputs, observed, visible, rasters = _setup()
    for k in (1, 2):
        exact = _exact_expected_gradient(model, inputs, rasters, k)
        keys = jax.random.split(jax.random.key(k), 4000)
        grads = jax.jit(jax.vmap(lambda key: MultiSampleEM(k).value_and_grad(model, inputs, observed, visible, key)[1]))(keys)
        for name in ("input_weights", "recurrent_weights", "bias"):
            values, truth = np.asarray(getattr(grads, name)), np.asarray(getattr(exact, name))
            error = np.abs(values.mean(axis=0) - truth)
            assert np.all(error < 5 * values.std(axis=0) / np.sqrt(len(values)) + 1e-9), (k, name)


def test_decision_rules_and_nested_likelihood():
    # 2 examples, 3 samples, 3 classes; sample 2 of example 0 ties classes 1 and 2, sample 1 of example 1 is silent
    counts = np.array([[[3, 1, 0], [0, 2, 2], [0, 4, 1]], [[1, 0, 0], [0, 0, 0], [0, 0, 5]]])
    log_visible = np.log(np.array([[[0.2, 0.4, 0.6], [0.1, 0.1, 0.1], [0.3, 0.3, 0.3]], [[0.5, 0.5, 0.5], [0.1, 0.2, 0.3], [0.4, 0.4, 0.4]]]))
    labels = np.array([1, 2])
    m1 = bench.metrics_at(counts, log_visible, labels, 1)
    assert m1["acc_maxnum"] == m1["acc_majority"] == 0.0  # first samples say 0 and 0
    assert np.isclose(m1["ece_votes"], 1.0)  # one vote: confidence 1, both wrong
    m3 = bench.metrics_at(counts, log_visible, labels, 3)
    # example 0: summed counts (3, 7, 3) -> 1; votes (1/3, 1/6 + 1/3, 1/6) -> 1; example 1: counts (1, 0, 5) -> 2,
    # votes (1/3 + 1/9, 1/9, 1/9 + 1/3) -> tie broken towards class 0 (first), so majority gets 1 of 2
    assert m3["acc_maxnum"] == 1.0 and m3["acc_majority"] == 0.5
    log_p = np.log(np.array([[0.4, 0.1, 0.3], [0.5, 0.2, 0.4]]))  # mean over the 3 samples of each class
    assert np.isclose(m3["loglik"], np.mean([log_p[0, 1], log_p[1, 2]]))
    assert m3["acc_posterior"] == 0.0  # example 0 -> class 0, example 1 -> class 0
