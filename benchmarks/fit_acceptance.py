"""Acceptance runs of the general fitting layer (issue 7, 2 (i) and (ii)), from Python.

(b) both weight layers of the 4 -> 16 -> 2 network of reference experiment (b) from simulated data:
    test loss and mean absolute weight error (masked-in weights) at the start and the end;
(c) mu_v, v_reset and the input current's offset of one SLIF neuron learned together from 256
    simulated trains (the setting of configs/slif_mu_v_reset.toml): relative error of each;
(l) the same by maximum likelihood for the noise-free neuron (configs/slif_mu_v_reset_likelihood.toml),
    one fit per data seed.

    PYTHONPATH=$PWD python benchmarks/fit_acceptance.py [b] [c] [l] [--steps-b N] [--steps-c N] [--seeds-l S ...]

Prints a table and writes benchmarks/results/fit_acceptance.json. Small settings (CPU minutes),
not the reference's 1500 steps.
"""

import argparse
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

import spikesde as sd

RESULTS = Path(__file__).resolve().parent / "results" / "fit_acceptance.json"


def network_problem(key=jax.random.key(0)):
    """Reference experiment (b): 4 -> 16 -> 2 SLIF network, current 1.5 into the input layer."""
    current = jnp.concatenate([jnp.full(4, 1.5), jnp.zeros(18)])
    neuron = sd.SLIF(22, current, mu_v=6.0, mu_i=5.0, sigma_v=0.25, sigma_i=0.25, v_reset=1.2, v0=1.1, i0=0.6)
    true_key, start_key = jax.random.split(key)
    truth = sd.feedforward(neuron, [4, 16, 2], key=true_key)
    start = sd.feedforward(neuron, [4, 16, 2], key=start_key)
    return truth, start


def run_network(steps: int = 150, n_data: int = 128, model_samples: int = 32, seed: int = 0) -> dict:
    truth, start = network_problem()
    simulation = sd.Simulation(t0=0.0, t1=1.0, dt=0.02, max_spikes=12)
    mask = np.asarray(truth.mask)

    def weight_error(weights):
        return float(np.mean(np.abs(np.asarray(weights) - np.asarray(truth.weights))[mask]))

    tic = time.perf_counter()
    result = sd.fit(
        start, sd.Simulated(truth, n_data, jax.random.key(seed + 1)), learn=["weights"],
        loss=sd.ExpectedSignatureLoss(t0=0.0, t1=1.0, depth=3, count_scale=0.1, taper=0.05), optimizer=optax.adam(3e-3),
        simulation=simulation,
        steps=steps, key=jax.random.key(seed), model_samples=model_samples,
        test=sd.Simulated(truth, n_data, jax.random.key(seed + 2)), progress=False,
    )  # fmt: skip
    seconds = time.perf_counter() - tic
    first, last = result.history[:10], result.history[-10:]
    return {
        "steps": steps, "n_data": n_data, "model_samples": model_samples,
        "test_loss_start": float(np.mean([r["test_loss"] for r in first])),
        "test_loss_end": float(np.mean([r["test_loss"] for r in last])),
        "weight_error_start": weight_error(start.weights),
        "weight_error_end": weight_error(result.values["weights"]),
        "seconds": seconds,
    }  # fmt: skip


TRUE_SLIF = {"input_current.offset": 1.5, "mu_v": 15.0, "v_reset": 1.4}
START_SLIF = {"input_current.offset": 1.2, "mu_v": 12.0, "v_reset": 1.1}
UPPER_SLIF = {"mu_v": 50.0}  # sigmoid reparametrisation: mu_v moves about as fast, relatively, as the others


def slif_problem(values: dict, noise_free: bool = False):
    """The neuron of ``configs/slif_mu_v_reset.toml`` (sinusoidal input, amplitude 1, 2 Hz) at ``values``;
    ``noise_free``: that of ``configs/slif_mu_v_reset_likelihood.toml`` (sigma_v = 0, alpha = 0)."""
    current = sd.SinusoidalCurrent(values["input_current.offset"], 1.0, 2.0)
    noise = dict(sigma_v=0.0, alpha=0.0) if noise_free else dict(sigma_v=0.25, alpha=0.03)
    return sd.SLIF(1, current, mu_v=values["mu_v"], v_reset=values["v_reset"], **noise)


def run_slif(
    steps: int = 800, n_data: int = 256, model_samples: int = 256, seed: int = 3, t1: float = 4.0, num_spikes: int = 20,
    likelihood: bool = False,
) -> dict:
    """The Python twin of ``spikesde fit configs/slif_mu_v_reset.toml`` (its settings, other random keys);
    ``likelihood``: of ``configs/slif_mu_v_reset_likelihood.toml`` (maximum likelihood, noise-free neuron)."""
    simulation = sd.Simulation(t0=0.0, t1=t1, dt=0.01, max_spikes=32)
    truth = slif_problem(TRUE_SLIF, noise_free=likelihood)
    learn = [sd.Learn(path, init=value, lower=0.0, upper=UPPER_SLIF.get(path)) for path, value in START_SLIF.items()]
    loss = sd.SpikeTimeMMD(
        num_spikes=num_spikes, t0=0.0, t1=t1, bandwidths=(0.5, 1.0, 2.0), time_unit=0.1, marginal=True
    )
    tic = time.perf_counter()
    result = sd.fit(
        slif_problem(START_SLIF, noise_free=likelihood), sd.Simulated(truth, n_data, jax.random.key(seed + 1)),
        learn=learn, loss=loss, optimizer=optax.adam(optax.cosine_decay_schedule(0.05, steps, 1e-3 / 0.05)),
        simulation=simulation, steps=steps, key=jax.random.key(seed), model_samples=model_samples, progress=False,
        estimator=sd.MaximumLikelihood() if likelihood else None,
    )  # fmt: skip
    seconds = time.perf_counter() - tic
    late = result.history[-min(100, steps // 4):]
    estimate = {p: float(np.mean([r["values"][p] for r in late])) for p in TRUE_SLIF}
    return {
        "steps": steps, "n_data": n_data, "model_samples": model_samples, "estimate": estimate,
        "relative_error": {p: abs(estimate[p] - v) / v for p, v in TRUE_SLIF.items()},
        "loss_start": result.history[0]["loss"], "loss_end": float(np.mean([r["loss"] for r in late])),
        "seconds": seconds,
    }  # fmt: skip


def _print_slif(title: str, runs: list[dict], seeds=None):
    """One row per parameter; one estimate / error column pair per run (data seed)."""
    seeds = seeds or [None] * len(runs)
    heads = "".join(f" estimate{'' if s is None else f' (seed {s})'} | error |" for s in seeds)
    print(f"| {title} parameter | true | start |{heads}")
    print("|---|---|---|" + "---|---|" * len(runs))
    for p, v in TRUE_SLIF.items():
        cells = "".join(f" {r['estimate'][p]:.4f} | {r['relative_error'][p]:.2%} |" for r in runs)
        print(f"| {p} | {v} | {START_SLIF[p]} |{cells}")
    r = runs[0]
    print(f"({r['steps']} steps, {r['n_data']} data trains, {r['model_samples']} model samples, "
          f"{np.mean([r['seconds'] for r in runs]):.0f} s per fit)")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="*", default=["c", "b"], choices=["b", "c", "l"])
    parser.add_argument("--steps-b", type=int, default=100)
    parser.add_argument("--steps-c", type=int, default=800)
    parser.add_argument("--steps-l", type=int, default=300)
    parser.add_argument("--seeds-l", type=int, nargs="+", default=[3], help="data seeds of (l), one fit each")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the JSON file (entries for other runs are kept)")
    args = parser.parse_args()
    results = {}
    if "b" in args.which:
        results["b"] = b = run_network(args.steps_b)
        print("| (b) 4-16-2 weights | steps | test loss start -> end | mean abs weight error start -> end | s |")
        print("|---|---|---|---|---|")
        print(f"| n={b['n_data']}, {b['model_samples']} model samples | {b['steps']} | {b['test_loss_start']:.3g} -> "
              f"{b['test_loss_end']:.3g} | {b['weight_error_start']:.3f} -> {b['weight_error_end']:.3f} | {b['seconds']:.0f} |")  # fmt: skip
    if "c" in args.which:
        results["c"] = run_slif(args.steps_c)
        _print_slif("(c)", [results["c"]])
    if "l" in args.which:
        results["l"] = [run_slif(args.steps_l, model_samples=16, seed=seed, likelihood=True) for seed in args.seeds_l]
        _print_slif("(l) maximum likelihood, noise-free neuron", results["l"], args.seeds_l)
    # Read again at the end: another run may have written its entry meanwhile.
    results = {**(json.loads(args.out.read_text()) if args.out.exists() else {}), **results}
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
