"""The structured signature of spike trains against signax on the padded Marcus lift."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import signax

from spikesde import ExpectedSignatureLoss, marcus_lift, spike_events, spike_train_signature

LIFT = dict(t0=0.0, t1=1.0, time_scale=0.7, count_scale=0.4, taper=0.1)


def _random_trains(seed, shape=(5, 3, 4), p_missing=0.3):
    """Sorted per-neuron spike buffers on [0, 1.2] (some after t1 = 1), padded with +inf."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(0, 1.2, shape)
    s[rng.uniform(size=shape) < p_missing] = np.inf
    return np.sort(s, axis=-1)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_structured_signature_equals_signax_on_the_lift(x64, depth):
    spikes = jnp.asarray(_random_trains(depth))
    reference = signax.signature(marcus_lift(spikes, **LIFT), depth)
    ours = spike_train_signature(spikes, depth=depth, **LIFT)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-10)
    np.testing.assert_allclose(spike_train_signature(spikes, depth=depth, mean=True, **LIFT), reference.mean(0), atol=1e-10)


def test_structured_signature_keeps_leading_axes_and_max_events(x64):
    spikes = jnp.asarray(_random_trains(7, (2, 3, 3, 4)))
    reference = signax.signature(marcus_lift(spikes, **LIFT).reshape(6, -1, 4), 3).reshape(2, 3, -1)
    np.testing.assert_allclose(spike_train_signature(spikes, depth=3, **LIFT), reference, atol=1e-10)
    most = int(np.max(np.sum(np.asarray(spikes) <= 1.0, axis=(-2, -1))))
    np.testing.assert_allclose(spike_train_signature(spikes, depth=3, max_events=most, **LIFT), reference, atol=1e-10)
    with pytest.raises(eqx.EquinoxRuntimeError, match="max_events"):
        spike_train_signature(spikes, depth=3, max_events=most - 1, **LIFT)


def test_spike_events_merge_in_time_order():
    spikes = jnp.array([[0.3, 2.0], [1.0, np.inf]])
    times, axes, heights = spike_events(spikes, t0=0.0, t1=1.5)
    np.testing.assert_allclose(times, [0.3, 1.0, 1.5, 1.5])
    np.testing.assert_array_equal(axes[:2], [1, 2])
    np.testing.assert_allclose(heights, [1, 1, 0, 0])


def test_structured_signature_gradient_matches_finite_differences(x64):
    spikes = jnp.asarray(_random_trains(3, (2, 3, 4), p_missing=0.2))
    weights = jax.random.normal(jax.random.key(0), (2, 84), jnp.float64)
    f = jax.jit(lambda s: jnp.sum(weights * spike_train_signature(s, depth=3, **LIFT)))
    grad = np.asarray(jax.grad(f)(spikes))
    finite = np.isfinite(np.asarray(spikes)) & (np.asarray(spikes) < 1.0)
    assert np.all(grad[~np.isfinite(np.asarray(spikes))] == 0.0)  # padding: zero, not NaN
    assert np.all(np.isfinite(grad))
    eps = 1e-6
    for index in zip(*np.nonzero(finite)):
        bump = np.zeros(spikes.shape)
        bump[index] = eps
        fd = (f(spikes + bump) - f(spikes - bump)) / (2 * eps)
        np.testing.assert_allclose(grad[index], fd, rtol=1e-6, atol=1e-8)


def test_expected_signature_loss_caches_the_target(x64):
    x, y = jnp.asarray(_random_trains(1)), jnp.asarray(_random_trains(2, (7, 3, 4)))
    loss = ExpectedSignatureLoss(t0=0.0, t1=1.0, depth=3, time_scale=0.7, count_scale=0.4)
    prepared = loss.prepare(y)
    expected = jnp.sum((signax.signature(loss.lift(x), 3).mean(0) - signax.signature(loss.lift(y), 3).mean(0)) ** 2)
    np.testing.assert_allclose(loss(x, y), expected, rtol=1e-10)
    np.testing.assert_allclose(prepared(x, y), expected, rtol=1e-10)
    np.testing.assert_allclose(eqx.filter_jit(prepared)(x, y), expected, rtol=1e-10)
    grad = jax.grad(lambda s: prepared(s, y))(x)
    np.testing.assert_allclose(grad, jax.grad(lambda s: loss(s, y))(x), rtol=1e-10, atol=1e-12)


def test_minibatch_targets_from_cached_sample_signatures(x64):
    y = jnp.asarray(_random_trains(4, (6, 3, 4)))
    loss = ExpectedSignatureLoss(t0=0.0, t1=1.0, depth=2, count_scale=0.5)
    features = loss.sample_signatures(y)
    index = jnp.array([0, 2, 5])
    minibatch = loss.with_expected_signature(jnp.mean(features[index], axis=0))
    x = jnp.asarray(_random_trains(5))
    np.testing.assert_allclose(minibatch(x, y[index]), loss(x, y[index]), rtol=1e-12)
