"""The gradient estimator as an option of Trainer and fit: pathwise (default) and score function."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import spikesde as sd

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
