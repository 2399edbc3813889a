"""NIR export/import (acceptance 2 and 5) and NIR spike-data containers."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

import spikesde
from spikesde._hardware import ContinuousTimeSpikes, from_nir, read_nir, to_nir, write_nir
from spikesde._io.nir_data import from_nir_events, from_nir_gridded, to_nir_events, to_nir_gridded

nir = pytest.importorskip("nir")
KEY = jax.random.key(0)


def _simulate(model, **kwargs):
    options = dict(t0=0.0, t1=3.0, dt=0.01, key=KEY, max_spikes=64)
    return spikesde.simulate(model, **{**options, **kwargs})


def test_lif_network_round_trip_through_a_file_gives_identical_spikes(tmp_path):
    lif = spikesde.LIF(3, np.array([1.5, 2.0, 0.5]), tau_mem=np.array([1.0, 0.8, 1.2]), tau_syn=0.5, threshold=1.0)
    weights = np.array([[0.0, 0.5, 0.0], [0.0, 0.0, 0.3], [0.2, 0.0, 0.0]])
    inputs = np.array([[0.1, 0.5, 1.7, np.inf], [0.3, 0.9, 1.1, 2.5]])
    network = spikesde.Network(lif, weights, input_spike_times=inputs, input_weights=np.array([[1.0, 0.0, 0.5], [0.0, 0.7, 0.9]]))
    write_nir(network, tmp_path / "net.nir")
    back = read_nir(tmp_path / "net.nir", input_spike_times=inputs)
    a = _simulate(network, t1=2.0, stepper=spikesde.ExponentialEuler())
    b = _simulate(back, t1=2.0, stepper=spikesde.ExponentialEuler())
    assert int(a.spike_counts.sum()) >= 8 and int(a.spike_counts.min()) > 0
    np.testing.assert_array_equal(a.spike_times, b.spike_times)


def test_slif_round_trip_keeps_escape_noise_in_metadata(tmp_path):
    slif = spikesde.SLIF(2, 1.5, mu_i=2.0, sigma_v=0.5, alpha=0.05)
    network = spikesde.Network(slif, np.array([[0.0, 0.3], [0.2, 0.0]]))
    graph = to_nir(network)
    node = graph.nodes["neurons"]
    assert isinstance(node, nir.CubaLIF)
    np.testing.assert_allclose(node.tau_mem, 1 / 15)
    np.testing.assert_allclose(node.v_reset, 1.0 - 1.4)  # reset to threshold - v_reset (subtractive)
    assert node.metadata["spikesde_model"] == "SLIF" and "reset_convention" in node.metadata
    write_nir(network, tmp_path / "slif.nir")
    back = read_nir(tmp_path / "slif.nir")
    assert isinstance(back.neuron, spikesde.SLIF)
    a, b = _simulate(network, t1=2.0), _simulate(back, t1=2.0)
    assert int(a.spike_counts.sum()) > 10
    np.testing.assert_array_equal(a.spike_times, b.spike_times)


def cuba_graph(weight=0.3, v_leak=0.8):
    """A CubaLIF neuron (tau_mem 1, tau_syn 0.5, threshold 1, reset to 0) fed by one input channel."""
    one = lambda x: np.array([x], dtype=np.float64)  # noqa: E731
    neuron = nir.CubaLIF(tau_syn=one(0.5), tau_mem=one(1.0), r=one(1.0), v_leak=one(v_leak), v_threshold=one(1.0), v_reset=one(0.0))
    nodes = {"input": nir.Input(input_type=np.array([1])), "w": nir.Linear(weight=np.array([[weight]])), "lif": neuron,
             "output": nir.Output(output_type=np.array([1]))}
    return nir.NIRGraph(nodes=nodes, edges=[("input", "w"), ("w", "lif"), ("lif", "output")])


INPUTS = np.array([0.4, 0.45, 0.5, 1.2, 1.25, 1.3, 1.35, 2.0, 2.05, 2.1, 2.6, 2.62, 2.64])


def exact_cuba_spikes(inputs, t1, c=0.8, jump=0.6, tau_m=1.0, tau_s=0.5):
    """Spike times of dV = -V/tau_m + I + c, dI = -I/tau_s, I += jump at inputs, V -= 1 at V = 1,
    from the closed-form solution between events and a bracketing root finder."""
    a, b = 1 / tau_m, 1 / tau_s

    def v_at(s, v0, i0):
        return c * tau_m + (v0 - c * tau_m) * np.exp(-a * s) + i0 * (np.exp(-b * s) - np.exp(-a * s)) / (a - b)

    spikes, t, v, i = [], 0.0, 0.0, 0.0
    for t_next in [*inputs, t1]:
        while True:
            grid = np.linspace(0.0, t_next - t, 2001)
            above = np.flatnonzero(v_at(grid, v, i) >= 1.0)
            if above.size == 0 or above[0] == 0:
                break
            s = brentq(lambda s: v_at(s, v, i) - 1.0, grid[above[0] - 1], grid[above[0]], xtol=1e-14)
            spikes.append(t + s)
            i, t, v = i * np.exp(-b * s), t + s, 0.0
        v, i = v_at(t_next - t, v, i), i * np.exp(-b * (t_next - t)) + jump
        t = t_next
    return np.array(spikes)


def test_nir_cuba_lif_fed_by_input_spikes_gives_exact_spike_times(x64):
    network = from_nir(cuba_graph(), input_spike_times=INPUTS[None], spikes=ContinuousTimeSpikes())
    assert isinstance(network.neuron, spikesde.LIF)
    solution = _simulate(network, stepper=spikesde.ExponentialEuler(), dtype=jnp.float64)
    expected = exact_cuba_spikes(INPUTS, 3.0)
    assert expected.size >= 4
    got = np.asarray(solution.spike_times[0])
    np.testing.assert_allclose(got[: expected.size], expected, atol=1e-9)
    assert int(solution.spike_counts[0]) == expected.size


@pytest.mark.parametrize(
    "node, match",
    [
        (lambda: nir.Conv1d(None, np.ones((1, 1, 1)), 1, 0, 1, 1, np.zeros(1)), "node 'lif' has kind Conv1d"),
        (lambda: nir.Threshold(np.ones(1)), "node 'lif' has kind Threshold"),
    ],
)
def test_unsupported_node_kinds_are_named(node, match):
    graph = cuba_graph()
    graph.nodes["lif"] = node()
    with pytest.raises(ValueError, match=match):
        from_nir(graph)


def test_unrepresentable_graphs_are_rejected():
    graph = cuba_graph()
    graph.nodes["w"] = nir.Affine(weight=np.array([[0.3]]), bias=np.array([0.1]))
    with pytest.raises(ValueError, match="Affine bias into CubaLIF node 'lif'"):
        from_nir(graph)
    one = np.ones(1)
    graph.nodes["lif"] = nir.LIF(tau=one, r=one, v_leak=one, v_threshold=one)
    graph.nodes["w"] = nir.Linear(weight=np.array([[0.3]]))
    with pytest.raises(ValueError, match="LIF node 'lif' receives spikes, which ContinuousTimeSpikes makes voltage jumps"):
        from_nir(graph, input_spike_times=INPUTS[None], spikes=ContinuousTimeSpikes())
    with pytest.raises(ValueError, match="DiscreteTimeSpikes needs dt"):
        from_nir(graph, input_spike_times=INPUTS[None])
    with pytest.raises(ValueError, match="tau_syn = inf"):
        to_nir(spikesde.Network(spikesde.SLIF(2), np.ones((2, 2))))


def test_spike_data_containers_round_trip():
    trains = spikesde.SpikeTrains([[[0.1, 0.5], [0.3]], [[], [0.05, 0.2, 0.9]]], 0.0, 1.0)
    events = to_nir_events(trains)
    assert isinstance(events, nir.EventData) and events.idx.shape == (2, 3)
    np.testing.assert_array_equal(events.idx[0], [0, 1, 0])
    assert from_nir_events(events) == trains
    gridded = to_nir_gridded(trains, 0.1)
    assert gridded.data.shape == (2, 10, 2) and gridded.data.sum() == 6
    back = from_nir_gridded(gridded, position=0.0)
    with pytest.raises(ValueError, match="trial 0, neuron 0: 2 spikes in bin 0"):
        to_nir_gridded(spikesde.SpikeTrains([[[0.1, 0.15]]], 0.0, 1.0), 0.5)
    np.testing.assert_allclose(back.times[1][1], [0.0, 0.2, 0.9])
    np.testing.assert_allclose(from_nir_events(gridded.to_event(4)).times[0][0], [0.1, 0.5])
    with pytest.raises(ValueError, match="sample 0, event 1: neuron index 5"):
        from_nir_events(nir.EventData(np.array([[0, 5]]), np.array([[0.1, 0.2]]), 2, 1.0))


@pytest.mark.parametrize("policy", [spikesde.ParallelEvents(), spikesde.SequentialEvents()], ids=["parallel", "sequential"])
def test_nir_cuba_lif_in_the_loihi_profile_gives_the_published_fixed_point_spike_steps(policy):
    from spikesde._hardware.loihi import Loihi1Stepper, to_loihi
    from test_hardware_loihi import loihi_reference

    dt, t1 = 0.01, 3.0
    chip = to_loihi(from_nir(cuba_graph(), input_spike_times=INPUTS[None], spikes=ContinuousTimeSpikes()), dt, vth=2**16)
    # An input on a grid point counts for the tick ending there, but float32(0.4), float32(1.2) and
    # float32(2.64) lie just after the float32 grid points k * dt (a tick late): use the grid's own values.
    on_grid = np.round(INPUTS / dt).astype(np.float32) * np.float32(dt)
    chip = eqx.tree_at(lambda net: net.input_spike_times, chip, jnp.asarray(on_grid[None]))
    neuron = chip.neuron
    solution = _simulate(chip, dt=dt, stepper=Loihi1Stepper(dt=dt), event_location=spikesde.GridEventLocation(strict=True), event_policy=policy)
    # The transcription's synaptic input: a spike at time t enters the tick that ends at the
    # first grid point after it (an input on a grid point enters the next tick).
    steps = int(round(t1 / dt))
    a_in = np.zeros((steps, 1), np.int64)
    np.add.at(a_in[:, 0], np.floor(INPUTS / dt + 1e-3).astype(int), int(np.asarray(chip.input_weights)[0, 0]))
    expected, *_ = loihi_reference(*(np.asarray(getattr(neuron, name)) for name in ("du", "dv", "vth", "bias_mant", "bias_exp")), a_in)
    count = int(solution.spike_counts[0])
    assert count == len(expected[0]) >= 4
    np.testing.assert_array_equal(np.round(np.asarray(solution.spike_times[0, :count]) / dt).astype(int), expected[0])
    # The chip's spikes land within a few ticks of the exact ones.
    np.testing.assert_allclose(np.asarray(solution.spike_times[0, :count]), exact_cuba_spikes(INPUTS, t1), atol=5 * dt)
