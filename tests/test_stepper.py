"""Steps of the event core (spikesde._core.stepper): the per-neuron scaling the steps use."""

import jax
import jax.numpy as jnp
import numpy as np

from spikesde._core.stepper import scale_neurons


def test_scale_neurons_is_the_broadcast_product_with_its_derivatives():
    with jax.enable_x64():
        x = jax.random.normal(jax.random.key(0), (3, 5))
        s = jax.random.uniform(jax.random.key(1), (5,))
        np.testing.assert_array_equal(scale_neurons(x, s), x * s[None, :])
        np.testing.assert_array_equal(scale_neurons(x, 0.5), x * 0.5)
        assert scale_neurons(jnp.zeros((0, 5)), s).shape == (0, 5)  # no noise rows
        loss = lambda f: lambda x, s: jnp.sum(jnp.sin(f(x, s)))  # noqa: E731
        for a, b in zip(jax.grad(loss(scale_neurons), argnums=(0, 1))(x, s),
                        jax.grad(loss(lambda x, s: x * s[None, :]), argnums=(0, 1))(x, s)):
            np.testing.assert_allclose(a, b, rtol=1e-14)
