"""The gradient estimator as an option of Trainer and fit: pathwise (default) and score function."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import spikesde as sd
from spikesde._likelihood.core_path import buffer_log_likelihood

T1 = 5.0
SIM = sd.Simulation(t0=0.0, t1=T1, dt=0.01, max_spikes=3, keep_first=True)
MODEL = sd.SLIF(1, 1.0, sigma_v=0.0, alpha=0.0)
# The reference experiment's baseline loss: squared error of the batch's mean first three spike
# times (a batch loss, not a mean over samples: the leave-one-out baselines are batch losses of the
# other samples). A missing spike counts as t1, so the pathwise gradient is unbiased too.
LOSS = sd.FirstSpikeTimeLoss(num_spikes=3, t1=T1)
DATA = jnp.array([[[0.25, 0.5, 0.75]]])


def _trainer(estimator, model_samples=8):
    return sd.Trainer(MODEL, learn=["input_current.value"], loss=LOSS, optimizer=optax.adam(0.05),
                      simulation=SIM, model_samples=model_samples, estimator=estimator)  # fmt: skip


def _gradients(trainer, repeats, seed):
    params = trainer.init(jax.random.key(0)).params
    data = DATA

    def one(key):
        return trainer.estimator.value_and_grad(trainer, params, key, data)[1]["input_current.value"]

    return np.asarray(jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(seed), repeats))).ravel()


@pytest.mark.slow
def test_score_function_gradient_agrees_with_pathwise_in_the_trainer(x64):
    # Both estimate d/dc E[D(8 samples)] of a batch loss; the score function with leave-one-out
    # batch baselines must agree with the exact pathwise gradient within the standard errors.
    pathwise = _gradients(_trainer(None), 500, 1)
    score = _gradients(_trainer(sd.ScoreFunctionGradient()), 1500, 2)
    se = np.hypot(pathwise.std() / np.sqrt(pathwise.size), score.std() / np.sqrt(score.size))
    assert abs(pathwise.mean()) > 10 * se  # a gradient that the comparison can resolve
    assert abs(score.mean() - pathwise.mean()) < 4 * se, (score.mean(), pathwise.mean(), se)


@pytest.mark.slow  # statistical (issue 25: `make test` keeps the exact checks)
def test_fit_with_the_score_function_learns_the_current():
    truth = sd.SLIF(1, 1.5, sigma_v=0.0, alpha=0.0)
    result = sd.fit(
        MODEL, sd.Simulated(truth, 64, jax.random.key(1)), learn=[sd.Learn("input_current.value", lower=0.0)],
        loss=LOSS, optimizer=optax.adam(0.05),
        simulation=SIM, steps=40, key=jax.random.key(0), model_samples=16, progress=False,
        estimator=sd.ScoreFunctionGradient(),
    )  # fmt: skip
    c = float(result.values["input_current.value"])
    assert abs(c - 1.5) < 0.15, c


def test_estimator_option_errors_and_fingerprint():
    with pytest.raises(TypeError, match="estimator must be an AbstractGradientEstimator"):
        _trainer("score")
    with pytest.raises(ValueError, match="model_samples >= 2"):
        _trainer(sd.ScoreFunctionGradient(), model_samples=1)
    with pytest.raises(ValueError, match="sigma_v"):
        sd.Trainer(sd.SLIF(1, 1.0, sigma_v=0.2), learn=["input_current.value"], loss=LOSS,
                   optimizer=optax.adam(0.05), simulation=SIM, model_samples=4, estimator=sd.ScoreFunctionGradient())  # fmt: skip
    with pytest.raises(TypeError, match="SLIF"):
        sd.Trainer(sd.LIF(1), learn=["input_current.value"], loss=LOSS, optimizer=optax.adam(0.05),
                   simulation=SIM, model_samples=4, estimator=sd.ScoreFunctionGradient())  # fmt: skip
    from spikesde._training.fit import _fingerprint

    trainer = _trainer(None)
    args = (MODEL, ["input_current.value"], LOSS, None, SIM, trainer, "auto", np.zeros(1), None, jax.random.key(0))
    default, pathwise, score = (_fingerprint(*args, e)["training"] for e in (None, sd.PathwiseGradient(), sd.ScoreFunctionGradient()))
    assert default == pathwise != score  # runs from before the option keep their fingerprint


def test_maximum_likelihood_step_is_the_exact_gradient_of_the_data_log_likelihood(x64):
    # Sinusoidal input, three learned values behind bounds (reparametrised): the step's loss is
    # -mean log p(data) of the core's buffers and its gradient agrees with central differences.
    sim = sd.Simulation(t0=0.0, t1=2.0, dt=0.01, max_spikes=16)

    def neuron(offset, mu_v, v_reset):
        return sd.SLIF(1, sd.SinusoidalCurrent(offset, 1.0, 2.0), mu_v=mu_v, v_reset=v_reset, sigma_v=0.0, alpha=0.0)

    data = sim.sample(neuron(1.5, 15.0, 1.4), jax.random.key(3), 6)[0]
    assert int(jnp.sum(jnp.isfinite(data))) >= 30  # several spikes per train
    learn = [sd.Learn("input_current.offset", lower=0.0), sd.Learn("mu_v", lower=0.0, upper=50.0), sd.Learn("v_reset", lower=0.0)]
    trainer = sd.Trainer(neuron(1.3, 13.0, 1.2), learn=learn, loss=LOSS, optimizer=optax.adam(0.05), simulation=sim,
                         model_samples=2, estimator=sd.MaximumLikelihood())  # fmt: skip
    params = trainer.init(jax.random.key(0)).params
    loss, grads, (spikes, _) = eqx.filter_jit(trainer.estimator.value_and_grad)(trainer, params, jax.random.key(1), data)
    assert spikes.shape == (2, 1, 16)

    @jax.jit
    def nll(p):
        one = lambda s: buffer_log_likelihood(trainer.model_at(p), s, t0=0.0, t1=2.0, dt=0.01)  # noqa: E731
        return -jnp.mean(jax.vmap(one)(data))

    np.testing.assert_allclose(loss, nll(params), rtol=1e-12)
    for path in params:
        h = 1e-6
        up = {**params, path: params[path] + h}
        down = {**params, path: params[path] - h}
        fd = (nll(up) - nll(down)) / (2 * h)
        assert abs(float(grads[path])) > 1e-3, path  # a gradient the check can resolve
        np.testing.assert_allclose(grads[path], fd, rtol=1e-6, err_msg=path)


def test_maximum_likelihood_needs_a_noise_free_slif():
    with pytest.raises(ValueError, match="sigma_v"):
        sd.Trainer(sd.SLIF(1, 1.0, sigma_v=0.2), learn=["input_current.value"], loss=LOSS,
                   optimizer=optax.adam(0.05), simulation=SIM, model_samples=2, estimator=sd.MaximumLikelihood())  # fmt: skip


def test_config_training_estimator_builds_the_option_and_names_the_key():
    from pathlib import Path

    from spikesde.experiments import ConfigError, load_config
    from spikesde._experiments.build import build_estimator, build_model

    path = Path(__file__).resolve().parent.parent / "configs" / "slif_mu_v_reset_likelihood.toml"
    config = load_config(path)
    assert isinstance(build_estimator(config, build_model(config.model)), sd.MaximumLikelihood)
    noisy = load_config(path, ["model.sigma_v=0.25"])
    with pytest.raises(ConfigError, match=r"training\.estimator: maximum_likelihood: .*sigma_v"):
        build_estimator(noisy, build_model(noisy.model))
    with pytest.raises(ConfigError, match="training.estimator"):
        load_config(path, ['training.estimator="newton"'])
    pathwise = load_config(path, ['training.estimator="pathwise"'])
    assert isinstance(build_estimator(pathwise, build_model(pathwise.model)), sd.PathwiseGradient)


def _escape_trains(current, n_trials, seed, t1=1.0, dt=1e-4):
    """Trains of a set-to-rest SLIF from the grid sampler (no model samples in the fit)."""
    from spikesde._likelihood.sampler import spike_times_from_grid

    model = sd.SLIF(1, current, mu_v=20.0, alpha=0.0, tau_s=0.1, reset_rule=sd.SetReset(0.0))
    fired = jax.jit(jax.vmap(lambda k: sd.likelihood.sample_spikes(model, None, t0=0.0, t1=t1, dt=dt, key=k)))(
        jax.random.split(jax.random.key(seed), n_trials)
    )
    return sd.SpikeTrains([[t] for t in spike_times_from_grid(fired, 0.0, dt)], 0.0, t1)


def test_fit_by_maximum_likelihood_needs_no_loss_and_draws_no_samples(x64, monkeypatch):
    trains = _escape_trains(1.5, 16, seed=4)
    sim = sd.Simulation(t0=0.0, t1=1.0, dt=1e-3, max_spikes=64, dtype=np.float64)

    def no_samples(*args, **kwargs):
        raise AssertionError("the maximum-likelihood fit drew model samples")

    monkeypatch.setattr(sd.Simulation, "sample", no_samples)
    start = sd.SLIF(1, 1.0, mu_v=20.0, alpha=0.0, tau_s=0.1, reset_rule=sd.SetReset(0.0))
    result = sd.fit(start, trains, learn=["input_current.value"], simulation=sim, key=jax.random.key(0),
                    estimator=sd.MaximumLikelihood(dt=1e-3))  # fmt: skip
    assert result.converged and result.iterations < 50
    estimate, error = float(result.values["input_current.value"]), float(result.standard_errors["input_current.value"])
    assert abs(estimate - 1.5) < 4 * error
    # The standard error is the inverse observed information: the second central difference at the optimum.
    grid = sd.likelihood.TrialGrid.from_spike_trains(trains, 1e-3)
    log_l = jax.jit(lambda c, g: sd.likelihood.log_likelihood(eqx.tree_at(lambda m: m.input_current.value, start, c), g))
    h = 1e-3
    second = (float(log_l(estimate + h, grid)) - 2 * float(log_l(estimate, grid)) + float(log_l(estimate - h, grid))) / h**2
    assert error == pytest.approx(1 / np.sqrt(-second), rel=1e-4)
    assert abs(float(jax.grad(log_l)(jnp.asarray(estimate), grid))) < 1e-4 * np.sqrt(-second)
    with pytest.raises(TypeError, match="loss=, optimizer= and steps="):
        sd.fit(start, trains, learn=["input_current.value"], simulation=sim, key=jax.random.key(0))


def test_profile_likelihood_finds_a_step_breakpoint(x64):
    trains = _escape_trains(sd.PiecewiseConstantCurrent([0.5], [1.2, 1.8]), 16, seed=5)
    model = sd.SLIF(1, sd.PiecewiseConstantCurrent([0.3], [1.5, 1.5]), mu_v=20.0, alpha=0.0, tau_s=0.1, reset_rule=sd.SetReset(0.0))
    profile = sd.likelihood.profile_likelihood(model, trains, path="input_current.breakpoints", values=[[b] for b in np.arange(0.3, 0.71, 0.05)],
                                    learn=["input_current.values"], dt=1e-3)  # fmt: skip
    assert abs(float(profile.best[0]) - 0.5) < 0.06
    assert profile.interval[0] <= float(profile.best[0]) <= profile.interval[1]
    np.testing.assert_allclose(profile.fit.values["input_current.values"], [1.2, 1.8], atol=4 * profile.fit.standard_errors["input_current.values"].max())
