"""Yin-Yang benchmarks: exact-gradient vs surrogate-gradient epoch time, and the multi-sample EM table.

speed (acceptance 5): one training epoch (5000 points, batch 50, Adam) of the 5-120-3 network with
    exact first-spike-time gradients (``PathwiseClassifier``, closed-form spike times, tau_syn 5 ms,
    tau_mem 10 ms) and with surrogate gradients (``SurrogateClassifier``, same sizes and time
    constants, dt 0.5 ms, 100 steps), after a compiling warm-up, interleaved A, B, A, B for
    ``--repeats`` rounds; min and median seconds and their ratio. With ``--event-core`` also one
    batch's value-and-gradient through the event core (``sd.simulate``, ExponentialEuler, hidden
    layer of 120 LIF neurons) against one surrogate batch, interleaved.
em-table (acceptance 2): trains ``MultiSampleEMClassifier`` (``--forms batch``) and/or the online
    form ``OnlineEMClassifier`` (``online``: eligibility traces, discounted importance weights,
    updates every ``--update-every`` bins) with K = 1, 2, 5, 10 compartments for each of ``--seeds``
    (``--epochs``) and evaluates with the same K: test log-likelihood of the labels' target rasters
    (``log p_K(x_y)``), accuracy by output spike counts, ECE of ``softmax_c log p_K(x_c)``; mean and
    standard deviation over seeds. Each trained model is also evaluated with a fixed
    ``--eval-compartments`` (20), which separates a better model from a tighter bound. With
    ``--warm-start K0 E0`` (K-curriculum, ``sd.estimators.CompartmentSchedule``, both forms) the first E0 epochs run
    at K0 and the rest at K, with Adam restarted.
em-diagnose: trains batch EM at each K (and learning rate) and records why accuracy and likelihood
    disagree: importance-weight effective sample size, single-sample log-likelihood of each class's
    target before / at / after the onset, output weights, output counts per class, validation curve.

    python benchmarks/yinyang.py speed [--repeats 5]  [--event-core]
    python benchmarks/yinyang.py em-table [--epochs 10] [--seeds 0 1 2] [--forms batch online] [--resume] [--warm-start 1 3]
    python benchmarks/yinyang.py em-diagnose [--epochs 8] [--seed 0] [--compartments 1 10] [--learning-rates 1e-2] [--tag base]

Writes benchmarks/results/yinyang_speed.json, yinyang_em*.json or yinyang_em_diagnose_seed*_TAG.json.
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

from spikesde._estimators.classifier import PathwiseClassifier, SurrogateClassifier
from spikesde._estimators.compartment_schedule import CompartmentSchedule
from spikesde._estimators.multisample import MultiSampleEM
from spikesde._estimators.sampling_classifier import MultiSampleEMClassifier, OnlineEMClassifier
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
    network = PathwiseClassifier().init(5, 3, jax.random.key(0))

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
    exact = _Runner(PathwiseClassifier(), times, labels)
    surrogate = _Runner(SurrogateClassifier(tau_mem=10.0, tau_syn=5.0), times, labels)
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


def _em_estimator(form, k, args, warmup_epochs=None):
    """The EM classifier of ``form`` with ``K = k`` and the K-curriculum of ``--warm-start K0 E0``
    (``warmup_epochs`` overrides E0)."""
    feedback = not args.no_output_feedback
    k0, e0 = args.warm_start if args.warm_start else (1, 0)
    schedule = CompartmentSchedule(k0, e0 if warmup_epochs is None else warmup_epochs)
    if form == "batch":
        return MultiSampleEMClassifier(num_compartments=k, output_feedback=feedback, schedule=schedule)
    return OnlineEMClassifier(num_compartments=k, eligibility_decay=args.eligibility_decay, output_feedback=feedback,
                              likelihood_decay=args.likelihood_decay, update_every=args.update_every, schedule=schedule)  # fmt: skip


def _em_summary(rows):
    """Mean and sample standard deviation over seeds of each (form, K)."""
    groups = {}
    for row in rows:
        groups.setdefault((row["form"], row["K"]), []).append(row)
    summary = []
    for (form, k), group in groups.items():
        entry = {"form": form, "K": k, "seeds": [r["seed"] for r in group]}
        for name in ("test_em_log_likelihood", "test_accuracy", "test_ece", "test_log_likelihood", "fixed_em_log_likelihood", "fixed_ece",
                     "fixed_posterior_accuracy", "epoch_seconds_median"):  # fmt: skip
            values = np.array([r[name] for r in group if name in r])  # posterior accuracy: only rows that measured it
            if len(values):
                entry[name] = {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else None, "n": len(values)}
        summary.append(entry)
    return summary


class _PosteriorEM(MultiSampleEMClassifier):
    """Predicts ``argmax_c log p_K(x_c)`` (the likelihood's own classifier) instead of output spike counts."""

    def predict(self, model, inputs, key):
        return jnp.argmax(self.log_likelihoods(model, inputs, key), axis=-1)


def _evaluate_at(model, k, seed):
    """Test metrics of a trained model evaluated with ``k`` compartments, whatever K it was trained with;
    ``posterior_accuracy`` is that of ``argmax_c log p_k(x_c)``."""
    estimator = _PosteriorEM(num_compartments=k)
    times, labels = experiment.load_split("test", 1000)
    metrics = experiment.evaluate(estimator, model, estimator.encode(times), labels, jax.random.key(10_000 + seed))
    return {("posterior_accuracy" if name == "accuracy" else name): value for name, value in metrics.items()}


def _em_result(args, rows):
    online = {"eligibility_decay": args.eligibility_decay, "likelihood_decay": args.likelihood_decay, "update_every": args.update_every}
    seeds = sorted({row["seed"] for row in rows})
    return {"epochs": args.epochs, "warm_start": args.warm_start, "seeds": seeds, "output_feedback": not args.no_output_feedback, "online": online, "rows": rows, "summary": _em_summary(rows)}


def em_table(args):
    """Train each (form, K, seed) in turn; the JSON is rewritten after every run, so a cut run keeps its rows."""
    if args.warm_start and not 0 < args.warm_start[1] < args.epochs:
        raise ValueError(f"--warm-start epochs must lie in (0, --epochs = {args.epochs}), got {args.warm_start[1]}")
    name = "yinyang_em_no_feedback" if args.no_output_feedback else "yinyang_em"
    forms = "" if args.forms == ["batch"] else "_" + "-".join(args.forms)  # the batch curriculum files keep their names
    warm_name = f"_warm{args.warm_start[0]}x{args.warm_start[1]}{forms}_seeds{'-'.join(map(str, args.seeds))}" if args.warm_start else ""
    path = RESULTS / f"{name}{warm_name}.json"
    rows = json.loads(path.read_text())["rows"] if args.resume and path.exists() else []
    done = {(row["form"], row["K"], row["seed"]) for row in rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(f"| form | K | seed | test log p_K(x_y) | accuracy (counts) | ECE | log p_{args.eval_compartments}(x_y) | ECE at K = {args.eval_compartments} "
          "| posterior accuracy | epoch s (median) |\n|---|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for seed in args.seeds:  # seeds outermost: a cut run still has every (form, K) of its first seeds
        for form in args.forms:
            for k in args.compartments:
                if (form, k, seed) in done:
                    continue
                # with --warm-start, the warm-up epochs (at K0, the same keys for every K) are part of --epochs
                model, summary = experiment.train(_em_estimator(form, k, args), epochs=args.epochs, seed=seed,
                                                  learning_rate=experiment.LEARNING_RATES["em"], log=lambda line: None)  # fmt: skip
                fixed = _evaluate_at(model, args.eval_compartments, seed)
                rows.append({"form": form, "K": k, "seed": seed, **{key: summary[key] for key in summary if key.startswith(("test_", "epoch_seconds"))},
                             **{f"fixed_{key}": value for key, value in fixed.items()}})  # fmt: skip
                print(f"| {form} | {k} | {seed} | {summary['test_em_log_likelihood']:.3f} | {summary['test_accuracy']:.3f} | {summary['test_ece']:.3f} "
                      f"| {fixed['em_log_likelihood']:.3f} | {fixed['ece']:.3f} | {fixed['posterior_accuracy']:.3f} | {summary['epoch_seconds_median']:.1f} |", flush=True)  # fmt: skip
                path.write_text(json.dumps(_em_result(args, rows), indent=2))
    result = _em_result(args, rows)
    print("\n| form | K | test log p_K(x_y) | accuracy | ECE | log p at fixed K | ECE at fixed K | posterior accuracy at fixed K |\n|---|---|---|---|---|---|---|---|")
    for e in result["summary"]:
        cells = [f"{e[n]['mean']:.3f} +- {e[n]['sd'] if e[n]['sd'] is None else round(e[n]['sd'], 3)}"
                 for n in ("test_em_log_likelihood", "test_accuracy", "test_ece", "fixed_em_log_likelihood", "fixed_ece", "fixed_posterior_accuracy") if n in e]  # fmt: skip
        print(f"| {e['form']} | {e['K']} | " + " | ".join(cells) + " |")
    return result, path.name


def _segments(estimator, model, x, raster):
    """Visible log-likelihood of ``raster`` before the target onset, in the onset bin and after it
    (prefix likelihoods of the causal model, so the three add up to the whole)."""
    onset = int(round(estimator.target_start / estimator.dt))
    prefix = [jnp.sum(jnp.where(estimator.visible, model.log_prob_per_neuron(x[:t], raster[:t]), 0.0)) for t in (onset, onset + 1, x.shape[0])]
    return jnp.stack([prefix[0], prefix[1] - prefix[0], prefix[2] - prefix[1]])


def diagnose(estimator, model, inputs, labels, key):
    """Why accuracy and likelihood disagree: per (true class, output) free-run spike counts, the output
    block of the recurrent weights, the importance weights' effective sample size ``1 / sum_k w_k^2``
    on the label's target, and the visible log-likelihood of each class's target by segment."""
    em, n_out = MultiSampleEM(estimator.num_compartments), estimator.n_out
    counts = np.asarray(jnp.mean(estimator.output_counts(model, inputs, key), axis=1))
    targets = jax.vmap(estimator.target)(jnp.arange(n_out))

    def one(x, y, k):
        _, _, weights = em.value_and_grad(model, x, estimator.target(y), estimator.visible, k)
        rasters = jax.vmap(lambda t, kk: model.sample(x, kk, observed=t, visible=estimator.visible))(targets, jax.random.split(k, n_out))
        return 1.0 / jnp.sum(weights**2), jax.vmap(lambda r: _segments(estimator, model, x, r))(rasters)

    ess, segments = jax.jit(jax.vmap(one))(inputs, labels, jax.random.split(key, len(labels)))
    segments, labels = np.asarray(segments), np.asarray(labels)
    right = segments[np.arange(len(labels)), labels]
    wrong = (segments.sum(axis=1) - right) / (n_out - 1)
    w = np.asarray(model.recurrent_weights)[-n_out:, -n_out:]
    return {"counts_by_class": [counts[labels == c].mean(axis=0).tolist() for c in range(n_out)],
            "output_self_weights": np.diag(w).tolist(), "output_cross_weight_mean": float((w.sum() - np.trace(w)) / (n_out * (n_out - 1))),
            "output_bias": np.asarray(model.bias)[-n_out:].tolist(),
            "ess_mean": float(np.mean(ess)), "ess_fraction": float(np.mean(ess) / estimator.num_compartments),
            "loglik_right_pre_onset_after": right.mean(axis=0).tolist(), "loglik_wrong_pre_onset_after": wrong.mean(axis=0).tolist()}  # fmt: skip


def em_diagnose(args):
    """Train batch EM at each K (and learning rate, epochs) and record the diagnostics and the validation curve."""
    rows, times, labels = [], *experiment.load_split("test", args.examples)
    warmup = args.warm_start[1] if args.warm_start else 0  # in em-diagnose the warm-up epochs are added to --epochs
    for k in args.compartments:
        for lr in args.learning_rates:
            estimator, curve = _em_estimator("batch", k, args, warmup_epochs=warmup), []
            model, summary = experiment.train(estimator, epochs=args.epochs + warmup, seed=args.seed, learning_rate=lr,
                                              log=lambda line: curve.append(json.loads(line)["validation_accuracy"]))  # fmt: skip
            found = diagnose(estimator, model, jnp.asarray(estimator.encode(times)), jnp.asarray(labels), jax.random.key(20_000 + args.seed))
            rows.append({"K": k, "learning_rate": lr, "seed": args.seed, "epochs": args.epochs, "validation_accuracy": curve,
                         **{key: summary[key] for key in ("test_accuracy", "test_em_log_likelihood", "test_ece", "test_log_likelihood")}, **found})  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    return {"rows": rows, "output_feedback": not args.no_output_feedback}, f"yinyang_em_diagnose_seed{args.seed}_{args.tag}.json"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("speed")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--event-core", action="store_true")
    p = sub.add_parser("em-table")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--compartments", type=int, nargs="+", default=[1, 2, 5, 10])
    p.add_argument("--forms", nargs="+", choices=["batch", "online"], default=["batch"])
    p.add_argument("--eligibility-decay", type=float, default=0.95, help="kappa of the online form")
    p.add_argument("--likelihood-decay", type=float, default=0.95, help="gamma of the online form")
    p.add_argument("--update-every", type=int, default=4, help="bins between the online form's updates")
    p.add_argument("--eval-compartments", type=int, default=20, help="K of the second, fixed-K test evaluation")
    p.add_argument("--no-output-feedback", action="store_true", help="no output-to-hidden weights (writes yinyang_em_no_feedback.json)")
    p.add_argument("--warm-start", type=int, nargs=2, metavar=("K0", "E0"),
                   help="K-curriculum (sd.estimators.CompartmentSchedule): E0 of the --epochs at K0 (the same for every K), the rest at K")
    p.add_argument("--resume", action="store_true", help="keep the rows of results/yinyang_em.json and run only the missing ones")
    p = sub.add_parser("em-diagnose")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--compartments", type=int, nargs="+", default=[1, 10])
    p.add_argument("--learning-rates", type=float, nargs="+", default=[experiment.LEARNING_RATES["em"]])
    p.add_argument("--examples", type=int, default=500, help="test examples for the diagnostics")
    p.add_argument("--no-output-feedback", action="store_true")
    p.add_argument("--warm-start", type=int, nargs=2, metavar=("K", "EPOCHS"), help="first train at K for EPOCHS epochs (added to --epochs)")
    p.add_argument("--tag", default="base", help="suffix of the JSON name")
    args = parser.parse_args()
    result, name = {"speed": speed, "em-table": em_table, "em-diagnose": em_diagnose}[args.command](args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / name).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
