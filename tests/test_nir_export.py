"""to_nir of models with a piecewise-constant input current (Input node plus a raster), refusals
by name, and exported graphs read by nir's own reader."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde
from spikesde._hardware import current_raster, read_nir, spike_steps, to_nir, write_nir

nir = pytest.importorskip("nir")
DT = 1e-3


def pulsed_lif():
    """Two LIF neurons driven by a current that switches on the clock (the benchmark's kind of input)."""
    breakpoints = np.array([5, 30, 42, 70, 71]) * DT
    values = np.array([[0.0, 0.0], [60.0, 90.0], [0.0, 20.0], [400.0, 0.0], [0.0, 0.0], [75.0, 75.0]])
    return spikesde.LIF(2, spikesde.PiecewiseConstantCurrent(breakpoints, values), tau_mem=0.02, threshold=np.array([1.0, 0.8]))


@pytest.mark.slow  # two compiles of simulate (~40 s on the shared machine)
def test_a_piecewise_current_exports_as_an_input_node_and_a_raster(tmp_path, x64):
    lif = pulsed_lif()
    write_nir(lif, tmp_path / "pulsed.nir")
    graph = nir.read(tmp_path / "pulsed.nir")  # nir's own reader and type check accept it
    assert isinstance(graph.nodes["neurons"], nir.LIF) and isinstance(graph.nodes["current"], nir.Input)
    np.testing.assert_allclose(graph.nodes["neurons"].v_reset, [0.0, 0.0])
    raster = current_raster(lif, DT, 0.1)
    assert raster.values.shape == (100, 2)
    np.testing.assert_allclose(raster.values[[4, 5, 29, 30, 41, 42, 70, 71], 0], [0, 60, 60, 0, 0, 400, 0, 75])
    back = read_nir(tmp_path / "pulsed.nir", inputs=raster)  # the graph declares the discrete meaning
    run = dict(t0=0.0, t1=0.1, dt=DT, key=jax.random.key(0), max_spikes=32, stepper=spikesde.ExponentialEuler(), dtype=jnp.float64)
    a, b = spikesde.simulate(lif, **run), spikesde.simulate(back, **run)
    assert int(a.spike_counts.min()) >= 2
    np.testing.assert_array_equal(np.asarray(a.spike_counts), np.asarray(b.spike_counts))
    np.testing.assert_allclose(np.asarray(a.spike_times), np.asarray(b.spike_times), atol=1e-12)
    assert list(spike_steps(a.spike_times[0], DT)) == list(spike_steps(b.spike_times[0], DT))


def test_what_nir_cannot_hold_is_refused_by_name():
    off_grid = spikesde.LIF(1, spikesde.PiecewiseConstantCurrent([0.0105], [0.0, 50.0]))
    with pytest.raises(ValueError, match="current_raster: breakpoint 0 at t = 0.0105 is not on the clock of dt = 0.001"):
        current_raster(off_grid, DT, 0.1)
    coupled = spikesde.Network(pulsed_lif(), np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="PiecewiseConstantCurrent and synaptic inputs .* has no NIR form"):
        to_nir(coupled)
    slif = spikesde.SLIF(1, spikesde.PiecewiseConstantCurrent([0.01], [0.0, 1.0]))
    with pytest.raises(ValueError, match="NIR export of a SLIF with a PiecewiseConstantCurrent"):
        to_nir(slif)
    sine = spikesde.LIF(1, spikesde.SinusoidalCurrent(1.0, 0.5, 2.0))
    with pytest.raises(ValueError, match="NIR export of a LIF with a SinusoidalCurrent"):
        to_nir(sine)
