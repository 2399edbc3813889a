"""Convergence of spike-time gradients on noisy multi-spike paths (the README's table).

Experiment (a)'s neuron (c = 1.5, sigma_v = 0.5), first 5 spikes, 32 seeds, one Brownian path per
seed on a 1e-5 grid shared by every step size. For each spike index: mean |dtau/dc(dt) -
dtau/dc(1e-5)| for dt = 1e-2, 1e-3, 1e-4, and at dt = 1e-5 the median and worst relative difference
from central finite differences (eps = 1e-6) on the same path and clocks. float64.
Run: python benchmarks/gradient_convergence.py
"""

import json
import pathlib

import jax
import numpy as np

import spikesde as sd

T1, SPIKES, FINE_DT, C, EPS, SEEDS = 2.0, 5, 1e-5, 1.5, 1e-6, 32


def spike_times(c, key, dt):
    model = sd.SLIF(input_current=c, mu_v=15.0, mu_i=0.0, sigma_v=0.5, v_reset=1.4, alpha=0.03)
    path_key, clock_key = jax.random.split(key)
    path = sd.FineGridBrownian(path_key, t0=0.0, t1=T1, dt=FINE_DT, shape=model.brownian_shape)
    return sd.simulate(model, t0=0.0, t1=T1, dt=dt, key=clock_key, brownian=path, max_spikes=SPIKES, on_overflow="ignore").spike_times[0]


def main():
    keys = jax.random.split(jax.random.key(2024), SEEDS)
    gradients = {}
    for dt in (1e-2, 1e-3, 1e-4, FINE_DT):
        solve = jax.jit(jax.vmap(lambda k, dt=dt: jax.jvp(lambda c: spike_times(c, k, dt), (C,), (1.0,))[1]))
        gradients[dt] = np.asarray(solve(keys))
    shifted = jax.jit(jax.vmap(lambda k, c: spike_times(c, k, FINE_DT), in_axes=(0, None)))
    finite_difference = (np.asarray(shifted(keys, C + EPS)) - np.asarray(shifted(keys, C - EPS))) / (2 * EPS)
    relative = np.abs(gradients[FINE_DT] - finite_difference) / np.abs(finite_difference)
    rows = []
    print("| spike | mean err dt=1e-2 | dt=1e-3 | dt=1e-4 | FD median rel. diff (dt=1e-5) | FD worst |")
    print("|---|---|---|---|---|---|")
    for index in range(SPIKES):
        errors = [float(np.mean(np.abs(gradients[dt][:, index] - gradients[FINE_DT][:, index]))) for dt in (1e-2, 1e-3, 1e-4)]
        row = dict(spike=index + 1, mean_errors=errors, fd_median=float(np.median(relative[:, index])), fd_worst=float(relative[:, index].max()))
        rows.append(row)
        print(f"| {index + 1} | {errors[0]:.3g} | {errors[1]:.3g} | {errors[2]:.3g} | {100 * row['fd_median']:.2g}% | {100 * row['fd_worst']:.2g}% |")
    out = pathlib.Path("benchmarks/results/gradient_convergence.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    with jax.enable_x64(True):
        main()
