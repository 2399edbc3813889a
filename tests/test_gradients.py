"""Exact pathwise gradients through spike times (issue 3 acceptance), in float64 on fixed noise."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd

C, TAU, THETA = 1.5, 1.0, 1.0


def lif_spike_times(c, tau_mem, threshold, stepper, dt, event_gradient="root"):
    model = sd.LIF(input_current=c, tau_mem=tau_mem, threshold=threshold)
    return sd.simulate(model, t0=0.0, t1=3.5, dt=dt, key=jax.random.key(0), max_spikes=3, stepper=stepper, event_gradient=event_gradient).spike_times[0]


@pytest.mark.parametrize("event_gradient", ["root", "recursion"])
def test_lif_spike_time_gradients_are_analytic(x64, event_gradient):
    # t_k = k tau ln(c tau / (c tau - theta)) for the periodic LIF.
    periods = np.arange(1, 4)
    d_c = -THETA * TAU / (C * (C * TAU - THETA))
    d_tau = math.log(C * TAU / (C * TAU - THETA)) - THETA / (C * TAU - THETA)
    d_theta = TAU / (C * TAU - THETA)
    gradient = jax.jacrev(lif_spike_times, argnums=(0, 1, 2))(C, TAU, THETA, sd.ExponentialEuler(), 0.05, event_gradient)
    np.testing.assert_allclose(gradient[0], periods * d_c, rtol=1e-6)
    np.testing.assert_allclose(gradient[1], periods * d_tau, rtol=1e-6)
    np.testing.assert_allclose(gradient[2], periods * d_theta, rtol=1e-6)
    forward = jax.jacfwd(lif_spike_times)(C, TAU, THETA, sd.ExponentialEuler(), 0.05, event_gradient)
    np.testing.assert_allclose(forward, periods * d_c, rtol=1e-6)


def test_lif_euler_gradients_match_finite_differences(x64):
    model = sd.LIF(input_current=C, tau_mem=TAU, threshold=THETA, tau_syn=0.4, i0=0.3)
    check = sd.check_gradients(
        lambda m: sd.simulate(m, t0=0.0, t1=3.5, dt=1e-3, key=jax.random.key(0), max_spikes=3).spike_times[0],
        model,
        key=jax.random.key(1),
    )
    assert int(np.sum(check.compared)) == 3
    assert check.max_relative_error < 1e-6 and check.routes_agree < 1e-10
    assert check.passed and str(check).startswith("gradient check passed: 3 outputs compared")
    check.assert_passed()
    strict = sd.check_gradients(lambda m: jnp.stack([m.tau_mem, m.threshold]), model, key=jax.random.key(1), max_rtol=-1.0)
    assert not strict.passed and "largest relative error" in str(strict)


@jax.custom_jvp
def _sin_with_a_wrong_derivative(x):
    return jnp.sin(x)


@_sin_with_a_wrong_derivative.defjvp
def _wrong_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return jnp.sin(x), 1.1 * jnp.cos(x) * dx  # 10% too large


def test_check_gradients_fails_a_wrong_derivative_and_an_empty_comparison(x64):
    x = jnp.linspace(0.1, 1.0, 5)
    right = sd.check_gradients(jnp.sin, x, key=jax.random.key(0))
    assert right.passed and right.max_relative_error < 1e-8, str(right)
    wrong = sd.check_gradients(_sin_with_a_wrong_derivative, x, key=jax.random.key(0))
    assert not wrong.passed and wrong.median_relative_error == pytest.approx(0.1, rel=1e-6)
    assert "FAILED (median relative error 1.00e-01 > 1e-04; largest relative error 1.00e-01 > 3e-02)" in str(wrong)
    with pytest.raises(AssertionError, match="gradient check FAILED"):
        wrong.assert_passed()
    assert sd.check_gradients(_sin_with_a_wrong_derivative, x, key=jax.random.key(0), rtol=0.2, max_rtol=0.2).passed
    nothing = sd.check_gradients(lambda v: jnp.full(3, jnp.inf) * v[0], x, key=jax.random.key(0))
    assert not nothing.passed and "no output was finite" in str(nothing)


SLIF_PARAMETERS = ["input_current.value", "mu_v", "mu_i", "sigma_v", "sigma_i", "v_reset", "alpha", "beta", "v_threshold", "tau_s", "v0", "i0"]


@pytest.mark.parametrize("parameter", SLIF_PARAMETERS)
def test_every_slif_parameter_has_exact_gradients(x64, parameter):
    # Several noisy spikes, noise on V and I, synaptic current present: every parameter's
    # directional derivative of all spike times against central finite differences. All twelve
    # parameters are selected and the direction is one-hot, so the twelve checks share one set of
    # compiled programs (a selection of one parameter would compile its own).
    model = sd.SLIF(input_current=1.5, mu_v=15.0, mu_i=3.0, sigma_v=0.5, sigma_i=0.3, i0=0.2)

    def spike_times(m):
        return sd.simulate(m, t0=0.0, t1=1.5, dt=1e-3, key=jax.random.key(7), max_spikes=5, on_overflow="ignore").spike_times[0]

    select = lambda m: tuple(_field(m, name) for name in SLIF_PARAMETERS)  # noqa: E731
    direction = tuple(jnp.ones_like(v) if name == parameter else jnp.zeros_like(v) for name, v in zip(SLIF_PARAMETERS, select(model)))
    check = sd.check_gradients(spike_times, model, parameters=select, direction=direction)
    assert int(np.sum(check.compared)) >= 4
    assert check.median_relative_error < 1e-4, check.relative_error
    assert check.max_relative_error < 3e-2, check.relative_error
    assert check.routes_agree < 1e-8


def _field(model, dotted):
    for name in dotted.split("."):
        model = getattr(model, name)
    return model


def _slif_spike_times(c, key, dt, fine_dt, t1, max_spikes, event_gradient="root"):
    model = sd.SLIF(input_current=c, mu_v=15.0, mu_i=0.0, sigma_v=0.5, v_reset=1.4, alpha=0.03)
    path_key, clock_key = jax.random.split(key)
    path = sd.FineGridBrownian(path_key, t0=0.0, t1=t1, dt=fine_dt, shape=model.brownian_shape)
    solution = sd.simulate(
        model, t0=0.0, t1=t1, dt=dt, key=clock_key, brownian=path, max_spikes=max_spikes, on_overflow="ignore", event_gradient=event_gradient
    )
    return solution.spike_times[0]


@pytest.mark.slow  # a convergence rate over 32 seeds down to dt = 1e-5; the fast set keeps the exactness
# checks at fixed dt (test_every_slif_parameter_has_exact_gradients: five noisy spikes, float64)
def test_noisy_slif_gradients_converge_and_match_finite_differences(x64):
    """Experiment (a)'s neuron with sigma = 0.5: five spikes, 32 seeds, one Brownian path per seed
    shared by every step size. The reference code's gradients of spike 2 onwards do not converge.

    The gradient error falls like sqrt(dt): the event time's derivative divides by the clock's slope
    lambda(V) at the event, and V there is known from grid increments only up to the Brownian
    bridge, O(sqrt(dt)). So the mean error falls about sqrt(10) = 3.2x per decade; with finitely
    many seeds single decades fluctuate, hence 2x per decade is asserted over the two decades."""
    t1, spikes, fine_dt, c = 2.0, 5, 1e-5, 1.5
    keys = jax.random.split(jax.random.key(2024), 32)
    values, gradients = {}, {}
    for dt in (1e-2, 1e-3, 1e-4, 1e-5):
        solve = jax.jit(jax.vmap(lambda k: jax.jvp(lambda cc: _slif_spike_times(cc, k, dt, fine_dt, t1, spikes), (c,), (1.0,))))
        values[dt], gradients[dt] = (np.asarray(a) for a in solve(keys))
        assert np.all(np.isfinite(values[dt])), f"a seed has fewer than {spikes} spikes at dt={dt}"
    errors = [np.mean(np.abs(gradients[dt] - gradients[fine_dt]), axis=0) for dt in (1e-2, 1e-3, 1e-4)]
    assert np.all(errors[0] / errors[2] >= 4), errors
    assert np.all(errors[0] / errors[1] >= 1.5) and np.all(errors[1] / errors[2] >= 1.5), errors
    eps = 1e-6
    shifted = jax.jit(jax.vmap(lambda k, cc: _slif_spike_times(cc, k, fine_dt, fine_dt, t1, spikes), in_axes=(0, None)))
    finite_difference = (np.asarray(shifted(keys, c + eps)) - np.asarray(shifted(keys, c - eps))) / (2 * eps)
    relative = np.abs(gradients[fine_dt] - finite_difference) / np.abs(finite_difference)
    assert np.all(np.median(relative, axis=0) <= 0.01), relative
    assert np.all(relative.max(axis=0) <= 0.03), relative


def _network(weights=None):
    neuron = sd.SLIF(22, input_current=jnp.asarray([1.5] * 4 + [0.0] * 18), mu_v=6.0, mu_i=5.0, sigma_v=0.25, sigma_i=0.25, v_reset=1.2, v0=1.1, i0=0.6)
    network = sd.feedforward(neuron, [4, 16, 2], key=jax.random.key(11))
    return network if weights is None else eqx.tree_at(lambda n: n.weights, network, weights)


def _network_spike_times(weights, key, dt, fine_dt, event_gradient="root"):
    network = _network(weights)
    path_key, clock_key = jax.random.split(key)
    path = sd.FineGridBrownian(path_key, t0=0.0, t1=1.0, dt=fine_dt, shape=network.brownian_shape)
    return sd.simulate(network, t0=0.0, t1=1.0, dt=dt, key=clock_key, brownian=path, max_spikes=12, max_events=150, event_gradient=event_gradient).spike_times


def test_network_weight_gradients_match_finite_differences(x64):
    weights = _network().weights
    direction = jax.random.normal(jax.random.key(5), weights.shape) * _network().mask
    for seed in range(3):
        key = jax.random.key(100 + seed)
        check = sd.check_gradients(lambda w: _network_spike_times(w, key, 1e-3, 1e-3), weights, direction=direction)
        assert int(np.sum(check.compared)) >= 20
        assert check.median_relative_error < 1e-3 and check.max_relative_error < 3e-2, check.relative_error
        assert check.routes_agree < 1e-8


@pytest.mark.slow
def test_network_weight_gradients_converge(x64):
    """dt = 1e-2 is outside the convergent regime here (about 80 spikes in 100 steps), so the
    rate is asserted from 1e-3 on; the mean error at 1e-2 is only required to be the largest."""
    weights = _network().weights
    direction = jax.random.normal(jax.random.key(5), weights.shape) * _network().mask
    fine_dt = 1e-5
    keys = jax.random.split(jax.random.key(77), 3)
    results = {}
    for dt in (1e-2, 1e-3, 1e-4, fine_dt):
        solve = jax.jit(jax.vmap(lambda k: jax.jvp(lambda w: _network_spike_times(w, k, dt, fine_dt), (weights,), (direction,))))
        results[dt] = tuple(np.asarray(a) for a in solve(keys))
    finite = np.all([np.isfinite(results[dt][0]) for dt in results], axis=0)
    assert finite.sum() >= 60
    errors = [np.mean(np.abs(results[dt][1] - results[fine_dt][1])[finite]) for dt in (1e-2, 1e-3, 1e-4)]
    assert errors[1] / errors[2] >= 2 and errors[0] > errors[1], errors


def test_both_routes_agree(x64):
    keys = jax.random.split(jax.random.key(3), 4)
    for key in keys:
        root = jax.jacrev(_slif_spike_times)(1.5, key, 1e-3, 1e-3, 2.0, 6, "root")
        recursion = jax.jacrev(_slif_spike_times)(1.5, key, 1e-3, 1e-3, 2.0, 6, "recursion")
        forward = jax.jacfwd(_slif_spike_times)(1.5, key, 1e-3, 1e-3, 2.0, 6, "recursion")
        np.testing.assert_allclose(recursion, root, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(forward, root, rtol=1e-8, atol=1e-12)
    weights = _network().weights
    key = jax.random.key(9)
    direction = _network().mask.astype(float)
    root = jax.jvp(lambda w: _network_spike_times(w, key, 1e-2, 1e-2, "root"), (weights,), (direction,))[1]
    recursion = jax.jvp(lambda w: _network_spike_times(w, key, 1e-2, 1e-2, "recursion"), (weights,), (direction,))[1]
    finite = np.isfinite(np.asarray(_network_spike_times(weights, key, 1e-2, 1e-2)))
    np.testing.assert_allclose(np.asarray(recursion)[finite], np.asarray(root)[finite], rtol=1e-8, atol=1e-12)
    stepper_root = jax.jacrev(lambda c: sd.simulate(sd.SLIF(input_current=c, sigma_v=0.5), t0=0.0, t1=1.0, dt=1e-2, key=key, max_spikes=4, on_overflow="ignore", stepper=sd.ExponentialEuler()).spike_times)(1.5)
    stepper_recursion = jax.jacrev(lambda c: sd.simulate(sd.SLIF(input_current=c, sigma_v=0.5), t0=0.0, t1=1.0, dt=1e-2, key=key, max_spikes=4, on_overflow="ignore", stepper=sd.ExponentialEuler(), event_gradient="recursion").spike_times)(1.5)
    np.testing.assert_allclose(stepper_recursion, stepper_root, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("event_gradient", ["root", "recursion"])
def test_no_nan_gradients_without_spikes_with_overflow_and_mixed(event_gradient):
    keys = jax.random.split(jax.random.key(0), 6)
    # c = 0.2: silent; c = 1.5: a few spikes; c = 4: overflows a 3-spike buffer and the budget.
    currents = jnp.asarray([0.2, 0.2, 1.5, 1.5, 4.0, 4.0])

    def loss(scale, mu_v):
        def one(key, c):
            model = sd.SLIF(input_current=c * scale, mu_v=mu_v, sigma_v=0.5, v0=-1.0)
            times = sd.simulate(model, t0=0.0, t1=2.0, dt=1e-2, key=key, max_spikes=3, on_overflow="ignore", event_gradient=event_gradient).spike_times
            return jnp.sum(jnp.where(jnp.isfinite(times), times, 0.0))

        return jnp.sum(jax.vmap(one)(keys, currents))

    solutions = jax.vmap(lambda key, c: sd.simulate(sd.SLIF(input_current=c, sigma_v=0.5, v0=-1.0), t0=0.0, t1=2.0, dt=1e-2, key=key, max_spikes=3, on_overflow="ignore"))(keys, currents)
    counts = np.asarray(solutions.spike_counts[:, 0])
    assert counts[0] == 0 and 0 < counts[2] <= 3 and bool(solutions.budget_exhausted[4])
    reverse = jax.grad(loss, argnums=(0, 1))(1.0, 15.0)
    forward = jax.jacfwd(loss, argnums=(0, 1))(1.0, 15.0)
    assert np.all(np.isfinite(reverse)) and np.all(np.isfinite(forward))
    assert float(reverse[0]) != 0.0
    per_sample = jax.vmap(jax.grad(lambda s, key, c: jnp.nansum(jnp.where(jnp.isfinite(t := sd.simulate(sd.SLIF(input_current=c * s, sigma_v=0.5), t0=0.0, t1=2.0, dt=1e-2, key=key, max_spikes=3, on_overflow="ignore").spike_times), t, 0.0))), in_axes=(None, 0, 0))(1.0, keys, currents)
    assert np.all(np.isfinite(per_sample))


def test_gradients_through_input_spike_times_and_weights(x64):
    network = sd.Network(
        sd.LIF(2, input_current=jnp.asarray([1.4, 0.95]), tau_syn=0.3),
        jnp.asarray([[0.0, 2.0], [0.0, 0.0]]),
        # Off the step grid: at a grid point the Euler map has a kink (the frozen drift changes).
        input_spike_times=[[0.2031, 0.5517, 0.9042], [0.4063, jnp.inf, jnp.inf]],
        input_weights=[[1.5, 0.2], [0.0, 1.1]],
    )

    def spike_times(net):
        return sd.simulate(net, t0=0.0, t1=4.0, dt=0.01, key=jax.random.key(0), max_spikes=6, on_overflow="ignore").spike_times

    for parameters in (lambda n: n.input_spike_times, lambda n: n.input_weights, lambda n: n.weights):
        check = sd.check_gradients(spike_times, network, parameters=parameters, key=jax.random.key(1))
        assert int(np.sum(check.compared)) >= 3
        assert check.max_relative_error < 1e-5 and check.routes_agree < 1e-10


def test_check_gradients_catches_a_wrong_gradient(x64):
    model = sd.SLIF(sigma_v=0.5)

    def wrong(m):
        # The gradient is cut at the clock parameter alpha: autodiff now disagrees with the
        # finite differences, and the check must say so.
        cut = eqx.tree_at(lambda n: n.alpha, m, jax.lax.stop_gradient(m.alpha))
        return sd.simulate(cut, t0=0.0, t1=1.0, dt=1e-2, key=jax.random.key(0), max_spikes=4, on_overflow="ignore").spike_times[0]

    check = sd.check_gradients(wrong, model, parameters=lambda m: m.alpha, direction=jnp.asarray(1.0))
    assert check.max_relative_error > 0.5
    with pytest.raises(ValueError, match="direction or a key"):
        sd.check_gradients(wrong, model)


def test_check_gradients_needs_float64():
    with pytest.raises(ValueError, match="float64"):
        sd.check_gradients(lambda m: m.alpha, sd.SLIF(), key=jax.random.key(0))
