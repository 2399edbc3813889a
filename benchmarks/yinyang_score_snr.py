"""Why the Yin-Yang score-function classifier stays at chance: the signal-to-noise of its gradient.

At initialisation (model seed 0), on the first batch of 50 training points, ``--repeats``
independent gradient estimates of ``ScoreFunctionClassifier`` (leave-one-out baseline) for each
number of samples per example M. Signal ``|E g|^2`` (the squared norm of the mean estimate, less
its noise ``E|g - E g|^2 / repeats``), noise ``E|g - E g|^2``, their ratio, and the median over
parameters of ``|mean| / std`` (``1 / sqrt(repeats)`` is what pure noise gives).

    python benchmarks/yinyang_score_snr.py [--samples 8 64] [--repeats 16]

Writes benchmarks/results/yinyang_score_snr.json.
"""

import argparse
import json
import pathlib

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from spikesde._estimators.sampling_classifier import ScoreFunctionClassifier
from spikesde._experiments import yinyang as experiment


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, nargs="*", default=[8, 64])
    parser.add_argument("--repeats", type=int, default=16)
    args = parser.parse_args()
    times, labels = experiment.load_split("train", 5000)
    rows = []
    for m in args.samples:
        estimator = ScoreFunctionClassifier(num_samples=m)
        inputs, y = jnp.asarray(estimator.encode(times[:50])), jnp.asarray(labels[:50])
        model = estimator.init(inputs.shape[-1], 3, jax.random.key(0))
        estimates = eqx.filter_jit(eqx.filter_vmap(lambda k: estimator.loss_and_grad(model, inputs, y, k)[1]))
        grads = estimates(jax.random.split(jax.random.key(1), args.repeats))
        g = np.concatenate([np.asarray(leaf).reshape(args.repeats, -1) for leaf in jax.tree_util.tree_leaves(eqx.filter(grads, eqx.is_inexact_array))], axis=1)
        mean = g.mean(0)
        noise = float(((g - mean) ** 2).sum(1).mean())
        signal = max(float((mean**2).sum()) - noise / args.repeats, 0.0)
        per_parameter = float(np.median(np.abs(mean) / (g.std(0, ddof=1) + 1e-30)))
        rows.append(dict(M=m, signal=signal, noise=noise, snr=signal / noise, median_mean_over_std=per_parameter))
        print(f"M={m:4d}: |E g|^2 {signal:.3g}  E|g - E g|^2 {noise:.3g}  signal/noise {signal / noise:.3g}  "
              f"median |mean|/std {per_parameter:.3f} (pure noise {1 / np.sqrt(args.repeats):.2f})")  # fmt: skip
    out = pathlib.Path(__file__).resolve().parent / "results" / "yinyang_score_snr.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"settings": vars(args), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
