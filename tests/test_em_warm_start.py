"""The K-curriculum (warm start) and the diagnostics of ``benchmarks/yinyang.py`` (EM K-trend, issue 11)."""

import argparse
import importlib.util
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikesde._estimators.multisample import MultiSampleEM
from spikesde._estimators.sampling_classifier import MultiSampleEMClassifier

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "yinyang.py"
_SPEC = importlib.util.spec_from_file_location("yinyang_benchmark", _PATH)
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)

SMALL = dict(hidden=4, duration=20.0, dt=2.5, target_start=10.0)


def _data(estimator):
    times = np.array([[12.0, 3.0, 18.0, 7.0, 10.0], [5.0, 15.0, 9.0, 1.0, 10.0], [8.0, 8.0, 2.0, 14.0, 10.0]])
    return jnp.asarray(estimator.encode(times)), jnp.array([0, 2, 1])


def test_warm_start_starts_from_the_given_model():
    plain = MultiSampleEMClassifier(num_compartments=3, output_feedback=False, **SMALL)
    start = plain.init(5, 3, jax.random.key(1))
    fresh = bench._WarmStartEM(num_compartments=3, output_feedback=False, **SMALL)
    assert np.array_equal(fresh.init(5, 3, jax.random.key(2)).recurrent_weights, plain.init(5, 3, jax.random.key(2)).recurrent_weights)
    assert bench._WarmStartEM(num_compartments=3, start=start, **SMALL).init(5, 3, jax.random.key(2)) is start


@pytest.mark.slow  # two eager EM gradients (about 15 s under load)
def test_warm_start_keeps_the_gradient():
    plain = MultiSampleEMClassifier(num_compartments=3, **SMALL)
    start = plain.init(5, 3, jax.random.key(1))
    warm = bench._WarmStartEM(num_compartments=3, start=start, **SMALL)
    inputs, labels = _data(plain)
    loss_a, grad_a = plain.loss_and_grad(start, inputs, labels, jax.random.key(3))
    loss_b, grad_b = warm.loss_and_grad(start, inputs, labels, jax.random.key(3))
    assert float(loss_a) == float(loss_b)
    np.testing.assert_array_equal(grad_a.recurrent_weights, grad_b.recurrent_weights)


def test_segments_add_up_to_the_visible_log_likelihood():
    estimator = MultiSampleEMClassifier(num_compartments=2, **SMALL)
    model = estimator.init(5, 3, jax.random.key(0))
    inputs, _ = _data(estimator)
    raster = model.sample(inputs[0], jax.random.key(4), observed=estimator.target(1), visible=estimator.visible)
    segments = bench._segments(estimator, model, inputs[0], raster)
    total = jnp.sum(jnp.where(estimator.visible, model.log_prob_per_neuron(inputs[0], raster), 0.0))
    np.testing.assert_allclose(float(jnp.sum(segments)), float(total), rtol=1e-5)
    # before the onset the clamped target is silent, so only the onset bin and later carry the label's spikes
    assert segments.shape == (3,) and float(segments[1]) < 0


@pytest.mark.slow  # compiles the diagnostics (about 30 s under load)
def test_diagnose_effective_sample_size_lies_between_1_and_k():
    estimator = MultiSampleEMClassifier(num_compartments=4, eval_samples=2, **SMALL)
    model = estimator.init(5, 3, jax.random.key(0))
    inputs, labels = _data(estimator)
    found = bench.diagnose(estimator, model, inputs, labels, jax.random.key(5))
    assert 1.0 <= found["ess_mean"] <= 4.0 + 1e-5
    assert len(found["counts_by_class"]) == 3 and len(found["output_self_weights"]) == 3
    _, _, weights = MultiSampleEM(4).value_and_grad(model, inputs[0], estimator.target(labels[0]), estimator.visible, jax.random.key(6))
    assert abs(float(jnp.sum(weights)) - 1.0) < 1e-5


@pytest.mark.parametrize("warm, forms", [([1, 8], ["batch"]), ([1, 0], ["batch"]), ([1, 3], ["batch", "online"])])
def test_em_table_rejects_a_bad_warm_start(warm, forms):
    args = argparse.Namespace(warm_start=warm, forms=forms, epochs=8, no_output_feedback=False)
    with pytest.raises(ValueError, match="warm-start"):
        bench.em_table(args)
