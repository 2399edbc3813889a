"""Multi-sample EM on Yin-Yang: accuracy and calibration as functions of the training K and the inference K.

Issue 11, acceptance 2. Jang & Simeone (2021) report that log-likelihood, accuracy and calibration improve
"when increasing the number of compartments used for training and inference": in the authors' code the
final test accuracy of a network trained with K compartments is computed from K free runs (``get_acc(...,
dec_type, num_samples)``: ``majority`` = the vote of the runs' most active output neuron, ``maxnum`` = the
most active output neuron over the K runs' summed counts). This script separates the two K's: it trains
the batch EM classifier (``MultiSampleEMClassifier``, K-curriculum ``--warm-start K0 E0``) at each
training K and seed, then evaluates every trained model, on the test split and on 1000 training points,
at each inference K_I of ``--eval-compartments``:

* ``acc_maxnum``, ``acc_majority``: accuracy of the two decision rules over K_I free runs;
  ``ece_votes``: ECE (10 bins) of the vote fractions (a run whose top count is tied splits its vote);
* ``loglik``: ``log p_{K_I}(x_y)``, the K_I-sample estimate of the label's target-raster likelihood;
  ``acc_posterior``, ``ece_posterior``: accuracy and ECE of ``softmax_c log p_{K_I}(x_c)``.

Every K_I uses the first K_I of the same 20 samples per example (common random numbers), so the K_I
trend is not noise between separate runs. ``--frozen-hidden``: only the synapses onto output neurons
train (hidden neurons stay at their random initialisation), which shows what the hidden layer's training
contributes; ``--hidden N`` sets the hidden layer's size.

    python benchmarks/em_trend.py --seeds 0 --compartments 1 2 5 10 --epochs 8 --warm-start 1 3 [--frozen-hidden] [--hidden 60] [--tag main]
    python benchmarks/em_trend.py --merge --tag main      # one table over every seed run with --tag main

Writes benchmarks/results/yinyang_em_trend_{tag}_seeds{S}.json (rows and mean / sd over seeds); --merge
writes yinyang_em_trend_{tag}.json.
"""

import argparse
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

from spikesde._estimators.calibration import expected_calibration_error
from spikesde._estimators.compartment_schedule import CompartmentSchedule
from spikesde._estimators.multisample import MultiSampleEM
from spikesde._estimators.sampling_classifier import MultiSampleEMClassifier
from spikesde._experiments import yinyang as experiment

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


class _FrozenHiddenEM(MultiSampleEMClassifier):
    """Batch EM whose synapses onto hidden neurons (and hidden biases) never change."""

    def loss_and_grad(self, model, inputs, labels, key):
        loss, grad = super().loss_and_grad(model, inputs, labels, key)
        # the last axis of every parameter is the post-synaptic neuron: keep only the outputs' columns
        return loss, jax.tree_util.tree_map(lambda g: jnp.where(self.visible, g, 0.0), grad)


def sample_statistics(estimator, model, inputs, key, samples: int):
    """Per example: output counts of ``samples`` free runs ``(B, S, C)`` and the visible log-likelihood
    ``log p(x_c || h^s)`` of each class's target raster under ``samples`` hidden samples ``(B, C, S)``."""
    em, n_out = MultiSampleEM(samples), estimator.n_out
    targets = jax.vmap(estimator.target)(jnp.arange(n_out))

    def one(x, k):
        k_free, k_clamped = jax.random.split(k)
        free = jax.vmap(lambda kk: model.sample(x, kk))(jax.random.split(k_free, samples))
        log_visible = jax.vmap(lambda t: em._sample(model, x, t, estimator.visible, k_clamped)[1])(targets)
        return jnp.sum(free[..., -n_out:], axis=1), log_visible

    counts, log_visible = jax.jit(jax.vmap(one))(inputs, jax.random.split(key, inputs.shape[0]))
    return np.asarray(counts), np.asarray(log_visible, float)


def metrics_at(counts, log_visible, labels, k: int) -> dict:
    """The decision rules' and the likelihood's metrics from the first ``k`` samples of each example."""
    counts, rows = counts[:, :k], np.arange(len(labels))
    top = counts == counts.max(axis=-1, keepdims=True)
    votes = (top / top.sum(axis=-1, keepdims=True)).mean(axis=1)
    log_p = np.logaddexp.reduce(log_visible[:, :, :k], axis=-1) - np.log(k)
    posterior = np.exp(log_p - np.logaddexp.reduce(log_p, axis=-1, keepdims=True))
    return {
        "acc_maxnum": float(np.mean(counts.sum(axis=1).argmax(axis=-1) == labels)),
        "acc_majority": float(np.mean(votes.argmax(axis=-1) == labels)),
        "ece_votes": expected_calibration_error(votes, labels),
        "loglik": float(np.mean(log_p[rows, labels])),
        "acc_posterior": float(np.mean(posterior.argmax(axis=-1) == labels)),
        "ece_posterior": expected_calibration_error(posterior, labels),
    }


def evaluate_trend(estimator, model, split: str, eval_ks, seed: int, size: int = 1000) -> dict:
    """``{K_I: metrics}`` on ``size`` points of ``split`` (nested samples: K_I uses the first K_I of max K_I)."""
    times, labels = experiment.load_split(split, 5000 if split == "train" else size)
    times, labels = times[:size], np.asarray(labels[:size])
    counts, log_visible = sample_statistics(estimator, model, jnp.asarray(estimator.encode(times)), jax.random.key(30_000 + seed), max(eval_ks))
    return {str(k): metrics_at(counts, log_visible, labels, k) for k in eval_ks}


def summarise(rows, eval_ks) -> list:
    """Mean and sample sd over seeds of every metric, per (training K, split, K_I)."""
    summary = []
    for k in sorted({row["K"] for row in rows}):
        group = [row for row in rows if row["K"] == k]
        for split in ("test", "train"):
            for k_eval in map(str, eval_ks):
                entry = {"K": k, "split": split, "K_eval": int(k_eval), "n": len(group)}
                for name in group[0][split][k_eval]:
                    values = np.array([row[split][k_eval][name] for row in group])
                    entry[name] = {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else None}
                summary.append(entry)
    return summary


def merge(tag: str, eval_ks) -> None:
    """Merge ``yinyang_em_trend_{tag}_seeds*.json`` into ``yinyang_em_trend_{tag}.json`` and print mean +- sd."""
    rows = [row for path in sorted(RESULTS.glob(f"yinyang_em_trend_{tag}_seeds*.json")) for row in json.loads(path.read_text())["rows"]]
    summary = summarise(rows, eval_ks)
    (RESULTS / f"yinyang_em_trend_{tag}.json").write_text(json.dumps({"tag": tag, "rows": rows, "summary": summary}, indent=2))
    names = ("acc_maxnum", "acc_majority", "ece_votes", "loglik", "acc_posterior", "ece_posterior")
    print("| K (train) | split | K_I (inference) | n | " + " | ".join(names) + " |\n|" + "---|" * (4 + len(names)))
    for e in summary:
        cells = [f"{e[n]['mean']:.3f} +- {e[n]['sd']:.3f}" if e[n]["sd"] is not None else f"{e[n]['mean']:.3f}" for n in names]
        print(f"| {e['K']} | {e['split']} | {e['K_eval']} | {e['n']} | " + " | ".join(cells) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--compartments", type=int, nargs="+", default=[1, 2, 5, 10])
    parser.add_argument("--eval-compartments", type=int, nargs="+", default=[1, 2, 5, 10, 20])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--warm-start", type=int, nargs=2, default=[1, 3], metavar=("K0", "E0"), help="K-curriculum (E0 = 0: none)")
    parser.add_argument("--hidden", type=int, default=60)
    parser.add_argument("--frozen-hidden", action="store_true", help="train only the synapses onto output neurons")
    parser.add_argument("--tag", default="main")
    parser.add_argument("--merge", action="store_true", help="only merge the --tag runs of every seed and print the table")
    args = parser.parse_args()
    if args.merge:
        return merge(args.tag, args.eval_compartments)
    kind = _FrozenHiddenEM if args.frozen_hidden else MultiSampleEMClassifier
    path = RESULTS / f"yinyang_em_trend_{args.tag}_seeds{'-'.join(map(str, args.seeds))}.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    print("| K | seed | split | K_I | acc maxnum | acc majority | ECE votes | log p(x_y) | acc posterior | ECE posterior |\n|---|---|---|---|---|---|---|---|---|---|")
    for seed in args.seeds:
        for k in args.compartments:
            estimator = kind(num_compartments=k, hidden=args.hidden, schedule=CompartmentSchedule(*args.warm_start))
            model, summary = experiment.train(estimator, epochs=args.epochs, seed=seed, learning_rate=experiment.LEARNING_RATES["em"], log=lambda line: None)
            row = {"K": k, "seed": seed, "test_accuracy_counts10": summary["test_accuracy"], "epoch_seconds_median": summary["epoch_seconds_median"]}
            for split in ("test", "train"):
                row[split] = evaluate_trend(estimator, model, split, args.eval_compartments, seed)
                for k_eval, m in row[split].items():
                    print(f"| {k} | {seed} | {split} | {k_eval} | " + " | ".join(f"{m[n]:.3f}" for n in m) + " |", flush=True)
            rows.append(row)
            result = {"args": vars(args), "rows": rows, "summary": summarise(rows, args.eval_compartments)}
            path.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
