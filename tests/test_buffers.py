"""Buffers written once per slot (spikesde._core.buffers): values, JVP, gradients, second derivatives."""

import jax
import jax.numpy as jnp
import numpy as np

from spikesde._core.buffers import write_once

STEPS, SLOTS = 12, 5  # slot SLOTS is the spare one: it takes every write that is not kept


def _fill(theta, write):
    """A scan that writes x_i = sin(theta i) + theta^2 i into slot i // 2 on even steps, else the spare slot;
    and the spike-buffer form: row k gets x_i at column i % 3 when i // 3 == k."""

    def step(c, i):
        saved, spikes = c
        x = jnp.sin(theta * i) + theta**2 * i.astype(theta.dtype)
        slot = jnp.where((i % 2 == 0) & (i // 2 < SLOTS), i // 2, SLOTS)
        column = jnp.where(jnp.arange(4) == i // 3, i % 3, 3)
        values = jnp.broadcast_to(x, (4,)) * (1.0 + jnp.arange(4))
        return (write(saved, slot, x), write(spikes, (jnp.arange(4), column), values)), None

    init = (jnp.full(SLOTS + 1, jnp.inf), jnp.full((4, 4), jnp.inf))
    (saved, spikes), _ = jax.lax.scan(step, init, jnp.arange(STEPS))
    return saved[:SLOTS], spikes[:, :3]


def _set(buffer, index, values):
    return buffer.at[index].set(values)


def _loss(theta, write):
    saved, spikes = _fill(theta, write)
    return jnp.sum(saved**2) + jnp.sum(jnp.cos(spikes) * jnp.arange(3.0))


def test_values_are_those_of_set():
    with jax.enable_x64():
        theta = jnp.asarray(0.7)
        for a, b in zip(_fill(theta, write_once), _fill(theta, _set)):
            np.testing.assert_array_equal(a, b)


def test_derivatives_of_every_order_match_set_and_the_closed_form():
    with jax.enable_x64():
        theta = jnp.asarray(0.7)
        for a, b in zip(jax.jvp(lambda t: _fill(t, write_once), (theta,), (jnp.ones_like(theta),))[1],
                        jax.jvp(lambda t: _fill(t, _set), (theta,), (jnp.ones_like(theta),))[1]):
            np.testing.assert_allclose(a, b, rtol=1e-14)
        grad, grad_set = jax.grad(_loss)(theta, write_once), jax.grad(_loss)(theta, _set)
        np.testing.assert_allclose(grad, grad_set, rtol=1e-14)
        hess, hess_set = jax.hessian(_loss)(theta, write_once), jax.hessian(_loss)(theta, _set)
        np.testing.assert_allclose(hess, hess_set, rtol=1e-13)
        # The saved slots alone, by hand: d/dtheta sum_j x_{2j}^2 with x_i = sin(theta i) + theta^2 i.
        i = 2.0 * jnp.arange(SLOTS)
        x, dx = jnp.sin(theta * i) + theta**2 * i, i * jnp.cos(theta * i) + 2 * theta * i
        d_saved = jax.grad(lambda t: jnp.sum(_fill(t, write_once)[0] ** 2))(theta)
        np.testing.assert_allclose(d_saved, jnp.sum(2 * x * dx), rtol=1e-14)
        # Central differences of the whole loss.
        eps = 1e-6
        fd = (_loss(theta + eps, write_once) - _loss(theta - eps, write_once)) / (2 * eps)
        np.testing.assert_allclose(grad, fd, rtol=1e-8)


def test_vmap_and_reverse_mode_under_vmap():
    with jax.enable_x64():
        thetas = jnp.asarray([0.3, 0.7, 1.1])
        np.testing.assert_allclose(jax.vmap(jax.grad(_loss), in_axes=(0, None))(thetas, write_once),
                                   jax.vmap(jax.grad(_loss), in_axes=(0, None))(thetas, _set), rtol=1e-14)
