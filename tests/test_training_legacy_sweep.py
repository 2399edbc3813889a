import json
from pathlib import Path

import numpy as np
import pytest

from spikesde import ConfigError, load_config
from spikesde._training.legacy_sweep import fit  # the old sweep, until the cli branch replaces it

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
SMALL = ["sweep.sigma_v=[0.5]", "sweep.sample_size=[8]", "training.steps=12", "training.checkpoint_every=5",
         "training.final_window=4"]  # fmt: skip


class Killed(Exception):
    pass


def _kill_at(step_to_die):
    def callback(step, state, metrics):
        if step == step_to_die:
            raise Killed

    return callback


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "sigma_v=0.5" / "n=8" / "metrics.jsonl").read_text().splitlines()]


def test_killed_run_resumes_to_the_same_parameters(tmp_path):
    config = load_config(CONFIGS / "demo.toml", SMALL)
    straight = fit(config, tmp_path / "straight", progress=False)

    with pytest.raises(Killed):
        fit(config, tmp_path / "killed", progress=False, callback=_kill_at(8))  # last checkpoint: step 5
    assert [r["step"] for r in _metrics(tmp_path / "killed")] == list(range(8))
    resumed = fit(config, tmp_path / "killed", resume=True, progress=False)

    assert resumed.runs[0].final_params == straight.runs[0].final_params  # bit for bit
    assert resumed.runs[0].final_params != {"value": 0.56}
    a, b = _metrics(tmp_path / "straight"), _metrics(tmp_path / "killed")
    assert [r["step"] for r in b] == list(range(13))  # steps after the checkpoint were redone, not duplicated
    for x, y in zip(a, b):
        assert (x["loss"], x["test_mae"], x["params"]) == (y["loss"], y["test_mae"], y["params"])

    # Resuming a finished run changes nothing; a fresh run refuses to overwrite it.
    again = fit(config, tmp_path / "killed", resume=True, progress=False)
    assert again.runs == resumed.runs
    with pytest.raises(FileExistsError, match="--resume"):
        fit(config, tmp_path / "killed", progress=False)
    changed = load_config(CONFIGS / "demo.toml", SMALL + ["optimizer.lr=0.01"])
    with pytest.raises(ConfigError) as info:
        fit(changed, tmp_path / "killed", resume=True, progress=False)
    assert info.value.path == "optimizer.lr"


def test_run_folder_contents(tmp_path):
    config = load_config(CONFIGS / "demo.toml", SMALL + ["sweep.sigma_v=[0.25, 0.5]"])
    result = fit(config, tmp_path, progress=False)
    for name in ("config.toml", "summary.json", "summary.md", "figure.png"):
        assert (tmp_path / name).is_file(), name
    assert load_config(tmp_path / "config.toml") == config
    for sigma in ("0.25", "0.5"):
        run = tmp_path / f"sigma_v={sigma}" / "n=8"
        assert {p.name for p in run.iterdir()} == {"metrics.jsonl", "params.json", "checkpoint.eqx"}
        records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert [r["step"] for r in records] == list(range(13))
        assert records[0]["params"] == {"value": pytest.approx(0.56)}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [s["sigma_v"] for s in summary] == [0.25, 0.5]
    # The second noise level reuses the compiled step (sigma is an argument, not a constant).
    assert result.runs[1].compile_seconds is None
    assert all(r.seconds_per_step > 0 and r.forward_seconds > 0 for r in result.runs)


def test_constant_current_is_recovered_quickly(tmp_path):
    config = load_config(
        CONFIGS / "slif_input_current_fast.toml",
        ["sweep.sigma_v=[0.5]", "sweep.sample_size=[64]", "training.steps=100", "training.final_window=20",
         "optimizer.final_lr=3e-3"],
    )
    (run,) = fit(config, tmp_path, progress=False).runs
    assert abs(run.final_estimate["value"] - 1.5) < 0.04
    assert run.steps_to_tolerance is not None and run.steps_to_tolerance < 60
    assert run.test_mae < 0.05  # started above 3


def test_time_varying_current_amplitude_is_recovered(tmp_path):
    """c(t) = 1.5 + A sin(pi t): the amplitude A = 0.4 is learned from whole spike trains, from A = 0."""
    config = load_config(
        CONFIGS / "slif_sinusoid.toml",
        ["sweep.sigma_v=[0.5]", "sweep.sample_size=[64]", "training.steps=60", "training.final_window=20",
         "optimizer.final_lr=5e-3"],
    )
    (run,) = fit(config, tmp_path, progress=False).runs
    assert abs(run.final_estimate["amplitude"] - 0.4) < 0.05
    records = [json.loads(line) for line in (tmp_path / "sigma_v=0.5" / "n=64" / "metrics.jsonl").read_text().splitlines()]
    assert records[0]["test_mae"] > 3 * run.test_mae


@pytest.mark.slow
def test_two_level_current_is_recovered(tmp_path):
    config = load_config(CONFIGS / "slif_two_level.toml", ["sweep.sigma_v=[0.5]", "sweep.sample_size=[128]"])
    (run,) = fit(config, tmp_path, progress=False).runs
    np.testing.assert_allclose(run.final_estimate["values"], [1.2, 1.8], atol=0.05)


@pytest.mark.slow
def test_reference_acceptance_n128(tmp_path):
    """Issue 4, acceptance 1: reference settings, n = 128, both noise levels."""
    config = load_config(CONFIGS / "slif_input_current.toml", ["sweep.sample_size=[128]"])
    for run in fit(config, tmp_path, progress=False).runs:
        assert abs(run.final_estimate["value"] - 1.5) < 0.01, run
        assert run.test_mae <= 0.015, run
