"""Data-parallel training: fit and Trainer sharded over 4 forced host devices equal one device.

XLA_FLAGS must be set before JAX starts, so the 4-device checks run in one fresh process (mostly
compiling) whose findings the tests below read; ``pytest -k sharded`` selects them all.
"""

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import optax
import pytest

import spikesde as sd
from spikesde._core import memory
from spikesde._core.network import as_network

_FOUR_DEVICES = textwrap.dedent(
    """
    import json, sys, tempfile
    from pathlib import Path
    import equinox as eqx, jax, numpy as np, optax
    from jax.sharding import Mesh
    import spikesde as sd
    from spikesde._training.sharding import sharded_batches
    jax.config.update("jax_enable_x64", True)
    assert len(jax.devices()) == 4, jax.devices()
    one = Mesh(np.array(jax.devices()[:1]), ("samples",))
    sim = sd.Simulation(t0=0.0, t1=1.0, dt=0.05, max_spikes=6, dtype="float64")
    truth = sd.SLIF(1, 2.0, mu_v=5.0, sigma_v=0.3)
    model = sd.SLIF(1, 1.0, mu_v=5.0, sigma_v=0.3)
    loss = sd.ExpectedSignatureLoss(t0=0.0, t1=1.0, depth=2)


    def reverse_mode():
        # Two learned values, 6 samples and 6 trials: an uneven split over 4 devices.
        buffers = np.asarray(sd.Simulated(truth, 6, jax.random.key(4)).draw(sim)[0])
        steps = []
        for mesh in (None, one):
            trainer = sd.Trainer(model, learn=["input_current.value", "mu_v"], loss=loss, optimizer=optax.sgd(0.1),
                                 simulation=sim, model_samples=6, gradient="reverse", mesh=mesh)
            state = trainer.replicated(trainer.init(jax.random.key(5)))
            state, metrics = eqx.filter_jit(trainer.step)(state, trainer.sharded(buffers))
            steps.append([float(metrics["loss"])] + [float(x) for x in jax.tree_util.tree_leaves(state.params)])
        return {"reverse": steps}


    class Killed(Exception):
        pass


    def kill_at(n):
        def callback(step, state, record):
            if step == n:
                raise Killed
        return callback


    def fits():
        options = dict(learn=[sd.Learn("input_current.value", lower=0.0)], loss=loss, optimizer=optax.adam(0.05),
                       simulation=sim, key=jax.random.key(0), progress=False, checkpoint_every=2, steps=4,
                       test=sd.Simulated(truth, 4, jax.random.key(2)))
        data, tmp, out = sd.Simulated(truth, 8, jax.random.key(1)), Path(tempfile.mkdtemp()), {}
        summary = lambda r: {"loss": [x["loss"] for x in r.history], "test_loss": [x["test_loss"] for x in r.history],
                             "value": float(r.values["input_current.value"]), "final": r.final["test_loss"]}
        four = sd.fit(model, data, out_dir=tmp / "four", **options)  # the default mesh: all 4 devices
        single = sd.fit(model, data, mesh=one, **options)
        out["mesh_sizes"] = [four.trainer.mesh.size, single.trainer.mesh]
        out["fit"] = [summary(four), summary(single)]
        out["files"] = sorted(p.name for p in (tmp / "four").iterdir())
        # Killed after step 3 (last checkpoint at 2) on one device, resumed on four.
        try:
            sd.fit(model, data, mesh=one, out_dir=tmp / "moved", callback=kill_at(3), **options)
        except Killed:
            pass
        out["moved"] = summary(sd.fit(model, data, out_dir=tmp / "moved", resume=True, **options))
        out["moved_steps"] = [json.loads(line)["step"] for line in (tmp / "moved" / "metrics.jsonl").read_text().splitlines()]
        # Killed and resumed on four devices: bit for bit the straight four-device run.
        try:
            sd.fit(model, data, out_dir=tmp / "killed", callback=kill_at(3), **options)
        except Killed:
            pass
        killed = sd.fit(model, data, out_dir=tmp / "killed", resume=True, **options)
        leaves = [jax.tree_util.tree_leaves(r.state.params) for r in (killed, four)]
        out["resumed_bitwise"] = all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(*leaves))
        # The samples really split: on 4 devices, not replicated.
        with sharded_batches(four.trainer.mesh):
            spikes = jax.jit(lambda k: sim.sample(model, k, 8)[0])(jax.random.key(3))
        out["sample_sharding"] = [len(spikes.sharding.device_set), bool(spikes.sharding.is_fully_replicated)]
        return out


    print("RESULT" + json.dumps({"fits": fits, "reverse": reverse_mode}[sys.argv[1]]()))
    """
)


def _run_four_devices(section):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(sd.__file__))) + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run([sys.executable, "-c", _FOUR_DEVICES, section], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])


@pytest.fixture(scope="module")
def four():
    return _run_four_devices("fits")


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-12, atol=0)


def test_sharded_fit_equals_one_device(four):
    sharded, single = four["fit"]
    assert four["mesh_sizes"] == [4, None]  # a mesh of one device is the plain step
    assert len(set(single["loss"])) == 4  # the run moves: a real comparison
    for name in ("loss", "test_loss", "value", "final"):
        _close(sharded[name], single[name])
    assert four["files"] == ["checkpoint.eqx", "final.json", "metrics.jsonl", "run.json"]


def test_sharded_samples_split_over_the_devices(four):
    assert four["sample_sharding"] == [4, False]


def test_sharded_resume_bitwise_and_across_device_counts(four):
    assert four["resumed_bitwise"]
    assert four["moved_steps"] == [0, 1, 2, 3]
    for name in ("loss", "value", "final"):
        _close(four["moved"][name], four["fit"][1][name])


@pytest.mark.slow  # a reverse-mode step compiled for 4 devices and for 1: about a minute
def test_sharded_reverse_mode_with_uneven_batches():
    sharded, single = _run_four_devices("reverse")["reverse"]
    assert np.all(np.isfinite(single)) and single[1:] != [1.0, 5.0]  # the step moved the parameters
    _close(sharded, single)


def test_sharded_memory_check_counts_per_device_bytes_and_devices_needed(monkeypatch):
    network = as_network(sd.SLIF(1, 1.0, mu_v=5.0, sigma_v=0.3))
    per_solve = memory.solve_bytes(network, num_steps=20, max_spikes=6, dtype=np.float64)
    monkeypatch.setattr(memory, "device_bytes", lambda: 3 * per_solve + 1)  # 3 solves per device
    assert memory.check_batch_memory(network, num_steps=20, max_spikes=6, dtype=np.float64, samples=10, devices=4) == 3 * per_solve
    assert memory.devices_needed(per_solve, 10, 3 * per_solve + 1) == 4
    assert memory.devices_needed(per_solve, 10, per_solve - 1) is None
    with pytest.raises(ValueError, match=r"10 model samples on 1 device need .* at least 4 devices"):
        sd.Trainer(sd.SLIF(1, 1.0, mu_v=5.0, sigma_v=0.3), learn=["input_current.value"], loss=lambda a, b: 0.0,
                   optimizer=optax.sgd(0.1), simulation=sd.Simulation(t0=0.0, t1=1.0, dt=0.05, max_spikes=6, dtype="float64"),
                   model_samples=10)  # fmt: skip
    monkeypatch.setattr(memory, "device_bytes", lambda: per_solve - 1)
    with pytest.raises(ValueError, match="one solve alone does not fit a device"):
        memory.check_batch_memory(network, num_steps=20, max_spikes=6, dtype=np.float64, samples=2, devices=2)


def test_sharded_mesh_argument_is_checked():
    with pytest.raises(TypeError, match="mesh must be a jax.sharding.Mesh"):
        sd.Trainer(sd.SLIF(1), learn=["input_current.value"], loss=lambda a, b: 0.0, optimizer=optax.sgd(0.1),
                   simulation=sd.Simulation(t0=0.0, t1=1.0, dt=0.05, max_spikes=6), model_samples=2, mesh="gpu")  # fmt: skip
    one = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("samples",))
    trainer = sd.Trainer(sd.SLIF(1), learn=["input_current.value"], loss=lambda a, b: 0.0, optimizer=optax.sgd(0.1),
                         simulation=sd.Simulation(t0=0.0, t1=1.0, dt=0.05, max_spikes=6), model_samples=2, mesh=one)  # fmt: skip
    assert trainer.mesh is None  # one device: the plain step
