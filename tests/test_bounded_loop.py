"""The event core's masked bounded loop and the coupling jumps' JVP (spikesde._core.bounded_loop, event_apply)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.ad_checkpoint import checkpoint_name

from spikesde._core.bounded_loop import masked_bounded_loop
from spikesde._core.coupling import spike_jumps

MAX_STEPS = 100


def _affine_loop(a, stop, saved_names=(), first_steps=None):
    """x <- a x + 1 while i < stop (x0 = 0.5), writing x after each iteration into slot i of a buffer."""

    def body(c, active):
        i, x, buffer = c
        x = checkpoint_name(a * x, "ax") + 1.0
        return i + 1, x, buffer.at[jnp.where(active, i, MAX_STEPS)].set(x)

    init = (jnp.asarray(0), jnp.asarray(0.5), jnp.zeros(MAX_STEPS + 1))
    i, x, buffer = masked_bounded_loop(
        lambda c: c[0] < stop, body, init, max_steps=MAX_STEPS, is_buffer=(False, False, True), saved_names=saved_names,
        first_steps=first_steps,
    )
    return i, x, buffer[:MAX_STEPS]


def _affine_closed_form(a, k):
    """x_k = a^k x0 + (a^k - 1) / (a - 1) and its derivative in a."""
    x = 0.5 * a**k + (a**k - 1) / (a - 1)
    dx = 0.5 * k * a ** (k - 1) + (k * a ** (k - 1) * (a - 1) - (a**k - 1)) / (a - 1) ** 2
    return x, dx


@pytest.mark.parametrize("stop", [0, 1, 31, 32, 33, 64, 100])
def test_masked_loop_runs_exactly_while_the_condition_holds(x64, stop):
    a = 0.9
    i, x, buffer = jax.jit(_affine_loop)(a, stop)
    expected, derivative = _affine_closed_form(a, stop)
    assert int(i) == stop
    np.testing.assert_allclose(float(x), expected, rtol=1e-13)
    written = [_affine_closed_form(a, k)[0] for k in range(1, stop + 1)]
    np.testing.assert_allclose(np.asarray(buffer), written + [0.0] * (MAX_STEPS - stop), rtol=1e-13)
    # Reverse and forward mode through the masked blocks and the checkpointed levels.
    grad = jax.grad(lambda a: _affine_loop(a, stop)[1])(a)
    tangent = jax.jvp(lambda a: _affine_loop(a, stop)[1], (a,), (1.0,))[1]
    np.testing.assert_allclose([float(grad), float(tangent)], [derivative, derivative], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("stop", [0, 33, 100])
def test_saved_names_change_what_reverse_mode_stores_not_the_values(x64, stop):
    # 100 steps in blocks of 32: one checkpointed level, whose policy keeps the named `a x`.
    saved = jax.jit(lambda a: _affine_loop(a, stop, ("ax",)))(0.9)
    plain = jax.jit(lambda a: _affine_loop(a, stop))(0.9)
    for u, v in zip(saved, plain):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    expected, derivative = _affine_closed_form(0.9, stop)
    grad = jax.grad(lambda a: _affine_loop(a, stop, ("ax",))[1])(0.9)
    tangent = jax.jvp(lambda a: _affine_loop(a, stop, ("ax",))[1], (0.9,), (1.0,))[1]
    np.testing.assert_allclose([float(grad), float(tangent)], [derivative, derivative], rtol=1e-12, atol=1e-14)
    # The checkpointed level carries the policy that keeps `a x`; without saved names, none.
    policies = [str(jax.make_jaxpr(lambda a: _affine_loop(a, stop, names)[1])(0.9)).count("saveable_names=frozenset({'ax'})") for names in (("ax",), ())]
    assert policies == [1, 0]


@pytest.mark.parametrize("stop", [0, 40, 64, 65, 100])
def test_first_steps_split_the_loop_without_changing_it(x64, stop):
    # A first loop of 64 iterations (2 blocks, one level), then up to 36 more in a second one.
    split = jax.jit(lambda a: _affine_loop(a, stop, first_steps=64))(0.9)
    whole = jax.jit(lambda a: _affine_loop(a, stop))(0.9)
    for u, v in zip(split, whole):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    expected, derivative = _affine_closed_form(0.9, stop)
    grad = jax.grad(lambda a: _affine_loop(a, stop, first_steps=64)[1])(0.9)
    tangent = jax.jvp(lambda a: _affine_loop(a, stop, first_steps=64)[1], (0.9,), (1.0,))[1]
    np.testing.assert_allclose([float(grad), float(tangent)], [derivative, derivative], rtol=1e-12, atol=1e-14)


def test_masked_loop_under_vmap_stops_each_sample_at_its_own_count(x64):
    stops = jnp.asarray([0, 3, 40, 97])
    i, x, buffer = jax.vmap(_affine_loop, in_axes=(None, 0))(0.9, stops)
    grads = jax.vmap(jax.grad(lambda a, s: _affine_loop(a, s)[1]), in_axes=(None, 0))(0.9, stops)
    for k, stop in enumerate(np.asarray(stops)):
        assert int(i[k]) == stop
        expected, derivative = _affine_closed_form(0.9, int(stop))
        np.testing.assert_allclose([float(x[k]), float(grads[k])], [expected, derivative], rtol=1e-12, atol=1e-14)
        assert np.all(np.asarray(buffer[k, stop:]) == 0.0)


def test_spike_jumps_has_the_values_and_derivatives_of_the_dense_product(x64):
    n = 7
    coupling = jax.random.normal(jax.random.key(0), (n, n))
    fire = jnp.asarray([True, False, True, True, False, False, True])
    direction = jax.random.normal(jax.random.key(1), (n, n))
    dense = lambda w: fire.astype(w.dtype) @ w  # noqa: E731
    loss = lambda f: lambda w: jnp.sum(jnp.sin(f(w)) * jnp.arange(1.0, n + 1))  # noqa: E731
    assert np.array_equal(np.asarray(spike_jumps(fire, coupling)), np.asarray(dense(coupling)))
    np.testing.assert_array_equal(jax.grad(loss(lambda w: spike_jumps(fire, w)))(coupling), jax.grad(loss(dense))(coupling))
    np.testing.assert_allclose(
        jax.jvp(lambda w: spike_jumps(fire, w), (coupling,), (direction,))[1], jax.jvp(dense, (coupling,), (direction,))[1], rtol=1e-14
    )
    hessian_vector = lambda f: jax.jvp(jax.grad(loss(f)), (coupling,), (direction,))[1]  # noqa: E731
    np.testing.assert_allclose(hessian_vector(lambda w: spike_jumps(fire, w)), hessian_vector(dense), rtol=1e-12, atol=1e-14)
