"""read_nir / from_nir on the node kinds the frameworks export, and clear errors for the rest."""

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde
from spikesde._hardware import ContinuousTimeSpikes, DiscreteTimeSpikes, InputRaster, from_nir, read_nir

nir = pytest.importorskip("nir")
one = lambda x: np.array([x], np.float64)  # noqa: E731


def graph(*chain, neuron=None, extra_nodes=None, extra_edges=(), channels=1):
    """Input -> chain... -> neuron -> Output, names ``input``, ``n0``, ``n1``..., ``neuron``, ``output``."""
    neuron = neuron or nir.CubaLIF(tau_syn=one(0.5), tau_mem=one(1.0), r=one(2.0), v_leak=one(0.0), v_threshold=one(1.0), v_reset=one(0.0), w_in=one(3.0))
    nodes = {"input": nir.Input(input_type=np.array([channels]))}
    names = ["input"]
    for k, node in enumerate(chain):
        nodes[f"n{k}"] = node
        names.append(f"n{k}")
    nodes["neuron"], nodes["output"] = neuron, nir.Output(output_type=np.array([1]))
    names += ["neuron", "output"]
    nodes.update(extra_nodes or {})
    return nir.NIRGraph(nodes=nodes, edges=[*zip(names[:-1], names[1:]), *extra_edges])


def test_a_text_file_named_nir_and_hdf5_without_nir_structure_are_named(tmp_path):
    text = tmp_path / "notes.nir"
    text.write_text("not a graph")
    with pytest.raises(ValueError, match="notes.nir' is not an NIR file: NIR files are HDF5"):
        read_nir(text)
    other = tmp_path / "other.nir"
    with h5py.File(other, "w") as file:
        file["data"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"other.nir' is HDF5 but not NIR: it has no 'node' group \(top-level keys: \['data'\]\)"):
        read_nir(other)
    with pytest.raises(FileNotFoundError, match="missing.nir"):
        read_nir(tmp_path / "missing.nir")


@pytest.mark.parametrize(
    "node, match",
    [
        (lambda: nir.IF(r=one(1.0), v_threshold=one(1.0), v_reset=one(0.0)), "node 'neuron' has kind IF: a leak-free neuron"),
        (lambda: nir.LI(tau=one(1.0), r=one(1.0), v_leak=one(0.0)), "node 'neuron' has kind LI: a leaky integrator without spikes"),
        (lambda: nir.CubaLI(tau_syn=one(1.0), tau_mem=one(1.0), r=one(1.0), v_leak=one(0.0)), "kind CubaLI: a leaky integrator"),
        (lambda: nir.Threshold(one(1.0)), "node 'neuron' has kind Threshold: a memoryless Heaviside"),
        (lambda: nir.NIRGraph(nodes={"i": nir.Input(input_type=np.array([1])), "o": nir.Output(output_type=np.array([1]))}, edges=[("i", "o")]),
         "node 'neuron' has kind NIRGraph: a nested graph"),  # snnTorch's RLeaky / RSynaptic export
    ],
)
def test_unsupported_kinds_are_refused_naming_node_kind_and_reason(node, match):
    with pytest.raises(ValueError, match=match):
        from_nir(graph(nir.Linear(weight=np.ones((1, 1))), neuron=node()))


def test_scale_and_linear_compose_and_cuba_jumps_follow_the_spike_meaning():
    dt = 1e-3
    times = np.array([[0.1, 0.2]])
    scaled = graph(nir.Scale(one(2.0)), nir.Linear(weight=np.array([[0.5]])))
    discrete = from_nir(scaled, times, spikes=DiscreteTimeSpikes(dt))
    continuous = from_nir(scaled, times, spikes=ContinuousTimeSpikes())
    # spikesde's I = R I_nir / tau_mem; a spike is a jump area R w_in W / (tau_syn tau_mem), W = 2 * 0.5.
    np.testing.assert_allclose(np.asarray(continuous.input_weights), [[2.0 * 3.0 * 1.0 / (0.5 * 1.0)]])
    np.testing.assert_allclose(np.asarray(discrete.input_weights), [[dt * 2.0 * 3.0 * 1.0 / (0.5 * 1.0)]])
    np.testing.assert_allclose(np.asarray(discrete.input_spike_times), times)


def test_an_affine_bias_into_a_lif_node_is_a_constant_current_with_the_closed_form_period(x64):
    tau, r, bias, threshold = 0.02, 2.0, 0.8, 1.0
    lif = nir.LIF(tau=one(tau), r=one(r), v_leak=one(0.0), v_threshold=one(threshold), v_reset=one(0.0))
    network = from_nir(graph(nir.Affine(weight=np.zeros((1, 1)), bias=one(bias)), neuron=lif))
    solution = spikesde.simulate(network, t0=0.0, t1=0.2, dt=1e-4, key=jax.random.key(0), max_spikes=16,
                                 stepper=spikesde.ExponentialEuler(), dtype=jnp.float64)
    period = tau * np.log(r * bias / (r * bias - threshold))  # tau dv/dt = -v + R b
    count = int(solution.spike_counts[0])
    assert count == int(0.2 / period)
    np.testing.assert_allclose(np.asarray(solution.spike_times[0, :count]), period * np.arange(1, count + 1), atol=1e-9)


def test_an_affine_with_two_inputs_adds_its_bias_once():
    lif = nir.LIF(tau=one(1.0), r=one(1.0), v_leak=one(0.0), v_threshold=one(1.0), v_reset=one(0.0))
    nodes = {"a": nir.Input(input_type=np.array([1])), "b": nir.Input(input_type=np.array([1])),
             "affine": nir.Affine(weight=np.zeros((1, 1)), bias=one(0.25)), "lif": lif, "out": nir.Output(output_type=np.array([1]))}
    edges = [("a", "affine"), ("b", "affine"), ("affine", "lif"), ("lif", "out")]
    network = from_nir(nir.NIRGraph(nodes=nodes, edges=edges))
    np.testing.assert_allclose(np.asarray(network.neuron.input_current.value), 0.25)


def test_an_input_delay_shifts_the_input_pulses_and_the_spikes(x64):
    dt, delay = 1e-3, 5e-3
    lif = nir.LIF(tau=one(0.01), r=one(1.0), v_leak=one(0.0), v_threshold=one(0.9), v_reset=one(0.0))
    values = np.zeros((100, 1))
    values[[10, 11, 12, 13, 40, 41, 42, 43]] = 3.3  # graded: each step adds x (1 - e^(-dt/tau)) = 0.31
    raster = InputRaster(values, dt)
    plain = from_nir(graph(nir.Linear(weight=np.ones((1, 1))), neuron=lif), inputs=raster)
    delayed = from_nir(graph(nir.Delay(one(delay)), nir.Linear(weight=np.ones((1, 1))), neuron=lif), inputs=raster)
    np.testing.assert_allclose(np.asarray(delayed.neuron.input_current.breakpoints), np.asarray(plain.neuron.input_current.breakpoints) + delay)
    run = lambda net: spikesde.simulate(net, t0=0.0, t1=0.1, dt=dt, key=jax.random.key(0), max_spikes=8, max_events=64,  # noqa: E731
                                        stepper=spikesde.ExponentialEuler(), dtype=jnp.float64)
    a, b = run(plain), run(delayed)
    assert int(a.spike_counts[0]) == int(b.spike_counts[0]) == 2
    np.testing.assert_allclose(np.asarray(b.spike_times[0, :2]), np.asarray(a.spike_times[0, :2]) + delay, atol=1e-9)


def test_lif_and_cuba_nodes_form_one_population_with_blocks():
    lif = nir.LIF(tau=one(0.01), r=one(1.0), v_leak=one(0.0), v_threshold=one(0.5), v_reset=one(0.0))
    cuba = nir.CubaLIF(tau_syn=one(0.5), tau_mem=one(1.0), r=one(1.0), v_leak=one(0.0), v_threshold=one(1.0), v_reset=one(0.0), w_in=one(1.0))
    nodes = {"input": nir.Input(input_type=np.array([1])), "w": nir.Linear(weight=np.ones((1, 1))), "lif": lif,
             "syn": nir.Linear(weight=np.array([[0.7]])), "cuba": cuba, "out": nir.Output(output_type=np.array([1]))}
    edges = [("input", "w"), ("w", "lif"), ("lif", "syn"), ("syn", "cuba"), ("cuba", "out")]
    network = from_nir(nir.NIRGraph(nodes=nodes, edges=edges), inputs=InputRaster(np.eye(4)[:, :1], 0.01))
    weights = np.asarray(network.weights)
    np.testing.assert_allclose(weights, [[0.0, 0.01 * 0.7 / 0.5], [0.0, 0.0]])  # dt W R w_in / (tau_syn tau_mem)
    np.testing.assert_allclose(np.asarray(network.neuron.threshold), [0.5, 1.0])
    np.testing.assert_allclose(np.asarray(network.neuron.v_reset), [0.5, 1.0])  # set to 0 = subtract threshold


def test_routes_spikesde_cannot_simulate_are_refused_by_name():
    lif = lambda: nir.LIF(tau=one(0.01), r=one(1.0), v_leak=one(0.0), v_threshold=one(0.5), v_reset=one(0.0))  # noqa: E731
    nodes = {"input": nir.Input(input_type=np.array([1])), "w": nir.Linear(weight=np.ones((1, 1))), "a": lif(),
             "syn": nir.Linear(weight=np.ones((1, 1))), "b": lif(), "out": nir.Output(output_type=np.array([1]))}
    edges = [("input", "w"), ("w", "a"), ("a", "syn"), ("syn", "b"), ("b", "out")]
    with pytest.raises(ValueError, match="LIF node 'b' receives spikes from neuron node 'a'"):
        from_nir(nir.NIRGraph(nodes=nodes, edges=edges), inputs=InputRaster(np.ones((3, 1)), 0.01))
    recurrent = graph(nir.Linear(weight=np.ones((1, 1))), extra_nodes={"d": nir.Delay(one(0.1)), "r": nir.Linear(weight=np.ones((1, 1)))},
                      extra_edges=[("neuron", "d"), ("d", "r"), ("r", "neuron")])
    with pytest.raises(ValueError, match="route 'neuron' -> 'neuron' has a delay of 0.1"):
        from_nir(recurrent, spikes=ContinuousTimeSpikes())
    two = graph(nir.Delay(np.array([0.1, 0.2])), nir.Linear(weight=np.ones((1, 2))), channels=2)
    with pytest.raises(ValueError, match="node 'n0' \\(Delay\\) has per-channel delays"):
        from_nir(two, spikes=ContinuousTimeSpikes())
    readout = graph(nir.Linear(weight=np.ones((1, 1))), extra_nodes={"readout": nir.Linear(weight=np.ones((1, 1))), "o2": nir.Output(output_type=np.array([1]))},
                    extra_edges=[("neuron", "readout"), ("readout", "o2")])
    with pytest.raises(ValueError, match="node 'o2' \\(Output\\) reads 'readout' \\(Linear\\)"):
        from_nir(readout, spikes=ContinuousTimeSpikes())


def test_a_file_failing_nirs_type_check_is_read_with_a_warning(tmp_path):
    """Older exporters (Rockpool's re-export of the paper's benchmark) typed the Output [1, 1, 1]
    after a one-neuron LIF; nir.read refuses that, read_nir says so and reads the graph."""
    lif = nir.LIF(tau=one(2.5e-3), r=one(1.0), v_leak=one(0.0), v_threshold=one(0.1), v_reset=one(0.0))
    good = graph(nir.Linear(weight=np.ones((1, 1))), neuron=lif)
    nir.write(tmp_path / "old.nir", good)
    with h5py.File(tmp_path / "old.nir", "r+") as file:
        del file["node/nodes/output/shape"]
        file["node/nodes/output/shape"] = np.array([1, 1, 1])
    with pytest.raises(ValueError, match="Type inference"):
        nir.read(tmp_path / "old.nir")
    with pytest.warns(UserWarning, match="old.nir' fails nir's type check"):
        network = read_nir(tmp_path / "old.nir", inputs=InputRaster(np.eye(3)[:, :1], 1e-4))
    assert network.n_neurons == 1
