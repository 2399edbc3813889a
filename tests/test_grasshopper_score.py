"""``spikesde score RUN`` and ``spikesde.experiments.score_run`` rebuild a finished run's models and give back its scores."""

import json

import numpy as np
import pytest

import spikesde.experiments
from spikesde._experiments.cli import main
from spikesde._experiments.grasshopper import GrasshopperConfig, run


@pytest.mark.slow
def test_score_run_reproduces_the_runs_scores(tmp_path, x64, capsys):
    pytest.importorskip("nitime")
    config = GrasshopperConfig(dt=1e-3, n_basis=4, newton_steps=10, n_samples=4, bin_widths=(0.001,), glm=False)
    results = run(config, tmp_path, plot=False)
    stored = json.loads((tmp_path / "results.json").read_text())["slif"]["structure"]
    assert {**stored, "fast_taus": tuple(stored["fast_taus"])} == results["slif"]["structure"]
    # The binned scores come from the parameters chosen at the bin width (the per-width refit here).
    assert results["slif"]["binned"]["1ms"]["choice"] == "refit"
    scores = spikesde.experiments.score_run(tmp_path, "validation", samples=False)
    for key in ("bits_per_spike_1ms", "bits_per_spike_continuous"):
        assert scores["slif"][key] == pytest.approx(results["slif"]["validation"][key], rel=1e-9)
    test = spikesde.experiments.score_run(tmp_path, "test")["slif"]
    assert test["gamma"] == pytest.approx(results["slif"]["test"]["gamma"], rel=1e-9)
    assert "glm" not in scores
    assert main(["score", str(tmp_path), "--window", "2", "4", "--no-gamma"]) == 0
    assert "window [2.0, 4.0] s" in capsys.readouterr().out
    assert main(["score", str(tmp_path / "missing")]) == 2
    assert np.isfinite(spikesde.experiments.score_run(tmp_path, (2.0, 4.0), samples=False)["slif"]["bits_per_spike_1ms"])
