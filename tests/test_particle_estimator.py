"""ParticleLikelihood: the particle-filter likelihood as a training objective (Trainer, fit, config)."""

from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import spikesde as sd
from spikesde._training.particle_estimator import trains_log_likelihood

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "slif_particle.toml"
LOSS = sd.FirstSpikeTimeLoss(num_spikes=3, t1=1.0)


def neuron(offset, mu_v, v_reset, sigma_v=0.4):
    return sd.SLIF(1, sd.SinusoidalCurrent(offset, 1.0, 2.0), mu_v=mu_v, v_reset=v_reset, sigma_v=sigma_v, alpha=0.0)


def test_step_is_the_gradient_of_the_filters_mean_log_likelihood_with_common_random_numbers(x64):
    sim = sd.Simulation(t0=0.0, t1=1.0, dt=0.01, max_spikes=16)
    data = sim.sample(neuron(1.5, 15.0, 1.4), jax.random.key(3), 4)[0]
    learn = [sd.Learn("input_current.offset", lower=0.0), sd.Learn("mu_v", lower=0.0, upper=50.0), sd.Learn("v_reset", lower=0.0)]
    estimator = sd.ParticleLikelihood(particles=16, ess_threshold=0.0, seed=2)
    trainer = sd.Trainer(neuron(1.3, 13.0, 1.2), learn=learn, loss=LOSS, optimizer=optax.adam(0.05), simulation=sim,
                         model_samples=2, estimator=estimator)  # fmt: skip
    params = trainer.init(jax.random.key(0)).params
    step = eqx.filter_jit(trainer.estimator.value_and_grad)
    loss, grads, _ = step(trainer, params, jax.random.key(1), data)
    again, _, _ = step(trainer, params, jax.random.key(9), data)
    assert loss == again  # the filter's randomness is the seed's, not the step's key

    pf = sd.likelihood.ParticleFilter(particles=16, ess_threshold=0.0)

    @jax.jit
    def nll(p):
        return -jnp.mean(trains_log_likelihood(pf, trainer.model_at(p), data[:, 0], jax.random.key(2), t0=0.0, t1=1.0, dt=0.01))

    np.testing.assert_allclose(loss, nll(params), rtol=1e-12)
    for path in params:
        h = 1e-6
        fd = (nll({**params, path: params[path] + h}) - nll({**params, path: params[path] - h})) / (2 * h)
        assert abs(float(grads[path])) > 1e-3, path
        np.testing.assert_allclose(grads[path], fd, rtol=1e-5, err_msg=path)


def test_needs_one_neuron_and_checks_its_fields():
    sim = sd.Simulation(t0=0.0, t1=1.0, dt=0.01, max_spikes=4)
    with pytest.raises(ValueError, match="n_neurons"):
        sd.Trainer(sd.SLIF(2, 1.0, sigma_v=0.2), learn=["mu_v"], loss=LOSS, optimizer=optax.adam(0.05), simulation=sim,
                   model_samples=2, estimator=sd.ParticleLikelihood())  # fmt: skip
    with pytest.raises(ValueError, match="particles"):
        sd.ParticleLikelihood(particles=-3)
    with pytest.raises(ValueError, match="ess_threshold"):
        sd.ParticleLikelihood(ess_threshold=2.0)


def test_config_builds_the_option_and_names_the_key():
    from spikesde.experiments import ConfigError, load_config
    from spikesde._experiments.build import build_estimator, build_model

    config = load_config(CONFIG)
    estimator = build_estimator(config, build_model(config.model))
    assert estimator == sd.ParticleLikelihood(particles=128, ess_threshold=0.5, seed=0)
    bad = load_config(CONFIG, ["training.ess_threshold=1.5"])
    with pytest.raises(ConfigError, match=r"training\.ess_threshold"):
        build_estimator(bad, build_model(bad.model))
