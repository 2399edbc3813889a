"""The command line: runs, resumes, and every user error as one line, exit code 2, nothing lost on disk.

One tiny training program (4 samples, 6 steps) is compiled once and shared by the tests.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from spikesde._experiments.cli import main
from spikesde._experiments.config import load_raw
from spikesde._experiments.sweep import run_sweep

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
DEMO = str(CONFIGS / "demo.toml")
SMALL = ["--set", "sweep.model.sigma_v=[0.5]", "--set", "sweep.data.num_samples=[4]", "--set", "training.steps=6",
         "--set", "training.final_window=2", "--set", "training.checkpoint_every=3", "--quiet"]  # fmt: skip
RUN = Path("sigma_v=0.5") / "num_samples=4"


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _fails(capsys, args, *phrases) -> str:
    """Run the CLI expecting exit code 2 and one line on stderr holding every phrase."""
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for phrase in phrases:
        assert phrase in err, (phrase, err)
    return err


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["fit", DEMO, "--out", str(out), *SMALL]) == 0
    return out


@pytest.fixture
def copy(finished, tmp_path) -> Path:
    shutil.copytree(finished, tmp_path / "run")
    return tmp_path / "run"


def test_fit_writes_the_sweep_folder(finished):
    names = {p.name for p in finished.iterdir()}
    assert {"config.toml", "sweep.json", "summary.json", "summary.md", "figure.png", "sigma_v=0.5"} <= names
    summary = json.loads((finished / "summary.json").read_text())
    assert len(summary) == 1 and summary[0]["truth"] == {"input_current.value": 1.5}
    assert summary[0]["start_error"]["input_current.value"] == pytest.approx(1.5 - 0.56)
    assert "input_current.value true" in (finished / "summary.md").read_text()
    lines = (finished / RUN / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == list(range(6))


def test_existing_run_needs_resume_or_overwrite(copy, capsys):
    before = _snapshot(copy)
    _fails(capsys, ["fit", DEMO, "--out", str(copy), *SMALL], "already holds a run", "--resume", "--overwrite")
    assert _snapshot(copy) == before
    assert main(["fit", DEMO, "--out", str(copy), "--resume", *SMALL]) == 0  # finished: nothing redone
    assert (copy / RUN / "metrics.jsonl").read_bytes() == before[str(RUN / "metrics.jsonl")]


def test_interrupted_run_resumes_to_the_same_values(finished, tmp_path, capsys):
    out = tmp_path / "run"

    def stop(step, state, record):
        if step == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(load_raw(DEMO, [s for s in SMALL if s.startswith(("sweep", "training"))]), out, progress=False, callback=stop)
    assert not (out / "summary.json").exists()
    assert main(["fit", DEMO, "--out", str(out), "--resume", *SMALL]) == 0
    final = lambda run: json.loads((run / RUN / "final.json").read_text())["values"]  # noqa: E731
    assert final(out) == final(finished)
    steps = [json.loads(line)["step"] for line in (out / RUN / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(6))  # every step exactly once


def test_resume_with_another_config_is_refused(copy, capsys):
    before = _snapshot(copy)
    _fails(capsys, ["fit", DEMO, "--out", str(copy), "--resume", *SMALL, "--set", "optimizer.lr=0.01"],
           "optimizer.lr: differs from the configuration of the run")  # fmt: skip
    assert _snapshot(copy) == before


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", "truncated"])
def test_broken_checkpoint_is_named(copy, capsys, content):
    checkpoint = copy / RUN / "checkpoint.eqx"
    if content == "truncated":
        content = checkpoint.read_bytes()[: checkpoint.stat().st_size // 2]
    checkpoint.write_bytes(content)
    (copy / RUN / "final.json").unlink()  # as after a kill
    before = _snapshot(copy)
    _fails(capsys, ["fit", DEMO, "--out", str(copy), "--resume", *SMALL], "checkpoint.eqx")
    assert _snapshot(copy) == before


def test_checkpoint_of_another_run_is_refused(copy, tmp_path, capsys):
    other = tmp_path / "other"
    assert main(["fit", DEMO, "--out", str(other), *SMALL, "--set", "data.seed=2"]) == 0
    shutil.copyfile(other / RUN / "checkpoint.eqx", copy / RUN / "checkpoint.eqx")
    (copy / RUN / "final.json").unlink()
    _fails(capsys, ["fit", DEMO, "--out", str(copy), "--resume", *SMALL], "checkpoint.eqx", "another configuration")


@pytest.mark.parametrize("name", ["sweep.json", str(RUN / "run.json")])
def test_corrupted_run_file_is_named(copy, capsys, name):
    (copy / name).write_text("{ not json")
    (copy / RUN / "final.json").unlink()
    before = _snapshot(copy)
    _fails(capsys, ["fit", DEMO, "--out", str(copy), "--resume", *SMALL], Path(name).name, "corrupted")
    assert _snapshot(copy) == before


def test_second_resume_on_a_locked_folder_is_refused(copy, capsys):
    holder = subprocess.Popen(["sleep", "60"])
    try:
        (copy / ".lock").write_text(f"{holder.pid}\n")
        _fails(capsys, ["fit", DEMO, "--out", str(copy), "--resume", *SMALL], str(copy), f"process {holder.pid}")
        assert (copy / ".lock").read_text() == f"{holder.pid}\n"
    finally:
        holder.kill()
        holder.wait()
    assert main(["fit", DEMO, "--out", str(copy), "--resume", *SMALL]) == 0  # a dead holder's lock is taken over
    assert not (copy / ".lock").exists()


def test_overwrite_deletes_only_what_it_wrote(copy, capsys):
    (copy / "notes.txt").write_text("mine")
    (copy / RUN / "mine.csv").write_text("1,2")
    (copy / RUN / "metrics.jsonl").write_text('{"step": 0}\n')
    assert main(["fit", DEMO, "--out", str(copy), "--overwrite", *SMALL]) == 0
    assert (copy / "notes.txt").read_text() == "mine" and (copy / RUN / "mine.csv").read_text() == "1,2"
    assert len((copy / RUN / "metrics.jsonl").read_text().splitlines()) == 6


def test_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "data.csv").write_text("precious")
    _fails(capsys, ["fit", DEMO, "--out", str(tmp_path), "--overwrite", *SMALL], "not a spikesde sweep folder")
    assert [p.name for p in tmp_path.iterdir()] == ["data.csv"]


@pytest.mark.parametrize(
    "override, phrase",
    [("simulation.dt=0.03", "simulation.dt: 0.03 does not divide"), ("learn.mu_w={}", "learn"),
     ("data.true.tau_m=1.0", 'data.true.tau_m'), ("optimizer.warmup=3", "optimizer.warmup: unknown key"),
     ("model.tau_s=0", "model.tau_s: SLIF.tau_s must be finite and positive, got 0"),
     ("sweep.model.sigma_v=0.3", 'sweep."model.sigma_v": must be a list of the values to sweep (e.g. [0.3]), got 0.3'),
     ("sweep.model.tau_s=[1.0, 0.0]", 'sweep."model.tau_s": SLIF.tau_s must be finite and positive, got 0.0 (in the sweep run')],
)  # fmt: skip
def test_bad_value_leaves_no_folder(tmp_path, capsys, override, phrase):
    err = _fails(capsys, ["fit", DEMO, "--out", str(tmp_path / "run"), *SMALL, "--set", override], phrase)
    assert not (tmp_path / "run").exists(), err


def test_unreadable_config_and_bad_out(tmp_path, capsys):
    latin = tmp_path / "latin.toml"
    latin.write_bytes("name = 'caf\xe9'".encode("latin-1"))
    _fails(capsys, ["fit", str(latin), "--out", str(tmp_path / "a")], str(latin), "not UTF-8")
    broken = tmp_path / "broken.toml"
    broken.write_text("[model\n")
    _fails(capsys, ["fit", str(broken), "--out", str(tmp_path / "a")], str(broken), "not valid TOML")
    target = tmp_path / "a_file"
    target.write_text("keep")
    _fails(capsys, ["fit", DEMO, "--out", str(target), *SMALL], str(target), "is a file")
    assert target.read_text() == "keep" and not (tmp_path / "a").exists()


def test_read_only_folder_is_named(tmp_path, capsys, monkeypatch):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    if os.geteuid() == 0:  # root may write anyway: let the permission check see what a user would
        access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: access(p, mode) and Path(p) != parent)
    try:
        _fails(capsys, ["fit", DEMO, "--out", str(parent / "run"), *SMALL], str(parent), "not writable")
        assert not any(parent.iterdir())
    finally:
        parent.chmod(0o755)


def test_simulate_then_fit_the_file(tmp_path, capsys):
    trains = tmp_path / "trains.npz"
    assert main(["simulate", DEMO, "--out", str(trains), "--set", "data.num_samples=8"]) == 0
    assert "8 trials x 1 neurons" in capsys.readouterr().out
    with np.load(trains) as archive:
        assert len(archive.files) > 0
    _fails(capsys, ["simulate", DEMO, "--out", str(trains)], str(trains), "exists")
    _fails(capsys, ["simulate", DEMO, "--out", str(tmp_path)], "is a folder")
    from_file = ["--set", f'data={{source = "file", path = "{trains}", test_fraction = 0.5}}', "--set", "sweep={}"]
    out = tmp_path / "fit"
    assert main(["fit", DEMO, "--out", str(out), *SMALL[-7:], *from_file]) == 0
    table = (out / "summary.md").read_text()
    assert "input_current.value estimate" in table and " true" not in table and "error" not in table
    assert json.loads((out / "summary.json").read_text())[0]["truth"] is None
    _fails(capsys, ["simulate", DEMO, "--out", str(tmp_path / "x.npz"), *from_file], "data.source")


def test_console_script_prints_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(Path(DEMO).read_text().replace("[optimizer]", "[optimizer]\nwarmup = 10"))
    result = subprocess.run([sys.executable, "-m", "spikesde._experiments.cli", "fit", str(bad), "--out", str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "optimizer.warmup: unknown key for optimizer.name = 'rmsprop'" in result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_process_killed_mid_run_resumes_to_the_same_values(tmp_path):
    """A real SIGKILL of the console program, then --resume in a fresh process (fresh compilation)."""
    small = [*SMALL, "--set", "training.steps=400", "--set", "training.checkpoint_every=50"]
    command = [sys.executable, "-m", "spikesde._experiments.cli", "fit", DEMO, *small]
    subprocess.run([*command, "--out", str(tmp_path / "straight")], check=True, capture_output=True, timeout=600)
    killed = tmp_path / "killed"
    process = subprocess.Popen([*command, "--out", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics = killed / RUN / "metrics.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (metrics.exists() and len(metrics.read_text().splitlines()) > 120):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (killed / "summary.json").exists()  # it really died mid-run
    subprocess.run([*command, "--out", str(killed), "--resume"], check=True, capture_output=True, timeout=600)
    final = lambda run: json.loads((run / RUN / "final.json").read_text())["values"]  # noqa: E731
    assert final(killed) == final(tmp_path / "straight")
    steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()]
    assert steps == list(range(400))
