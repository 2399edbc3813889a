import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import spikesde as sd


def test_forward_value_and_grad_matches_reverse_mode(x64):
    model = sd.SLIF(input_current=1.5, sigma_v=0.5, mu_i=2.0, i0=0.3)
    keys = jax.random.split(jax.random.key(0), 8)

    def loss(m, keys):
        times = jax.vmap(lambda k: sd.simulate(m, t0=0.0, t1=1.5, dt=1e-2, key=k, max_spikes=4, on_overflow="ignore").spike_times)(keys)
        finite = jnp.isfinite(times)
        return jnp.sum(jnp.where(finite, times, 0.0)) / jnp.sum(finite), jnp.sum(finite)

    (value, count), gradient = sd.forward_value_and_grad(loss, has_aux=True)(model, keys)
    (expected_value, expected_count), expected = eqx.filter_value_and_grad(loss, has_aux=True)(model, keys)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    assert int(count) == int(expected_count) > 8
    for got, want in zip(jax.tree_util.tree_leaves(gradient), jax.tree_util.tree_leaves(expected)):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12)
    assert float(jnp.abs(gradient.input_current.value)) > 0


def test_forward_value_and_grad_plain():
    value, gradient = sd.forward_value_and_grad(lambda p: jnp.sum(p["a"] ** 2) + 3 * p["b"])({"a": jnp.asarray([1.0, 2.0]), "b": jnp.asarray(0.5)})
    np.testing.assert_allclose(value, 6.5)
    np.testing.assert_allclose(gradient["a"], [2.0, 4.0])
    np.testing.assert_allclose(gradient["b"], 3.0)
