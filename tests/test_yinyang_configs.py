"""configs/yinyang/*.toml: one config per Yin-Yang estimator, read by the experiment's --config."""

import json
from pathlib import Path

import numpy as np
import pytest

from spikesde._experiments import yinyang as experiment

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs" / "yinyang").glob("*.toml"))
ESTIMATORS = {"exact", "surrogate", "score", "em", "online-em"}


def test_one_config_per_estimator():
    names = {experiment.parse_args(["--config", str(path)]).estimator for path in CONFIGS}
    assert names == ESTIMATORS


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_loads_and_the_command_line_overrides_it(path):
    args = experiment.parse_args(["--config", str(path)])
    estimator = experiment.make_estimator(
        args.estimator, compartments=args.compartments, score_samples=args.score_samples, score_loss=args.score_loss,
        eligibility_decay=args.eligibility_decay, likelihood_decay=args.likelihood_decay, update_every=args.update_every,
        hidden_signal=args.hidden_signal,
    )  # fmt: skip
    assert args.learning_rate == experiment.LEARNING_RATES[args.estimator] and args.seed == 0 and args.epochs >= 8
    assert experiment.parse_args(["--config", str(path), "--epochs", "1"]).epochs == 1
    if args.estimator == "online-em":
        assert (estimator.eligibility_decay, estimator.likelihood_decay, estimator.update_every) == (0.95, 0.95, 4)
    if args.estimator == "score":
        assert estimator.num_samples == 64


def test_config_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('estimator = "exact"\nepoch = 3\n')
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['epoch'\]"):
        experiment.parse_args(["--config", str(bad)])
    bad.write_text('estimator = "nope"\n')
    with pytest.raises(ValueError, match="estimator must be one of"):
        experiment.parse_args(["--config", str(bad)])
    with pytest.raises(SystemExit):
        experiment.parse_args(["--epochs", "2"])  # no estimator anywhere


@pytest.mark.slow  # compiles each estimator's training step and evaluation: 10-30 s each on 2 loaded cores
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_runs_one_tiny_epoch(path, tmp_path):
    summary = experiment.main(["--config", str(path), "--epochs", "1", "--train-size", "100", "--test-size", "50", "--out", str(tmp_path)])
    assert summary["epochs"] == 1 and len(summary["epoch_seconds"]) == 1
    assert np.isfinite(summary["test_accuracy"]) and np.isfinite(summary["test_log_likelihood"])
    assert json.loads((tmp_path / "summary.json").read_text())["estimator"] == summary["estimator"]
