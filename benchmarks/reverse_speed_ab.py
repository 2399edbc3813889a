"""Reverse mode of the event core, variant by variant, against the clock loop, in one process.

Compiled ``value_and_grad`` functions of ``benchmarks/network_scaling.py`` (parallel policy,
t in [0, 1], dt = 1e-3, float32), timed interleaved (A, B, C, A, ...). Variants (``--variants``):

- ``clock``: the clock-driven ``lax.scan`` baseline;
- ``loop``: the event core before the loop changes of branch ``reverse-speed`` (one loop sized to
  the whole budget, every forward quantity recomputed at each checkpointed level), and with the
  buffer writes and broadcasts of ``set``;
- ``set``: the loop as it is, the output buffers written with ``.at[].set`` (whose transpose zeroes
  the written slots of the ``n x max_spikes`` cotangent, copying it at every iteration) and each
  neuron's step length broadcast over the state's rows (whose transpose is a reduction over that
  short axis): the code before branch ``core-reverse``;
- ``after``: the event core as it is (``write_once`` buffers, ``scale_neurons`` products).

The variants patch module attributes of ``spikesde._core`` before compiling; values are the same
(``set`` and ``after`` may differ in the last bit: another fusion of the same expressions).
Prints min / median times, the ratios to the clock loop (min over min; median of the per-round
ratios), XLA memory (temporaries + outputs) and the load average; writes the rows to ``--out``.

Run: python benchmarks/reverse_speed_ab.py --cases 100:0 1000:0 1000:100 5000:100 --repeats 6
     (N:K, K = 0 for the dense 10% network, else the fixed fan-in K; --batch B for B samples)
"""

import argparse
import contextlib
import json
import os
import pathlib
import statistics
import sys

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(__file__))
import network_scaling as ns  # noqa: E402

import spikesde._core.event_apply as event_apply  # noqa: E402
import spikesde._core.event_core as event_core  # noqa: E402
import spikesde._core.stepper as stepper  # noqa: E402

ORIGINAL = dict(loop=event_core.masked_bounded_loop, write=event_core.write_once, scale=stepper.scale_neurons)


def _set_write(buffer, index, values):
    return buffer.at[index].set(values)


def _broadcast_scale(x, s):
    return x * s


def _whole_budget_loop(*args, **kwargs):
    return ORIGINAL["loop"](*args, **{**kwargs, "saved_names": (), "first_steps": None})


@contextlib.contextmanager
def variant(name: str):
    """Patch the core as the variant needs (the clock loop and ``after`` use it as it is)."""
    old = name in ("set", "loop")
    event_core.write_once = _set_write if old else ORIGINAL["write"]
    for module in (stepper, event_core, event_apply):
        module.scale_neurons = _broadcast_scale if old else ORIGINAL["scale"]
    event_core.masked_bounded_loop = _whole_budget_loop if name == "loop" else ORIGINAL["loop"]
    try:
        yield
    finally:
        event_core.write_once, event_core.masked_bounded_loop = ORIGINAL["write"], ORIGINAL["loop"]
        for module in (stepper, event_core, event_apply):
            module.scale_neurons = ORIGINAL["scale"]


def case(n: int, fan_in: int | None, repeats: int, variants: list[str], batch: int) -> dict:
    net = ns.network(n, fan_in=fan_in)
    max_spikes, rate = ns.probe_max_spikes(net, 1e-3)
    keys = jax.random.split(jax.random.key(1), batch)
    args = ((ns.learned_weights(net), jnp.asarray(2.0)), net, keys)
    compiled, memory = {}, {}
    for name in variants:
        jax.clear_caches()  # the inner jit's cache would otherwise hide the variant
        with variant(name):
            if name == "clock":
                fn = ns.clock_fn(dt=1e-3, batch=batch, grad=True)
            else:
                fn = ns.core_fn(ns.POLICIES["parallel"], dt=1e-3, max_spikes=max_spikes, batch=batch, grad=True)
            compiled[name], _, memory[name] = ns.compile_fn(fn, args)
    samples = ns.interleaved(compiled, args, repeats)
    row = dict(n=n, coupling="dense 10%" if fan_in is None else f"fan-in {fan_in}", batch=batch, spikes_per_neuron=rate,
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
    parser.add_argument("--variants", nargs="*", default=["clock", "set", "after"], choices=["clock", "loop", "set", "after"])
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/reverse_speed_ab.json")
    args = parser.parse_args()
    variants = ["clock"] + [v for v in args.variants if v != "clock"]
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    header = " | ".join(f"{v + ' ms':>9} {'ratio min/med':>13}" for v in variants[1:])
    print(f"{'N':>6} {'coupling':>11} | {'clock ms':>9} | {header} | MB {'/'.join(variants)} | load")
    for spec in args.cases:
        n, k = (int(x) for x in spec.split(":"))
        r = case(n, k or None, args.repeats, variants, args.batch)
        rows.append(r)
        out.write_text(json.dumps(dict(jax=jax.__version__, rows=rows), indent=2))
        cells = " | ".join(f"{r[v]['min_ms']:>9.1f} {r[v]['ratio_min']:>6.2f}/{r[v]['ratio_median']:<6.2f}" for v in variants[1:])
        mem = "/".join(f"{r[v]['memory_mb']:.0f}" for v in variants)
        print(f"{n:>6} {r['coupling']:>11} | {r['clock']['min_ms']:>9.1f} | {cells} | {mem} | {r['load_average'][0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
