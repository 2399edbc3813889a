"""Round trips against snnTorch and Norse themselves (optional extra ``interop``: torch, snntorch,
norse; skipped without them). The NIR paper's single-LIF benchmark input; every framework and
spikesde must give the same spike steps (460, 510, 710, 760)."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
norse = pytest.importorskip("norse.torch")
nir = pytest.importorskip("nir")

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore")]
DT, STEPS = 1e-4, 1000
INPUT_STEPS = [60, 220, 270, 310, 320, 350, 370, 400, 410, 430, 440, 450, 460, 470, 480, 490, 500,
               510, 520, 530, 670, 680, 690, 700, 710, 720, 730, 740, 750, 760, 770, 780, 840, 850]
EXPECTED = [460, 510, 710, 760]


def raster() -> np.ndarray:
    values = np.zeros((STEPS, 1))
    values[INPUT_STEPS] = 1.0
    return values


def run_torch(model, inputs: np.ndarray, stateful: bool) -> np.ndarray:
    """Step a torch model over ``inputs`` (steps, channels); the steps where it spiked."""
    x = torch.tensor(inputs, dtype=torch.float32)
    state, spikes = None, []
    with torch.no_grad():
        for k in range(x.shape[0]):
            out = model(x[k : k + 1], state) if stateful else model(x[k : k + 1])
            if isinstance(out, tuple):
                out, state = out if stateful else (out[0], None)
            spikes.append(float(out.reshape(-1)[0]))
    return np.flatnonzero(spikes)


def spikesde_steps(network) -> list[int]:
    """Spike steps of a float64 run (the tests build their models under the x64 fixture too)."""
    solution = sd.simulate(network, t0=0.0, t1=STEPS * DT, dt=DT, key=jax.random.key(0), max_spikes=8,
                           stepper=sd.ExponentialEuler(), dtype=jnp.float64)
    return list(sd.hardware.spike_steps(solution.spike_times[0], DT))


def test_snntorch_export_reads_to_snntorchs_own_spikes(tmp_path, x64):
    from snntorch import utils
    from snntorch.export_nir import export_to_nir

    linear = torch.nn.Linear(1, 1, bias=False)
    linear.weight.data[:] = DT / 2.5e-3  # mem <- beta mem + 0.04 per input spike
    net = torch.nn.Sequential(linear, snn.Leaky(beta=torch.tensor([1 - DT / 2.5e-3]), threshold=torch.tensor([0.1]), init_hidden=True, output=True))
    utils.reset(net)
    theirs = run_torch(net, raster(), stateful=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = export_to_nir(net, torch.zeros(1))  # snnTorch 1.0: LIF(tau = dt / (1 - beta), R = tau / dt)
    nir.write(tmp_path / "snntorch.nir", graph)
    ours = spikesde_steps(sd.hardware.read_nir(tmp_path / "snntorch.nir", inputs=sd.hardware.InputRaster(raster(), DT)))
    assert list(theirs) == ours == EXPECTED


def test_norse_export_reads_to_norses_own_spikes(tmp_path, x64):
    linear = torch.nn.Linear(1, 1)
    linear.weight.data[:], linear.bias.data[:] = 1.0, 0.0
    parameters = norse.LIFBoxParameters(tau_mem_inv=torch.tensor([400.0]), v_leak=torch.tensor([0.0]), v_th=torch.tensor([0.1]), v_reset=torch.tensor([0.0]))
    model = norse.SequentialState(linear, norse.LIFBoxCell(parameters, dt=DT))
    theirs = run_torch(model, raster(), stateful=True)
    # Norse 1.1.0 writes tau = dt / tau_mem_inv: only to_nir(..., dt=1.0) gives the time constant 1 / tau_mem_inv.
    graph = norse.to_nir(model, torch.zeros(1), dt=1.0)
    np.testing.assert_allclose(np.asarray(graph.nodes["1"].tau), 2.5e-3)
    nir.write(tmp_path / "norse.nir", graph)
    ours = spikesde_steps(sd.hardware.read_nir(tmp_path / "norse.nir", inputs=sd.hardware.InputRaster(raster(), DT)))
    assert list(theirs) == ours == EXPECTED


def test_our_export_loads_and_runs_in_norse(tmp_path, x64):
    breakpoints = np.ravel([[k * DT, (k + 1) * DT] for k in INPUT_STEPS])
    values = np.concatenate([[0.0], np.ravel([[1 / 2.5e-3, 0.0] for _ in INPUT_STEPS])])
    lif = sd.LIF(1, sd.PiecewiseConstantCurrent(breakpoints, values), tau_mem=2.5e-3, threshold=0.1)
    assert spikesde_steps(lif) == EXPECTED
    sd.hardware.write_nir(lif, tmp_path / "ours.nir")
    model = norse.from_nir(nir.read(tmp_path / "ours.nir"), dt=DT)
    theirs = run_torch(model, sd.hardware.current_raster(lif, DT, STEPS * DT).values, stateful=True)
    assert list(theirs) == EXPECTED
