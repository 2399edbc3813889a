"""Hardware-aware fit (issue 10, acceptance 4): experiment (a), the input current of one SLIF
(c = 1.5, mu = (15, 0), sigma_v = 0.5, v_reset = 1.4, alpha = 0.03, t in [0, 5], first 3 spikes,
dt = 0.01), trained with the forward pass emulated in fixed point (s7.12, every operation rounded,
12-bit decay constants, threshold on the clock) and straight-through gradients; the same loop in
float (Euler-Maruyama, exact event times) for the gap. Data: n samples of the float model at c = 1.5.
Loss: depth-3 expected-signature MSE; Adam with a cosine-decayed learning rate from c = 0.8.
Reported c: mean of the last 20 steps.

    PYTHONPATH=$PWD python benchmarks/hardware_fit.py [--samples 64] [--steps 200] [--lr 0.03]
"""

import argparse
import json
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import spikesde
from spikesde._hardware import FixedPoint, LowPrecisionEuler, StraightThroughGridLocation

DT, T = 0.01, 5.0
ROOT = pathlib.Path(__file__).resolve().parent.parent


def spike_times(c, keys, stepper, location):
    def one(key):
        neuron = spikesde.SLIF(1, c, mu_v=15.0, mu_i=0.0, sigma_v=0.5, v_reset=1.4, alpha=0.03)
        return spikesde.simulate(neuron, t0=0.0, t1=T, dt=DT, key=key, max_spikes=3, stepper=stepper,
                                 event_location=location, on_overflow="ignore").spike_times

    return jax.vmap(one)(keys)


def train(stepper, location, data, samples, steps, lr):
    loss = spikesde.ExpectedSignatureLoss(t0=0.0, t1=T, depth=3)
    optimiser = optax.adam(optax.cosine_decay_schedule(lr, steps, 0.05))
    c = jnp.asarray(0.8)
    state = optimiser.init(c)

    @jax.jit
    def update(c, state, key):
        value, grad = jax.value_and_grad(lambda c: loss(spike_times(c, jax.random.split(key, samples), stepper, location), data))(c)
        change, state = optimiser.update(grad, state)
        return optax.apply_updates(c, change), state, value

    history, start = [], time.perf_counter()
    for i in range(steps):
        c, state, value = update(c, state, jax.random.fold_in(jax.random.key(1), i))
        history.append(float(c))
    return float(np.mean(history[-20:])), time.perf_counter() - start, history


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--lr", type=float, default=0.03)
    args = parser.parse_args()
    data = spike_times(1.5, jax.random.split(jax.random.key(0), args.samples), spikesde.EulerMaruyama(), None)
    runs = {
        "fixed point s7.12 (straight-through)": (LowPrecisionEuler(DT, FixedPoint(7, 12), straight_through=True), StraightThroughGridLocation()),
        "float (Euler-Maruyama, exact events)": (spikesde.EulerMaruyama(), None),
    }
    rows = []
    for name, (stepper, location) in runs.items():
        c, seconds, history = train(stepper, location, data, args.samples, args.steps, args.lr)
        rows.append({"run": name, "c": c, "error": abs(c - 1.5), "seconds": seconds, "history": history})
        print(f"{name:>40}: c = {c:.4f} (|c - 1.5| = {abs(c - 1.5):.4f}), {seconds:.0f} s on a loaded machine")
    gap = rows[0]["c"] - rows[1]["c"]
    print(f"gap fixed - float: {gap:+.4f}")
    out = ROOT / "benchmarks" / "results" / "hardware_fit.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "rows": rows, "gap": gap}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
