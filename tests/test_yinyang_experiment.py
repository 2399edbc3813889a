import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikesde._estimators.calibration import classification_metrics, expected_calibration_error
from spikesde._estimators.classifier import SurrogateClassifier, bin_spike_times
from spikesde._estimators.sampling_classifier import MultiSampleEMClassifier, ScoreFunctionClassifier
from spikesde._experiments import yinyang as experiment


def test_ece_known_values():
    # Two bins: confidence 0.9 with accuracy 1/2 and confidence 0.6 with accuracy 1.
    p = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.4, 0.6]])
    labels = np.array([0, 1, 1, 1])
    assert expected_calibration_error(p, labels) == pytest.approx(0.5 * 0.4 + 0.5 * 0.4)
    metrics = classification_metrics(p, labels)
    assert metrics["accuracy"] == 0.75
    assert metrics["log_likelihood"] == pytest.approx(np.mean(np.log([0.9, 0.1, 0.6, 0.6])))
    with pytest.raises(ValueError, match="probabilities must be"):
        expected_calibration_error(p, labels[:3])


def test_encodings():
    times = np.array([[1.2, 4.9]])
    raster = bin_spike_times(times, dt=0.5, steps=12)
    assert raster.shape == (1, 12, 2) and raster[0, 2, 0] == 1 and raster[0, 10, 1] == 1 and raster.sum() == 2
    em = MultiSampleEMClassifier(hidden=2, dt=2.0, duration=8.0, tau_in=4.0, target_start=4.0)
    traces = em.encode(np.array([[3.0]]))
    np.testing.assert_allclose(traces[0, :, 0], [0.0, 0.0, np.exp(-0.25), np.exp(-0.75)], rtol=1e-6)
    target = em.target(jnp.asarray(1))
    np.testing.assert_array_equal(target[:, 3], [0, 0, 1, 1])  # neuron hidden + 1 from 4 ms on
    assert float(target.sum()) == 2.0


@pytest.mark.parametrize("estimator", [ScoreFunctionClassifier(hidden=3, num_samples=2, eval_samples=2, duration=10.0),
                                       MultiSampleEMClassifier(hidden=3, num_compartments=2, eval_samples=2, duration=10.0)],
                         ids=["score", "em"])  # fmt: skip
def test_sampling_classifiers_shapes(estimator):
    model = estimator.init(5, 3, jax.random.key(0))
    inputs = jnp.asarray(estimator.encode(np.full((4, 5), 12.0)))
    labels = jnp.array([0, 1, 2, 0])
    loss, grads = jax.jit(estimator.loss_and_grad)(model, inputs, labels, jax.random.key(1))
    assert np.isfinite(float(loss))
    assert grads.recurrent_weights.shape == model.recurrent_weights.shape
    assert np.all(np.isfinite(grads.input_weights))
    p = estimator.probabilities(model, inputs, jax.random.key(2))
    np.testing.assert_allclose(np.asarray(p).sum(axis=1), 1.0, rtol=1e-5)
    assert estimator.predict(model, inputs, jax.random.key(3)).shape == (4,)
    with pytest.raises(ValueError, match="n_out=3"):
        estimator.init(5, 2, jax.random.key(0))


def test_cli_smoke(tmp_path, capsys):
    summary = experiment.main(["--estimator", "exact", "--epochs", "1", "--train-size", "300", "--test-size", "150",
                               "--seed", "3", "--out", str(tmp_path)])  # fmt: skip
    assert summary["test_accuracy"] > 0.4  # one epoch on 300 points already beats chance (1/3)
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["seed"] == 3 and len(written["epoch_seconds"]) == 1
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1 and "validation_ece" in json.loads(lines[0])
    with pytest.raises(SystemExit):
        experiment.main(["--estimator", "nope"])


def test_unknown_estimator():
    with pytest.raises(ValueError, match="estimator must be one of"):
        experiment.make_estimator("nope")
    assert isinstance(experiment.make_estimator("surrogate"), SurrogateClassifier)


def test_score_options():
    from spikesde._estimators.sampling_classifier import count_margin

    estimator = experiment.make_estimator("score", score_samples=64, score_loss="margin")
    assert estimator.num_samples == 64 and estimator.loss is count_margin
    with pytest.raises(ValueError, match="score_loss must be one of"):
        experiment.make_estimator("score", score_loss="hinge")
