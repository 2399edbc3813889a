"""How many random finite float32 SLIF parameter sets give NaN/inf gradients or states, with the intensity
capped in its exponent (now) and with the old cap on V - v_threshold only (issue 8, part 4).

Usage: python benchmarks/intensity_safety.py [--sets 200]
Prints a table and writes benchmarks/results/intensity_safety.json.
"""

import argparse
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

import spikesde as sd

STEPPER = sd.EulerMaruyama()
NAMES = ("input_current", "mu_v", "mu_i", "sigma_v", "sigma_i", "v_reset", "alpha", "beta", "v_threshold", "tau_s", "v0", "i0")
LOW = np.array([-3.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, -1.0, 1e-3, -2.0, -2.0])
HIGH = np.array([6.0, 150.0, 40.0, 2.0, 2.0, 3.0, 0.5, 60.0, 3.0, 1e2, 3.0, 2.0])


def old_intensity(self, v):
    return jnp.exp(self.beta * jnp.minimum(v - self.v_threshold, 10.0)) / self.tau_s


def loss(parameters):
    model = sd.SLIF(2, **dict(zip(NAMES, parameters)))
    network = sd.Network(model, jnp.asarray([[0.0, 0.8], [-0.5, 0.0]]))
    solution = sd.simulate(network, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(4), max_spikes=6, stepper=STEPPER, on_overflow="ignore")
    times = solution.spike_times
    return jnp.sum(jnp.where(jnp.isfinite(times), times, 0.0)) + jnp.sum(solution.final_state[:2]), solution.nonfinite


def count_bad(parameter_sets) -> tuple[int, int]:
    """Sets with a non-finite gradient, and sets with a non-finite state (e.g. an infinite rate)."""
    gradients, nonfinite = jax.jit(jax.vmap(jax.grad(loss, has_aux=True)))(jnp.asarray(parameter_sets, jnp.float32))
    return int(np.sum(~np.all(np.isfinite(np.asarray(gradients)), axis=1))), int(np.sum(np.asarray(nonfinite)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", type=int, default=200)
    args = parser.parse_args()
    u = np.random.default_rng(0).uniform(size=(args.sets, len(NAMES)))
    sets = LOW + (HIGH - LOW) * u
    sets[:, 9] = LOW[9] * (HIGH[9] / LOW[9]) ** u[:, 9]  # tau_s log-uniform
    results = {"sets": args.sets, "capped_exponent": count_bad(sets)}
    new_intensity = sd.SLIF.intensity
    sd.SLIF.intensity = old_intensity
    try:
        results["old_cap_on_v_only"] = count_bad(sets)
    finally:
        sd.SLIF.intensity = new_intensity
    print(f"{'intensity':<22}{'non-finite gradients':>22}{'non-finite states':>20}")
    for name, key in (("old (cap on V only)", "old_cap_on_v_only"), ("capped exponent", "capped_exponent")):
        gradients, states = results[key]
        print(f"{name:<22}{gradients:>16} / {args.sets}{states:>14} / {args.sets}")
    out = pathlib.Path(__file__).parent / "results" / "intensity_safety.json"
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
