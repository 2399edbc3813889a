"""The diffrax reference solver, and the event core cross-checked against it on one noise."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd
from spikesde._core.reference import _StateBrownianPath

# Float64 throughout, through conftest's fixture so that the setting does not leak into the
# other test modules of the session.
pytestmark = pytest.mark.usefixtures("x64")


def lif_period(c, tau=1.0, theta=1.0):
    return tau * math.log(c * tau / (c * tau - theta))


def test_path_adapter_is_the_fine_grid_path_on_the_noisy_rows():
    brownian = sd.FineGridBrownian(jax.random.key(3), 0.0, 1.0, 1e-3, (2, 4))
    path = _StateBrownianPath(brownian, (0, 1), 3, jnp.float64)
    for s, u in [(0.0, 0.37), (0.1234, 0.12345), (0.5, 1.0)]:
        increment = path.evaluate(s, u)
        np.testing.assert_allclose(increment[:2], brownian.evaluate(s, u), rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(increment[2], 0.0)


@pytest.mark.parametrize("dt", [1e-3, 1e-4])
def test_deterministic_lif_matches_analytic_spike_times(dt):
    # V' = c - V/tau from 0, reset to 0: spikes at k t* with t* = tau ln(c tau / (c tau - theta)).
    model = sd.LIF(input_current=1.5, tau_mem=1.0)
    brownian = sd.FineGridBrownian(jax.random.key(1), 0.0, 3.5, dt, model.brownian_shape)
    solution = sd.reference_simulate(model, t0=0.0, t1=3.5, dt=dt, key=jax.random.key(0), brownian=brownian, max_spikes=4)
    expected = lif_period(1.5) * np.arange(1, 4)
    assert int(solution.spike_counts[0]) == 3
    # Euler's O(dt) error in each period accumulates over the spikes.
    errors = np.abs(np.asarray(solution.spike_times[0, :3]) - expected)
    assert np.all(errors <= dt * np.arange(1, 4)), errors
    assert np.isinf(solution.spike_times[0, 3])


def test_event_budget_and_buffer_overflow():
    model = sd.LIF(input_current=1.5, tau_mem=1.0)
    brownian = sd.FineGridBrownian(jax.random.key(1), 0.0, 3.5, 1e-3, model.brownian_shape)
    kwargs = dict(t0=0.0, t1=3.5, dt=1e-3, key=jax.random.key(0), brownian=brownian)
    full = sd.reference_simulate(model, max_spikes=1, max_events=10, **kwargs)
    assert int(full.spike_counts[0]) == 3 and bool(full.overflow[0]) and float(full.t_final) == 3.5
    stopped = sd.reference_simulate(model, max_spikes=1, **kwargs)
    # The default budget (one spike) runs out when the second spike is due: the solve stops there.
    assert int(stopped.spike_counts[0]) == 1 and bool(stopped.budget_exhausted) and not bool(stopped.overflow[0])
    np.testing.assert_allclose(float(stopped.t_final), 2 * lif_period(1.5), atol=3e-3)
    assert np.all(np.isnan(stopped.ys[-1]))


def test_unsupported_inputs_are_rejected():
    network = sd.Network(sd.LIF(1), input_spike_times=[[0.5]], input_weights=[[1.0]])
    brownian = sd.FineGridBrownian(jax.random.key(0), 0.0, 1.0, 1e-2, network.brownian_shape)
    with pytest.raises(ValueError, match="input spike trains"):
        sd.reference_simulate(network, t0=0.0, t1=1.0, dt=1e-2, key=jax.random.key(0), brownian=brownian, max_spikes=1)
    with pytest.raises(ValueError, match="FineGridBrownian"):
        sd.reference_simulate(
            sd.LIF(1), t0=0.0, t1=1.0, dt=1e-2, key=jax.random.key(0), brownian=sd.GridBrownian(jax.random.key(0)), max_spikes=1
        )
    with pytest.raises(ValueError, match="covers"):
        sd.reference_simulate(sd.LIF(1), t0=0.0, t1=2.0, dt=1e-2, key=jax.random.key(0), brownian=brownian, max_spikes=1)


def test_core_agrees_with_reference_spike_for_spike_on_a_noisy_network():
    # Reference experiment (b): a noisy 4 -> 16 -> 2 network. The event core (fixed grid, events
    # split the step) and the reference (one diffrax solve per spike, restarted at each spike on a
    # grid counted from it) are different discretisations of one SDE; on the same Brownian path
    # and clocks they must produce the same spikes, converging to each other at Euler's strong
    # order 1 for additive noise.
    neuron = sd.SLIF(
        22,
        input_current=jnp.array([1.5] * 4 + [0.0] * 18),
        mu_v=6.0,
        mu_i=5.0,
        sigma_v=0.25,
        sigma_i=0.25,
        v_reset=1.2,
        v0=1.1,
        i0=0.6,
    )
    network = sd.feedforward(neuron, [4, 16, 2], key=jax.random.key(100))
    key = jax.random.key(0)
    brownian = sd.FineGridBrownian(jax.random.key(1000), 0.0, 1.0, 1e-5, network.brownian_shape)
    differences = []
    for dt in (1e-3, 1e-4, 1e-5):
        kwargs = dict(t0=0.0, t1=1.0, dt=dt, key=key, brownian=brownian, max_spikes=16)
        core = sd.simulate(network, **kwargs)
        reference = sd.reference_simulate(network, **kwargs)
        counts = np.asarray(reference.spike_counts)
        assert counts.sum() >= 20
        np.testing.assert_array_equal(np.asarray(core.spike_counts), counts, err_msg=f"dt={dt}")
        assert not np.any(np.asarray(core.overflow)) and not np.any(np.asarray(reference.overflow))
        stored = np.isfinite(np.asarray(reference.spike_times))
        np.testing.assert_array_equal(np.isfinite(np.asarray(core.spike_times)), stored)
        differences.append(np.max(np.abs(np.asarray(core.spike_times)[stored] - np.asarray(reference.spike_times)[stored])))
    # Spike times are ill-conditioned where the intensity is small (d tau = -ds / lambda), hence
    # the constant; the order shows in the ratio (about 10x per decade of dt is expected).
    assert differences[-1] < 2e-5, differences
    assert differences[0] > 5 * differences[-1], differences
    assert differences[1] < differences[0], differences
