"""The online three-factor form of multi-sample generalised EM (eligibility traces, global signals)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikesde._estimators import BernoulliSNN, LogMeanSignal, MultiSampleEM, OnlineMultiSampleEM
from spikesde._estimators.sampling_classifier import MultiSampleEMClassifier, OnlineEMClassifier

FIELDS = ("input_weights", "recurrent_weights", "bias")


def _setup():
    model = BernoulliSNN(
        jnp.array([[0.8, -0.5, 0.3]]),
        jnp.array([[0.3, 1.5, -0.4], [-0.8, 0.2, 0.6], [0.5, -0.3, 0.1]]),
        jnp.array([-0.2, 0.1, 0.4]),
        trace_decay=0.6,
    )
    inputs = jnp.array([[1.0], [0.0], [1.0], [1.0], [0.5], [0.0]])
    observed = jnp.zeros((6, 3)).at[:, 2].set(jnp.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0]))
    visible = jnp.array([False, False, True])  # neurons 0, 1 hidden; neuron 2 observed
    return model, inputs, observed, visible


def _assert_close(a, b, rtol=1e-12, atol=1e-13):
    for name in FIELDS:
        np.testing.assert_allclose(np.asarray(getattr(a, name)), np.asarray(getattr(b, name)), rtol=rtol, atol=atol, err_msg=name)


def _prefix_log_prob(model, inputs, raster, t):
    """``log p`` of the first ``t`` steps, by the model's own (autodiff-able) likelihood."""
    return model.log_prob(inputs[:t], raster[:t]) if t > 0 else 0.0


@pytest.mark.parametrize("k", [1, pytest.param(3, marks=pytest.mark.slow)])
def test_end_update_equals_batch_em(x64, k):
    model, inputs, observed, visible = _setup()
    key = jax.random.key(7)
    result = OnlineMultiSampleEM(k).run(model, inputs, observed, visible, key)
    bound, grad, weights = MultiSampleEM(k).value_and_grad(model, inputs, observed, visible, key)
    _assert_close(result.update, grad)
    assert float(result.bound) == pytest.approx(float(bound), rel=1e-14)
    np.testing.assert_allclose(result.weights, weights, rtol=1e-13)
    _assert_close(result.model, model, rtol=0, atol=0)  # learning_rate 0: the weights stay


def test_log_mean_signal_k1_equals_score_gradient(x64):
    model, inputs, observed, visible = _setup()
    online = OnlineMultiSampleEM(1, hidden_signal=LogMeanSignal(baseline_decay=None))
    result = online.run(model, inputs, observed, visible, jax.random.key(3))
    raster = result.rasters[0]

    def surrogate(m):  # grad log p(x || h) + log p(x || h) grad log p(h || x): the score function of E log p(x || h)
        per_neuron = m.log_prob_per_neuron(inputs, raster)
        log_x, log_h = jnp.sum(jnp.where(visible, per_neuron, 0.0)), jnp.sum(jnp.where(visible, 0.0, per_neuron))
        return log_x + jax.lax.stop_gradient(log_x) * log_h

    _assert_close(result.update, eqx.filter_grad(surrogate)(model))


def test_running_baseline_with_no_memory_cancels_the_hidden_signal(x64):
    # baseline_decay 0: b = E^2 L / E^2 = L wherever the trace E is non-zero, so (L - b) E = 0
    model, inputs, observed, visible = _setup()
    result = OnlineMultiSampleEM(4, hidden_signal=LogMeanSignal(baseline_decay=0.0)).run(model, inputs, observed, visible, jax.random.key(1))
    assert np.all(np.asarray(result.update.bias)[:2] == 0) and np.all(np.asarray(result.update.recurrent_weights)[:, :2] == 0)
    assert np.all(np.asarray(result.update.bias)[2] != 0)
    damped = OnlineMultiSampleEM(4, hidden_signal=LogMeanSignal(0.9)).run(model, inputs, observed, visible, jax.random.key(1))
    assert all(np.all(np.isfinite(getattr(damped.update, name))) for name in FIELDS)


@pytest.mark.slow  # differentiates six prefix likelihoods: ~10 s of compilation on the loaded machine
def test_eligibility_trace_is_the_filtered_log_likelihood_derivative(x64):
    model, inputs, observed, visible = _setup()
    kappa, raster = 0.7, OnlineMultiSampleEM(1).run(model, inputs, observed, visible, jax.random.key(2)).rasters[0]
    traces = OnlineMultiSampleEM(1, eligibility_decay=kappa).eligibility_traces(model, inputs, raster)
    steps = inputs.shape[0]

    def filtered(m):  # sum_t kappa^(T-1-t) log p(s[t] | past), each term a difference of prefix likelihoods
        terms = [_prefix_log_prob(m, inputs, raster, t + 1) - _prefix_log_prob(m, inputs, raster, t) for t in range(steps)]
        return sum(kappa ** (steps - 1 - t) * term for t, term in enumerate(terms))

    _assert_close(traces, eqx.filter_grad(filtered)(model))


def test_eligibility_trace_by_hand(x64):
    # One neuron with a self-connection: u[t] = b + w z[t], z[t+1] = a z[t] + s[t];
    # e_b = sum_t kappa^(T-1-t) (s[t] - sigmoid(u[t])), e_w = sum_t kappa^(T-1-t) z[t] (s[t] - sigmoid(u[t])).
    b, w, a, kappa = -0.3, 0.9, 0.5, 0.8
    spikes = np.array([1.0, 0.0, 1.0])
    model = BernoulliSNN(jnp.zeros((1, 1)), jnp.array([[w]]), jnp.array([b]), trace_decay=a)
    z, e_b, e_w = 0.0, 0.0, 0.0
    for s in spikes:
        error = s - 1 / (1 + np.exp(-(b + w * z)))
        e_b, e_w = kappa * e_b + error, kappa * e_w + z * error
        z = a * z + s
    traces = OnlineMultiSampleEM(1, eligibility_decay=kappa).eligibility_traces(model, jnp.zeros((3, 1)), jnp.asarray(spikes)[:, None])
    assert float(traces.bias[0]) == pytest.approx(e_b, rel=1e-14)
    assert float(traces.recurrent_weights[0, 0]) == pytest.approx(e_w, rel=1e-14)


def test_online_updates_apply_within_the_sequence(x64):
    # K = 1, kappa = gamma = 1, an update after steps 3 and 6 with learning rate eta: the first update
    # is grad log p of steps 0-2 at theta0; the second is the trace at step 6, which holds the
    # derivatives of steps 0-2 taken at theta0 and those of steps 3-5 taken at theta1.
    model, inputs, observed, visible = _setup()
    eta, key = 0.5, jax.random.key(4)
    result = OnlineMultiSampleEM(1, update_every=3).run(model, inputs, observed, visible, key, learning_rate=eta)
    frozen = OnlineMultiSampleEM(1, update_every=3).run(model, inputs, observed, visible, key)
    raster = result.rasters[0]
    np.testing.assert_array_equal(raster[:3], frozen.rasters[0][:3])  # same weights, same keys until the first update

    def grad(m, t0, t1):
        return eqx.filter_grad(lambda p: _prefix_log_prob(p, inputs, raster, t1) - _prefix_log_prob(p, inputs, raster, t0))(m)

    first = grad(model, 0, 3)
    theta1 = jax.tree_util.tree_map(lambda p, d: p + eta * d, model, first)
    second = jax.tree_util.tree_map(jnp.add, first, grad(theta1, 3, 6))
    _assert_close(result.update, jax.tree_util.tree_map(jnp.add, first, second))
    _assert_close(result.model, jax.tree_util.tree_map(lambda p, d: p + eta * d, theta1, second))


@pytest.mark.slow  # compiles both classifiers' batch gradients: ~15 s on the loaded machine
def test_online_classifier_defaults_match_batch_em():
    kwargs = dict(hidden=3, num_compartments=3, eval_samples=2, duration=10.0)
    online, batch = OnlineEMClassifier(**kwargs), MultiSampleEMClassifier(**kwargs)
    model = online.init(5, 3, jax.random.key(0))
    inputs = jnp.asarray(online.encode(np.array([[12.0, 15.0, 3.0, 9.0, 20.0], [30.0, 2.0, 8.0, 25.0, 20.0]])))
    labels, key = jnp.array([0, 2]), jax.random.key(1)
    loss, grads = online.loss_and_grad(model, inputs, labels, key)
    loss_batch, grads_batch = batch.loss_and_grad(model, inputs, labels, key)
    assert float(loss) == pytest.approx(float(loss_batch), rel=1e-5)
    _assert_close(grads, grads_batch, rtol=1e-5, atol=1e-6)
    online = OnlineEMClassifier(**kwargs, eligibility_decay=0.9, likelihood_decay=0.9, update_every=2, hidden_signal=LogMeanSignal(),
                                output_feedback=False)  # fmt: skip
    model = online.init(5, 3, jax.random.key(0))
    loss, grads = jax.jit(online.loss_and_grad)(model, inputs, labels, key)
    assert np.isfinite(float(loss)) and all(np.all(np.isfinite(getattr(grads, name))) for name in FIELDS)
    # no output-to-hidden weights (rows: outputs 3-5, columns: hidden 0-2), and none trained
    assert np.all(np.asarray(model.recurrent_weights)[3:, :3] == 0) and np.all(np.asarray(grads.recurrent_weights)[3:, :3] == 0)
    assert np.any(np.asarray(grads.recurrent_weights)[:3, 3:] != 0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_compartments=0), "num_compartments"),
        (dict(num_compartments=2, eligibility_decay=1.5), "eligibility_decay"),
        (dict(num_compartments=2, likelihood_decay=-0.1), "likelihood_decay"),
        (dict(num_compartments=2, update_every=0), "update_every"),
    ],
)
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        OnlineMultiSampleEM(**kwargs)


def test_baseline_decay_error():
    with pytest.raises(ValueError, match="baseline_decay"):
        LogMeanSignal(baseline_decay=2.0)
