"""Deterministic LIF: spike times against the analytic period (acceptance 1 of the event core)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd

C, TAU, THETA = 1.5, 1.0, 1.0
PERIOD = TAU * math.log(C * TAU / (C * TAU - THETA))


def spike_times(dt, stepper, t1=3.5):
    model = sd.LIF(input_current=C, tau_mem=TAU, threshold=THETA)
    solution = sd.simulate(model, t0=0.0, t1=t1, dt=dt, key=jax.random.key(0), max_spikes=4, stepper=stepper)
    return np.asarray(solution.spike_times[0])


def test_euler_converges_at_first_order(x64):
    expected = PERIOD * np.arange(1, 4)
    errors = [np.max(np.abs(spike_times(dt, sd.EulerMaruyama())[:3] - expected)) for dt in (1e-2, 1e-3, 1e-4)]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 8) & (ratios < 12)), (errors, ratios)
    assert errors[-1] / PERIOD < 2e-4


@pytest.mark.parametrize("dt", [0.05, 1e-2, 1e-3])
def test_exponential_step_is_exact(x64, dt):
    times = spike_times(dt, sd.ExponentialEuler())
    expected = PERIOD * np.arange(1, 4)
    np.testing.assert_allclose(times[:3], expected, rtol=1e-6)
    np.testing.assert_allclose(times[:3], expected, rtol=1e-11)
    assert np.isinf(times[3])


@pytest.mark.parametrize("tau_syn", [0.3, 1.0])
def test_linear_step_solves_the_subthreshold_dynamics(x64, tau_syn):
    # V' = -V/tau + I + c, I' = -I/tau_syn with V(0) = v0, I(0) = i0 has a closed form; the
    # equal-time-constant case (tau_syn = tau) is the degenerate one.
    v0, i0, c, t = 0.2, 0.7, 0.4, 0.8
    model = sd.LIF(input_current=c, tau_mem=TAU, tau_syn=tau_syn, threshold=100.0, v0=v0, i0=i0)
    solution = sd.simulate(model, t0=0.0, t1=t, dt=0.1, key=jax.random.key(0), max_spikes=1, stepper=sd.ExponentialEuler())
    a, b = 1 / TAU, 1 / tau_syn
    coupling = t * math.exp(-a * t) if a == b else (math.exp(-b * t) - math.exp(-a * t)) / (a - b)
    v = v0 * math.exp(-a * t) + c * TAU * (1 - math.exp(-a * t)) + i0 * coupling
    np.testing.assert_allclose(solution.final_state[:, 0], [v, i0 * math.exp(-b * t)], rtol=1e-12)


def test_exponential_step_reduces_to_euler_for_small_steps(x64):
    model = sd.LIF(input_current=C, tau_mem=TAU, v0=0.1, i0=0.3)
    y = jnp.asarray([[0.1], [0.3]])
    h = 1e-6
    euler = sd.EulerMaruyama().step(model, 0.0, y, h, jnp.zeros((2, 1)))
    exponential = sd.ExponentialEuler().step(model, 0.0, y, h, jnp.zeros((2, 1)))
    np.testing.assert_allclose(exponential, euler, atol=1e-11)
