"""Throughput of sharded simulation and training as the number of devices grows (1, 2, 4 forced CPU
host devices by default).

Model: a recurrent SLIF network of N neurons (mu = (15, 5), sigma_v = 0.3, input current 2, 10%
connectivity, weight scale 0.5, as in ``benchmarks/network_scaling.py``), t in [0, T], dt = 1e-3,
float32, the default event policy (``SequentialEvents``, as every training step). One process
with ``XLA_FLAGS=--xla_force_host_platform_device_count=max(D)`` (the flag must be set before JAX
starts) builds a mesh over the first D devices for each count D and measures:

- **simulate**: ``Simulation.sample`` of B samples split over a mesh of the D devices (the code
  path of a training step's forward pass), in neuron-steps per second, ``B * N * T / dt / seconds``;
- **train**: :meth:`spikesde.Trainer.step` with B model samples, B data trials, the input current
  learned (forward mode), ``ExpectedSignatureLoss`` of depth 2, in training steps per second.

Weak scaling: B = ``--per-device`` samples per device (B grows with D); strong scaling: B =
``--total`` samples whatever D. Every case is compiled first, then the calls are interleaved over
the cases ``--repeats`` times (so a change of the machine's load falls on all of them); min and
median of the wall clock and of the CPU time (``time.process_time``, all threads) are reported. Forced host devices
are threads of one process sharing the machine's cores: on a 2-core machine at most 2x can show,
and less when other work shares the cores.

Run: python benchmarks/scaling_devices.py [--devices 1 2 4] [--neurons 64] [--t1 0.5] [--per-device 4] [--total 16]
Writes benchmarks/results/scaling_devices.json.
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

OUT = pathlib.Path(__file__).parent / "results" / "scaling_devices.json"


def _summary(wall, cpu):
    return {"wall_min": min(wall), "wall_median": statistics.median(wall), "cpu_min": min(cpu), "cpu_median": statistics.median(cpu)}


def _cases(args, jax, np, sd, eqx, optax):
    """For each (device count, scaling): a forward sample call and a training step, compiled."""
    from spikesde._training.sharding import sharded_batches  # noqa: PLC0415

    neuron = sd.SLIF(args.neurons, input_current=2.0, mu_v=15.0, mu_i=5.0, sigma_v=0.3)
    model = sd.recurrent(neuron, key=jax.random.key(args.neurons), connection_probability=0.1, weight_scale=0.5)
    sim = sd.Simulation(t0=0.0, t1=args.t1, dt=1e-3, max_spikes=args.max_spikes)
    cases = []
    for devices in args.devices:
        mesh = jax.sharding.Mesh(np.array(jax.devices()[:devices]), ("samples",))
        for scaling, batch in (("weak", args.per_device * devices), ("strong", args.total)):
            with sharded_batches(mesh if devices > 1 else None):  # traced here: the samples split
                sample = jax.jit(lambda key, b=batch: sim.sample(model, key, b)[0]).lower(jax.random.key(1)).compile()
            data = np.asarray(sim.sample(model, jax.random.key(2), batch)[0])
            trainer = sd.Trainer(model, learn=["neuron.input_current.value"], loss=sd.ExpectedSignatureLoss(t0=0.0, t1=args.t1, depth=2),
                                 optimizer=optax.adam(1e-2), simulation=sim, model_samples=batch, mesh=mesh)  # fmt: skip
            step, state, sharded = eqx.filter_jit(trainer.step), trainer.replicated(trainer.init(jax.random.key(3))), trainer.sharded(data)
            jax.block_until_ready(step(state, sharded))  # compiles
            run_sample = lambda f=sample: jax.block_until_ready(f(jax.random.key(1)))  # noqa: E731
            run_step = lambda f=step, s=state, d=sharded: jax.block_until_ready(f(s, d)[0].params)  # noqa: E731
            cases.append(({"devices": devices, "scaling": scaling, "samples": batch}, run_sample, run_step))
    return cases


def child(args):
    """All device counts in one process (forced host devices, meshes over the first D of them),
    timed interleaved so that the machine's load falls on every count alike; prints one JSON line."""
    import equinox as eqx  # noqa: PLC0415 (JAX must start after XLA_FLAGS is set)
    import jax  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415
    import optax  # noqa: PLC0415

    import spikesde as sd  # noqa: PLC0415

    cases = _cases(args, jax, np, sd, eqx, optax)
    times = [{"simulate": ([], []), "train": ([], [])} for _ in cases]
    for _ in range(args.repeats):
        for (_, run_sample, run_step), timing in zip(cases, times):
            for name, fn in (("simulate", run_sample), ("train", run_step)):
                w, c = time.perf_counter(), time.process_time()
                fn()
                timing[name][0].append(time.perf_counter() - w)
                timing[name][1].append(time.process_time() - c)
    num_steps = round(args.t1 / 1e-3)
    rows = []
    for (row, _, _), timing in zip(cases, times):
        simulate, train = _summary(*timing["simulate"]), _summary(*timing["train"])
        simulate["neuron_steps_per_s"] = row["samples"] * args.neurons * num_steps / simulate["wall_min"]
        train["steps_per_s"] = 1.0 / train["wall_min"]
        rows.append({**row, "simulate": simulate, "train": train})
    print("ROWS" + json.dumps({"rows": rows, "device": str(jax.devices()[0].device_kind)}))


def _table(rows, scaling):
    lines = [f"{scaling} scaling", "| devices | samples | neuron-steps/s | speed-up | CPU s per sample (simulate) | train steps/s | speed-up | CPU s per sample (train) |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    base = next(r for r in rows if r["scaling"] == scaling)
    for r in (r for r in rows if r["scaling"] == scaling):
        sim, train = r["simulate"], r["train"]
        lines.append(
            f"| {r['devices']} | {r['samples']} | {sim['neuron_steps_per_s']:.3g} | "
            f"{sim['neuron_steps_per_s'] / base['simulate']['neuron_steps_per_s']:.2f} | {sim['cpu_min'] / r['samples']:.3g} | "
            f"{train['steps_per_s']:.3g} | {train['steps_per_s'] / base['train']['steps_per_s']:.2f} | {train['cpu_min'] / r['samples']:.3g} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--neurons", type=int, default=64)
    parser.add_argument("--t1", type=float, default=0.5)
    parser.add_argument("--max-spikes", type=int, default=32)
    parser.add_argument("--per-device", type=int, default=4)
    parser.add_argument("--total", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=pathlib.Path, default=OUT)
    args = parser.parse_args()
    if args.child:
        return child(args)
    forwarded = [f"--neurons={args.neurons}", f"--t1={args.t1}", f"--max-spikes={args.max_spikes}", f"--per-device={args.per_device}",
                 f"--total={args.total}", f"--repeats={args.repeats}", "--devices", *map(str, args.devices)]  # fmt: skip
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={max(args.devices)}", JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, __file__, "--child", *forwarded], env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"the measuring process failed:\n{done.stderr[-3000:]}")
    found = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("ROWS"))[4:])
    rows, kinds = found["rows"], {found["device"]}
    result = {
        "settings": vars(args) | {"out": str(args.out)}, "rows": rows, "device": sorted(kinds),
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "platform": platform.platform()},
        "note": "forced CPU host devices share the machine's cores; a contended 2-core machine limits what they can show",
    }  # fmt: skip
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"device: {', '.join(sorted(kinds))}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(_table(rows, "weak"), _table(rows, "strong"), sep="\n\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
