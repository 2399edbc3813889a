"""Two processes on JAX's distributed runtime (2 CPU devices each, loopback coordinator) run one
sharded fit that equals the one-process run; process 0 alone writes the run folder."""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np

import spikesde as sd

# The fit both sides run (exec'd here for the one-process reference, and in each worker).
_PROBLEM = textwrap.dedent(
    """
    import jax, optax
    import spikesde as sd

    def run(out_dir=None):
        sim = sd.Simulation(t0=0.0, t1=1.0, dt=0.05, max_spikes=6, dtype="float64")
        truth = sd.SLIF(1, 2.0, mu_v=5.0, sigma_v=0.3)
        result = sd.fit(sd.SLIF(1, 1.0, mu_v=5.0, sigma_v=0.3), sd.Simulated(truth, 8, jax.random.key(1)),
                        learn=[sd.Learn("input_current.value", lower=0.0)], loss=sd.ExpectedSignatureLoss(t0=0.0, t1=1.0, depth=2),
                        optimizer=optax.adam(0.05), simulation=sim, steps=3, key=jax.random.key(0), progress=False,
                        test=sd.Simulated(truth, 4, jax.random.key(2)), out_dir=out_dir)
        return {"loss": [r["loss"] for r in result.history], "value": float(result.values["input_current.value"]),
                "final": result.final["test_loss"], "devices": 1 if result.trainer.mesh is None else result.trainer.mesh.size}
    """
)

_WORKER = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=sys.argv[1], num_processes=2, process_id=int(sys.argv[2]),
                               initialization_timeout=120)
    jax.config.update("jax_enable_x64", True)
    assert len(jax.devices()) == 4 and len(jax.local_devices()) == 2, jax.devices()
    namespace = {}
    exec(sys.argv[4], namespace)
    print("RESULT" + json.dumps({"process": jax.process_index(), **namespace["run"](out_dir=sys.argv[3])}), flush=True)
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_workers(out_dir):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(sd.__file__))) + os.pathsep + env.get("PYTHONPATH", "")
    address = f"127.0.0.1:{_free_port()}"
    return [
        subprocess.Popen([sys.executable, "-c", _WORKER, address, str(i), str(out_dir), _PROBLEM],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]


def _results(workers, timeout=600):
    """Each worker's result; all are killed when ``timeout`` seconds pass (a contended 2-core
    machine took 240 s, most of it compiling)."""
    outputs, deadline = [], time.monotonic() + timeout
    try:
        for worker in workers:
            stdout, stderr = worker.communicate(timeout=max(1.0, deadline - time.monotonic()))
            assert worker.returncode == 0, stderr[-3000:]
            outputs.append(json.loads(next(line for line in stdout.splitlines() if line.startswith("RESULT"))[6:]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    return outputs


def test_two_processes_sharded_fit_equals_one_process(tmp_path, x64):
    workers = _start_workers(tmp_path / "run")  # they compile while this process runs the reference
    namespace = {}
    exec(_PROBLEM, namespace)
    reference = namespace["run"]()
    results = _results(workers)
    assert reference["devices"] == 1 and len(set(reference["loss"])) == 3
    for process, result in enumerate(results):
        assert result["process"] == process and result["devices"] == 4
        for name in ("loss", "value", "final"):
            np.testing.assert_allclose(result[name], reference[name], rtol=1e-12, atol=0)
    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.eqx", "final.json", "metrics.jsonl", "run.json"]
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2]  # one writer: each step's line once
