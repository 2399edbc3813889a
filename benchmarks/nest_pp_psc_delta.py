"""Spike trains from NEST itself: ``pp_psc_delta`` neurons for issue 23's fit against a real simulator.

Runs with the ``nest-simulator`` package (``pip install nest-simulator``; it does not need spikesde
and is not a test dependency). Simulates ``--trials`` unconnected ``pp_psc_delta`` neurons for 1 s
at NEST's resolution 0.01 ms: tau_m = 10 ms, C_m = 250 pF, I_e = 375 pA (so ``V`` relaxes to
``I_e tau_m / C_m`` = 15 mV), rate ``c_1 V + c_2 exp(c_3 V)`` with NEST's defaults (0, 1.238 Hz,
0.25 / mV), ``with_reset`` (``V <- 0`` at a spike), and the dead time ``--dead-time`` (ms; 0: none,
when NEST draws a Poisson number of spikes per step). Each neuron is one trial. Writes an ``.npz``
with the spike times in ms (``times``, ``senders`` 0..trials-1) and the parameters; then

    PYTHONPATH=$PWD python benchmarks/likelihood_fit.py --nest FILE.npz [--nest FILE2.npz ...]

fits the input current by maximum likelihood.

    python benchmarks/nest_pp_psc_delta.py --dead-time 0 --out benchmarks/results/nest_pp_psc_delta_0ms.npz
"""

import argparse
from pathlib import Path

import numpy as np

PARAMETERS = dict(tau_m=10.0, C_m=250.0, I_e=375.0, c_1=0.0, c_2=1.238, c_3=0.25, with_reset=True, V_m=0.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=256)
    parser.add_argument("--dead-time", type=float, default=0.0, help="NEST's dead_time (ms)")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    try:
        import nest  # noqa: PLC0415 (optional: only this script needs NEST)
    except ImportError as error:
        raise SystemExit(f"this script needs NEST: pip install nest-simulator ({error})") from None
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": 0.01, "rng_seed": args.seed})
    neurons = nest.Create("pp_psc_delta", args.trials, params={**PARAMETERS, "dead_time": args.dead_time})
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    nest.Simulate(1000.0)
    events = recorder.get("events")
    first = min(neurons.tolist())
    senders = np.asarray(events["senders"]) - first
    times = np.asarray(events["times"], dtype=np.float64)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, times=times, senders=senders, trials=args.trials, t1_ms=1000.0, resolution_ms=0.01,
             dead_time_ms=args.dead_time, nest_version=str(nest.__version__), **PARAMETERS)  # fmt: skip
    counts = np.bincount(senders, minlength=args.trials)
    print(f"{args.trials} pp_psc_delta neurons, dead_time {args.dead_time} ms: {counts.mean():.1f} spikes per trial "
          f"(min {counts.min()}, max {counts.max()}); wrote {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()
