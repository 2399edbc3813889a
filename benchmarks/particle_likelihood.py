"""The particle-filter likelihood under membrane noise (issue 27): speed, memory, and the acceptance study.

    PYTHONPATH=$PWD python benchmarks/particle_likelihood.py speed  [--particles 64 256 1024] [--trials 16 256]
    PYTHONPATH=$PWD python benchmarks/particle_likelihood.py memory [--windows 1 2 4 8]
    PYTHONPATH=$PWD python benchmarks/particle_likelihood.py study  [--sigmas 0.25 0.6 1.0] [--seeds 0 1 2 3 4]
    PYTHONPATH=$PWD python benchmarks/particle_likelihood.py reference [--seeds 0 1 2 3 4]
    PYTHONPATH=$PWD python benchmarks/particle_likelihood.py pool --inputs A.json B.json [--sigmas 0.25 0.6]

speed: CPU and wall time of one log-likelihood-and-gradient evaluation (three parameters, forward
mode, summed over trials of 1 s at dt = 5 ms) against the particle count and the number of trials.
memory: XLA's temporary buffer size of the compiled value-and-gradient against the window's length,
forward mode (flat) and reverse mode (the scan keeps every step's carry).
study: SLIF with a sinusoidal input (offset 1.5, amplitude 1, 2 Hz; mu_v 15, v_reset 1.4, alpha 0),
256 trains of 1 s simulated at each sigma_v; (offset, mu_v, v_reset) estimated by Newton
(Levenberg-Marquardt) steps on the particle filter's summed log-likelihood with common random
numbers, started from the noise-free estimate; 90% intervals from the Hessian of the estimated
log-likelihood. Side by side, the exact noise-free likelihood (spikesde.buffer_log_likelihood with
sigma_v = 0) maximised on the same data. reference: the exact likelihood on noise-free data
(sigma_v = 0, its own model) from the same data seeds: what these seeds give an exact, efficient
estimator, against which the study's errors are read. pool: the study's summary over the fits of
several study result files (more seeds), for the given noise levels. Each part prints a table and writes
benchmarks/results/particle_likelihood_<part>.json. Wall times on a shared machine are contended;
CPU time (process_time) is the fairer figure.
"""

import argparse
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import spikesde as sd
from spikesde._training.particle_estimator import trains_log_likelihood

RESULTS = Path(__file__).resolve().parent / "results"
TRUTH = np.array([1.5, 15.0, 1.4])
NAMES = ("offset", "mu_v", "v_reset")
DT, T1 = 0.005, 1.0


def neuron(theta, sigma_v):
    return sd.SLIF(1, sd.SinusoidalCurrent(theta[0], 1.0, 2.0), mu_v=theta[1], v_reset=theta[2], sigma_v=sigma_v, alpha=0.0)


def simulate_trains(sigma_v, seed, trials, t1=T1):
    simulation = sd.Simulation(t0=0.0, t1=t1, dt=DT, max_spikes=48)
    return simulation.sample(neuron(jnp.asarray(TRUTH), sigma_v), jax.random.key(seed), trials)[0][:, 0]


def particle_objective(data, sigma_v, particles, seed=0, t1=T1):
    """``theta -> sum_j log Z_hat(train j)`` with common random numbers."""
    pf = sd.likelihood.ParticleFilter(particles=particles)
    return lambda theta: trains_log_likelihood(pf, neuron(theta, sigma_v), data, jax.random.key(seed), t0=0.0, t1=t1, dt=DT).sum()


def noise_free_objective(data):
    def one(theta, spikes):
        return sd.likelihood.buffer_log_likelihood(neuron(theta, 0.0), spikes, t0=0.0, t1=T1, dt=DT)

    return lambda theta: jax.vmap(lambda s: one(theta, s))(data).sum()


def value_and_grad(f):
    """Forward mode: the value once, one tangent per parameter."""

    def vg(theta):
        values, tangents = jax.vmap(lambda e: jax.jvp(f, (theta,), (e,)))(jnp.eye(theta.size, dtype=theta.dtype))
        return values[0], tangents

    return vg


def value_grad_hessian(f):
    """``(value, gradient, Hessian)`` by forward over forward mode (memory flat in the window)."""

    def inner(theta):
        v, g = value_and_grad(f)(theta)
        return g, (v, g)

    def vgh(theta):
        h, (v, g) = jax.jacfwd(inner, has_aux=True)(theta)
        return v, g, 0.5 * (h + h.T)

    return jax.jit(vgh)


def newton(vgh, theta, max_iterations=10, tolerance=5e-4):
    """Maximise by Levenberg-Marquardt steps: ``(theta, value, Hessian, iterations)``."""
    value, grad, hess = vgh(theta)
    damping = 1e-3
    for iteration in range(1, max_iterations + 1):
        scale = jnp.diag(jnp.abs(jnp.diag(hess)))
        step = jnp.linalg.solve(-hess + damping * scale, grad)
        candidate = theta + step
        new = vgh(candidate)
        if bool(jnp.isfinite(new[0])) and float(new[0]) >= float(value) - 1e-6 * abs(float(value)):
            theta, (value, grad, hess) = candidate, new
            damping = max(damping / 10, 1e-6)
            if float(jnp.max(jnp.abs(step) / jnp.abs(theta))) < tolerance:
                break
        else:
            damping *= 10
    return theta, value, hess, iteration


def timed(fn, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    out = jax.block_until_ready(fn(*args))
    return out, time.perf_counter() - wall, time.process_time() - cpu


def speed(args):
    rows = []
    for trials in args.trials:
        data = simulate_trains(0.6, 0, trials)
        for particles in args.particles:
            vg = jax.jit(value_and_grad(particle_objective(data, 0.6, particles)))
            _, compile_wall, _ = timed(vg, jnp.asarray(TRUTH))
            runs = [timed(vg, jnp.asarray(TRUTH))[1:] for _ in range(args.repeats)]
            wall, cpu = np.array([r[0] for r in runs]), np.array([r[1] for r in runs])
            rows.append(dict(trials=trials, particles=particles, compile_s=compile_wall, wall_min_s=wall.min(),
                             wall_median_s=float(np.median(wall)), cpu_min_s=cpu.min()))  # fmt: skip
            print(f"trials {trials:4d} particles {particles:5d}: cpu {cpu.min():7.3f} s  wall min {wall.min():7.3f} s "
                  f"median {np.median(wall):7.3f} s  (compile {compile_wall:.1f} s)", flush=True)  # fmt: skip
    return rows


def memory(args):
    rows = []
    for t1 in args.windows:
        data = simulate_trains(0.6, 0, args.memory_trials, t1=t1)
        f = particle_objective(data, 0.6, args.memory_particles, t1=t1)
        row = dict(window_s=t1, steps=int(round(t1 / DT)))
        for mode, fn in (("forward", value_and_grad(f)), ("reverse", jax.value_and_grad(f))):
            analysis = jax.jit(fn).lower(jnp.asarray(TRUTH)).compile().memory_analysis()
            row[f"{mode}_temp_MiB"] = analysis.temp_size_in_bytes / 2**20
        rows.append(row)
        print(f"window {t1:4.1f} s ({row['steps']:5d} steps): forward {row['forward_temp_MiB']:8.2f} MiB, "
              f"reverse {row['reverse_temp_MiB']:8.2f} MiB (temporaries)", flush=True)  # fmt: skip
    return rows


def fit_one(sigma_v, seed, args):
    data = simulate_trains(sigma_v, 100 + seed, args.study_trials)
    exact = value_grad_hessian(noise_free_objective(data))
    (free, _, _, _), _, free_cpu = timed(lambda: newton(exact, jnp.asarray(0.8 * TRUTH)))
    vgh = value_grad_hessian(particle_objective(data, sigma_v, args.study_particles, seed=seed))
    (theta, value, hess, iterations), wall, cpu = timed(lambda: newton(vgh, free))
    se = np.sqrt(np.diag(np.linalg.inv(-np.asarray(hess, np.float64))))
    return dict(sigma_v=sigma_v, seed=seed, truth=TRUTH.tolist(), spikes_per_trial=float(jnp.isfinite(data).sum(1).mean()),
                particle=np.asarray(theta).tolist(), se=se.tolist(), iterations=iterations, wall_s=wall, cpu_s=cpu,
                noise_free=np.asarray(free).tolist(), noise_free_cpu_s=free_cpu, log_likelihood=float(value))  # fmt: skip


def summarise(fits):
    table = []
    for sigma in sorted({f["sigma_v"] for f in fits}):
        group = [f for f in fits if f["sigma_v"] == sigma]
        est, se = np.array([f["particle"] for f in group]), np.array([f["se"] for f in group])
        err, free_err = est - TRUTH, np.array([f["noise_free"] for f in group]) - TRUTH
        mean_se = err.std(0, ddof=1) / np.sqrt(len(group)) if len(group) > 1 else np.full(3, np.nan)
        covered = np.abs(err) <= 1.645 * se
        for k, name in enumerate(NAMES):
            table.append(dict(sigma_v=sigma, parameter=name, seeds=len(group), mean_rel_error=err[:, k].mean() / TRUTH[k],
                              mean_error_in_se=err[:, k].mean() / mean_se[k], mean_hessian_se_rel=se[:, k].mean() / TRUTH[k],
                              coverage_90=covered[:, k].mean(), noise_free_mean_rel_error=free_err[:, k].mean() / TRUTH[k],
                              particle_rmse_rel=np.sqrt((err[:, k] ** 2).mean()) / TRUTH[k],
                              noise_free_rmse_rel=np.sqrt((free_err[:, k] ** 2).mean()) / TRUTH[k]))  # fmt: skip
    return table


def study(args):
    fits = []
    for sigma in args.sigmas:
        for seed in args.seeds:
            fits.append(fit_one(sigma, seed, args))
            f = fits[-1]
            partial = RESULTS / f"particle_likelihood_study{args.tag}.partial.json"
            partial.write_text(json.dumps(dict(args=vars(args), fits=fits), indent=1, default=float))
            print(f"sigma_v {sigma:4.2f} seed {seed}: particle {np.round(f['particle'], 4)} +- {np.round(f['se'], 4)} "
                  f"({f['iterations']} it, cpu {f['cpu_s']:.0f} s, wall {f['wall_s']:.0f} s); noise-free {np.round(f['noise_free'], 4)}; "
                  f"{f['spikes_per_trial']:.1f} spikes/trial", flush=True)  # fmt: skip
    table = summarise(fits)
    print(f"\n{'sigma_v':>7} {'param':>8} {'mean err':>9} {'err/SE':>7} {'SE(H)':>7} {'cover90':>8} {'rmse':>7} | {'noise-free err':>14} {'rmse':>7}")
    for r in table:
        print(f"{r['sigma_v']:7.2f} {r['parameter']:>8} {100 * r['mean_rel_error']:8.2f}% {r['mean_error_in_se']:7.2f} "
              f"{100 * r['mean_hessian_se_rel']:6.2f}% {r['coverage_90']:8.2f} {100 * r['particle_rmse_rel']:6.2f}% | "
              f"{100 * r['noise_free_mean_rel_error']:13.2f}% {100 * r['noise_free_rmse_rel']:6.2f}%")  # fmt: skip
    return dict(fits=fits, summary=table)


def reference(args):
    rows = []
    for seed in args.seeds:
        data = simulate_trains(0.0, 100 + seed, args.study_trials)
        theta, _, hess, _ = newton(value_grad_hessian(noise_free_objective(data)), jnp.asarray(0.8 * TRUTH))
        se = np.sqrt(np.diag(np.linalg.inv(-np.asarray(hess, np.float64))))
        rows.append(dict(seed=seed, estimate=np.asarray(theta).tolist(), se=se.tolist()))
        print(f"seed {seed}: {np.round(np.asarray(theta), 4)} +- {np.round(se, 4)}", flush=True)
    err = np.array([r["estimate"] for r in rows]) - TRUTH
    print("mean relative error " + ", ".join(f"{n} {100 * e:+.2f}%" for n, e in zip(NAMES, err.mean(0) / TRUTH)))
    return rows


def pool(args):
    fits = [f for path in args.inputs for f in json.loads(Path(path).read_text())["result"]["fits"] if f["sigma_v"] in args.sigmas]
    for r in summarise(fits):
        print(f"{r['sigma_v']:5.2f} {r['parameter']:>8}: mean error {100 * r['mean_rel_error']:+.2f}% ({r['mean_error_in_se']:+.2f} SE), "
              f"coverage {round(r['coverage_90'] * r['seeds'])}/{r['seeds']}, rmse {100 * r['particle_rmse_rel']:.2f}%; "
              f"noise-free {100 * r['noise_free_mean_rel_error']:+.2f}%, rmse {100 * r['noise_free_rmse_rel']:.2f}%")  # fmt: skip
    return summarise(fits)


def main():
    global TRUTH
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=("speed", "memory", "study", "reference", "pool"))
    parser.add_argument("--inputs", nargs="+", default=[])
    parser.add_argument("--particles", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    parser.add_argument("--trials", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--windows", type=float, nargs="+", default=[1.0, 2.0, 4.0, 8.0])
    parser.add_argument("--memory-trials", type=int, default=8)
    parser.add_argument("--memory-particles", type=int, default=256)
    parser.add_argument("--sigmas", type=float, nargs="+", default=[0.25, 0.6, 1.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--study-trials", type=int, default=256)
    parser.add_argument("--study-particles", type=int, default=256)
    parser.add_argument("--tag", default="", help="suffix of the results file")
    parser.add_argument("--truth", type=float, nargs=3, default=TRUTH.tolist(), metavar=("OFFSET", "MU_V", "V_RESET"),
                        help="true (offset, mu_v, v_reset) of the simulated data (default 1.5 15 1.4: ~5.4 spikes per train; "
                        "2.0 15 1.4 gives ~9)")  # fmt: skip
    args = parser.parse_args()
    TRUTH = np.array(args.truth)
    write_result("particle_likelihood", args, dict(speed=speed, memory=memory, study=study, reference=reference, pool=pool)[args.part](args))


def write_result(script, args, result):
    """``benchmarks/results/<script>_<part><tag>.json``: the arguments, the device and the result."""
    out = RESULTS / f"{script}_{args.part}{args.tag}.json"
    out.write_text(json.dumps(dict(args=vars(args), device=str(jax.devices()[0]), result=result), indent=1, default=float))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
