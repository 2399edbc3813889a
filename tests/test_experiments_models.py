"""The truth, start and fitted models of a run (spikesde._experiments.models)."""

from pathlib import Path

import numpy as np
import pytest

import spikesde as sd
from spikesde._experiments.summary import RunSummary

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def _summary(folder, estimate):
    return RunSummary(folder=folder, values={}, steps=1, estimate=estimate, truth=None, start_error=None, final_error=None,
                      test_mae=None, test_loss=None, steps_to_tolerance=None, seconds_per_step=None, wall_seconds=None)  # fmt: skip


def test_truth_start_and_fitted_of_a_network_run():
    config = sd.experiments.load_config(CONFIGS / "ssnn_weights_small.toml")
    models = sd.experiments.run_models(config)
    assert models.fitted is None and models.simulation.max_spikes == 12
    truth, start = np.asarray(models.truth.weights), np.asarray(models.start.weights)
    mask = np.asarray(models.truth.mask)
    assert np.all(truth[~mask] == 0) and np.mean(np.abs(truth - start)[mask]) > 0.1
    fitted = sd.experiments.run_models(config, _summary("run", {"weights": (truth * 2).tolist()})).fitted
    np.testing.assert_allclose(np.asarray(fitted.weights), 2 * truth, rtol=1e-6)


def test_learn_init_and_sweep_runs():
    config = sd.experiments.load_config(CONFIGS / "slif_input_current.toml")  # a sweep: c starts at 0.56, true 1.5
    with pytest.raises(sd.experiments.ConfigError, match="pass the summary"):
        sd.experiments.run_models(config)
    models = sd.experiments.run_models(config, _summary("sigma_v=0.25/num_samples=16", {"input_current.value": 1.4}))
    assert float(models.truth.input_current.value) == 1.5 and float(models.start.input_current.value) == pytest.approx(0.56)
    assert float(models.fitted.input_current.value) == pytest.approx(1.4)
    with pytest.raises(sd.experiments.ConfigError, match="no run 'nope'"):
        sd.experiments.run_models(config, _summary("nope", {}))
