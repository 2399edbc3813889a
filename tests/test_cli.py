import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spikesde._experiments.cli import main

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
SMALL = ["--set", "sweep.sigma_v=[0.5]", "--set", "sweep.sample_size=[8]", "--set", "training.steps=12",
         "--set", "training.final_window=4", "--set", "training.checkpoint_every=5"]  # fmt: skip


def test_fit_writes_a_run_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["fit", str(CONFIGS / "demo.toml"), "--out", str(out), "--quiet", *SMALL, "--set", "training.seed=1"]) == 0
    printed = capsys.readouterr().out
    assert "| 0.5 | 8 |" in printed and f"run folder: {out}" in printed
    assert (out / "figure.png").is_file()
    assert "seed = 1" in (out / "config.toml").read_text()
    params = json.loads((out / "sigma_v=0.5" / "n=8" / "params.json").read_text())["params"]

    # Without --resume an existing run is left alone.
    assert main(["fit", str(CONFIGS / "demo.toml"), "--out", str(out), "--quiet", *SMALL, "--set", "training.seed=1"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["fit", str(CONFIGS / "demo.toml"), "--out", str(out), "--quiet", "--resume", *SMALL, "--set", "training.seed=1"]) == 0
    assert json.loads((out / "sigma_v=0.5" / "n=8" / "params.json").read_text())["params"] == params


def test_bad_override_names_the_key(tmp_path, capsys):
    assert main(["fit", str(CONFIGS / "demo.toml"), "--out", str(tmp_path), "--set", "training.steps=abc"]) == 2
    err = capsys.readouterr().err
    assert "training.steps" in err and "integer" in err
    assert not any(tmp_path.iterdir())  # nothing was run


def test_console_script_reports_config_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((CONFIGS / "demo.toml").read_text().replace("[optimizer]", "[optimizer]\nwarmup = 10"))
    result = subprocess.run(
        [sys.executable, "-m", "spikesde._experiments.cli", "fit", str(bad), "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "optimizer.warmup: unknown key" in result.stderr


@pytest.mark.slow
def test_process_killed_mid_run_resumes_to_the_same_parameters(tmp_path):
    """A real SIGKILL of the console program, then --resume in a fresh process (fresh compilation)."""
    overrides = ["--set", "sweep.sigma_v=[0.5]", "--set", "sweep.sample_size=[8]", "--set", "training.steps=400",
                 "--set", "training.checkpoint_every=50", "--quiet"]  # fmt: skip
    command = [sys.executable, "-m", "spikesde._experiments.cli", "fit", str(CONFIGS / "demo.toml"), *overrides]
    subprocess.run([*command, "--out", str(tmp_path / "straight")], check=True, capture_output=True, timeout=600)

    killed = tmp_path / "killed"
    process = subprocess.Popen([*command, "--out", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics = killed / "sigma_v=0.5" / "n=8" / "metrics.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if metrics.exists() and len(metrics.read_text().splitlines()) > 120:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (killed / "summary.json").exists()  # it really died mid-run
    subprocess.run([*command, "--out", str(killed), "--resume"], check=True, capture_output=True, timeout=600)

    def params(run):
        return json.loads((run / "sigma_v=0.5" / "n=8" / "params.json").read_text())["params"]

    assert params(killed) == params(tmp_path / "straight")
