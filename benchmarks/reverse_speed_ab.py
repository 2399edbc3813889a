"""Reverse mode of the event core with and without the stored coupling jumps, against the clock loop.

One process, three compiled ``value_and_grad`` functions of ``benchmarks/network_scaling.py``
(parallel policy, batch 1, t in [0, 1], dt = 1e-3, float32), timed interleaved (A, B, C, A, ...):

- ``clock``: the clock-driven ``lax.scan`` baseline;
- ``before``: the event core with ``masked_bounded_loop(..., saved_names=(), first_steps=None)``:
  one loop sized to the budget, every forward quantity recomputed at each checkpointed level (the
  code before this benchmark's branch);
- ``after``: the event core as it is (a first loop sized to about one iteration per grid step,
  one checkpointed level fewer; the innermost level stores the parallel policy's summed jumps
  ``fire @ coupling`` per iteration instead of recomputing them).

Prints min / median times, the ratios to the clock loop, XLA memory (temporaries + outputs) and
the load average; appends one JSON row per case to ``--out``.

Run: python benchmarks/reverse_speed_ab.py --cases 100:0 1000:0 1000:100 5000:100 --repeats 6
     (N:K, K = 0 for the dense 10% network, else the fixed fan-in K)
"""

import argparse
import json
import os
import pathlib
import statistics
import sys

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(__file__))
import network_scaling as ns  # noqa: E402

import spikesde._core.bounded_loop as bounded_loop  # noqa: E402
import spikesde._core.event_core as event_core  # noqa: E402

LOOP = bounded_loop.masked_bounded_loop


def _before(*args, **kwargs):
    return LOOP(*args, **{**kwargs, "saved_names": (), "first_steps": None})


def case(n: int, fan_in: int | None, repeats: int) -> dict:
    net = ns.network(n, fan_in=fan_in)
    max_spikes, rate = ns.probe_max_spikes(net, 1e-3)
    keys = jax.random.split(jax.random.key(1), 1)
    args = ((ns.learned_weights(net), jnp.asarray(2.0)), net, keys)
    compiled, memory = {}, {}
    for name in ("clock", "before", "after"):
        jax.clear_caches()  # the inner jit's cache would otherwise hide the variant
        event_core.masked_bounded_loop = _before if name == "before" else LOOP
        if name == "clock":
            fn = ns.clock_fn(dt=1e-3, batch=1, grad=True)
        else:
            fn = ns.core_fn(ns.POLICIES["parallel"], dt=1e-3, max_spikes=max_spikes, batch=1, grad=True)
        compiled[name], _, memory[name] = ns.compile_fn(fn, args)
    event_core.masked_bounded_loop = LOOP
    samples = ns.interleaved(compiled, args, repeats)
    row = dict(n=n, coupling="dense 10%" if fan_in is None else f"fan-in {fan_in}", spikes_per_neuron=rate,
               repeats=repeats, load_average=os.getloadavg())
    for name, times in samples.items():
        ratios = [a / b for a, b in zip(times, samples["clock"])]
        row[name] = dict(min_ms=1e3 * min(times), median_ms=1e3 * statistics.median(times),
                         ratio_min=min(times) / min(samples["clock"]), ratio_median=statistics.median(ratios),
                         memory_mb=None if memory[name] is None else memory[name] / 2**20)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="*", default=["100:0", "1000:0", "1000:100", "5000:100"])
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--out", default="benchmarks/results/reverse_speed_ab.json")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"{'N':>6} {'coupling':>11} | {'clock ms':>9} | {'before ms':>9} {'ratio min/med':>13} | {'after ms':>9} {'ratio min/med':>13} | {'MB before/after/clock':>21} | load")
    for spec in args.cases:
        n, k = (int(x) for x in spec.split(":"))
        r = case(n, k or None, args.repeats)
        rows.append(r)
        out.write_text(json.dumps(dict(jax=jax.__version__, rows=rows), indent=2))
        cells = [f"{r[v]['min_ms']:>9.1f} {r[v]['ratio_min']:>6.2f}/{r[v]['ratio_median']:<6.2f}" for v in ("before", "after")]
        mem = "/".join(f"{r[v]['memory_mb']:.0f}" for v in ("before", "after", "clock"))
        print(f"{n:>6} {r['coupling']:>11} | {r['clock']['min_ms']:>9.1f} | {cells[0]} | {cells[1]} | {mem:>21} | {r['load_average'][0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
