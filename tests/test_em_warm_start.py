"""The diagnostics of ``benchmarks/yinyang.py`` (EM K-trend, issue 11) and its ``--warm-start`` checks.

The warm start itself is now the library's ``CompartmentSchedule`` (``tests/test_compartment_schedule.py``:
the warm-up epochs train exactly as the ``K0`` classifier, the loop switches ``K`` and restarts Adam)."""

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


@pytest.mark.parametrize("warm, forms", [([1, 8], ["batch"]), ([1, 0], ["batch"]), ([1, 9], ["batch", "online"])])
def test_em_table_rejects_a_bad_warm_start(warm, forms):
    args = argparse.Namespace(warm_start=warm, forms=forms, epochs=8, no_output_feedback=False)
    with pytest.raises(ValueError, match="warm-start"):
        bench.em_table(args)
