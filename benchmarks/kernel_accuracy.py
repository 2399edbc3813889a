"""Accuracy of the signature PDE kernel against its dyadic refinement, on Marcus-lifted spike trains.

The Goursat scheme of :class:`spikesde.PDESolver` is second order: refining every cell ``2^L x 2^L``
divides the error by about 4 per order and multiplies the cost by 4. For each setting below, pairs of
random spike trains are lifted with the scalings the guides recommend, and the kernel at refinement
``L = 0 .. 4`` is compared with refinement 7 (whose own error, estimated from the 6 -> 7 change, is
reported as ``ref_err``). float64, CPU. Run: python benchmarks/kernel_accuracy.py [--pairs P]

Settings (time scaled to [0, 1]):
  demo:        1 neuron, 3 spikes on [0, 5], count_scale 1/3 (configs/demo.toml);
  network:     3 neurons, up to 8 spikes each, count_scale 1/8;
  grasshopper: 1 neuron, up to 20 spikes, count_scale 4/20 (the grasshopper noise study's lift).
"""

import argparse
import json
import pathlib

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import spikesde as sd  # noqa: E402

SETTINGS = {
    "demo": dict(n=1, k=3, t1=5.0, count_scale=1 / 3),
    "network": dict(n=3, k=8, t1=1.0, count_scale=1 / 8),
    "grasshopper": dict(n=1, k=20, t1=1.0, count_scale=4 / 20),
}
LEVELS, REFERENCE = (0, 1, 2, 3, 4), 7


def trains(rng, pairs, n, k, t1):
    """``2 pairs`` trains of ``n`` neurons; each neuron fires a uniform number 1..k of uniform spikes."""
    times = np.sort(rng.uniform(0, t1, (2 * pairs, n, k)), axis=-1)
    counts = rng.integers(1, k + 1, (2 * pairs, n, 1))
    times[np.arange(k)[None, None, :] >= counts] = np.inf
    return jnp.asarray(times)


def kernels(paths_x, paths_y, refinement):
    solver = sd.signatures.PDESolver(refinement)
    return jnp.stack([solver.gram(x[None], y[None])[0, 0] for x, y in zip(paths_x, paths_y)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=4)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    print(f"{'setting':12s} {'L':>2s} {'median rel err':>15s} {'max rel err':>12s} {'ref_err':>9s} {'k range':>16s}")
    for name, s in SETTINGS.items():
        spikes = trains(rng, args.pairs, s["n"], s["k"], s["t1"])
        paths = sd.signatures.marcus_lift(spikes, t0=0.0, t1=s["t1"], time_scale=1 / s["t1"], count_scale=s["count_scale"])
        x, y = paths[: args.pairs], paths[args.pairs :]
        reference = kernels(x, y, REFERENCE)
        ref_err = float(jnp.max(jnp.abs(kernels(x, y, REFERENCE - 1) - reference) / reference)) / 3  # Richardson
        for level in LEVELS:
            error = np.asarray(jnp.abs(kernels(x, y, level) - reference) / reference)
            row = dict(
                setting=name,
                refinement=level,
                median_rel_err=float(np.median(error)),
                max_rel_err=float(error.max()),
                reference_err=ref_err,
                k_min=float(reference.min()),
                k_max=float(reference.max()),
                pairs=args.pairs,
            )
            rows.append(row)
            print(
                f"{name:12s} {level:2d} {row['median_rel_err']:15.2e} {row['max_rel_err']:12.2e} {ref_err:9.1e} "
                f"{row['k_min']:7.3f}..{row['k_max']:7.3f}"
            )
    out = pathlib.Path(__file__).parent / "results" / "kernel_accuracy.json"
    out.write_text(json.dumps(rows, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
