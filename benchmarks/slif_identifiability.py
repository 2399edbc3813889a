"""How well can (current, mu_v, v_reset) of one SLIF neuron be identified from 256 trains on [0, 4]?

The Cramer-Rao bound of the exact noise-free likelihood (``spikesde.log_likelihood``, sigma_v = 0):
the observed Fisher information summed over 128 simulated trains, scaled to 256, inverted. Spikes are
rounded onto a 2 ms grid (one compiled Hessian for all trains). With membrane noise the information
is lower, so these are optimistic bounds: a setting whose bound is near 5% cannot meet "within 5%".

    PYTHONPATH=$PWD python benchmarks/slif_identifiability.py

Prints a table and writes benchmarks/results/slif_identifiability.json.
"""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import spikesde as sd

RESULTS = Path(__file__).resolve().parent / "results" / "slif_identifiability.json"
DT = 0.002
CASES = {  # name: (amplitude, frequency) of the sinusoidal input around the offset 1.5
    "constant current": (0.0, 2.0),
    "sinusoid, amplitude 0.5, 2 Hz": (0.5, 2.0),
    "sinusoid, amplitude 1, 2 Hz": (1.0, 2.0),
}


def neuron(theta, amplitude, frequency):
    current = theta[0] if amplitude == 0 else sd.SinusoidalCurrent(theta[0], amplitude, frequency)
    return sd.SLIF(1, current, mu_v=theta[1], v_reset=theta[2], alpha=0.03)


def bound(amplitude, frequency, theta=(1.5, 15.0, 1.4), t1=4.0, n=128, n_data=256, seed=5):
    theta = jnp.asarray(theta, dtype=jnp.float64)
    simulation = sd.Simulation(t0=0.0, t1=t1, dt=DT, max_spikes=96)
    spikes = np.asarray(simulation.sample(neuron(theta, amplitude, frequency), jax.random.key(seed), n)[0])[:, 0]
    nodes = int(round(t1 / DT)) + 1
    counts = np.zeros((n, nodes), np.int32)
    for row, train in zip(counts, spikes):
        np.add.at(row, np.clip(np.round(train[np.isfinite(train)] / DT).astype(int), 1, nodes - 1), 1)

    def hessian(count):
        grid = sd.likelihood.EventGrid.regular(count, 0.0, DT)
        return jax.hessian(lambda th: sd.likelihood.log_likelihood(neuron(th, amplitude, frequency), grid))(theta)

    information = -np.asarray(jax.jit(jax.vmap(hessian))(jnp.asarray(counts))).sum(0) * n_data / n
    covariance = np.linalg.inv(information)
    sd_ = np.sqrt(np.diag(covariance))
    corr = covariance / np.outer(sd_, sd_)
    return {
        "spikes_per_train": float(np.isfinite(spikes).sum(1).mean()),
        "relative_sd": dict(zip(["current", "mu_v", "v_reset"], (sd_ / np.asarray(theta)).tolist())),
        "correlation": {"current-mu_v": corr[0, 1], "current-v_reset": corr[0, 2], "mu_v-v_reset": corr[1, 2]},
    }


def main():
    jax.config.update("jax_enable_x64", True)
    results = {name: bound(*case) for name, case in CASES.items()}
    print("| input (offset 1.5; mu_v 15, v_reset 1.4) | spikes / train | rel. sd current | mu_v | v_reset | corr mu_v-v_reset |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        s = r["relative_sd"]
        print(f"| {name} | {r['spikes_per_train']:.1f} | {s['current']:.2%} | {s['mu_v']:.2%} | {s['v_reset']:.2%} | "
              f"{r['correlation']['mu_v-v_reset']:.2f} |")  # fmt: skip
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
