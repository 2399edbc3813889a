"""The NIR paper's single-LIF benchmark (NIR repository, paper/01_lif): a Norse-style graph written
with the ``nir`` package, read unchanged, simulated in float64 (exact) and on the Loihi profile."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde
from spikesde._hardware import (
    ContinuousTimeSpikes, DiscreteTimeSpikes, InputRaster, Loihi1Stepper, loihi_probe_reading, nir_to_loihi, read_nir, spike_steps,
)

nir = pytest.importorskip("nir")

DT, STEPS = 1e-4, 1000
# The 34 input spike steps of the published raster (paper/01_lif: one spike per 10 steps at most).
INPUT_STEPS = [60, 220, 270, 310, 320, 350, 370, 400, 410, 430, 440, 450, 460, 470, 480, 490, 500,
               510, 520, 530, 670, 680, 690, 700, 710, 720, 730, 740, 750, 760, 770, 780, 840, 850]
# Published output spike steps: exact simulation (and Norse, snnTorch), and Lava on Loihi.
EXACT_STEPS, LOIHI_STEPS = [460, 510, 710, 760], [461, 511, 711, 761]
# Published Loihi voltage register at some steps (row k: after step k); 128 at the spike steps.
LOIHI_TRACE = {59: 0, 60: 0, 61: 640, 62: 614, 63: 589, 455: 1349, 460: 1099, 461: 128, 462: 0, 510: 1059, 511: 128}


@pytest.fixture(scope="module")
def norse_file(tmp_path_factory):
    """The graph Norse exports for the benchmark (float32 parameters, node names as Norse writes them)."""
    one = lambda x: np.array([x], np.float32)  # noqa: E731
    nodes = {
        "input": nir.Input(input_type=np.array([1])),
        "0": nir.Affine(weight=np.array([[1.0]], np.float32), bias=one(0.0)),
        "1": nir.LIF(tau=one(2.5e-3), r=one(1.0), v_leak=one(0.0), v_threshold=one(0.1), v_reset=one(0.0)),
        "output": nir.Output(output_type=np.array([1])),
    }
    path = tmp_path_factory.mktemp("nir") / "lif_norse.nir"
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=[("input", "0"), ("0", "1"), ("1", "output")]))
    return path


def raster():
    values = np.zeros(STEPS)
    values[INPUT_STEPS] = 1.0
    return InputRaster(values, DT)


def exact_trace(tau, threshold):
    """Closed-form event simulation of tau dv/dt = -v + S, S = 1 on the input steps, subtracting the
    threshold at each crossing (equal to setting v to 0). Returns spike steps and v at (k + 1) dt."""
    v, spikes, trace = 0.0, [], []
    drive = set(INPUT_STEPS)
    for k in range(STEPS):
        s, t = (1.0 if k in drive else 0.0), 0.0
        while True:  # v(t) = s + (v - s) e^{-t / tau} on the rest of the step
            if s > threshold and v < threshold:
                crossing = -tau * math.log((threshold - s) / (v - s))
                if t + crossing < DT:
                    spikes.append(k)
                    t, v = t + crossing, 0.0
                    continue
            v = s + (v - s) * math.exp(-(DT - t) / tau)
            break
        trace.append(v)
    return spikes, np.array(trace)


def test_norse_graph_read_unchanged_gives_the_exact_spike_steps_and_trace(norse_file, x64):
    network = read_nir(norse_file, inputs=raster())  # default DiscreteTimeSpikes with the raster's dt
    solution = spikesde.simulate(
        network, t0=0.0, t1=STEPS * DT, dt=DT, key=jax.random.key(0), max_spikes=8,
        stepper=spikesde.ExponentialEuler(), dtype=jnp.float64, save_at=np.arange(STEPS + 1) * DT,
    )
    tau = float(np.float32(2.5e-3))
    expected_steps, expected_v = exact_trace(tau, float(np.float32(0.1)))
    assert expected_steps == EXACT_STEPS
    np.testing.assert_array_equal(spike_steps(solution.spike_times[0], DT), EXACT_STEPS)
    np.testing.assert_allclose(np.asarray(solution.ys[1:, 0, 0]), expected_v, atol=1e-8)
    # Spelled out, the default is the same option:
    again = read_nir(norse_file, inputs=raster(), spikes=DiscreteTimeSpikes(DT))
    np.testing.assert_array_equal(np.asarray(again.neuron.input_current.values), np.asarray(network.neuron.input_current.values))


def test_the_benchmark_in_float32_puts_every_pulse_on_the_solvers_grid(norse_file):
    """Without x64 the grid is float32(k) * float32(dt); pulse edges computed as float64 k dt and
    rounded to float32 missed or doubled steps (spikes at 461, 511, 701, 741, 781, 851)."""
    network = read_nir(norse_file, inputs=raster())
    solution = spikesde.simulate(network, t0=0.0, t1=STEPS * DT, dt=DT, key=jax.random.key(0), max_spikes=8,
                                 stepper=spikesde.ExponentialEuler())
    np.testing.assert_array_equal(spike_steps(solution.spike_times[0], DT), EXACT_STEPS)


def test_the_continuous_meaning_is_selectable_and_refused_by_name_for_a_lif_node(norse_file):
    with pytest.raises(ValueError, match="LIF node '1' receives spikes, which ContinuousTimeSpikes makes voltage jumps"):
        read_nir(norse_file, inputs=raster(), spikes=ContinuousTimeSpikes())
    with pytest.raises(ValueError, match="DiscreteTimeSpikes.dt = 0.001 differs from the InputRaster's dt"):
        read_nir(norse_file, inputs=raster(), spikes=DiscreteTimeSpikes(1e-3))
    with pytest.raises(ValueError, match="DiscreteTimeSpikes needs dt"):
        read_nir(norse_file, input_spike_times=raster().event_times())


def test_lava_programming_from_the_file_alone_reproduces_the_chip(norse_file):
    network = nir_to_loihi(nir.read(norse_file), DT, inputs=raster())
    neuron = network.neuron
    assert (int(neuron.du[0]), int(neuron.dv[0]), int(neuron.vth[0])) == (4095, 163, 25)
    assert float(network.input_weights[0, 0]) == 10.0  # int(256 dt / tau)
    solution = spikesde.simulate(
        network, t0=0.0, t1=STEPS * DT, dt=DT, key=jax.random.key(0), max_spikes=8, stepper=Loihi1Stepper(dt=DT),
        event_location=spikesde.GridEventLocation(strict=True), event_policy=spikesde.ParallelEvents(), save_at=np.arange(STEPS + 1) * DT,
    )
    steps = spike_steps(solution.spike_times[0], DT)
    np.testing.assert_array_equal(steps, LOIHI_STEPS)
    fired = np.zeros(STEPS, bool)
    fired[steps] = True
    register = np.asarray(solution.ys[1:, 1, 0])
    assert np.all(register[steps] == 0)  # the register after the reset; the probe reads 128
    reading = loihi_probe_reading(register, fired)
    for step, value in LOIHI_TRACE.items():
        assert reading[step] == value, f"step {step}"


def test_spike_steps_and_raster_ticks_are_not_off_by_one():
    assert list(spike_steps(np.array([0.04608, 0.0462, np.inf]), DT)) == [460, 461]
    assert list(spike_steps(np.float32(762 * DT) * np.ones(1, np.float32), DT)) == [761]
    r = InputRaster(np.eye(3), dt=0.1)
    np.testing.assert_allclose(r.event_times(), [[0.0], [0.1], [0.2]])
    # Clock steppers: row k belongs in the tick (k dt, (k + 1) dt]; its middle is safe from rounding.
    np.testing.assert_allclose(r.tick_times(), [[0.05], [0.15], [0.25]])
    with pytest.raises(ValueError, match="raster of 0s and 1s"):
        InputRaster([[0.5]], dt=0.1).tick_times()
    with pytest.raises(ValueError, match="InputRaster.dt must be a positive step"):
        InputRaster([[1.0]], dt=0.0)
