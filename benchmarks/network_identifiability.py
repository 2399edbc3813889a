"""How far the spike trains of experiment (b) see each weight: the loss statistics' response to weight changes.

The 4 -> 16 -> 2 network of reference experiment (b) (true weights as there). Two perturbations of
the true weights, each moving every learned weight by ``eps`` (0.15 in layer 1, 0.05 in layer 2,
about a fifth of the weights): "zero-sum" (signs alternate over each neuron's inputs, so every
neuron's summed input weight is unchanged) and "sum" (all of a neuron's inputs move together).
For each statistic (the per-sample depth-3 signature of the tapered, count-scaled lift, and the
alpha-kernel lag statistics of benchmarks/network_training.py), with common random numbers over
``--samples`` model samples at the three weight settings:

    signal  = || mean phi(w* + delta) - mean phi(w*) ||^2        (what the loss sees of delta)
    floor_n = trace Cov phi(w*) / n                            (the data's own noise, n trains)

The data size that would reveal delta against the data noise is about ``trace Cov / signal``.
A weight error of 0.10 needs the zero-sum directions seen; the run's error plateau is the start's
zero-sum part (benchmarks/ssnn_weights_report.py).

Run (from benchmarks/, it imports network_training): cd benchmarks && python network_identifiability.py [--samples 2048]
"""

import argparse
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
from network_training import lag_statistics, make_loss, network, sample


def perturbations(mask):
    """Zero-sum and summed perturbations, +-eps per learned weight."""
    m = np.asarray(mask)
    eps = np.where(np.arange(m.shape[0])[:, None] < 4, 0.15, 0.05) * m
    alternate = np.zeros_like(eps)
    for j in range(m.shape[1]):
        rows = np.flatnonzero(m[:, j])
        alternate[rows, j] = np.where(np.arange(rows.size) % 2 == 0, 1.0, -1.0)
    return {"zero-sum": jnp.asarray(eps * alternate), "sum": jnp.asarray(eps)}


def statistics_of(fn, spikes, chunk=256):
    return np.concatenate([np.asarray(fn(spikes[i : i + chunk])) for i in range(0, spikes.shape[0], chunk)])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--inputs", default="equal", help="equal (experiment (b)) or spread (input currents 1.2-2.1)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    truth = network(jax.random.key(0), args.inputs)
    keys = jax.random.split(jax.random.key(7), args.samples)
    draw = jax.jit(lambda w, k: sample(truth, w, k))
    features = {"tapered signature": jax.jit(make_loss("tapered").sample_signatures), "lag statistics": jax.jit(lag_statistics)}
    spikes = {"truth": np.concatenate([np.asarray(draw(truth.weights, keys[i : i + 256])) for i in range(0, args.samples, 256)])}
    for name, delta in perturbations(truth.mask).items():
        w = truth.weights + delta
        spikes[name] = np.concatenate([np.asarray(draw(w, keys[i : i + 256])) for i in range(0, args.samples, 256)])
    rows = []
    for stat, fn in features.items():
        phi = {name: statistics_of(fn, s) for name, s in spikes.items()}
        trace = float(np.sum(np.var(phi["truth"], axis=0)))
        for name in ("zero-sum", "sum"):
            signal = float(np.sum((phi[name].mean(0) - phi["truth"].mean(0)) ** 2))
            # the CRN estimate of signal carries noise too: its expected value under no change
            noise = float(np.sum(np.var(phi[name] - phi["truth"], axis=0)) / args.samples)
            rows.append(dict(statistic=stat, perturbation=name, signal=signal, signal_noise=noise, trace_cov=trace,
                             floor_256=trace / 256, floor_1024=trace / 1024, n_needed=trace / max(signal - noise, 1e-30)))  # fmt: skip
    print(f"{'statistic':<18} {'perturbation':<9} {'signal':>10} {'(its noise)':>11} {'floor n=256':>11} {'floor n=1024':>12} {'n needed':>9}")
    for r in rows:
        print(f"{r['statistic']:<18} {r['perturbation']:<9} {r['signal']:10.3g} {r['signal_noise']:11.3g} {r['floor_256']:11.3g} "
              f"{r['floor_1024']:12.3g} {r['n_needed']:9.3g}")  # fmt: skip
    out = pathlib.Path(args.out or pathlib.Path(__file__).parent / "results" / f"network_identifiability_{args.inputs}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(samples=args.samples, inputs=args.inputs, rows=rows), indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
