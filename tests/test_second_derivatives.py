"""Exact second derivatives of spike times (issue 8, part 2), in float64.

The event time is an implicit function with a custom JVP (``spikesde._core.event_time``), so every
order of derivative is the derivative of the discrete map: against the analytic LIF and against
finite differences of gradients on a noisy SLIF network.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd

C, TAU, THETA = 1.5, 1.0, 1.0


def lif_spike_times(parameters, event_gradient):
    c, tau_mem, threshold = parameters
    model = sd.LIF(input_current=c, tau_mem=tau_mem, threshold=threshold)
    solution = sd.simulate(
        model, t0=0.0, t1=3.5, dt=0.05, key=jax.random.key(0), max_spikes=3, stepper=sd.ExponentialEuler(), event_gradient=event_gradient
    )
    return solution.spike_times[0]


def lif_period(parameters):
    """``t_k = k tau ln(c tau / (c tau - theta))`` for V(0) = 0, reset to 0: the exact spike times."""
    c, tau, theta = parameters
    return tau * jnp.log(c * tau / (c * tau - theta))


def test_analytic_lif_second_derivative_by_hand(x64):
    # d^2 P / dc^2 = tau theta (2 c tau - theta) / (c^2 (c tau - theta)^2), P the period: anchors the
    # reference Hessian below (autodiff of the closed form) to a derivation.
    by_hand = TAU * THETA * (2 * C * TAU - THETA) / (C**2 * (C * TAU - THETA) ** 2)
    reference = jax.hessian(lif_period)(jnp.asarray([C, TAU, THETA]))[0, 0]
    assert by_hand == pytest.approx(32 / 9) and float(reference) == pytest.approx(by_hand, rel=1e-13)


@pytest.mark.parametrize("event_gradient", ["root", "recursion"])
def test_lif_hessian_is_analytic(x64, event_gradient):
    """jax.hessian (forward over reverse) of spikes 1-3 in (c, tau_mem, threshold): before the
    custom JVP, "root" gave 0.551 of the way and "recursion" 0 for the second derivatives."""
    parameters = jnp.asarray([C, TAU, THETA])
    expected = jnp.arange(1, 4)[:, None, None] * jax.hessian(lif_period)(parameters)[None]
    hessian = jax.jit(jax.hessian(lif_spike_times), static_argnums=1)(parameters, event_gradient)
    np.testing.assert_allclose(hessian, expected, rtol=1e-9, atol=1e-10)


@pytest.mark.slow
def test_lif_forward_over_forward_and_third_derivative(x64):
    parameters = jnp.asarray([C, TAU, THETA])
    forward = jax.jit(jax.jacfwd(jax.jacfwd(lif_spike_times)), static_argnums=1)(parameters, "recursion")
    expected = jnp.arange(1, 4)[:, None, None] * jax.hessian(lif_period)(parameters)[None]
    np.testing.assert_allclose(forward, expected, rtol=1e-9, atol=1e-10)
    # Third derivative in c of the first spike, forward mode: the rule composes to every order.
    third = jax.jit(lambda c: jax.jvp(lambda c1: jax.jvp(lambda c2: jax.jvp(lambda c3: lif_spike_times(jnp.stack([c3, TAU, THETA]), "recursion")[0], (c2,), (1.0,))[1], (c1,), (1.0,))[1], (c,), (1.0,))[1])(C)
    exact = jax.grad(jax.grad(jax.grad(lambda c: lif_period(jnp.stack([c, TAU, THETA])))))(C)
    assert float(third) == pytest.approx(float(exact), rel=1e-8)


def _network(parameters):
    c, weights = parameters[:3], parameters[3:].reshape(3, 3)
    neuron = sd.SLIF(3, input_current=c, mu_v=12.0, mu_i=4.0, sigma_v=0.4, sigma_i=0.3, v_reset=1.2, i0=0.2)
    return sd.Network(neuron, weights, mask=~np.eye(3, dtype=bool))


def _loss(parameters, stepper, event_gradient):
    solution = sd.simulate(
        _network(parameters), t0=0.0, t1=1.0, dt=1e-2, key=jax.random.key(3), max_spikes=8, max_events=24,
        stepper=stepper, event_gradient=event_gradient, on_overflow="ignore",
    )
    times = solution.spike_times
    weights = 1.0 / (1.0 + jnp.arange(times.shape[1]))
    return jnp.sum(jnp.where(jnp.isfinite(times), times, 0.0) * weights), solution.spike_counts


@pytest.mark.parametrize(
    "stepper, event_gradient",
    [(sd.EulerMaruyama(), "recursion"), pytest.param(sd.ExponentialEuler(), "root", marks=pytest.mark.slow)],
    ids=["euler-recursion", "exponential-root"],
)
def test_noisy_network_hessian_vector_products_match_finite_differences_of_gradients(x64, stepper, event_gradient):
    parameters = jnp.asarray([1.6, 1.4, 1.2, 0.0, 0.5, -0.4, 0.3, 0.0, 0.6, -0.2, 0.4, 0.0])
    direction = jnp.asarray([0.5, -0.3, 0.8, 0.0, 1.0, 0.4, -0.7, 0.0, 0.2, 0.9, -0.5, 0.0])
    gradient = jax.jit(jax.grad(lambda p: _loss(p, stepper, event_gradient), has_aux=True))
    (_, counts) = gradient(parameters)
    assert int(np.min(counts)) >= 3, counts
    hvp = jax.jit(lambda p, v: jax.jvp(lambda q: gradient(q)[0], (p,), (v,))[1])(parameters, direction)
    eps = 1e-6
    plus, counts_plus = gradient(parameters + eps * direction)
    minus, counts_minus = gradient(parameters - eps * direction)
    np.testing.assert_array_equal(counts_plus, counts)
    np.testing.assert_array_equal(counts_minus, counts)
    finite_difference = (plus - minus) / (2 * eps)
    scale = np.max(np.abs(finite_difference))
    assert scale > 1e-2
    np.testing.assert_allclose(hvp, finite_difference, atol=1e-6 * scale, rtol=1e-5)
