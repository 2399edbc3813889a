"""The structured signature of spike trains against signax on the padded Marcus lift."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import signax

from spikesde import ExpectedSignatureLoss
from spikesde.signatures import marcus_lift, spike_events, spike_train_signature

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


def test_simultaneous_spikes_give_a_symmetric_signature():
    """Two neurons firing together at 0.5 on [0, 1]: one diagonal jump ``a = e_1 + e_2``, so the
    level-2 terms between the neurons are ``a_1 a_2 / 2 = 1/2`` both ways (a staircase in neuron
    order would give 1 and 0)."""
    level2 = spike_train_signature(jnp.array([[[0.5], [0.5]]]), t0=0.0, t1=1.0, depth=2)[0, 3:].reshape(3, 3)
    np.testing.assert_allclose(level2, np.full((3, 3), 0.5), rtol=1e-6)
    np.testing.assert_allclose(signax.signature(marcus_lift(jnp.array([[0.5], [0.5]]), t0=0.0, t1=1.0), 2)[3:], 0.5, rtol=1e-6)


@pytest.mark.parametrize("depth", [3, 4])
def test_signature_does_not_depend_on_neuron_numbering(x64, depth):
    """Spikes on a coarse grid (many simultaneous across neurons): renumbering the neurons only
    renumbers the letters of every signature term."""
    spikes = np.sort(np.round(_random_trains(depth, (4, 3, 4)) * 5) / 5, axis=-1)
    perm = np.array([2, 0, 1])
    ours = spike_train_signature(jnp.asarray(spikes), depth=depth, **LIFT)
    renumbered = spike_train_signature(jnp.asarray(spikes[:, perm]), depth=depth, **LIFT)
    letters = np.concatenate([[0], perm + 1])  # new letter -> old letter (time stays first)
    d = len(letters)
    start = 0
    for level in range(1, depth + 1):
        words = np.indices((d,) * level).reshape(level, -1)
        old_index = np.ravel_multi_index(tuple(letters[words]), (d,) * level)
        np.testing.assert_allclose(renumbered[:, start: start + d**level], ours[:, start + old_index], atol=1e-12)
        start += d**level
    np.testing.assert_allclose(ours, signax.signature(marcus_lift(jnp.asarray(spikes), **LIFT), depth), atol=1e-10)


def test_spikes_before_t0_are_not_in_the_signature(x64):
    spikes = jnp.array([[[-0.2, 0.4, np.inf], [0.05, 0.3, 0.6]]])
    inside = jnp.array([[[0.4, np.inf, np.inf], [0.3, 0.6, np.inf]]])
    for depth in (2, 4):
        np.testing.assert_allclose(
            spike_train_signature(spikes, t0=0.1, t1=1.0, depth=depth),
            spike_train_signature(inside, t0=0.1, t1=1.0, depth=depth), atol=1e-12,
        )
    times, axes, heights = spike_events(spikes, t0=0.1, t1=1.0)
    np.testing.assert_allclose(heights, [[1, 1, 1, 0, 0, 0]])
    np.testing.assert_allclose(times[0, :3], [0.3, 0.4, 0.6])
