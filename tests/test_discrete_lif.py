import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikesde._estimators import DiscreteLIFNetwork, FastSigmoid, Triangle, init_weights


def _tangent_recursion(w, x, *, a, b, theta, surrogate, detach):
    """An independent transcription of forward-mode BPTT for one neuron: d(spike count)/dw."""
    i = u = di = du = 0.0
    count = d_count = 0.0
    for x_t in x:
        s = float(u > theta)
        ds = float(surrogate.derivative(jnp.array(u - theta))) * du
        count += s
        d_count += ds
        i, u, di, du = (
            a * i + x_t * w,
            b * u + i - theta * s,
            a * di + x_t,
            b * du + di - theta * (0.0 if detach else ds),
        )
    return count, d_count


@pytest.mark.parametrize("detach", [False, True])
@pytest.mark.parametrize("surrogate", [FastSigmoid(10.0), Triangle(1.0)], ids=lambda s: type(s).__name__)
def test_surrogate_gradient_matches_the_hand_written_recursion(x64, detach, surrogate):
    rng = np.random.default_rng(0)
    x = (rng.uniform(size=60) < 0.3).astype(float)
    dt, tau_mem, tau_syn, theta, w = 1e-3, 10e-3, 5e-3, 1.0, 0.9
    net = DiscreteLIFNetwork((jnp.array([[w]]),), dt=dt, tau_mem=tau_mem, tau_syn=tau_syn, threshold=theta,
                             surrogate=surrogate, detach_reset=detach)  # fmt: skip

    def count(n):
        spikes, _ = n(x[:, None])
        return jnp.sum(spikes[0])

    value, grad = eqx_value_and_grad(count, net)
    expected, expected_grad = _tangent_recursion(
        w, x, a=math.exp(-dt / tau_syn), b=math.exp(-dt / tau_mem), theta=theta, surrogate=surrogate, detach=detach
    )
    assert float(value) == expected and expected >= 3  # the neuron fires several times
    assert float(grad.weights[0][0, 0]) == pytest.approx(expected_grad, rel=1e-10)


def eqx_value_and_grad(fn, model):
    return eqx.filter_value_and_grad(fn)(model)


def test_below_threshold_the_gradient_is_exact(x64):
    # With no spikes and the reset detached, no surrogate enters the derivative: the network is then
    # linear in the weights and autodiff equals finite differences. (With the reset attached, the
    # surrogate acts below threshold too: g(U - theta) != 0 although no spike happens.)
    rng = np.random.default_rng(1)
    x = (rng.uniform(size=(40, 3)) < 0.2).astype(float)
    weights = (jnp.asarray(rng.normal(size=(3, 2)) * 0.1),)
    settings = dict(dt=1e-3, tau_mem=20e-3, tau_syn=5e-3, threshold=10.0, detach_reset=True)
    net = DiscreteLIFNetwork(weights, **settings)

    def loss(w):
        spikes, potentials = DiscreteLIFNetwork((w,), **settings)(x)
        return jnp.sum(potentials[0] ** 2) + 0.0 * jnp.sum(spikes[0])

    grad = jax.grad(loss)(net.weights[0])
    direction = jnp.asarray(rng.normal(size=(3, 2)))
    eps = 1e-6
    fd = (loss(net.weights[0] + eps * direction) - loss(net.weights[0] - eps * direction)) / (2 * eps)
    assert float(jnp.sum(net(x)[0][0])) == 0.0
    assert float(jnp.vdot(grad, direction)) == pytest.approx(float(fd), rel=1e-7)


def test_layers_vmap_and_shapes():
    weights = init_weights([4, 8, 3], key=jax.random.key(0), scale=3.0)
    net = DiscreteLIFNetwork(weights, dt=1e-3, tau_mem=10e-3, tau_syn=5e-3)
    inputs = jax.random.bernoulli(jax.random.key(1), 0.2, (16, 50, 4)).astype(float)
    spikes, potentials = jax.jit(jax.vmap(net))(inputs)
    assert [s.shape for s in spikes] == [(16, 50, 8), (16, 50, 3)]
    assert [u.shape for u in potentials] == [(16, 50, 8), (16, 50, 3)]
    assert float(jnp.sum(spikes[0])) > 0


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"weights\[0\] has 8 outputs but weights\[1\] has 5 inputs"):
        DiscreteLIFNetwork((jnp.zeros((4, 8)), jnp.zeros((5, 2))), dt=1e-3, tau_mem=1e-2, tau_syn=5e-3)
    net = DiscreteLIFNetwork((jnp.zeros((4, 8)),), dt=1e-3, tau_mem=1e-2, tau_syn=5e-3)
    with pytest.raises(ValueError, match=r"inputs must have shape \(steps, 4\)"):
        net(jnp.zeros((10, 3)))
    with pytest.raises(ValueError, match="tau_mem must be positive"):
        DiscreteLIFNetwork((jnp.zeros((4, 8)),), dt=1e-3, tau_mem=0.0, tau_syn=5e-3)
