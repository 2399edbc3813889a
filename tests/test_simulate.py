"""The event core through `simulate`: ordering of events, buffers, batching, errors."""

import math
import warnings

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd

simulate_module = importlib.import_module("spikesde._core.simulate")


def lif_first_spike(c, tau=1.0, theta=1.0):
    return tau * math.log(c * tau / (c * tau - theta))


def test_events_in_one_step_are_applied_in_time_order(x64):
    # Neuron 1 (the higher index) crosses first, inside the same step as neuron 0, and inhibits
    # neuron 0 strongly. Applied in time order, neuron 0 never fires; lowest index first, it would.
    c0, c1 = 1.5, 1.52
    t0_spike, t1_spike = lif_first_spike(c0), lif_first_spike(c1)
    dt = 0.1
    assert math.floor(t0_spike / dt) == math.floor(t1_spike / dt) and t1_spike < t0_spike
    weights = jnp.zeros((2, 2)).at[1, 0].set(-50.0)
    network = sd.Network(sd.LIF(2, input_current=jnp.asarray([c0, c1]), tau_syn=10.0), weights)
    solution = sd.simulate(network, t0=0.0, t1=1.2, dt=dt, key=jax.random.key(0), max_spikes=2, stepper=sd.ExponentialEuler())
    np.testing.assert_allclose(solution.spike_times[1, 0], t1_spike, rtol=1e-10)
    assert int(solution.spike_counts[0]) == 0
    # Without the inhibition neuron 0 fires at its own analytic time, in that same step.
    free = sd.simulate(network.neuron, t0=0.0, t1=1.2, dt=dt, key=jax.random.key(0), max_spikes=2, stepper=sd.ExponentialEuler())
    np.testing.assert_allclose(free.spike_times[:, 0], [t0_spike, t1_spike], rtol=1e-10)


def test_many_events_in_one_step_are_all_exact(x64):
    # Eight neurons cross inside one coarse step: every crossing is located exactly.
    currents = jnp.linspace(1.50, 1.51, 8)
    model = sd.LIF(8, input_current=currents)
    solution = sd.simulate(model, t0=0.0, t1=1.2, dt=0.6, key=jax.random.key(0), max_spikes=1, stepper=sd.ExponentialEuler())
    expected = [lif_first_spike(float(c)) for c in currents]
    np.testing.assert_allclose(solution.spike_times[:, 0], expected, rtol=1e-10)


def test_input_spikes_drive_the_synaptic_current(x64):
    tau_syn, weight, t1 = 0.5, 0.8, 1.0
    network = sd.Network(
        sd.LIF(1, input_current=0.0, tau_syn=tau_syn),
        input_spike_times=[[0.3, 0.65, jnp.inf]],
        input_weights=[[weight]],
    )
    solution = sd.simulate(network, t0=0.0, t1=t1, dt=0.1, key=jax.random.key(0), max_spikes=1, stepper=sd.ExponentialEuler())
    expected = weight * (math.exp(-(t1 - 0.3) / tau_syn) + math.exp(-(t1 - 0.65) / tau_syn))
    np.testing.assert_allclose(solution.final_state[1, 0], expected, rtol=1e-12)


def test_buffer_overflow_is_reported():
    model = sd.SLIF(input_current=3.0, sigma_v=0.2)
    kwargs = dict(t0=0.0, t1=2.0, dt=0.01, key=jax.random.key(0), max_spikes=2)
    with pytest.raises(Exception, match=r"spike buffer overflow: neuron\(s\) 0 fired"):
        jax.block_until_ready(sd.simulate(model, max_events=500, **kwargs).spike_times)
    with pytest.warns(RuntimeWarning, match="spike buffer overflow"):
        sd.simulate(model, on_overflow="warn", max_events=500, **kwargs)
    full = sd.simulate(model, **(kwargs | dict(max_spikes=200)))
    assert not bool(full.overflow[0]) and int(full.spike_counts[0]) > 2
    # With the default event budget the solve stops at the first spike that does not fit: the
    # budget is exhausted, no buffer overflowed.
    solution = sd.simulate(model, on_overflow="ignore", **kwargs)
    assert bool(solution.budget_exhausted) and not bool(solution.overflow[0]) and int(solution.spike_counts[0]) == 2
    assert float(full.spike_times[0, 1]) <= float(solution.t_final) <= float(full.spike_times[0, 2])
    np.testing.assert_array_equal(solution.spike_times[0], full.spike_times[0, :2])
    # With a larger budget it runs to t1, resets at every spike, and keeps the first two.
    longer = sd.simulate(model, on_overflow="ignore", max_events=500, **kwargs)
    assert bool(longer.overflow[0]) and int(longer.spike_counts[0]) == int(full.spike_counts[0])
    assert int(longer.stored_counts[0]) == 2 == longer.max_spikes
    assert float(longer.t_final) == 2.0
    np.testing.assert_array_equal(longer.spike_times[0], full.spike_times[0, :2])


def test_event_budget_stops_the_solve_and_is_reported():
    model = sd.SLIF(input_current=3.0)
    solution = sd.simulate(model, t0=0.0, t1=2.0, dt=0.01, key=jax.random.key(0), max_spikes=50, max_events=3, on_overflow="ignore")
    full = sd.simulate(model, t0=0.0, t1=2.0, dt=0.01, key=jax.random.key(0), max_spikes=50)
    assert bool(solution.budget_exhausted) and not bool(solution.overflow[0]) and int(solution.spike_counts[0]) == 3
    assert float(full.spike_times[0, 2]) <= float(solution.t_final) < 2.0
    np.testing.assert_array_equal(solution.spike_times[0, :3], full.spike_times[0, :3])
    with pytest.raises(Exception, match="event budget"):
        jax.block_until_ready(sd.simulate(model, t0=0.0, t1=2.0, dt=0.01, key=jax.random.key(0), max_spikes=50, max_events=3).spike_times)


def test_vmap_over_128_keys():
    model = sd.SLIF(sigma_v=0.5)
    keys = jax.random.split(jax.random.key(0), 128)
    solution = jax.vmap(lambda key: sd.simulate(model, t0=0.0, t1=5.0, dt=0.01, key=key, max_spikes=64))(keys)
    assert solution.spike_times.shape == (128, 1, 64)
    first = np.asarray(solution.spike_times[:, 0, 0])
    assert np.all(np.isfinite(first)) and np.unique(first).size == 128
    single = sd.simulate(model, t0=0.0, t1=5.0, dt=0.01, key=keys[5], max_spikes=64)
    np.testing.assert_allclose(solution.spike_times[5], single.spike_times, rtol=1e-6)


def test_repeated_calls_do_not_retrace(monkeypatch):
    traces = []
    original = simulate_module.solve_events

    def counting(*args, **kwargs):
        traces.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(simulate_module, "solve_events", counting)
    kwargs = dict(t0=0.0, t1=1.0, dt=0.0125, max_spikes=7)
    for i in range(4):
        model = sd.SLIF(input_current=1.5 + 0.1 * i, sigma_v=0.3)
        sd.simulate(model, key=jax.random.key(i), on_overflow="ignore", **kwargs)
    assert len(traces) == 1


def test_float32_and_float64(x64):
    model = sd.SLIF(sigma_v=0.5)
    for dtype in (jnp.float32, jnp.float64):
        solution = sd.simulate(model, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=8, dtype=dtype, on_overflow="ignore")
        assert solution.spike_times.dtype == dtype and solution.ys.dtype == dtype
    lif = sd.LIF(input_current=1.5)
    single = sd.simulate(lif, t0=0.0, t1=3.0, dt=0.01, key=jax.random.key(0), max_spikes=3, dtype=jnp.float32, stepper=sd.ExponentialEuler())
    double = sd.simulate(lif, t0=0.0, t1=3.0, dt=0.01, key=jax.random.key(0), max_spikes=3, dtype=jnp.float64, stepper=sd.ExponentialEuler())
    np.testing.assert_allclose(single.spike_times[0, :2], double.spike_times[0, :2], rtol=1e-5)


def test_states_are_saved_at_requested_grid_times(x64):
    model = sd.LIF(input_current=0.5, tau_mem=1.0)
    solution = sd.simulate(model, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=1, save_at=[0.0, 0.25, 1.0], stepper=sd.ExponentialEuler())
    np.testing.assert_allclose(solution.ts, [0.0, 0.25, 1.0])
    np.testing.assert_allclose(solution.state("V")[:, 0], 0.5 * (1 - np.exp(-np.array([0.0, 0.25, 1.0]))), rtol=1e-12)
    with pytest.raises(ValueError, match="step grid"):
        sd.simulate(model, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=1, save_at=[0.123])
    with pytest.raises(KeyError, match="unknown state variable"):
        solution.state("s")


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(dt=0.0), "dt must be positive"),
        (dict(dt=-0.1), "dt must be positive"),
        (dict(t1=0.0), "t1 must be greater than t0"),
        (dict(max_spikes=0), "max_spikes must be a positive integer"),
        (dict(t1=1.005), "not a multiple of dt"),
        (dict(on_overflow="silently"), "on_overflow"),
    ],
)
def test_bad_arguments_are_named(change, message):
    kwargs = dict(t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=4) | change
    with pytest.raises(ValueError, match=message):
        sd.simulate(sd.SLIF(), **kwargs)


def test_bad_models_are_named():
    kwargs = dict(t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=4)
    with pytest.raises(ValueError, match=r"weights must have shape .*\(3, 3\)"):
        sd.Network(sd.SLIF(3), jnp.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"\.mu_v contains NaN"):
        sd.simulate(sd.SLIF(mu_v=jnp.nan), **kwargs)
    with pytest.raises(ValueError, match=r"\.sigma_v has shape \(2,\)"):
        sd.simulate(sd.SLIF(3, sigma_v=jnp.ones(2)), **kwargs)
    with pytest.raises(ValueError, match="input_weights must have shape"):
        sd.Network(sd.SLIF(2), input_spike_times=[[0.1]], input_weights=jnp.ones((1, 3)))
    with pytest.raises(TypeError, match="expected a Network"):
        sd.simulate("not a model", **kwargs)


def test_nan_parameter_under_jit_raises():
    model = sd.SLIF()

    @jax.jit
    def run(c):
        import equinox as eqx

        bad = eqx.tree_at(lambda m: m.input_current.value, model, c)
        return sd.simulate(bad, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=4, on_overflow="ignore").spike_times

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception, match="NaN"):
            jax.block_until_ready(run(jnp.asarray(jnp.nan)))


def test_exact_event_location_object_matches_the_keywords(x64):
    model = sd.SLIF(sigma_v=0.5)
    kwargs = dict(t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(3), max_spikes=8, on_overflow="ignore", stepper=sd.ExponentialEuler())
    by_keywords = sd.simulate(model, root_iterations=5, event_gradient="recursion", **kwargs)
    by_object = sd.simulate(model, event_location=sd.ExactEventLocation(5, "recursion"), **kwargs)
    np.testing.assert_array_equal(by_keywords.spike_times, by_object.spike_times)
    with pytest.raises(ValueError, match="event_gradient"):
        sd.ExactEventLocation(event_gradient="adjoint")
    with pytest.raises(TypeError, match="event_location"):
        sd.simulate(model, event_location="grid", **kwargs)


def test_steppers_are_the_identity_for_a_zero_step(x64):
    neuron = sd.SLIF(3, input_current=1.2, sigma_v=0.4)
    y = jnp.asarray([[0.3, 0.9, 1.1], [0.1, -0.2, 0.0], [-0.5, -0.1, -2.0]])
    dW = jnp.ones((1, 3))
    for stepper in (sd.EulerMaruyama(), sd.ExponentialEuler()):
        np.testing.assert_array_equal(stepper.step(neuron, 0.3, y, 0.0, dW * 0.0), y)


def test_grid_event_location_fires_every_crossing_neuron_at_the_step_end(x64):
    # Deterministic LIF, threshold 1: neurons with the same current cross on the same step; with
    # grid location all fire at that step's end, the first grid point where V > 1.
    currents = jnp.asarray([1.5, 1.5, 1.5, 3.0])
    model = sd.LIF(4, input_current=currents, tau_syn=10.0)
    # The slow neurons excite the fast one only, so their own crossings are the uncoupled ones.
    weights = jnp.zeros((4, 4)).at[:3, 3].set(0.01)
    network = sd.Network(model, weights)
    dt = 0.01
    solution = sd.simulate(network, t0=0.0, t1=1.5, dt=dt, key=jax.random.key(0), max_spikes=4, on_overflow="ignore",
                           stepper=sd.ExponentialEuler(), event_location=sd.GridEventLocation())
    first = np.asarray(solution.spike_times[:, 0])
    np.testing.assert_allclose(first / dt, np.round(first / dt), atol=1e-9)
    assert first[0] == first[1] == first[2]
    expected = [math.ceil(lif_first_spike(c) / dt) * dt for c in (1.5, 3.0)]
    np.testing.assert_allclose(first[[0, 3]], expected, atol=1e-12)
    # All three jumps reached the fast neuron at that grid point.
    with_jumps = sd.simulate(network, t0=0.0, t1=expected[0], dt=dt, key=jax.random.key(0), max_spikes=4, on_overflow="ignore",
                             stepper=sd.ExponentialEuler(), event_location=sd.GridEventLocation())
    np.testing.assert_allclose(with_jumps.final_state[1, 3], 0.03, rtol=1e-12)
    # Non-strict fires where E = 0 too: the same spikes here (no crossing lands on zero exactly).
    loose = sd.simulate(network, t0=0.0, t1=1.5, dt=dt, key=jax.random.key(0), max_spikes=4, on_overflow="ignore",
                        stepper=sd.ExponentialEuler(), event_location=sd.GridEventLocation(strict=False))
    np.testing.assert_array_equal(loose.spike_times, solution.spike_times)
