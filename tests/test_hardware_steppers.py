"""Clock-driven low-precision steppers through spikesde.simulate: transcriptions, noise, errors,
and straight-through gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde
from spikesde._hardware import (
    FixedPoint,
    LowPrecisionEuler,
    SpiNNakerStepper,
    Stochastic,
    StraightThroughGridLocation,
)

KEY = jax.random.key(0)
GRID = spikesde.GridEventLocation(strict=False)


def spike_steps(solution, dt):
    times = np.asarray(solution.spike_times)
    return [np.round(row[np.isfinite(row)] / dt).astype(int).tolist() for row in times]


def test_low_precision_euler_matches_a_rounded_transcription():
    # s3.8, nearest, exact decay constant: V <- r(r(V - r(a V)) + r(dt c)); fire at V >= 1, V -= 1.
    dt, steps, tau = 1e-3, 400, 0.02
    c = np.linspace(55.0, 140.0, 8).astype(np.float32)
    r = lambda x: np.round(np.float32(x) * np.float32(256)) / np.float32(256)  # noqa: E731
    # The constant as the stepper computes it: dt / tau_mem in float32 (not float64 then rounded).
    a, v = np.float32(dt) / np.float32(tau), np.zeros(8, np.float32)
    expected = [[] for _ in c]
    for k in range(steps):
        v = r(r(v - r(a * v)) + r(np.float32(dt) * c))
        for i in np.flatnonzero(v >= 1):
            expected[i].append(k + 1)
        v = np.where(v >= 1, v - 1, v).astype(np.float32)
    neuron = spikesde.LIF(8, c, tau_mem=tau, tau_syn=1.0)
    stepper = LowPrecisionEuler(dt, FixedPoint(3, 8), "nearest", decay_bits=None)
    solution = spikesde.simulate(neuron, t0=0.0, t1=steps * dt, dt=dt, key=KEY, max_spikes=64, stepper=stepper, event_location=GRID)
    assert sum(map(len, expected)) > 20
    assert spike_steps(solution, dt) == expected


def test_spinnaker_matches_an_integer_transcription(x64):
    # s16.15 integers (LSB 2^-15), truncating (floor) products, exponential Euler, V >= threshold.
    dt, steps, tau_m, tau_s = 1e-3, 300, 0.02, 0.005
    c = np.array([55.0, 70.0, 90.0, 120.0, 160.0])
    one = 2**15
    fix = lambda x: np.floor(np.asarray(x) * one).astype(np.int64)  # noqa: E731
    decay_v, decay_i, c_int = fix(np.exp(-dt / tau_m)), fix(np.exp(-dt / tau_s)), fix(c)
    v = np.zeros(5, np.int64)
    i = np.zeros(5, np.int64)
    expected = [[] for _ in c]
    for k in range(steps):
        a = np.floor(tau_m * (i + c_int)).astype(np.int64)
        v = a - ((decay_v * (a - v)) >> 15)
        i = (decay_i * i) >> 15
        for j in np.flatnonzero(v >= one):
            expected[j].append(k + 1)
        v = np.where(v >= one, v - one, v)
    neuron = spikesde.LIF(5, c, tau_mem=tau_m, tau_syn=tau_s)
    solution = spikesde.simulate(
        neuron, t0=0.0, t1=steps * dt, dt=dt, key=KEY, max_spikes=64, stepper=SpiNNakerStepper(dt=dt), event_location=GRID, dtype=jnp.float64
    )
    assert sum(map(len, expected)) > 20
    assert spike_steps(solution, dt) == expected


def test_spinnaker_needs_a_float64_carrier():
    with pytest.raises(ValueError, match="32 significant bits.*float32 carrier.*float64"):
        spikesde.simulate(spikesde.LIF(1, 60.0, tau_mem=0.02), t0=0.0, t1=0.01, dt=1e-3, key=KEY, max_spikes=4,
                          stepper=SpiNNakerStepper(dt=1e-3), event_location=GRID)


def test_on_chip_noise_has_the_brownian_variance():
    stepper = LowPrecisionEuler(0.01, noise_bits=8, key=KEY)
    neuron = spikesde.SLIF(8000, sigma_v=0.5, sigma_i=0.0)
    xi = stepper.noise(neuron, jnp.zeros((2, 8000)), jax.random.key(3))
    # Uniform with 8-bit resolution: std sigma sqrt(dt) (1 - 4^-8)^(1/2); its standard error here
    # is about 0.05 * sqrt(0.8 / (2 * 8000)) = 3.5e-4.
    assert abs(float(jnp.std(xi[0])) - 0.5 * 0.1) < 0.0015
    assert float(jnp.abs(xi[1]).max()) == 0.0


def test_stochastic_rounding_runs_are_reproducible_and_keyed():
    neuron = spikesde.SLIF(4, 1.5, sigma_v=0.5)

    def run(key):
        stepper = LowPrecisionEuler(0.01, FixedPoint(7, 8), Stochastic(), key=key)
        return spikesde.simulate(neuron, t0=0.0, t1=1.0, dt=0.01, key=KEY, max_spikes=32, stepper=stepper, event_location=GRID).spike_times

    a, b, other = run(jax.random.key(1)), run(jax.random.key(1)), run(jax.random.key(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(np.asarray(a), np.asarray(other))
    with pytest.raises(ValueError, match="stochastic rounding needs key"):
        LowPrecisionEuler(0.01, FixedPoint(7, 8), Stochastic())


def _first_spikes(c, stepper, location, sigma, dt, t1=1.0):
    neuron = spikesde.SLIF(1, c, sigma_v=sigma)
    solution = spikesde.simulate(neuron, t0=0.0, t1=t1, dt=dt, key=jax.random.key(3), max_spikes=8, stepper=stepper,
                                 event_location=location, dtype=jnp.float64, on_overflow="ignore")
    return solution.spike_times[0, :4]


@pytest.mark.parametrize("sigma", [0.0, 0.5])
def test_straight_through_first_spike_gradient_is_the_float_euler_gradient(x64, sigma):
    # Before the first event the emulated path (fine format) and the float Euler path coincide, so
    # the straight-through derivative of the first spike time equals the exact one of float Euler.
    dt = 1e-3
    shadow = LowPrecisionEuler(dt, FixedPoint(10, 40), decay_bits=None, straight_through=True)
    st = jax.jacfwd(lambda c: _first_spikes(c, shadow, StraightThroughGridLocation(), sigma, dt, t1=0.3))(1.5)
    exact = jax.jacfwd(lambda c: _first_spikes(c, spikesde.EulerMaruyama(), None, sigma, dt, t1=0.3))(1.5)
    assert abs(float(st[0])) > 0.01  # a non-trivial derivative
    np.testing.assert_allclose(st[0], exact[0], rtol=1e-9)


@pytest.mark.slow
def test_straight_through_multi_spike_gradients_converge_to_float_euler(x64):
    # Later spikes follow a path snapped to the clock; without noise the straight-through
    # derivatives converge to the float ones as dt shrinks (the jump of the sensitivities is right).
    def gap(dt):
        shadow = LowPrecisionEuler(dt, FixedPoint(10, 40), decay_bits=None, straight_through=True)
        st = jax.jacfwd(lambda c: _first_spikes(c, shadow, StraightThroughGridLocation(), 0.0, dt))(1.5)
        exact = jax.jacfwd(lambda c: _first_spikes(c, spikesde.EulerMaruyama(), None, 0.0, dt))(1.5)
        return np.max(np.abs(np.asarray(st) - np.asarray(exact)) / np.abs(np.asarray(exact)))

    coarse, fine = gap(2e-3), gap(2.5e-4)
    assert fine < 0.01 and fine < coarse / 3


def test_refractory_ticks_block_firing():
    # s3.8 LIF firing every 8-9 ticks on its own; with 10 refractory ticks it fires at most every
    # 11 ticks, and V keeps integrating meanwhile (so it fires on the first allowed tick).
    dt = 1e-3
    neuron = spikesde.LIF(1, 140.0, tau_mem=0.02, tau_syn=1.0)
    stepper = LowPrecisionEuler(dt, FixedPoint(3, 8), "nearest", decay_bits=None)
    options = dict(t0=0.0, t1=0.1, dt=dt, key=KEY, max_spikes=32, stepper=stepper, event_location=GRID)
    free = spike_steps(spikesde.simulate(neuron, **options), dt)[0]
    blocked = spike_steps(spikesde.simulate(spikesde.hardware.Refractory(neuron, steps=10), **options), dt)[0]
    assert np.all(np.diff(free) < 10)
    assert blocked[0] == free[0] and np.all(np.diff(blocked) == 11)
