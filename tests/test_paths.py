import jax
import jax.numpy as jnp
import numpy as np
import pytest
import signax

import spikesde
from spikesde.losses import finite_spike_times, first_spike_times
from spikesde.signatures import marcus_lift

INF = np.inf


def test_single_neuron_vertices():
    path = marcus_lift(jnp.array([[0.5, 1.2, INF]]), t0=0.0, t1=5.0)
    expected = [[0, 0], [0.5, 0], [0.5, 1], [1.2, 1], [1.2, 2], [5, 2], [5, 2], [5, 2]]
    np.testing.assert_allclose(path, expected)


def test_neurons_merged_in_time_order_and_jump_in_their_own_coordinate():
    spikes = jnp.array([[0.3, 2.0], [1.0, INF]])  # neuron 0 fires at 0.3 and 2.0, neuron 1 at 1.0
    path = marcus_lift(spikes, t0=0.0, t1=3.0)
    expected = [
        [0, 0, 0],
        [0.3, 0, 0], [0.3, 1, 0],
        [1.0, 1, 0], [1.0, 1, 1],
        [2.0, 1, 1], [2.0, 2, 1],
        [3, 2, 1], [3, 2, 1],
        [3, 2, 1],
    ]  # fmt: skip
    np.testing.assert_allclose(path, expected)


def test_scaling_and_time_origin():
    path = marcus_lift(jnp.array([[1.5, INF]]), t0=1.0, t1=3.0, time_scale=0.5, count_scale=0.25)
    np.testing.assert_allclose(path, [[0, 0], [0.25, 0], [0.25, 0.25], [1, 0.25], [1, 0.25], [1, 0.25]])


def test_batched_shapes():
    spikes = jnp.full((4, 5, 3, 2), INF)
    assert marcus_lift(spikes, t0=0.0, t1=1.0).shape == (4, 5, 2 * 3 * 2 + 2, 4)


def test_simultaneous_spikes_of_different_neurons_jump_along_one_segment():
    path = marcus_lift(jnp.array([[0.5, INF], [0.2, 0.5]]), t0=0.0, t1=1.0)
    expected = [
        [0, 0, 0],
        [0.2, 0, 0], [0.2, 0, 1],
        [0.5, 0, 1], [0.5, 1, 2],  # both jumps at 0.5 in one diagonal segment
        [0.5, 1, 2], [0.5, 1, 2],
        [1, 1, 2], [1, 1, 2],
        [1, 1, 2],
    ]  # fmt: skip
    np.testing.assert_allclose(path, expected)


def test_spikes_before_t0_are_outside_the_window():
    path = marcus_lift(jnp.array([[0.1, 0.7, INF], [0.3, INF, INF]]), t0=0.5, t1=1.0)
    assert float(jnp.min(path[:, 0])) == 0.0
    np.testing.assert_allclose(path[-1], [0.5, 1, 0])
    np.testing.assert_allclose(path, marcus_lift(jnp.array([[0.7, INF, INF], [INF, INF, INF]]), t0=0.5, t1=1.0))


def _level2(path):
    return signax.signature(path, 2, flatten=False)


@pytest.mark.parametrize("taus", [[0.5, 1.2], [0.1, 2.0, 3.7], []])
def test_signature_matches_iterated_integrals_of_counting_process(taus):
    """Level 1 is (T, K); level 2 is [[T^2/2, sum(tau - t0)], [sum(t1 - tau), K^2/2]]."""
    t0, t1, buffer = 0.5, 4.0, 4
    spikes = jnp.array([taus + [INF] * (buffer - len(taus))])
    level1, level2 = _level2(marcus_lift(spikes, t0=t0, t1=t1))
    taus = np.array([tau for tau in taus if t0 <= tau <= t1])  # the spike at 0.1 < t0 is outside the window
    T, K = t1 - t0, len(taus)
    np.testing.assert_allclose(level1, [T, K], rtol=1e-6)
    expected = [[T**2 / 2, np.sum(taus - t0)], [np.sum(t1 - taus), K**2 / 2]]
    np.testing.assert_allclose(level2, expected, rtol=1e-5, atol=1e-6)


def test_padding_leaves_signature_unchanged():
    short = marcus_lift(jnp.array([[0.2, 0.9]]), t0=0.0, t1=2.0)
    long = marcus_lift(jnp.array([[0.2, 0.9, INF, INF, INF]]), t0=0.0, t1=2.0)
    np.testing.assert_allclose(signax.signature(short, 4), signax.signature(long, 4), rtol=1e-6)


def test_gradient_in_spike_times_with_padding_is_finite():
    spikes = jnp.array([[0.5, 1.2, INF]])

    def sum_of_times_term(s):  # int int dt dN = sum_j (tau_j - t0)
        return _level2(marcus_lift(s, t0=0.0, t1=5.0))[1][0, 1]

    grad = jax.grad(sum_of_times_term)(spikes)
    np.testing.assert_allclose(grad, [[1.0, 1.0, 0.0]])


def test_taper_makes_a_spike_entering_at_t1_continuous():
    t1 = 2.0
    without = marcus_lift(jnp.array([[0.5, INF]]), t0=0.0, t1=t1, taper=0.5)
    late = marcus_lift(jnp.array([[0.5, t1 - 1e-4]]), t0=0.0, t1=t1, taper=0.5)
    np.testing.assert_allclose(signax.signature(late, 3), signax.signature(without, 3), atol=1e-3)
    # Without a taper the same spike adds a full unit jump.
    untapered = marcus_lift(jnp.array([[0.5, t1 - 1e-4]]), t0=0.0, t1=t1)
    assert abs(float(untapered[-1, 1]) - 2.0) < 1e-6
    # Well before t1 - taper nothing changes.
    np.testing.assert_allclose(
        marcus_lift(jnp.array([[0.5, 1.0]]), t0=0.0, t1=t1, taper=0.5), marcus_lift(jnp.array([[0.5, 1.0]]), t0=0.0, t1=t1)
    )


def test_first_and_finite_spike_times():
    spikes = jnp.array([[0.1, INF, INF], [0.2, 0.4, 0.6]])
    np.testing.assert_allclose(first_spike_times(spikes, 2, 5.0), [[0.1, 5.0], [0.2, 0.4]])
    grad = jax.grad(lambda s: jnp.sum(finite_spike_times(s, 5.0)))(spikes)
    np.testing.assert_allclose(grad, [[1, 0, 0], [1, 1, 1]])
    with pytest.raises(ValueError, match="num_spikes"):
        first_spike_times(spikes, 4, 5.0)


def test_gradient_through_simulation_has_no_nans():
    """A weak current leaves most buffers padded; the path loss still has a finite gradient in c."""

    def loss(c):
        model = spikesde.SLIF(input_current=spikesde.ConstantCurrent(c), sigma_v=0.5, mu_v=15.0, mu_i=0.0)
        keys = jax.random.split(jax.random.key(0), 16)
        spikes = jax.vmap(
            lambda k: spikesde.simulate(model, t0=0.0, t1=2.0, dt=0.01, key=k, max_spikes=3, on_overflow="ignore").spike_times
        )(keys)
        # Not the plain sum of all terms: by the shuffle identity it does not depend on the spike times.
        weights = jnp.arange(1.0, 15.0)
        return jnp.sum(weights * jnp.mean(signax.signature(marcus_lift(spikes, t0=0.0, t1=2.0), 3), axis=0))

    grad = jax.jit(jax.grad(loss))(0.8)
    assert np.isfinite(grad) and grad != 0
