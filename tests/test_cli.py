import json
import subprocess
import sys
from pathlib import Path

from spikesde._cli import main

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
SMALL = ["--set", "sweep.sigma_v=[0.5]", "--set", "sweep.sample_size=[8]", "--set", "training.steps=6",
         "--set", "training.final_window=3", "--set", "training.checkpoint_every=3"]  # fmt: skip


def test_fit_writes_a_run_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["fit", str(CONFIGS / "demo.toml"), "--out", str(out), "--quiet", *SMALL, "--set", "optimizer.lr=1e-2"]) == 0
    printed = capsys.readouterr().out
    assert "| 0.5 | 8 |" in printed and f"run folder: {out}" in printed
    assert (out / "figure.png").is_file()
    assert "lr = 0.01" in (out / "config.toml").read_text()
    params = json.loads((out / "sigma_v=0.5" / "n=8" / "params.json").read_text())["params"]

    # Without --resume an existing run is left alone.
    assert main(["fit", str(CONFIGS / "demo.toml"), "--out", str(out), "--quiet", *SMALL, "--set", "optimizer.lr=1e-2"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["fit", str(CONFIGS / "demo.toml"), "--out", str(out), "--quiet", "--resume", *SMALL, "--set", "optimizer.lr=1e-2"]) == 0
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
        [sys.executable, "-m", "spikesde._cli", "fit", str(bad), "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "optimizer.warmup: unknown key" in result.stderr
