"""Maximum-likelihood fits of NEST-style escape-noise data (issue 23's acceptance figures).

Data: NEST's ``pp_psc_delta`` in our own core: ``dV/dt = (c(t) - V) / tau_m`` (tau_m = 10 ms, V in
mV above rest), rate ``c_1 V + c_2 exp(c_3 V)`` (c_1 = 0, c_2 = 1.238 Hz, c_3 = 0.25 / mV, NEST's
defaults), ``V <- 0`` at a spike (``SetReset``), no dead time; 256 trials of 1 s simulated by
:func:`spikesde.simulate` on a 1e-5 s grid and stamped at the end of their step, as NEST does.
Fits (:func:`spikesde.fit_likelihood`, damped Newton on the exact Hessian, standard errors from it):

    current       c = 15 mV from 10
    current+mu_v  (c, mu_v) = (15, 100/s) from (10, 50)
    step          c = 12 mV on [0, 0.5), 17 mV after (two levels, from 10 and 10)
    dead-time     c = 15 mV from 10, with NEST's dead_time = 2 ms (:class:`spikesde.RefractorySLIF`,
                  simulated with ExponentialEuler, which ends the dead time exactly; spike times kept
                  as simulated, since stamping them on the 1e-5 s grid can bring two spikes closer
                  than the dead time, which has likelihood 0)

Each fit is timed from the call to the result, compilation included (a fresh compile per case):
wall-clock and process CPU time (the fairer figure when the machine is shared).

    PYTHONPATH=$PWD python benchmarks/likelihood_fit.py [--trials 256] [--dt 2e-4] [--cases current step ...]

With ``--nest FILE.npz ...`` it also fits trains simulated by NEST itself (written by
``benchmarks/nest_pp_psc_delta.py`` in an environment with ``nest-simulator``; times in ms, read with
``units="ms"``): the input current ``I_e tau_m / C_m`` from 10 mV, with the file's dead time
(:class:`spikesde.RefractorySLIF` when it is positive).

Prints a table and writes benchmarks/results/likelihood_fit.json.
"""

import argparse
import json
import os
import time
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import spikesde as sd  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "likelihood_fit.json"
SIM_DT, T1 = 1e-5, 1.0
ESCAPE = sd.ExponentialLinearEscape(c1=0.0, c2=1.238, c3=0.25)


DEAD_TIME = 2e-3
CASES = ("current", "current+mu_v", "step", "dead-time")


def neuron(current, mu_v=100.0):
    return sd.SLIF(1, current, mu_v=mu_v, alpha=0.0, escape=ESCAPE, reset_rule=sd.SetReset(0.0))


def dead_time_neuron(current):
    return sd.RefractorySLIF(1, current, mu_v=100.0, alpha=0.0, escape=ESCAPE, reset_rule=sd.SetReset(0.0), t_ref=DEAD_TIME)


def nest_style_data(model, trials: int, seed: int, chunk: int = 32, stamp: bool = True) -> sd.SpikeTrains:
    """``trials`` trains simulated by the core, spike times stamped at the end of their 1e-5 s step
    (or as simulated, without ``stamp``: then with ExponentialEuler, which ends dead times exactly)."""
    stepper = sd.EulerMaruyama() if stamp else sd.ExponentialEuler()
    simulation = sd.Simulation(t0=0.0, t1=T1, dt=SIM_DT, max_spikes=160, dtype=np.float64, stepper=stepper)
    sample = jax.jit(lambda key: simulation.sample(model, key, chunk))
    buffers = []
    for key in jax.random.split(jax.random.key(seed), -(-trials // chunk)):
        spikes, overflow = sample(key)
        if bool(np.any(overflow)):
            raise RuntimeError("a simulated train overflowed max_spikes")
        buffers.append(np.asarray(spikes))
    buffers = np.concatenate(buffers)[:trials]
    if not stamp:
        return sd.SpikeTrains.from_buffers(buffers, 0.0, T1)
    stamped = np.where(np.isfinite(buffers), np.minimum(np.ceil(buffers / SIM_DT - 1e-9) * SIM_DT, T1), np.inf)
    return sd.SpikeTrains.from_buffers(stamped, 0.0, T1)


def nest_case(path: Path):
    """A fit case for the NEST trains in ``path`` (see ``benchmarks/nest_pp_psc_delta.py``)."""
    f = np.load(path)
    trials, senders, times = int(f["trials"]), np.asarray(f["senders"]), np.asarray(f["times"])
    trains = [[np.sort(times[senders == k])] for k in range(trials)]
    data = sd.SpikeTrains(trains, 0.0, float(f["t1_ms"]), units="ms")
    dead_time = float(f["dead_time_ms"]) * 1e-3
    mu_v = 1e3 / float(f["tau_m"])
    truth = float(f["I_e"]) * float(f["tau_m"]) / float(f["C_m"])
    escape = sd.ExponentialLinearEscape(c1=float(f["c_1"]), c2=float(f["c_2"]), c3=float(f["c_3"]))
    options = dict(mu_v=mu_v, alpha=0.0, escape=escape, reset_rule=sd.SetReset(0.0))
    start = sd.RefractorySLIF(1, 10.0, t_ref=dead_time, **options) if dead_time > 0 else sd.SLIF(1, 10.0, **options)
    name = f"NEST {f['nest_version']}, dead time {dead_time * 1e3:g} ms"
    return (name, start, data, ["input_current.value"], {"input_current.value": truth}, {"input_current.value": 0.01})


def run_case(name, start, data, learn, truth, tolerance, dt):
    result = sd.likelihood.fit_likelihood(start, data, learn=learn, dt=dt)
    rows = []
    for path, true in truth.items():
        for k, (estimate, error, value) in enumerate(zip(np.ravel(result.values[path]), np.ravel(result.standard_errors[path]), np.ravel(true))):
            rows.append(dict(case=name, parameter=path if np.size(true) == 1 else f"{path}[{k}]", true=float(value),
                             estimate=float(estimate), standard_error=float(error),
                             relative_error=abs(float(estimate) / float(value) - 1), tolerance=tolerance[path]))  # fmt: skip
    summary = dict(case=name, iterations=result.iterations, converged=result.converged, seconds=result.seconds,
                   cpu_seconds=result.cpu_seconds, log_likelihood=result.log_likelihood,
                   met=all(r["relative_error"] <= r["tolerance"] for r in rows))  # fmt: skip
    return rows, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=256)
    parser.add_argument("--dt", type=float, default=2e-4, help="the likelihood's grid step")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", nargs="*", choices=CASES, default=list(CASES))
    parser.add_argument("--nest", type=Path, nargs="+", default=[], help="npz files of benchmarks/nest_pp_psc_delta.py")
    args = parser.parse_args()
    tic = time.perf_counter()
    wanted = set(args.cases)
    constant = nest_style_data(neuron(15.0), args.trials, args.seed) if wanted & {"current", "current+mu_v"} else None
    step_current = sd.PiecewiseConstantCurrent([0.5], [12.0, 17.0])
    step = nest_style_data(neuron(step_current), args.trials, args.seed + 1) if "step" in wanted else None
    dead = nest_style_data(dead_time_neuron(15.0), args.trials, args.seed + 2, stamp=False) if "dead-time" in wanted else None
    simulation_seconds = time.perf_counter() - tic
    all_cases = [
        ("current", neuron(10.0), constant, ["input_current.value"], {"input_current.value": 15.0}, {"input_current.value": 0.01}),
        ("current+mu_v", neuron(10.0, 50.0), constant, ["input_current.value", sd.Learn("mu_v", lower=0.0)],
         {"input_current.value": 15.0, "mu_v": 100.0}, {"input_current.value": 0.02, "mu_v": 0.05}),
        ("step", neuron(sd.PiecewiseConstantCurrent([0.5], [10.0, 10.0])), step, ["input_current.values"],
         {"input_current.values": np.array([12.0, 17.0])}, {"input_current.values": 0.02}),
        ("dead-time", dead_time_neuron(10.0), dead, ["input_current.value"], {"input_current.value": 15.0}, {"input_current.value": 0.01}),
    ]  # fmt: skip
    cases = [case for case in all_cases if case[0] in wanted] + [nest_case(path) for path in args.nest]
    rows, summaries = [], []
    for case in cases:
        case_rows, summary = run_case(*case, dt=args.dt)
        rows += case_rows
        summaries.append(summary)
    print(f"{'case':30s} {'parameter':24s} {'true':>8s} {'estimate':>10s} {'s.e.':>8s} {'rel.err':>8s} {'tol':>5s}")
    for r in rows:
        print(f"{r['case']:30s} {r['parameter']:24s} {r['true']:8.3f} {r['estimate']:10.4f} {r['standard_error']:8.4f} "
              f"{r['relative_error']:8.4f} {r['tolerance']:5.2f}")  # fmt: skip
    print(f"\n{'case':30s} {'iterations':>10s} {'converged':>9s} {'wall s':>8s} {'CPU s':>8s} {'met':>5s}")
    for s in summaries:
        print(f"{s['case']:30s} {s['iterations']:10d} {s['converged']!s:>9s} {s['seconds']:8.1f} {s['cpu_seconds']:8.1f} {s['met']!s:>5s}")
    print(f"(data: {args.trials} trials per set simulated in {simulation_seconds:.0f} s wall; {os.cpu_count()} CPUs, shared)")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(dict(settings=vars(args) | dict(nest=[str(p) for p in args.nest]), simulation_seconds=simulation_seconds, rows=rows,
                                       fits=summaries, cpus=os.cpu_count()), indent=2) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
