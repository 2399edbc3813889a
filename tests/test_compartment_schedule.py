"""The K-curriculum as an option object (``CompartmentSchedule``) for the EM estimators and classifiers."""

import argparse
import dataclasses
import importlib.util
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd
from spikesde._experiments import yinyang as experiment

SMALL = dict(hidden=4, duration=20.0, dt=2.5, target_start=10.0)
_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "yinyang.py"
_SPEC = importlib.util.spec_from_file_location("yinyang_benchmark", _PATH)
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)


def test_compartments_per_epoch_and_the_restart():
    schedule = sd.estimators.CompartmentSchedule(warmup_compartments=2, warmup_epochs=3)
    assert [schedule.compartments(e, 10) for e in range(5)] == [2, 2, 2, 10, 10]
    assert [schedule.restarts(e) for e in range(5)] == [False, False, False, True, False]
    assert not any(sd.estimators.CompartmentSchedule(2, 3, restart_optimiser=False).restarts(e) for e in range(5))
    none = sd.estimators.CompartmentSchedule()
    assert [none.compartments(e, 10) for e in range(3)] == [10, 10, 10] and not any(none.restarts(e) for e in range(3))


@pytest.mark.parametrize(
    "estimator",
    [sd.estimators.MultiSampleEM(10), sd.estimators.OnlineMultiSampleEM(10, 0.9, 0.8, 4), sd.estimators.MultiSampleEMClassifier(num_compartments=10, **SMALL),
     sd.estimators.OnlineEMClassifier(num_compartments=10, eligibility_decay=0.9, **SMALL)],
    ids=lambda e: type(e).__name__,
)  # fmt: skip
def test_at_changes_only_k(estimator):
    schedule = sd.estimators.CompartmentSchedule(1, 2)
    warm = schedule.at(estimator, 1)
    assert type(warm) is type(estimator) and warm.num_compartments == 1
    assert dataclasses.replace(warm, num_compartments=10) == estimator
    assert schedule.at(estimator, 2) is estimator


def test_classifiers_follow_their_schedule():
    for kind in (sd.estimators.MultiSampleEMClassifier, sd.estimators.OnlineEMClassifier):
        estimator = kind(num_compartments=10, schedule=sd.estimators.CompartmentSchedule(1, 3), **SMALL)
        assert [estimator.for_epoch(e).num_compartments for e in range(5)] == [1, 1, 1, 10, 10]
        assert [estimator.restarts_optimiser(e) for e in range(5)] == [False, False, False, True, False]
        assert kind(num_compartments=10, **SMALL).for_epoch(0).num_compartments == 10
    with pytest.raises(ValueError, match="warmup_epochs must be less than"):
        sd.estimators.MultiSampleEMClassifier(num_compartments=10, schedule=sd.estimators.CompartmentSchedule(1, 3)).check_epochs(3)
    sd.estimators.PathwiseClassifier().check_epochs(1)  # no schedule: any number of epochs


def test_errors_name_the_parameter():
    with pytest.raises(ValueError, match="num_compartments"):
        sd.estimators.CompartmentSchedule(warmup_compartments=0)
    with pytest.raises(ValueError, match="warmup_epochs"):
        sd.estimators.CompartmentSchedule(warmup_epochs=-1)
    with pytest.raises(ValueError, match="warmup_epochs"):
        sd.estimators.CompartmentSchedule(warmup_epochs=1.5)


def test_config_and_command_line_set_the_schedule():
    path = Path(__file__).resolve().parents[1] / "configs" / "yinyang" / "online_em.toml"
    args = experiment.parse_args(["--config", str(path), "--compartments", "10", "--warmup-epochs", "3"])
    estimator = experiment.make_estimator(args.estimator, compartments=args.compartments, eligibility_decay=args.eligibility_decay,
                                          warmup_compartments=args.warmup_compartments, warmup_epochs=args.warmup_epochs)  # fmt: skip
    assert isinstance(estimator, sd.estimators.OnlineEMClassifier) and estimator.schedule == sd.estimators.CompartmentSchedule(1, 3)
    assert estimator.for_epoch(0).num_compartments == 1 and estimator.for_epoch(3).num_compartments == 10


def test_benchmark_uses_the_schedule_for_both_forms():
    args = argparse.Namespace(warm_start=[1, 3], no_output_feedback=False, eligibility_decay=0.95, likelihood_decay=0.95, update_every=4)
    for form in ("batch", "online"):
        assert bench._em_estimator(form, 10, args).schedule == sd.estimators.CompartmentSchedule(1, 3)
    assert bench._em_estimator("batch", 10, args, warmup_epochs=2).schedule == sd.estimators.CompartmentSchedule(1, 2)


@pytest.mark.slow  # two eager EM gradients (100 s at load 16 on 2 cores)
def test_warm_up_epochs_train_exactly_as_the_k0_classifier():
    scheduled = sd.estimators.MultiSampleEMClassifier(num_compartments=5, schedule=sd.estimators.CompartmentSchedule(2, 1), **SMALL)
    plain = sd.estimators.MultiSampleEMClassifier(num_compartments=2, **SMALL)
    model = plain.init(5, 3, jax.random.key(1))
    times = np.array([[12.0, 3.0, 18.0, 7.0, 10.0], [5.0, 15.0, 9.0, 1.0, 10.0], [8.0, 8.0, 2.0, 14.0, 10.0]])
    inputs, labels = jnp.asarray(plain.encode(times)), jnp.array([0, 2, 1])
    loss_a, grad_a = plain.loss_and_grad(model, inputs, labels, jax.random.key(3))
    loss_b, grad_b = scheduled.for_epoch(0).loss_and_grad(model, inputs, labels, jax.random.key(3))
    assert float(loss_a) == float(loss_b)
    np.testing.assert_array_equal(grad_a.recurrent_weights, grad_b.recurrent_weights)


@pytest.mark.slow  # compiles two training steps and the evaluation (160 s at load 16 on 2 cores)
def test_training_loop_switches_k_and_restarts_adam(monkeypatch):
    seen, restarts = [], []
    make_step = experiment.make_step

    def spy(estimator, optimiser):
        seen.append(estimator.num_compartments)
        return make_step(estimator, optimiser)

    monkeypatch.setattr(experiment, "make_step", spy)
    estimator = sd.estimators.MultiSampleEMClassifier(num_compartments=3, eval_samples=2, schedule=sd.estimators.CompartmentSchedule(1, 2), **SMALL)
    original = estimator.restarts_optimiser
    monkeypatch.setattr(type(estimator), "restarts_optimiser", lambda self, e: restarts.append(e) or original(e))
    _, summary = experiment.train(estimator, epochs=3, sizes=(100, 50, 50), log=lambda line: None)
    assert seen == [1, 3] and restarts == [0, 1, 2] and summary["epochs"] == 3
    with pytest.raises(ValueError, match="warmup_epochs must be less than"):
        experiment.train(estimator, epochs=2, sizes=(100, 50, 50))
