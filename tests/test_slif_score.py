"""The score-function estimator of the continuous-time SLIF against exact pathwise gradients
(issue 11, acceptance 3), and the exactness of the spike-buffer likelihood it rests on."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd

# The input-current task (reference experiment (a)) without membrane noise: first 3 spikes on [0, 5].
T0, T1, DT, K = 0.0, 5.0, 0.01, 3
C = 1.0
TARGET = jnp.array([0.5, 1.0, 1.5])


def _neuron(c, alpha=0.0):
    return sd.SLIF(input_current=c, sigma_v=0.0, alpha=alpha)


def _loss(spikes):
    spikes = spikes[0]  # one neuron's buffer
    # Missing spikes count as t1, so the loss is continuous in the spike times and the pathwise
    # gradient is unbiased (no spike appears or vanishes with a jump in the loss).
    return jnp.sum((jnp.minimum(spikes, T1) - TARGET) ** 2)


def _model(c=C, alpha=0.0, stepper=None):
    return sd.estimators.SLIFSpikeTrainModel(_neuron(c, alpha), t0=T0, t1=T1, dt=DT, max_spikes=K, stepper=stepper)


@pytest.fixture(scope="module")
def pathwise_and_score():
    """Per sample: pathwise dL/dc (forward mode through simulate) and the score d log p / dc."""
    with jax.enable_x64(True):

        def one(key):
            def simulate(c):
                return sd.simulate(_neuron(c), t0=T0, t1=T1, dt=DT, key=key, max_spikes=K, on_overflow="ignore").spike_times

            spikes, tangent = jax.jvp(simulate, (C,), (1.0,))
            pathwise = jax.jvp(_loss, (spikes,), (tangent,))[1]
            score = jax.grad(lambda c: _model(c).log_prob(None, spikes))(C)
            return pathwise, score

        out = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(7), 12000))
        return tuple(np.asarray(x) for x in out)


@pytest.mark.slow  # statistical (issue 25: `make test` keeps the exact checks)
def test_score_has_mean_zero(pathwise_and_score):
    # E[d log p / dc] = 0 holds only if log p is the exact density of what simulate draws.
    _, score = pathwise_and_score
    assert abs(score.mean()) < 4 * score.std() / np.sqrt(score.size)


@pytest.mark.slow  # statistical (issue 25: `make test` keeps the exact checks)
def test_score_function_agrees_with_pathwise_gradient_and_variance_falls_as_one_over_m(x64, pathwise_and_score):
    pathwise, _ = pathwise_and_score
    exact, exact_se = pathwise.mean(), pathwise.std() / np.sqrt(pathwise.size)
    model = _model()

    def estimates(m, repeats, seed):
        estimator = sd.estimators.ScoreFunction(m, sd.estimators.LeaveOneOut())
        grad = lambda key: estimator.value_and_grad(_loss, model, None, key)[1].model.input_current.value  # noqa: E731
        return np.asarray(jax.jit(jax.vmap(grad))(jax.random.split(jax.random.key(seed), repeats))).ravel()

    small, large = estimates(4, 1500, 1), estimates(16, 375, 2)
    for sample in (small, large):
        se = sample.std() / np.sqrt(sample.size)
        assert abs(sample.mean() - exact) < 4 * np.hypot(se, exact_se), (sample.mean(), se, exact, exact_se)
    # Leave-one-out with M samples: Var = (Var((L - mu) g) + Var(L) E[g^2] / (M - 1)) / M, so the
    # ratio is 4 (1 + a/3) / (1 + a/15) with a between 0 and about 1: 4 to 5.
    ratio = small.var() / large.var()
    assert 3.0 < ratio < 6.5, ratio


def test_alpha_warns_and_noise_is_refused():
    with pytest.warns(RuntimeWarning, match="biased"):
        _model(alpha=0.03)
    with pytest.raises(ValueError, match="sigma_v"):
        sd.estimators.SLIFSpikeTrainModel(sd.SLIF(sigma_v=0.1, alpha=0.0), t0=T0, t1=T1, dt=DT, max_spikes=K)
    with pytest.raises(ValueError, match="spike_times must have shape"):
        sd.likelihood.buffer_log_likelihood(sd.SLIF(2, alpha=0.0), jnp.full(3, jnp.inf), t0=T0, t1=T1, dt=DT)
