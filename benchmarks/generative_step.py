"""One training step of reference experiment (b): time against the 190 ms target (issue 9, acceptance 3).

The step: 4 -> 16 -> 2 SLIF network, batch 128 fresh model samples (t in [0, 1], dt = 0.01, at most
100 spikes per sample, as the reference run), depth-3 expected-signature MSE over all 22 neurons
against a cached data target (``loss.prepare``), value and gradient of simulate + loss in the 96
weights, plus the RMSprop update: everything a training step does. Also timed, interleaved in the
same run: the simulation alone (value and gradient of a sum of spike times) and the loss alone
(value and gradient in the spike times). The reference paper's code (19.1 s per step on this
machine, shared/reference.md) cannot run here (it needs sigkerax, broken on jax 0.10), so the ratio
is to that recorded figure. The load average of the machine is printed with the timings: on a
shared machine absolute times are inflated.

Run: python benchmarks/generative_step.py [--repeats 20]
"""

import argparse
import json
import os
import pathlib
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

import spikesde as sd
# The network, its settings and its sampler are those of the training benchmark (same folder).
from network_training import BATCH, MAX_EVENTS, T1, network, sample

REFERENCE_STEP_SECONDS = 19.1
TARGET_SECONDS = 0.19


def routes():
    truth = network(jax.random.key(0))
    data = sample(truth, truth.weights, jax.random.split(jax.random.key(5), BATCH))
    loss = sd.ExpectedSignatureLoss(t0=0.0, t1=T1, depth=3, max_events=MAX_EVENTS).prepare(data)
    optimiser = optax.rmsprop(3e-3, momentum=0.3)
    start = truth.weights * 0.8
    state = optimiser.init(start)

    @eqx.filter_jit
    def step(weights, state, key, loss):
        value, grad = jax.value_and_grad(lambda w: loss(sample(truth, w, jax.random.split(key, BATCH)), data))(weights)
        updates, state = optimiser.update(jnp.where(truth.mask, grad, 0.0), state, weights)
        return optax.apply_updates(weights, updates), state, value

    @jax.jit
    def simulation(weights, key):
        def total(w):
            s = sample(truth, w, jax.random.split(key, BATCH))
            return jnp.sum(jnp.where(jnp.isfinite(s), s, 0.0))

        return jax.value_and_grad(total)(weights)

    model = sample(truth, start, jax.random.split(jax.random.key(1), BATCH))
    loss_only = eqx.filter_jit(jax.value_and_grad(lambda s, loss: loss(s, data)))
    key = jax.random.key(1)
    return {
        "training step (simulate + loss, value and grad, update)": (step, (start, state, key, loss)),
        "simulation only (value and grad)": (simulation, (start, key)),
        "loss only (value and grad in spike times)": (loss_only, (model, loss)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", default="benchmarks/results/generative_step.json")
    args = parser.parse_args()
    table = routes()
    compile_seconds, samples = {}, {name: [] for name in table}
    for name, (fn, fargs) in table.items():
        tick = time.perf_counter()
        jax.block_until_ready(fn(*fargs))
        compile_seconds[name] = time.perf_counter() - tick
    load_before = os.getloadavg()
    for _ in range(args.repeats):
        for name, (fn, fargs) in table.items():  # interleaved: A, B, C, A, B, C, ...
            tick = time.perf_counter()
            jax.block_until_ready(fn(*fargs))
            samples[name].append(time.perf_counter() - tick)
    load_after = os.getloadavg()
    results = {
        name: dict(min=min(s), median=statistics.median(s), compile=compile_seconds[name], repeats=len(s))
        for name, s in samples.items()
    }
    print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}; {os.cpu_count()} cores")
    print(f"{'route':<58} {'min ms':>8} {'median ms':>10} {'compile s':>10}")
    for name, r in results.items():
        print(f"{name:<58} {1e3 * r['min']:8.1f} {1e3 * r['median']:10.1f} {r['compile']:10.1f}")
    step = results["training step (simulate + loss, value and grad, update)"]
    print(
        f"step / reference code ({REFERENCE_STEP_SECONDS} s): min {REFERENCE_STEP_SECONDS / step['min']:.0f}x, "
        f"median {REFERENCE_STEP_SECONDS / step['median']:.0f}x faster; target {1e3 * TARGET_SECONDS:.0f} ms "
        f"{'met' if step['median'] <= TARGET_SECONDS else 'NOT met'} (median)"
    )
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = dict(results=results, load_before=load_before, load_after=load_after, cores=os.cpu_count(),
                   reference_step_seconds=REFERENCE_STEP_SECONDS, target_seconds=TARGET_SECONDS)
    out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
