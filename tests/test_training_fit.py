"""fit: run folders, checkpoints, resume, lock, errors without debris; recovery of an input current."""

import json
import os
import subprocess
import sys

import equinox as eqx
import jax
import numpy as np
import optax
import pytest

import spikesde as sd
from spikesde import CheckpointError, RunFolderError

# One small problem shared by every test here, so that the step compiles once.
SIM = sd.Simulation(t0=0.0, t1=1.0, dt=0.05, max_spikes=6)
LOSS = sd.ExpectedSignatureLoss(t0=0.0, t1=1.0, depth=2)
OPT = optax.adam(0.05)
TRUTH = sd.SLIF(1, 2.0, mu_v=5.0, sigma_v=0.3)
MODEL = sd.SLIF(1, 1.0, mu_v=5.0, sigma_v=0.3)
DATA = sd.Simulated(TRUTH, 8, jax.random.key(1))
TEST = sd.Simulated(TRUTH, 8, jax.random.key(2))


class Killed(Exception):
    pass


def _fit(out_dir, steps=12, **kwargs):
    options = dict(learn=[sd.Learn("input_current.value", lower=0.0)], loss=LOSS, optimizer=OPT, simulation=SIM,
                   steps=steps, key=jax.random.key(0), test=TEST, out_dir=out_dir, progress=False, checkpoint_every=5)  # fmt: skip
    options.update(kwargs)
    return sd.fit(options.pop("model", MODEL), options.pop("data", DATA), **options)


def _kill_at(step_to_die):
    def callback(step, state, record):
        if step == step_to_die:
            raise Killed

    return callback


def _lines(run):
    return (run / "metrics.jsonl").read_text().splitlines()


def _steps(run):
    return [json.loads(line)["step"] for line in _lines(run)]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    run = tmp_path_factory.mktemp("straight") / "run"
    return _fit(run), run


def test_straight_run_folder(straight):
    result, run = straight
    assert sorted(os.listdir(run)) == ["checkpoint.eqx", "final.json", "metrics.jsonl", "run.json"]
    assert _steps(run) == list(range(12))
    record = result.history[0]
    assert set(record) >= {"step", "loss", "test_loss", "overflow", "values", "seconds"}
    assert record["values"]["input_current.value"] == pytest.approx(1.0)
    assert result.final["test_loss"] >= 0 and int(result.state.step) == 12
    assert float(result.model.input_current.value) == pytest.approx(float(result.values["input_current.value"]))


def test_killed_run_resumes_bit_identically_with_a_torn_middle_line(straight, tmp_path):
    result, straight_run = straight
    run = tmp_path / "killed"
    with pytest.raises(Killed):
        _fit(run, callback=_kill_at(8))  # the last checkpoint is at step 5; lines 0..7 written
    assert _steps(run) == list(range(8))
    lines = _lines(run)
    lines[2] = lines[2][: len(lines[2]) // 2]  # a torn line in the middle
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    resumed = _fit(run, resume=True)
    assert _same(resumed.state.params, result.state.params)  # bit for bit
    assert _same(resumed.state.opt_state, result.state.opt_state)
    steps = _steps_valid(run)
    assert steps == [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11]  # the torn step 2 lost; nothing after it; none twice
    want = {json.loads(line)["step"]: json.loads(line) for line in _lines(straight_run)}
    for line in _lines(run):
        got = json.loads(line)
        assert (got["loss"], got["values"]) == (want[got["step"]]["loss"], want[got["step"]]["values"])


def _steps_valid(run):
    return [r["step"] for r in sd._training.tracker.read_metrics(run / "metrics.jsonl")]


def test_finished_run_resumes_to_itself_and_refuses_a_fresh_start(straight, tmp_path):
    result, run = straight
    again = _fit(run, resume=True)
    assert _same(again.state.params, result.state.params) and _steps(run) == list(range(12))
    with pytest.raises(RunFolderError, match="already holds a run; pass resume=True"):
        _fit(run)


def test_resume_refuses_another_configuration(straight):
    _, run = straight
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    with pytest.raises(CheckpointError, match=r"another configuration \(different optimizer\)"):
        _fit(run, resume=True, optimizer=optax.adam(0.01))
    with pytest.raises(CheckpointError, match=r"another configuration \(different data\)"):
        _fit(run, resume=True, data=sd.Simulated(TRUTH, 8, jax.random.key(7)))
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


@pytest.mark.parametrize(
    "content, message",
    [(b"", "is empty"), (b"PK\x03\x04 some zip", "not a spikesde checkpoint"), ("truncate", "truncated or corrupted")],
)
def test_bad_checkpoint_names_the_file(straight, tmp_path, content, message):
    _, good = straight
    run = tmp_path / "run"
    run.mkdir()
    for name in ("run.json", "metrics.jsonl"):
        (run / name).write_bytes((good / name).read_bytes())
    checkpoint = good.joinpath("checkpoint.eqx").read_bytes()
    (run / "checkpoint.eqx").write_bytes(checkpoint[: len(checkpoint) - 40] if content == "truncate" else content)
    with pytest.raises(CheckpointError, match=message) as info:
        _fit(run, resume=True)
    assert str(run / "checkpoint.eqx") in str(info.value)
    assert not (run / ".lock").exists()


def test_lock_refuses_a_live_holder_and_takes_over_a_dead_one(straight, tmp_path):
    _, good = straight
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_bytes((good / "run.json").read_bytes())
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (run / ".lock").write_text(f"{sleeper.pid}\n")
        with pytest.raises(RunFolderError, match=f"in use by process {sleeper.pid}") as info:
            _fit(run, resume=True, steps=2)
        assert str(run) in str(info.value) and (run / ".lock").read_text() == f"{sleeper.pid}\n"
    finally:
        sleeper.kill()
        sleeper.wait()
    _fit(run, resume=True, steps=2)  # the holder is dead: the lock is taken over
    assert not (run / ".lock").exists() and _steps(run) == [0, 1]


def test_folder_errors_leave_nothing_behind(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(RunFolderError, match="not a spikesde run folder"):
        _fit(tmp_path / "mine", overwrite=True)
    assert os.listdir(tmp_path / "mine") == ["notes.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunFolderError, match="is a file"):
        _fit(tmp_path / "file")
    with pytest.raises(RunFolderError, match="is a file"):
        _fit(tmp_path / "file" / "run")
    with pytest.raises(ValueError, match=r"dt=0\.03 does not divide"):
        _fit(tmp_path / "new", simulation=sd.Simulation(t0=0.0, t1=1.0, dt=0.03, max_spikes=6))
    with pytest.raises(ValueError, match="learn path 'input_current.valu'"):
        _fit(tmp_path / "new", learn=["input_current.valu"])
    with pytest.raises(ValueError, match="resume and overwrite need out_dir"):
        _fit(None, resume=True)
    with pytest.raises(TypeError, match="key must be one JAX PRNG key"):
        _fit(tmp_path / "new", key=0)
    with pytest.raises(ValueError, match="steps must be a non-negative integer"):
        _fit(tmp_path / "new", steps=-1)
    with pytest.raises(ValueError, match="data must have shape"):
        _fit(tmp_path / "new", data=np.full((4, 2, 6), np.inf))
    assert not (tmp_path / "new").exists()


def test_read_only_folder(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    if os.geteuid() == 0:  # root writes anywhere: let the permission check see what a user would
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(folder) else real_access(p, mode))
    try:
        for out_dir in (folder / "run", folder):
            with pytest.raises(RunFolderError, match="is not writable") as info:
                _fit(out_dir)
            assert str(folder) in str(info.value)
        assert os.listdir(folder) == []
    finally:
        folder.chmod(0o700)


class ListTracker:
    def __init__(self):
        self.records, self.closed = [], False

    def log(self, step, record):
        self.records.append((step, record["loss"]))

    def close(self):
        self.closed = True


def test_tracker_progress_bar_and_no_recompilation_for_an_equal_optimizer(tmp_path, capsys):
    traces = []

    def loss(model_spikes, data_spikes):
        traces.append(1)  # runs once per trace, not per step
        return LOSS(model_spikes, data_spikes)

    tracker = ListTracker()
    first = _fit(None, steps=3, loss=loss, optimizer=optax.adam(0.05), tracker=tracker, progress=True)
    assert [s for s, _ in tracker.records] == [0, 1, 2] and tracker.closed
    assert tracker.records[2][1] == first.history[2]["loss"] and first.out_dir is None
    assert "3/3" in capsys.readouterr().err  # the tqdm bar
    traced = len(traces)
    _fit(None, steps=3, loss=loss, optimizer=optax.adam(0.05), progress=False)  # a new, equal optimizer
    assert len(traces) == traced
    _fit(None, steps=3, loss=loss, optimizer=optax.adam(0.02), progress=False)  # another one: compiles again
    assert len(traces) > traced


def test_overwrite_replaces_only_its_own_files(straight, tmp_path):
    _, good = straight
    run = tmp_path / "run"
    run.mkdir()
    for name in os.listdir(good):
        (run / name).write_bytes((good / name).read_bytes())
    (run / "notes.txt").write_text("keep me")
    _fit(run, overwrite=True, steps=3)
    assert (run / "notes.txt").read_text() == "keep me" and _steps(run) == [0, 1, 2]


def test_spike_trains_as_data_and_test_fraction():
    buffers, _ = DATA.draw(SIM)
    trains = sd.SpikeTrains.from_buffers(buffers, 0.0, 1.0)
    result = _fit(None, steps=2, data=trains, test=0.25, progress=False)
    assert [r["step"] for r in result.history] == [0, 1] and "test_loss" in result.history[0]
    with pytest.raises(ValueError, match=r"data: the window \[0.0, 2.0\] of the spike trains is not the simulation's"):
        _fit(None, steps=2, data=sd.SpikeTrains.from_buffers(buffers, 0.0, 2.0))
    with pytest.raises(ValueError, match="test=0.01 of 8 trials leaves no training or no test trials"):
        _fit(None, steps=2, data=trains, test=0.01)
    bad = buffers.copy()
    bad[3, 0, :2] = [0.5, 0.4]  # unsorted
    with pytest.raises(ValueError, match="data: trial 3, neuron 0, slot 1"):
        _fit(None, steps=2, data=bad)


def test_fit_prepares_the_loss_once_and_keeps_the_test_loss_on_the_test_data(monkeypatch):
    # ExpectedSignatureLoss computes the data's signature once (loss.prepare). The prepared step must
    # equal the unprepared one, test loss included (which must use the test data, not the training
    # data the prepared loss holds), and fit must run the prepared step.
    seen = []
    original = sd.Trainer.prepared
    monkeypatch.setattr(sd.Trainer, "prepared", lambda self, data: seen.append(data) or original(self, data))
    result = _fit(None, steps=2)
    assert len(seen) == 1 and result.trainer.loss is LOSS  # the returned trainer is not tied to the data
    trainer, train, test = result.trainer, DATA.draw(SIM)[0], TEST.draw(SIM)[0]
    ready = trainer.prepared(train)
    assert ready.loss.target is not None and ready.prepared(train) is ready
    state = trainer.init(jax.random.key(0))
    step = eqx.filter_jit(lambda t: t.step(state, train, test)[1])
    unprepared, prepared = step(trainer), step(ready)
    np.testing.assert_allclose([prepared["loss"], prepared["test_loss"]], [unprepared["loss"], unprepared["test_loss"]], rtol=1e-6)
    assert abs(float(prepared["test_loss"]) - float(prepared["loss"])) > 1e-6  # test data differ from training data


def test_a_non_finite_training_loss_is_reported(monkeypatch):
    # The compiled step of this module, its loss replaced by inf (as a likelihood of an impossible
    # interval gives): the loop must say so once, and record every step.
    import importlib

    fit_module = importlib.import_module("spikesde._training.fit")  # the module, not the function it exports
    step = fit_module._train_step
    monkeypatch.setattr(fit_module, "_train_step", lambda *a: (lambda s, m: (s, {**m, "loss": m["loss"] + np.inf}))(*step(*a)))
    with pytest.warns(RuntimeWarning, match=r"step 0: the training loss is inf"):
        result = _fit(None, steps=2)
    assert all(r["loss"] == float("inf") for r in result.history)
