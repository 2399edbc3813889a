import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd


def test_feedforward_structure_and_reference_weight_scales():
    network = sd.feedforward(sd.SLIF(22), [4, 16, 2], key=jax.random.key(0))
    mask = np.asarray(network.mask)
    assert mask.sum() == 4 * 16 + 16 * 2
    assert mask[:4, 4:20].all() and mask[4:20, 20:].all() and not mask[:4, 20:].any() and not mask[20:].any()
    weights = np.asarray(network.coupling())
    layer1, layer2 = weights[:4, 4:20], weights[4:20, 20:]
    assert layer1.min() >= 0.5 * 3 / 4 and layer1.max() <= 1.5 * 3 / 4
    assert layer2.min() >= 0.5 * 3 / 16 and layer2.max() <= 1.5 * 3 / 16
    with pytest.raises(ValueError, match="layers sum to 22"):
        sd.feedforward(sd.SLIF(21), [4, 16, 2], key=jax.random.key(0))


def test_masked_connections_carry_no_weight_or_gradient():
    network = sd.Network(sd.SLIF(2), jnp.ones((2, 2)), mask=jnp.asarray([[False, True], [False, False]]))
    np.testing.assert_array_equal(network.coupling(), [[0.0, 1.0], [0.0, 0.0]])
    gradient = jax.grad(lambda w: jnp.sum(sd.Network(network.neuron, w, network.mask).coupling()))(network.weights)
    np.testing.assert_array_equal(gradient, [[0.0, 1.0], [0.0, 0.0]])


def test_recurrent_network():
    network = sd.recurrent(sd.SLIF(50), key=jax.random.key(0), connection_probability=0.2)
    mask = np.asarray(network.mask)
    assert not np.diag(mask).any() and 0.1 < mask.mean() < 0.3
    with pytest.raises(ValueError, match="connection_probability"):
        sd.recurrent(sd.SLIF(5), key=jax.random.key(0), connection_probability=0.0)


def test_synaptic_jump_reaches_post_synaptic_neurons(x64):
    # A deterministic LIF source fires at its analytic time; the target's current jumps by w there.
    network = sd.Network(sd.LIF(2, input_current=jnp.asarray([1.5, 0.0]), tau_syn=0.5), jnp.asarray([[0.0, 0.7], [0.0, 0.0]]))
    solution = sd.simulate(network, t0=0.0, t1=1.5, dt=0.05, key=jax.random.key(0), max_spikes=2, stepper=sd.ExponentialEuler())
    spike = float(solution.spike_times[0, 0])
    np.testing.assert_allclose(solution.final_state[1, 1], 0.7 * np.exp(-(1.5 - spike) / 0.5), rtol=1e-10)
