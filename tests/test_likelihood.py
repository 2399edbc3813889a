"""Exact likelihood of the noise-free escape-noise SLIF: value vs scipy, gradients vs finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikesde._likelihood import EventGrid, log_likelihood
from spikesde._likelihood.design import StimulusDesign, to_model
from spikesde._models.slif import SLIF
from spikesde._models.stimulus import AfterSpikeCurrent, StimulusCurrent

SPIKES = np.array([0.031234, 0.07777, 0.12345, 0.171])
T1 = 0.2
TAUS = (0.01, 0.1)


def small_model(alpha=0.05, c=1.6):
    neuron = SLIF(input_current=c, mu_v=30.0, v_reset=0.4, alpha=alpha, beta=5.0, tau_s=0.02, v0=0.8)
    return neuron, AfterSpikeCurrent(TAUS, [-0.3, 0.1])


def scipy_log_likelihood(c, mu_v, v_reset, alpha, beta, v_th, tau_s, v0, amplitudes):
    """Direct integration of (V, C) between the observed spikes with solve_ivp."""
    from scipy.integrate import solve_ivp

    lam = lambda v: np.exp(beta * np.minimum(v - v_th, 10.0)) / tau_s

    def rhs(t, y, past):
        h = sum(a * np.exp(-(t - past[past < t + 1e-15, None]) / tau).sum() for a, tau in zip(amplitudes, TAUS))
        return [mu_v * (c + h - y[0]), lam(y[0])]

    total, v, start = 0.0, v0, 0.0
    for end in list(SPIKES) + [T1]:
        past = SPIKES[SPIKES <= start]
        sol = solve_ivp(rhs, (start, end), [v, 0.0], args=(past,), rtol=1e-11, atol=1e-12, method="DOP853")
        v_end, clock = sol.y[:, -1]
        if end < T1:
            assert clock >= alpha
            total += np.log(lam(v_end)) - (clock - alpha)
            v, start = v_end - v_reset, end
        else:
            total -= max(clock - alpha, 0.0)
    return total


def test_value_matches_direct_integration(x64):
    neuron, history = small_model()
    reference = scipy_log_likelihood(1.6, 30.0, 0.4, 0.05, 5.0, 1.0, 0.02, 0.8, (-0.3, 0.1))
    errors = []
    for dt in (1e-4, 2.5e-5):
        grid = EventGrid.from_spike_times(SPIKES, 0.0, T1, dt)
        errors.append(abs(float(log_likelihood(neuron, grid, history)) - reference))
    # First order in dt (the after-spike current is held over each step); 4x smaller dt, ~4x smaller error.
    assert errors[1] < 2e-3 * abs(reference)
    assert errors[1] < errors[0] / 3


def test_alpha_adds_per_interval_and_forbids_short_intervals(x64):
    neuron, history = small_model(alpha=0.0)
    grid = EventGrid.from_spike_times(SPIKES, 0.0, T1, 1e-4)
    base = float(log_likelihood(neuron, grid, history))
    shifted = float(log_likelihood(SLIF(**_fields(neuron, alpha=0.05)), grid, history))
    # Every clock run exceeds 0.05 here: alpha adds alpha per complete interval (4 spikes) and to the censored one.
    assert shifted - base == pytest.approx(0.05 * 5, rel=1e-9)
    assert float(log_likelihood(SLIF(**_fields(neuron, alpha=50.0)), grid, history)) == -np.inf


def _fields(neuron, **changes):
    names = ("mu_v", "v_reset", "alpha", "beta", "tau_s", "v0")
    values = {name: getattr(neuron, name) for name in names}
    return {"input_current": neuron.input_current, **values, **changes}


def test_gradient_matches_finite_differences(x64):
    neuron, history = small_model()
    grid = EventGrid.from_spike_times(SPIKES, 0.0, T1, 1e-4)
    params = {"mu_v": neuron.mu_v, "v_reset": neuron.v_reset, "c": jnp.asarray(1.6), "a": history.amplitudes,
              "tau_s": neuron.tau_s}

    def f(p):
        model = SLIF(input_current=p["c"], mu_v=p["mu_v"], v_reset=p["v_reset"], alpha=0.05, beta=5.0,
                     tau_s=p["tau_s"], v0=0.8)
        return log_likelihood(model, grid, AfterSpikeCurrent(TAUS, p["a"]))

    grads = jax.grad(f)(params)
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    g_flat = jax.flatten_util.ravel_pytree(grads)[0]
    for i in range(flat.size):
        eps = 1e-6 * max(1.0, abs(float(flat[i])))
        e = jnp.zeros_like(flat).at[i].set(eps)
        fd = (f(unravel(flat + e)) - f(unravel(flat - e))) / (2 * eps)
        assert float(g_flat[i]) == pytest.approx(float(fd), rel=1e-6, abs=1e-8)


def test_design_path_equals_generic_path_and_windows_add_up(x64):
    rng = np.random.default_rng(0)
    features = np.cumsum(rng.normal(size=(401, 3)), axis=0) * 0.05
    current = StimulusCurrent(features, 5e-4)
    template = SLIF(input_current=current, alpha=0.0, beta=5.0, tau_s=0.02, v0=0.9)
    grid = EventGrid.from_spike_times(SPIKES, 0.0, T1, 1e-4)
    design = StimulusDesign.build(grid, current, TAUS, template)
    theta = dict(bias=jnp.asarray(1.5), weights=jnp.array([0.3, -0.2, 0.1]), amplitudes=jnp.array([-0.3, 0.1]),
                 v_reset=jnp.asarray(0.4), log_mu_v=jnp.log(30.0))
    neuron, history = to_model(theta, current, TAUS, template)
    generic = float(log_likelihood(neuron, grid, history))
    assert float(design.log_likelihood(theta)) == pytest.approx(generic, rel=1e-12)
    first, second = grid.window(0.0, 0.1), grid.window(0.1, T1)
    parts = float(design.log_likelihood(theta, *first)) + float(design.log_likelihood(theta, *second))
    assert parts == pytest.approx(generic, rel=1e-12)
    g_design = jax.grad(design.log_likelihood)(theta)
    g_generic = jax.grad(lambda th: _generic(th, current, template, grid))(theta)
    for key in theta:
        np.testing.assert_allclose(g_design[key], g_generic[key], rtol=1e-9, atol=1e-12)


def test_event_grid_errors():
    # Two spikes stamped on one step (NEST) are two events on one node, not an error.
    assert EventGrid.from_spike_times([0.1, 0.10001], 0.0, 1.0, 1e-3, tolerance=1e-4).counts.max() == 2
    with pytest.raises(ValueError, match=r"\(t0, t1\]"):
        EventGrid.from_spike_times([1.5], 0.0, 1.0, 1e-3)
    with pytest.raises(ValueError, match="integer"):
        EventGrid.from_spike_times([0.5], 0.0, 1.0, 0.3)


def _generic(theta, current, template, grid):
    neuron, history = to_model(theta, current, TAUS, template)
    return log_likelihood(neuron, grid, history)
