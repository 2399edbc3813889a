"""Yin-Yang classification with four gradient estimators (and the online form of EM).

    python -m spikesde._experiments.yinyang --estimator {exact,surrogate,score,em,online-em} [--epochs N]
        [--seed S] [--out DIR] [--compartments K] [--warmup-compartments K0 --warmup-epochs E0] [--train-size N]
    python -m spikesde._experiments.yinyang --config configs/yinyang_exact.toml [--epochs N ...]

A ``--config`` TOML file sets any of the options (keys are the option names with ``_`` for ``-``);
options given on the command line override it.

Trains on the conventional splits (5000 / 1000 / 1000 points, seeds 42 / 41 / 40), inputs encoded as
first-spike times ``10 + 30 f`` ms plus a bias spike at 20 ms. Writes ``metrics.jsonl`` (one line per
epoch: loss, validation metrics, seconds) and ``summary.json`` (test accuracy, log-likelihood, ECE,
per-epoch seconds) to ``--out``. The estimator is an option object from :mod:`spikesde._estimators`;
this module only runs the loop.
"""

import argparse
import json
import time
import tomllib
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._datasets import encode_first_spike_times, yinyang
from .._estimators.calibration import classification_metrics
from .._estimators.classifier import AbstractClassifierEstimator, PathwiseClassifier, SurrogateClassifier
from .._estimators.compartment_schedule import CompartmentSchedule
from .._estimators.online_em import ImportanceWeighted, LogMeanSignal
from .._estimators.sampling_classifier import (
    MultiSampleEMClassifier,
    OnlineEMClassifier,
    ScoreFunctionClassifier,
    count_cross_entropy,
    count_margin,
)

SPLIT_SEEDS = {"train": 42, "validation": 41, "test": 40}
LEARNING_RATES = {"exact": 3e-3, "surrogate": 3e-3, "score": 1e-2, "em": 1e-2, "online-em": 1e-2}
SCORE_LOSSES = {"cross-entropy": count_cross_entropy, "margin": count_margin}
HIDDEN_SIGNALS = {"importance": ImportanceWeighted, "log-mean": LogMeanSignal}


def make_estimator(
    name: str,
    *,
    compartments: int = 5,
    score_samples: int = 8,
    score_loss: str = "cross-entropy",
    eligibility_decay: float = 1.0,
    likelihood_decay: float = 1.0,
    update_every: int | None = None,
    hidden_signal: str = "importance",
    warmup_compartments: int = 1,
    warmup_epochs: int = 0,
) -> AbstractClassifierEstimator:
    """The estimator called ``name`` (``exact``, ``surrogate``, ``score``, ``em`` or ``online-em``);
    ``score_samples`` and ``score_loss`` (``SCORE_LOSSES``) configure ``score``; ``compartments``
    configures ``em`` and ``online-em``; ``eligibility_decay``, ``likelihood_decay``, ``update_every`` and
    ``hidden_signal`` (``HIDDEN_SIGNALS``) configure ``online-em``; ``warmup_compartments`` and
    ``warmup_epochs`` (the K-curriculum, :class:`CompartmentSchedule`) configure ``em`` and ``online-em``.

    Example:
        ```python
        estimator = sd.recipes.yinyang.make_estimator("surrogate")   # also "exact", "score", "em", "online-em"
        ```
    """
    if score_loss not in SCORE_LOSSES:
        raise ValueError(f"score_loss must be one of {sorted(SCORE_LOSSES)}, got {score_loss!r}")
    if hidden_signal not in HIDDEN_SIGNALS:
        raise ValueError(f"hidden_signal must be one of {sorted(HIDDEN_SIGNALS)}, got {hidden_signal!r}")
    schedule = CompartmentSchedule(warmup_compartments, warmup_epochs)
    factories = {
        "exact": PathwiseClassifier,
        "surrogate": SurrogateClassifier,
        "score": lambda: ScoreFunctionClassifier(num_samples=score_samples, loss=SCORE_LOSSES[score_loss]),
        "em": lambda: MultiSampleEMClassifier(num_compartments=compartments, schedule=schedule),
        "online-em": lambda: OnlineEMClassifier(
            num_compartments=compartments, eligibility_decay=eligibility_decay, likelihood_decay=likelihood_decay,
            update_every=update_every, hidden_signal=HIDDEN_SIGNALS[hidden_signal](), schedule=schedule,
        ),
    }
    if name not in factories:
        raise ValueError(f"estimator must be one of {sorted(factories)}, got {name!r}")
    return factories[name]()


def load_split(split: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(input spike times in ms (size, 5), labels)`` of a split.

    Example:
        ```python
        inputs, labels = sd.recipes.yinyang.load_split("train", 10)   # input spike times in ms (10, 5), labels (10,)
        ```
    """
    data = yinyang(size, seed=SPLIT_SEEDS[split])
    return encode_first_spike_times(data.features, t_early=10.0, t_late=40.0, t_bias=20.0), data.labels


def make_step(estimator: AbstractClassifierEstimator, optimiser: optax.GradientTransformation):
    @eqx.filter_jit
    def step(model, opt_state, inputs, labels, key):
        loss, grads = estimator.loss_and_grad(model, inputs, labels, key)
        updates, opt_state = optimiser.update(grads, opt_state, eqx.filter(model, eqx.is_inexact_array))
        return eqx.apply_updates(model, updates), opt_state, loss

    return step


@eqx.filter_jit
def _evaluate_chunk(estimator, m, x, y, k):
    # at module level so that one compilation serves every epoch (a closure made per call recompiled each time)
    k_prob, k_pred, k_extra = jax.random.split(k, 3)
    return estimator.probabilities(m, x, k_prob), estimator.predict(m, x, k_pred), estimator.extra_metrics(m, x, y, k_extra)


def evaluate(estimator, model, inputs, labels, key, *, chunk: int = 500) -> dict:
    """Accuracy, log-likelihood of the labels and ECE on a whole split (in chunks).

    Example:
        ```python
        estimator = sd.estimators.PathwiseClassifier(hidden=4)
        model = estimator.init(5, 3, jax.random.key(0))
        inputs, labels = sd.recipes.yinyang.load_split("test", 10)
        sd.recipes.yinyang.evaluate(estimator, model, estimator.encode(inputs), labels, jax.random.key(1))   # accuracy, ...
        ```
    """
    probabilities, predictions, extras = [], [], {}
    for start in range(0, len(labels), chunk):
        key, sub = jax.random.split(key)
        p, y, extra = _evaluate_chunk(estimator, model, jnp.asarray(inputs[start : start + chunk]), jnp.asarray(labels[start : start + chunk]), sub)
        probabilities.append(np.asarray(p))
        predictions.append(np.asarray(y))
        for name, values in extra.items():
            extras.setdefault(name, []).append(np.asarray(values))
    metrics = classification_metrics(np.concatenate(probabilities), labels, np.concatenate(predictions))
    return {**metrics, **{name: float(np.mean(np.concatenate(v))) for name, v in extras.items()}}


def train(
    estimator: AbstractClassifierEstimator,
    *,
    epochs: int,
    seed: int = 0,
    learning_rate: float = 3e-3,
    batch_size: int = 50,
    sizes: tuple[int, int, int] = (5000, 1000, 1000),
    out: Path | None = None,
    log=print,
):
    """Train with Adam; returns ``(model, summary)`` and writes ``metrics.jsonl``/``summary.json`` to ``out``.

    Example:
        ```python
        estimator = sd.estimators.PathwiseClassifier(hidden=4)
        model, summary = sd.recipes.yinyang.train(estimator, epochs=1, sizes=(20, 10, 10), batch_size=10, log=lambda line: None)
        summary["test_accuracy"]
        ```
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}")
    estimator.check_epochs(epochs)
    splits = {name: load_split(name, size) for name, size in zip(SPLIT_SEEDS, sizes)}
    inputs = {name: estimator.encode(times) for name, (times, _) in splits.items()}
    labels = {name: y for name, (_, y) in splits.items()}
    key_init, key_train = jax.random.split(jax.random.key(seed))
    model = estimator.init(inputs["train"].shape[-1], 3, key_init)
    optimiser = optax.adam(learning_rate)
    opt_state = optimiser.init(eqx.filter(model, eqx.is_inexact_array))
    trainer, step = None, None
    rng = np.random.default_rng(seed)
    records, seconds = [], []
    for epoch in range(epochs):
        current = estimator.for_epoch(epoch)
        if current != trainer:  # a schedule (the EM K-curriculum) switched the estimator
            trainer, step = current, make_step(current, optimiser)
        if estimator.restarts_optimiser(epoch):
            opt_state = optimiser.init(eqx.filter(model, eqx.is_inexact_array))
        start, losses = time.perf_counter(), []
        order = rng.permutation(len(labels["train"]))
        for first in range(0, len(order) - batch_size + 1, batch_size):
            index = order[first : first + batch_size]
            key_train, key = jax.random.split(key_train)
            model, opt_state, loss = step(model, opt_state, jnp.asarray(inputs["train"][index]), jnp.asarray(labels["train"][index]), key)
            losses.append(loss)
        losses = [float(v) for v in losses]
        seconds.append(time.perf_counter() - start)
        key_train, key = jax.random.split(key_train)
        validation = evaluate(estimator, model, inputs["validation"], labels["validation"], key)
        records.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "seconds": seconds[-1], **{f"validation_{k}": v for k, v in validation.items()}})
        log(json.dumps(records[-1]))
    key_train, key = jax.random.split(key_train)
    test = evaluate(estimator, model, inputs["test"], labels["test"], key)
    summary = {
        "estimator": repr(estimator),
        "seed": seed,
        "epochs": epochs,
        "sizes": list(sizes),
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        **{f"test_{k}": v for k, v in test.items()},
        "epoch_seconds": seconds,
        "epoch_seconds_median": float(np.median(seconds)),
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return model, summary


def load_options(path: Path, parser: argparse.ArgumentParser) -> dict:
    """The options of a ``--config`` TOML file, checked against the parser's options."""
    with open(path, "rb") as f:
        options = tomllib.load(f)
    known = {action.dest for action in parser._actions} - {"help", "config"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"config {path}: unknown option(s) {unknown}; known: {sorted(known)}")
    if "estimator" in options and options["estimator"] not in LEARNING_RATES:
        raise ValueError(f"config {path}: estimator must be one of {sorted(LEARNING_RATES)}, got {options['estimator']!r}")
    return options


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=None, help="TOML file of options (command line overrides)")
    parser.add_argument("--estimator", choices=sorted(LEARNING_RATES))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--compartments", type=int, default=5, help="K for --estimator em")
    parser.add_argument("--warmup-compartments", type=int, default=1, help="K0 of the EM K-curriculum")
    parser.add_argument("--warmup-epochs", type=int, default=0, help="epochs at K0 before K (EM K-curriculum; 0: none)")
    parser.add_argument("--score-samples", type=int, default=8, help="samples per example for --estimator score")
    parser.add_argument("--score-loss", choices=sorted(SCORE_LOSSES), default="cross-entropy", help="loss of --estimator score")
    parser.add_argument("--eligibility-decay", type=float, default=1.0, help="kappa of --estimator online-em")
    parser.add_argument("--likelihood-decay", type=float, default=1.0, help="gamma of --estimator online-em")
    parser.add_argument("--update-every", type=int, default=None, help="bins between online updates (default: at the end)")
    parser.add_argument("--hidden-signal", choices=sorted(HIDDEN_SIGNALS), default="importance", help="online-em hidden learning signal")
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--train-size", type=int, default=5000)
    parser.add_argument("--test-size", type=int, default=1000)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options over those of ``--config`` over the defaults."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.config is not None:
        parser.set_defaults(**load_options(args.config, parser))
        args = parser.parse_args(argv)
    if args.estimator is None:
        parser.error("--estimator is required (on the command line or in --config)")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    estimator = make_estimator(
        args.estimator, compartments=args.compartments, score_samples=args.score_samples, score_loss=args.score_loss,
        eligibility_decay=args.eligibility_decay, likelihood_decay=args.likelihood_decay, update_every=args.update_every,
        hidden_signal=args.hidden_signal, warmup_compartments=args.warmup_compartments, warmup_epochs=args.warmup_epochs,
    )  # fmt: skip
    out = args.out if args.out is not None else Path("runs") / f"yinyang-{args.estimator}-seed{args.seed}"
    _, summary = train(
        estimator,
        epochs=args.epochs,
        seed=args.seed,
        learning_rate=args.learning_rate or LEARNING_RATES[args.estimator],
        sizes=(args.train_size, args.test_size, args.test_size),
        out=out,
    )
    print(json.dumps({k: v for k, v in summary.items() if k != "epoch_seconds"}))
    return summary


if __name__ == "__main__":
    main()
