"""The NIR paper's single-LIF benchmark (NIR repository, paper/01_lif) through spikesde (issue 24).

Writes Norse's graph (Input -> Affine(1, 0) -> LIF(tau 2.5 ms, R 1, v_leak 0, v_threshold 0.1,
v_reset 0), float32 parameters) with the ``nir`` package, reads it with ``read_nir`` (default
``DiscreteTimeSpikes``) and runs the float64 exact route, and programs Loihi from the same file with
``nir_to_loihi`` (Lava's integers) and runs ``Loihi1Stepper``. Prints spike steps and trace errors;
with the published CSVs of paper/01_lif (columns: input, voltage, spike; row k = step k) it also
compares against them. Writes ``benchmarks/results/nir_lif.json``.

    PYTHONPATH=$PWD python benchmarks/nir_lif.py [--exact lif_exact.csv] [--loihi lif_lava_loihi_fixed.csv]
"""

import argparse
import json
import pathlib
import tempfile

import jax
import jax.numpy as jnp
import nir
import numpy as np

import spikesde as sd

DT, STEPS = 1e-4, 1000
INPUT_STEPS = [60, 220, 270, 310, 320, 350, 370, 400, 410, 430, 440, 450, 460, 470, 480, 490, 500,
               510, 520, 530, 670, 680, 690, 700, 710, 720, 730, 740, 750, 760, 770, 780, 840, 850]
ROOT = pathlib.Path(__file__).resolve().parent.parent


def write_graph(path):
    one = lambda x: np.array([x], np.float32)  # noqa: E731
    nodes = {"input": nir.Input(input_type=np.array([1])), "0": nir.Affine(weight=np.array([[1.0]], np.float32), bias=one(0.0)),
             "1": nir.LIF(tau=one(2.5e-3), r=one(1.0), v_leak=one(0.0), v_threshold=one(0.1), v_reset=one(0.0)),
             "output": nir.Output(output_type=np.array([1]))}
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=[("input", "0"), ("0", "1"), ("1", "output")]))


def run(path, raster):
    save = np.arange(STEPS + 1) * DT
    common = dict(t0=0.0, t1=STEPS * DT, dt=DT, key=jax.random.key(0), max_spikes=8, save_at=save)
    with jax.enable_x64(True):
        exact = sd.simulate(sd.hardware.read_nir(path, inputs=raster), stepper=sd.ExponentialEuler(), dtype=jnp.float64, **common)
        v_float = np.asarray(exact.ys[1:, 0, 0])
        float_steps = sd.hardware.spike_steps(exact.spike_times[0], DT)
    chip_net = sd.hardware.nir_to_loihi(nir.read(path), DT, inputs=raster)
    chip = sd.simulate(chip_net, stepper=sd.hardware.Loihi1Stepper(dt=DT), event_location=sd.GridEventLocation(strict=True),
                       event_policy=sd.ParallelEvents(), **common)
    chip_steps = sd.hardware.spike_steps(chip.spike_times[0], DT)
    fired = np.zeros(STEPS, bool)
    fired[chip_steps] = True
    reading = sd.hardware.loihi_probe_reading(np.asarray(chip.ys[1:, 1, 0]), fired)
    registers = {name: int(getattr(chip_net.neuron, name)[0]) for name in ("du", "dv", "vth")}
    registers["a_in"] = int(chip_net.input_weights[0, 0])
    return float_steps, v_float, chip_steps, reading, registers


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--exact", type=pathlib.Path, help="paper/01_lif/lif_exact.csv")
    parser.add_argument("--loihi", type=pathlib.Path, help="paper/01_lif/lif_lava_loihi_fixed.csv")
    args = parser.parse_args()
    values = np.zeros(STEPS)
    values[INPUT_STEPS] = 1.0
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "lif_norse.nir"
        write_graph(path)
        float_steps, v_float, chip_steps, reading, registers = run(path, sd.hardware.InputRaster(values, DT))
    result = {"float_spike_steps": float_steps.tolist(), "loihi_spike_steps": chip_steps.tolist(), "loihi_registers": registers,
              "published": {"float": [460, 510, 710, 760], "loihi": [461, 511, 711, 761]}}
    if args.exact:
        published = np.loadtxt(args.exact, delimiter=",")
        result["float_max_abs_voltage_error_vs_published"] = float(np.max(np.abs(v_float - published[:, 1])))
    if args.loihi:
        published = np.loadtxt(args.loihi, delimiter=",")
        result["loihi_probe_steps_differing_from_published"] = int(np.sum(reading != published[:, 1]))
    print("| route | spike steps | published | trace vs published |")
    print("|---|---|---|---|")
    print(f"| float64 exact (read_nir) | {result['float_spike_steps']} | 460, 510, 710, 760 | "
          f"{result.get('float_max_abs_voltage_error_vs_published', 'n/a')} (max abs V error) |")
    print(f"| Loihi (nir_to_loihi {registers}) | {result['loihi_spike_steps']} | 461, 511, 711, 761 | "
          f"{result.get('loihi_probe_steps_differing_from_published', 'n/a')} of {STEPS} probe readings differ |")
    out = ROOT / "benchmarks" / "results" / "nir_lif.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
