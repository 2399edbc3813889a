"""Graphs as other frameworks write them (their export conventions, e.g. snnTorch 0.9.1's
``export_nir``: ``dt = 1e-4`` fixed, Leaky -> LIF(tau = dt / (1 - beta), R = tau / dt), Synaptic ->
CubaLIF(tau_syn = dt / (1 - alpha), tau_mem = dt / (1 - beta), R = tau_mem / dt, w_in = tau_syn / dt)),
read with the discrete-time meaning: one input spike gives the framework's own total response."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde
from spikesde._hardware import DiscreteTimeSpikes, InputRaster, from_nir

nir = pytest.importorskip("nir")
DT, ALPHA, BETA, W = 1e-4, 0.9, 0.8, 0.3


def snntorch_graph(neuron):
    nodes = {"input": nir.Input(input_type=np.array([1])), "fc": nir.Affine(weight=np.array([[W]]), bias=np.zeros(1)),
             "lif": neuron, "output": nir.Output(output_type=np.array([1]))}
    return nir.NIRGraph(nodes=nodes, edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")])


def leaky():
    tau = DT / (1 - BETA)
    return nir.LIF(tau=np.array([tau]), r=np.array([tau / DT]), v_leak=np.zeros(1), v_threshold=np.array([10.0]), v_reset=np.zeros(1))


def synaptic():
    tau_syn, tau_mem = DT / (1 - ALPHA), DT / (1 - BETA)
    return nir.CubaLIF(tau_syn=np.array([tau_syn]), tau_mem=np.array([tau_mem]), r=np.array([tau_mem / DT]), v_leak=np.zeros(1),
                       v_threshold=np.array([10.0]), v_reset=np.zeros(1), w_in=np.array([tau_syn / DT]))


def snntorch_response(synaptic_layer: bool, steps: int) -> np.ndarray:
    """snnTorch's recurrences for one input spike at step 0 (Leaky: mem = beta mem + x;
    Synaptic: syn = alpha syn + x, mem = beta mem + syn)."""
    syn = mem = 0.0
    trace = []
    for k in range(steps):
        x = W if k == 0 else 0.0
        syn = ALPHA * syn + x if synaptic_layer else x
        mem = BETA * mem + syn
        trace.append(mem)
    return np.array(trace)


@pytest.mark.parametrize("neuron, synaptic_layer", [(leaky, False), (synaptic, True)], ids=["Leaky", "Synaptic"])
def test_snntorch_graphs_give_snntorchs_total_response_to_one_spike(neuron, synaptic_layer, x64):
    steps, fine = 400, 10
    raster = np.zeros((steps, 1))
    raster[0] = 1.0
    network = from_nir(snntorch_graph(neuron()), inputs=InputRaster(raster, DT))  # default: DiscreteTimeSpikes(DT)
    h = DT / fine
    solution = spikesde.simulate(network, t0=0.0, t1=steps * DT, dt=h, key=jax.random.key(0), max_spikes=1,
                                 stepper=spikesde.ExponentialEuler(), dtype=jnp.float64, save_at=np.arange(steps * fine + 1) * h)
    v = np.asarray(solution.ys[:, 0, 0])
    area = np.sum((v[1:] + v[:-1]) / 2) * h / DT  # the membrane's time integral in steps
    expected = snntorch_response(synaptic_layer, steps).sum()
    np.testing.assert_allclose(expected, W / (1 - BETA) / ((1 - ALPHA) if synaptic_layer else 1.0), rtol=1e-9)
    np.testing.assert_allclose(area, expected, rtol=2e-3)
    # The continuous-time meaning (a Dirac pulse of unit integral) would scale it by 1 / dt.
    if synaptic_layer:
        jump = float(from_nir(snntorch_graph(neuron()), [[0.0]], spikes=DiscreteTimeSpikes(DT)).input_weights[0, 0])
        np.testing.assert_allclose(jump, W / DT)  # spikesde's I = R I_nir / tau_mem: jump W per step
