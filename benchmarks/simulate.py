"""Forward-pass speed of ``spikesde.simulate`` on the reference experiments, against the diffrax
reference solver ``spikesde.reference_simulate`` measured in the same run.

(a) one SLIF neuron (c = 1.5, mu = (15, 0), sigma_v = 0.5, v_reset = 1.4, alpha = 0.03),
    t in [0, 5], dt = 0.01, first 3 spikes only (on_overflow="ignore": the solve stops when a
    4th spike is due);
(b) the 4 -> 16 -> 2 network (input current 1.5 to the 4 input neurons, mu = (6, 5),
    sigma = 0.25 on V and I, v_reset = 1.2, V0 = 1.1, I0 = 0.6), t in [0, 1], dt = 0.01, spike
    buffers and event budget sized from a probe run so that nothing overflows (checked).

The core is timed as ``jax.jit(jax.vmap(simulate))`` over 128 keys: compilation (lower + compile)
apart, then the median of repeated calls, each ending in ``block_until_ready``. The reference
solver runs one diffrax solve per spike from a Python loop with a host round trip per spike, so it
cannot be batched: it is timed per sample on a few keys (its first sample, which compiles, is
reported apart), and its cost for 128 samples is extrapolated as 128 x the median per-sample time.
float32 throughout. Run: python benchmarks/simulate.py [--quick]
"""

import argparse
import inspect
import json
import os
import pathlib
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

import spikesde as sd
from spikesde._core.network import as_network

BATCH = 128
DT = 0.01
# Used only if the core has a per-step event cap (the API is being tuned); otherwise the core's
# total event budget ``max_events`` is sized from the probe run instead.
MAX_EVENTS_PER_STEP = 8


def single_neuron() -> sd.SLIF:
    return sd.SLIF(input_current=1.5, mu_v=15.0, mu_i=0.0, sigma_v=0.5, v_reset=1.4, alpha=0.03)


def feedforward_network() -> sd.Network:
    neuron = sd.SLIF(
        22,
        input_current=jnp.asarray([1.5] * 4 + [0.0] * 18),
        mu_v=6.0,
        mu_i=5.0,
        sigma_v=0.25,
        sigma_i=0.25,
        v_reset=1.2,
        v0=1.1,
        i0=0.6,
    )
    return sd.feedforward(neuron, [4, 16, 2], key=jax.random.key(0))


def budget_kwargs(max_events: int | None) -> dict:
    """How to size the core's event budget, whichever of the two knobs this core version has."""
    parameters = inspect.signature(sd.simulate).parameters
    if "max_events_per_step" in parameters:
        return {"max_events_per_step": MAX_EVENTS_PER_STEP}
    return {} if max_events is None else {"max_events": max_events}


def batched_simulate(model, keys, **kwargs):
    return jax.vmap(lambda key: sd.simulate(model, key=key, **kwargs))(keys)


def time_core(model, keys, *, repeats, **kwargs):
    # The model is an argument, not a constant, so XLA cannot fold its parameters (as in training).
    fn = jax.jit(lambda m, k: batched_simulate(m, k, **kwargs))
    start = time.perf_counter()
    compiled = fn.lower(model, keys).compile()
    compile_seconds = time.perf_counter() - start
    solution = jax.block_until_ready(compiled(model, keys))  # warm-up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(compiled(model, keys))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), compile_seconds, solution


def time_reference(model, keys, *, t1, **kwargs):
    """Per-sample times of the reference solver; the first sample (which compiles) apart."""
    shape = as_network(model).brownian_shape
    seconds, spikes = [], []
    for key in keys:
        # The reference needs a path it can read at any time; the fine grid is the step grid here.
        brownian = sd.FineGridBrownian(jax.random.fold_in(key, 1), 0.0, t1, DT, shape)
        start = time.perf_counter()
        solution = sd.reference_simulate(model, t0=0.0, t1=t1, dt=DT, key=key, brownian=brownian, **kwargs)
        jax.block_until_ready(solution)
        seconds.append(time.perf_counter() - start)
        spikes.append(int(np.minimum(np.asarray(solution.spike_counts), solution.max_spikes).sum()))
    return seconds[0], statistics.median(seconds[1:]), float(np.mean(spikes))


def flags(solution, t1) -> dict:
    missed = getattr(solution, "missed_events", None)
    return dict(
        samples=int(solution.spike_counts.shape[0]),
        overflowed_samples=int(np.any(np.asarray(solution.overflow), axis=-1).sum()),
        stopped_early_samples=int((np.asarray(solution.t_final) < t1 - 1e-6).sum()),
        missed_events_samples=None if missed is None else int(np.any(np.asarray(missed).reshape(BATCH, -1), axis=-1).sum()),
        mean_stored_spikes=float(np.isfinite(np.asarray(solution.spike_times)).sum() / BATCH),
        max_spikes_of_a_neuron=int(np.asarray(solution.spike_counts).max()),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few repeats and reference samples, for a smoke run")
    parser.add_argument("--out", default="benchmarks/results/simulate.json")
    args = parser.parse_args()
    repeats = 3 if args.quick else 20
    reference_samples = 2 if args.quick else 8  # the first compiles; the others are timed
    keys = jax.random.split(jax.random.key(1), BATCH)

    # Probe (b) with roomy buffers to size max_spikes and the event budget for the timed runs.
    network = feedforward_network()
    probe = batched_simulate(network, keys, t0=0.0, t1=1.0, dt=DT, max_spikes=64, on_overflow="ignore", **budget_kwargs(None))
    assert not bool(jnp.any(probe.overflow)), "the probe run overflowed; raise its max_spikes"
    most_of_a_neuron = int(probe.spike_counts.max())
    most_in_a_sample = int(probe.spike_counts.sum(axis=-1).max())
    network_spikes = most_of_a_neuron + 4
    network_events = most_in_a_sample + 20

    cases = [
        dict(
            name="(a) SLIF neuron, first 3 spikes",
            model=single_neuron(),
            t1=5.0,
            core=dict(max_spikes=3, on_overflow="ignore"),
            reference=dict(max_spikes=3),
        ),
        dict(
            name="(b) 4->16->2 network",
            model=network,
            t1=1.0,
            core=dict(max_spikes=network_spikes, on_overflow="ignore", **budget_kwargs(network_events)),
            reference=dict(max_spikes=network_spikes, max_events=network_events),
        ),
    ]
    rows = []
    for case in cases:
        t1 = case["t1"]
        core_seconds, compile_seconds, solution = time_core(case["model"], keys, repeats=repeats, t0=0.0, t1=t1, dt=DT, **case["core"])
        first, per_sample, reference_spikes = time_reference(case["model"], keys[: reference_samples + 1], t1=t1, **case["reference"])
        rows.append(
            dict(
                case=case["name"],
                core_settings=case["core"],
                core_batch_seconds=core_seconds,
                core_compile_seconds=compile_seconds,
                core_per_sample_seconds=core_seconds / BATCH,
                reference_first_sample_seconds=first,
                reference_per_sample_seconds=per_sample,
                reference_timed_samples=reference_samples,
                reference_batch_seconds_extrapolated=BATCH * per_sample,
                speedup=BATCH * per_sample / core_seconds,
                reference_mean_stored_spikes=reference_spikes,
                checks=flags(solution, t1),
            )
        )

    print(f"device: {jax.devices()[0].device_kind} ({jax.default_backend()}), jax {jax.__version__}, float32, batch {BATCH}, dt {DT}")
    print(f"(b) probe: at most {most_of_a_neuron} spikes of one neuron, {most_in_a_sample} in one sample -> "
          f"max_spikes={network_spikes}, event budget {network_events}")
    header = f"{'case':<34} {'core 128 ms':>12} {'compile s':>10} {'ref/sample ms':>14} {'ref first s':>12} {'ref x128 s':>11} {'speedup':>9}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['case']:<34} {1e3 * row['core_batch_seconds']:>12.2f} {row['core_compile_seconds']:>10.2f} "
            f"{1e3 * row['reference_per_sample_seconds']:>14.2f} {row['reference_first_sample_seconds']:>12.2f} "
            f"{row['reference_batch_seconds_extrapolated']:>11.2f} {row['speedup']:>8.0f}x"
        )
    for row in rows:
        checks = row["checks"]
        missed = "n/a (no per-step event cap in this core)" if checks["missed_events_samples"] is None else checks["missed_events_samples"]
        print(
            f"{row['case']}: overflowed samples {checks['overflowed_samples']}/{BATCH}, stopped before t1 "
            f"{checks['stopped_early_samples']}/{BATCH}, missed_events samples {missed}, "
            f"mean stored spikes {checks['mean_stored_spikes']:.1f} (reference {row['reference_mean_stored_spikes']:.1f})"
        )
    print("(a) overflows and stops before t1 by design: max_spikes=3 with on_overflow='ignore' ends the solve when a 4th spike is due.")
    print(f"ref x128 = 128 x the median per-sample time of {reference_samples} reference samples (after one compiling sample);"
          " speedup = ref x128 / core 128.")

    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            dict(
                device=str(jax.devices()[0]),
                backend=jax.default_backend(),
                jax_version=jax.__version__,
                cpu_count=os.cpu_count(),
                machine=platform.machine(),
                dtype="float32",
                batch=BATCH,
                dt=DT,
                repeats=repeats,
                quick=args.quick,
                probe=dict(most_spikes_of_a_neuron=most_of_a_neuron, most_spikes_in_a_sample=most_in_a_sample),
                rows=rows,
            ),
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
