"""Yin-Yang benchmarks: exact-gradient vs surrogate-gradient epoch time, and the multi-sample EM table.

speed (acceptance 5): one training epoch (5000 points, batch 50, Adam) of the 5-120-3 network with
    exact first-spike-time gradients (``ExactGradient``, closed-form spike times, tau_syn 5 ms,
    tau_mem 10 ms) and with surrogate gradients (``SurrogateGradient``, same sizes and time
    constants, dt 0.5 ms, 100 steps), after a compiling warm-up, interleaved A, B, A, B for
    ``--repeats`` rounds; min and median seconds and their ratio. With ``--event-core`` also one
    batch's value-and-gradient through the event core (``sd.simulate``, ExponentialEuler, hidden
    layer of 120 LIF neurons) against one surrogate batch, interleaved.
em-table (acceptance 2): trains ``MultiSampleEMClassifier`` with K = 1, 2, 5, 10 compartments
    (same seed, ``--epochs``) and evaluates with the same K: test log-likelihood of the labels'
    target rasters (``log p_K(x_y)``), accuracy by output spike counts, ECE of
    ``softmax_c log p_K(x_c)``.

    python benchmarks/yinyang.py speed [--repeats 5]  [--event-core]
    python benchmarks/yinyang.py em-table [--epochs 10] [--seed 0]

Writes benchmarks/results/yinyang_speed.json or yinyang_em.json.
"""

import argparse
import json
import pathlib
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from spikesde._estimators.classifier import ExactGradient, SurrogateGradient
from spikesde._estimators.sampling_classifier import MultiSampleEMClassifier
from spikesde._experiments import yinyang as experiment

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


class _Runner:
    """One estimator's model, optimiser state and jitted step on the training split."""

    def __init__(self, estimator, times, labels, batch_size=50):
        self.estimator, self.labels, self.batch_size = estimator, labels, batch_size
        self.inputs = estimator.encode(times)
        self.model = estimator.init(self.inputs.shape[-1], 3, jax.random.key(0))
        optimiser = optax.adam(3e-3)
        self.opt_state = optimiser.init(eqx.filter(self.model, eqx.is_inexact_array))
        self.step = experiment.make_step(estimator, optimiser)
        self.rng = np.random.default_rng(0)

    def epoch(self, batches=None) -> float:
        order = self.rng.permutation(len(self.labels))
        starts = range(0, len(order) - self.batch_size + 1, self.batch_size)
        start = time.perf_counter()
        for first in list(starts)[:batches]:
            index = order[first : first + self.batch_size]
            self.model, self.opt_state, loss = self.step(
                self.model, self.opt_state, jnp.asarray(self.inputs[index]), jnp.asarray(self.labels[index]), jax.random.key(first)
            )
        jax.block_until_ready(loss)
        return time.perf_counter() - start


def interleaved(named_calls, repeats):
    """Run each call once to warm up, then ``repeats`` rounds in turn; seconds per call and round."""
    for call in named_calls.values():
        call()
    samples = {name: [] for name in named_calls}
    for _ in range(repeats):
        for name, call in named_calls.items():
            samples[name].append(call())
    return samples


def event_core_batch(times, labels):
    """A jitted value-and-gradient of one batch through ``sd.simulate`` (hidden layer in the core)."""
    import spikesde as sd

    hidden, tau = 120, 5.0
    neuron = sd.LIF(hidden, input_current=0.0, tau_mem=2 * tau, tau_syn=tau, threshold=1.0)
    network = ExactGradient().init(5, 3, jax.random.key(0))

    def logits(params, t):
        sol = sd.simulate(sd.Network(neuron, None, None, t[:, None], params[0]), t0=0.0, t1=50.0, dt=0.5, key=jax.random.key(0),
                          max_spikes=4, max_events=200, stepper=sd.ExponentialEuler(), on_overflow="ignore")  # fmt: skip
        readout = eqx.tree_at(lambda n: n.output_weights, network, params[1])
        return jnp.max(readout.potentials_from_hidden(sol.spike_times[:, 0]), axis=0)

    def loss(params, x, y):
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(jax.vmap(lambda t: logits(params, t))(x), y))

    grad = jax.jit(jax.value_and_grad(loss))
    params = (network.hidden_weights, network.output_weights)
    x, y = jnp.asarray(times[:50], jnp.float32), jnp.asarray(labels[:50])

    def call():
        start = time.perf_counter()
        jax.block_until_ready(grad(params, x, y))
        return time.perf_counter() - start

    return call


def speed(args):
    times, labels = experiment.load_split("train", 5000)
    exact = _Runner(ExactGradient(), times, labels)
    surrogate = _Runner(SurrogateGradient(tau_mem=10.0, tau_syn=5.0), times, labels)
    calls = {"exact": exact.epoch, "surrogate": surrogate.epoch}
    if args.event_core:
        calls["event_core_batch"] = event_core_batch(times, labels)
        calls["surrogate_batch"] = lambda: surrogate.epoch(batches=1)
    samples = interleaved(calls, args.repeats)
    rows = {name: {"min": min(v), "median": statistics.median(v), "samples": v} for name, v in samples.items()}
    ratios = {"exact / surrogate (epoch)": ("exact", "surrogate")}
    if args.event_core:
        ratios["event core / surrogate (batch)"] = ("event_core_batch", "surrogate_batch")
    result = {"rows": rows, "ratios": {}, "repeats": args.repeats, "note": "machine shared and loaded; ratios measured interleaved"}
    print("| run | min s | median s |\n|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['min']:.3f} | {row['median']:.3f} |")
    for label, (a, b) in ratios.items():
        result["ratios"][label] = {k: rows[a][k] / rows[b][k] for k in ("min", "median")}
        print(f"| ratio {label} | {result['ratios'][label]['min']:.2f} | {result['ratios'][label]['median']:.2f} |")
    return result, "yinyang_speed.json"


def em_table(args):
    rows = []
    print("| K | test log-likelihood | accuracy (counts) | ECE | epoch s (median) |\n|---|---|---|---|---|")
    for k in args.compartments:
        _, summary = experiment.train(MultiSampleEMClassifier(num_compartments=k), epochs=args.epochs, seed=args.seed,
                                      learning_rate=experiment.LEARNING_RATES["em"], log=lambda line: None)  # fmt: skip
        rows.append({"K": k, **{key: summary[key] for key in summary if key.startswith("test_") or key.startswith("epoch_seconds")}})
        print(f"| {k} | {summary['test_em_log_likelihood']:.3f} | {summary['test_accuracy']:.3f} | {summary['test_ece']:.3f} | {summary['epoch_seconds_median']:.1f} |", flush=True)
    return {"epochs": args.epochs, "seed": args.seed, "rows": rows}, "yinyang_em.json"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("speed")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--event-core", action="store_true")
    p = sub.add_parser("em-table")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--compartments", type=int, nargs="+", default=[1, 2, 5, 10])
    args = parser.parse_args()
    result, name = {"speed": speed, "em-table": em_table}[args.command](args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / name).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
