"""Error study of low-precision clock-driven LIF integration (issue 10, acceptance 3).

40 LIF neurons (tau = 20 ms, threshold 1, subtractive reset to 0, constant input currents
c tau in [1.05, 3], i.e. about 11-123 Hz) on a clock of dt = 0.1 ms for T = 1 s, integrated by
:class:`LowPrecisionEuler` with every operation rounded into a format, threshold checked at the
ticks. Errors against the float64 exact solution (period tau ln(c tau / (c tau - 1))):

* rate error: mean over neurons of |rate - exact rate| (Hz), and relative to the exact rate;
* spike-time error: mean over neurons of the mean |t_k - t_k exact| over their common spikes (ms).

Rows: fixed point s3.F for F in FRACTION_BITS and each rounding mode, bfloat16 and float16 with
nearest and stochastic rounding, each with the decay constant dt / tau exact (isolating the
rounding of the state) and stored with 12 bits (20/4096 instead of 0.005: tau 20 ms becomes
20.48 ms, a floor of about 2.4% on the rate); and float64 arithmetic on the clock (the clock's own
error). Prints a table, writes ``benchmarks/results/low_precision.json`` and
``docs/figures/low_precision_error.png``.

    PYTHONPATH=$PWD python benchmarks/low_precision.py [--quick]
"""

import argparse
import json
import math
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np

import spikesde
from spikesde._hardware import FixedPoint, LowPrecisionEuler, Stochastic, as_rounding, float_format

TAU, DT, T, N = 0.02, 1e-4, 1.0, 40
FRACTION_BITS = (6, 8, 10, 12, 14, 16)
MODES = ("nearest", "toward_zero", "floor", "stochastic")
ROOT = pathlib.Path(__file__).resolve().parent.parent


def exact_spike_times(c: np.ndarray) -> list[np.ndarray]:
    period = TAU * np.log(c * TAU / (c * TAU - 1.0))
    return [np.arange(1, int(math.floor(T / p)) + 1) * p for p in period]


def run(stepper, c, dtype, max_spikes):
    neuron = spikesde.LIF(N, c, tau_mem=TAU, tau_syn=1.0, threshold=1.0)
    solution = spikesde.simulate(
        neuron, t0=0.0, t1=T, dt=DT, key=jax.random.key(0), max_spikes=max_spikes, stepper=stepper,
        event_location=spikesde.GridEventLocation(strict=False), dtype=dtype, on_overflow="ignore",
    )
    times = np.asarray(solution.spike_times, np.float64)
    return [row[np.isfinite(row)] for row in times], np.asarray(solution.spike_counts)


def errors(got: list[np.ndarray], counts: np.ndarray, exact: list[np.ndarray]) -> dict:
    rate = counts / T
    exact_rate = np.array([len(e) for e in exact]) / T
    timing = [np.mean(np.abs(g[: min(len(g), len(e))] - e[: min(len(g), len(e))])) for g, e in zip(got, exact) if min(len(g), len(e))]
    return {
        "rate_error_hz": float(np.mean(np.abs(rate - exact_rate))),
        "rate_bias_hz": float(np.mean(rate - exact_rate)),
        "rate_relative_error": float(np.mean(np.abs(rate - exact_rate) / exact_rate)),
        "silent_neurons": int(np.sum(counts == 0)),
        "spike_time_error_ms": float(np.mean(timing) * 1e3) if timing else float("nan"),
    }


def configurations(quick: bool):
    bits = (8, 12) if quick else FRACTION_BITS
    for decay_bits in (None, 12):
        for f in bits:
            for mode in MODES:
                yield f"s3.{f}", FixedPoint(3, f), mode, decay_bits, jnp.float32
        for name in ("bfloat16", "float16"):
            for mode in ("nearest", "stochastic"):
                yield name, float_format(name), mode, decay_bits, jnp.float32
        yield "float64", FixedPoint(3, 48), "nearest", decay_bits, jnp.float64


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two bit widths only")
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)
    c = np.linspace(1.05, 3.0, N) / TAU
    exact = exact_spike_times(c)
    max_spikes = max(len(e) for e in exact) + 20
    rows = []
    print(f"{'format':>9} {'rounding':>11} {'decay':>6} {'rate err Hz':>11} {'rel':>6} {'bias Hz':>8} {'silent':>6} {'time err ms':>11}")
    for label, fmt, mode, decay_bits, dtype in configurations(args.quick):
        rounding = Stochastic() if mode == "stochastic" else as_rounding(mode)
        stepper = LowPrecisionEuler(DT, fmt, rounding, decay_bits=decay_bits, key=jax.random.key(1))
        start = time.perf_counter()
        got, counts = run(stepper, c, dtype, max_spikes)
        row = {"format": label, "rounding": mode, "decay_bits": decay_bits, **errors(got, counts, exact), "seconds": time.perf_counter() - start}
        rows.append(row)
        decay = "exact" if decay_bits is None else f"{decay_bits}b"
        print(f"{label:>9} {mode:>11} {decay:>6} {row['rate_error_hz']:11.3f} {row['rate_relative_error']:6.1%} {row['rate_bias_hz']:8.2f} {row['silent_neurons']:6d} {row['spike_time_error_ms']:11.3f}")
    out = ROOT / "benchmarks" / "results" / "low_precision.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    setup = {"tau": TAU, "dt": DT, "T": T, "neurons": N, "c_tau": [1.05, 3.0], "command": "PYTHONPATH=$PWD python benchmarks/low_precision.py"}
    out.write_text(json.dumps({"setup": setup, "rows": rows}, indent=1))
    plot(rows, ROOT / "docs" / "figures" / "low_precision_error.png")
    print(f"wrote {out}")


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for decay_bits, style in ((None, "-"), (12, ":")):
        for mode, color in zip(MODES, ("C0", "C1", "C2", "C3")):
            sel = [r for r in rows if r["rounding"] == mode and r["decay_bits"] == decay_bits and r["format"].startswith("s3.")]
            bits = [int(r["format"].split(".")[1]) for r in sel]
            label = f"{mode}" + ("" if decay_bits is None else " (12-bit decay)")
            for ax, key in zip(axes, ("rate_error_hz", "spike_time_error_ms")):
                ax.plot(bits, [max(r[key], 1e-3) for r in sel], style, marker="o", color=color, label=label)
    for ax, key in zip(axes, ("rate_error_hz", "spike_time_error_ms")):
        for r, marker in ((r, m) for r in rows if r["decay_bits"] is None and not r["format"].startswith("s3.") for m in ["x"]):
            ax.axhline(max(r[key], 1e-3), color="grey", lw=0.6, ls="--")
            ax.text(16.2, max(r[key], 1e-3), f"{r['format']} {r['rounding']}", fontsize=6, va="center")
        ax.set_yscale("log")
        ax.set_xlabel("fraction bits of the state (fixed point s3.F)")
    axes[0].set_ylabel("mean |rate error| (Hz)")
    axes[1].set_ylabel("mean |spike-time error| (ms)")
    axes[0].legend(fontsize=7)
    fig.suptitle("LIF, tau 20 ms, dt 0.1 ms, 40 currents: error against the float64 exact solution")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
