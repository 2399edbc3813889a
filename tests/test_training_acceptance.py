"""Acceptance of the fitting layer from Python (issue 7, 2 (i), (ii)); numbers in notes/fit.md (git history), notes/muv-reset.md (git history).

The problems live in ``benchmarks/fit_acceptance.py``, which prints the table of the README.
"""

import importlib.util
import json
from pathlib import Path

import jax
import numpy as np
import pytest

import spikesde as sd

_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "fit_acceptance.py"
_SPEC = importlib.util.spec_from_file_location("fit_acceptance", _PATH)
acceptance = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(acceptance)


@pytest.mark.slow
def test_network_weights_of_both_layers():
    result = acceptance.run_network()
    assert result["test_loss_end"] < result["test_loss_start"], result
    assert result["weight_error_end"] < result["weight_error_start"], result


@pytest.mark.slow
@pytest.mark.xfail(
    reason="not met with membrane noise (sigma_v = 0.25, where no likelihood is available): with the interval MMD "
    "and a sinusoidal input the current comes within 0.6% but mu_v (13.1 for 15) and v_reset (1.27 for 1.4) stay "
    "low after 800 steps. Evidence in notes/muv-reset.md (git history); the noise-free neuron by maximum likelihood meets 5% "
    "(the two tests below)",
    strict=False,
)
def test_mu_v_v_reset_and_current_together_within_five_percent():
    result = acceptance.run_slif()
    for path, error in result["relative_error"].items():
        assert error < 0.05, (path, result["estimate"])


@pytest.mark.slow
def test_mu_v_v_reset_and_current_by_maximum_likelihood_within_five_percent():
    # The noise-free neuron (sigma_v = 0, alpha = 0) whose buffers have an exact density: the
    # maximum-likelihood fit through fit(estimator=MaximumLikelihood()).
    result = acceptance.run_slif(300, model_samples=16, likelihood=True)
    for path, error in result["relative_error"].items():
        assert error < 0.05, (path, result["estimate"])


@pytest.mark.slow
def test_mu_v_v_reset_and_current_by_maximum_likelihood_from_the_cli(tmp_path):
    from spikesde._experiments.cli import main

    config = _PATH.parent.parent / "configs" / "slif_mu_v_reset_likelihood.toml"
    assert main(["fit", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    (summary,) = json.loads((tmp_path / "run" / "summary.json").read_text())
    for path, truth in summary["truth"].items():
        assert abs(summary["estimate"][path] - truth) < 0.05 * truth, (path, summary["estimate"])


def test_the_interval_mmd_sees_what_fits_on_the_ridge_got_wrong():
    """The small CI variant of 2 (ii): the loss of ``configs/slif_mu_v_reset.toml`` (marginal interval MMD)
    tells the truth from a point on the (current, mu_v, v_reset) ridge that matched the data under the
    joint-kernel losses (a fit's end point, 8%, 3% and 33% off), by many standard errors."""
    simulation = sd.Simulation(t0=0.0, t1=4.0, dt=0.01, max_spikes=32)
    loss = sd.SpikeTimeMMD(num_spikes=20, t0=0.0, t1=4.0, bandwidths=(0.5, 1.0, 2.0), time_unit=0.1, marginal=True)
    ridge = {"input_current.offset": 1.3834, "mu_v": 14.5275, "v_reset": 0.9445}

    @jax.jit
    def mmd(offset, mu_v, v_reset, key):
        model = acceptance.slif_problem({"input_current.offset": offset, "mu_v": mu_v, "v_reset": v_reset})
        return loss(simulation.sample(model, key, 128)[0], data)

    data = simulation.sample(acceptance.slif_problem(acceptance.TRUE_SLIF), jax.random.key(0), 128)[0]
    at_truth = np.array([mmd(*acceptance.TRUE_SLIF.values(), jax.random.key(k)) for k in (1, 2, 3)])
    on_ridge = np.array([mmd(*ridge.values(), jax.random.key(k)) for k in (1, 2, 3)])
    assert on_ridge.min() > 5 * np.abs(at_truth).max() and on_ridge.min() > 0.002, (at_truth, on_ridge)
