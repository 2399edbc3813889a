"""Issue 27's comparison: the particle likelihood, a simulation-based loss and neural posterior estimation (sbi).

    PYTHONPATH=$PWD python benchmarks/particle_likelihood.py study --sigmas 0.25 --seeds 0 ... 19 --tag _s025_seeds0to19
    PYTHONPATH=$PWD python benchmarks/particle_vs_sbi.py simulate --simulations 2000
    PYTHONPATH=$PWD python benchmarks/particle_vs_sbi.py npe --simulations 2000        # needs spikesde[sbi]
    PYTHONPATH=$PWD python benchmarks/particle_vs_sbi.py simulate --simulations 15000 --chunk 250 --tag _15000
    PYTHONPATH=$PWD python benchmarks/particle_vs_sbi.py npe --simulations 15000 --tag _15000
    PYTHONPATH=$PWD python benchmarks/particle_vs_sbi.py simloss --seeds 0 1 2 3 4 5 6 7 8 9 --steps 800
    PYTHONPATH=$PWD python benchmarks/particle_vs_sbi.py simloss --seeds 10 11 12 13 14 15 16 17 18 19 --tag _seeds10to19
    PYTHONPATH=$PWD python benchmarks/particle_vs_sbi.py rate --offsets 1.5 2.0 2.2 2.5 3.0 --v-resets 1.4 1.0 0.7 0.5
    PYTHONPATH=$PWD python benchmarks/particle_vs_sbi.py table --npe-tags "" _15000 \
        --simloss benchmarks/results/particle_vs_sbi_simloss.json benchmarks/results/particle_vs_sbi_simloss_seeds10to19.json

The problem of benchmarks/particle_likelihood.py's study at sigma_v = 0.25: SLIF with a sinusoidal
input (offset 1.5, amplitude 1, 2 Hz; mu_v 15, v_reset 1.4, alpha 0), data sets of 256 trains of
1 s at dt = 5 ms, data seed 100 + s for s = 0..19 (the same data sets as the study's). Estimated:
(offset, mu_v, v_reset).

simulate: N parameter draws from the uniform prior box truth * [0.7, 1.3] (+-30%), one data set of
256 trains each (the same simulator, vmapped and jitted, float32), reduced to the summary statistics
a user of sbi would choose (``summaries``); the observed data sets' statistics beside them.
npe: neural posterior estimation (sbi's NPE, its default masked autoregressive flow, trained once on
the N simulations); per data set the posterior mean and the 5% / 95% posterior quantiles from 4,000
posterior samples. simloss: the spike-time MMD of configs/slif_mu_v_reset.toml (first 8 spikes'
intervals, marginal Gaussian mixture, Adam with a cosine schedule), 256 model samples per step, on
the same data sets, started 20% below the truth: point estimates only (no intervals). table: the
three side by side (bias, RMSE, 90% coverage, time and simulation budget); every part writes
benchmarks/results/particle_vs_sbi_<part>.json (simulate also an .npz of the simulations). rate:
spikes per train when the truth's offset or v_reset is changed (which truth gives ~9 spikes). Wall
times on a shared 2-core machine are contended; CPU time (process_time) is the fairer figure.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

import spikesde as sd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from particle_likelihood import DT, NAMES, RESULTS, T1, TRUTH, neuron, simulate_trains, write_result  # noqa: E402

SIGMA_V, TRIALS, FREQUENCY, PHASE_BINS = 0.25, 256, 2.0, 4
LOW, HIGH = 0.7 * TRUTH, 1.3 * TRUTH
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
STATISTICS = ("count mean", "count var", *(f"ISI q{int(100 * q)}" for q in QUANTILES), "ISI mean", "ISI CV",
              "first spike mean", "first spike sd", *(f"PSTH phase {b}/{PHASE_BINS}" for b in range(PHASE_BINS)))  # fmt: skip
SBI_MISSING = "the npe part needs sbi and torch: pip install 'spikesde[sbi]' (the optional extra 'sbi')"


def summaries(buffers):
    """The statistics ``STATISTICS`` of one data set, ``buffers`` ``(trials, max_spikes)`` padded with +inf.

    Spike counts (mean, variance), the pooled inter-spike intervals (quantiles, mean, CV), the first
    spike's time (a train without spikes counts as ``T1``), and the rate (Hz) in ``PHASE_BINS`` bins
    of the sinusoid's phase, pooled over its cycles.
    """
    finite = jnp.isfinite(buffers)
    counts = finite.sum(1).astype(buffers.dtype)
    isi = jnp.where(finite[:, 1:], jnp.diff(jnp.where(finite, buffers, 0.0), axis=1), jnp.nan)
    quantiles = jnp.nanquantile(isi, jnp.asarray(QUANTILES))
    mean_isi = jnp.nanmean(isi)
    first = jnp.where(finite[:, 0], buffers[:, 0], T1)
    phase_bin = jnp.floor(jnp.mod(jnp.where(finite, buffers, 0.0) * FREQUENCY, 1.0) * PHASE_BINS)
    psth = jnp.stack([(finite & (phase_bin == b)).sum() for b in range(PHASE_BINS)]) / (buffers.shape[0] * T1 / PHASE_BINS)
    return jnp.concatenate([jnp.stack([counts.mean(), counts.var()]), quantiles,
                            jnp.stack([mean_isi, jnp.nanstd(isi) / mean_isi, first.mean(), first.std()]), psth])  # fmt: skip


def simulator(trials=TRIALS):
    """``(thetas (b, 3), keys (b,)) -> statistics (b, len(STATISTICS))``: one data set of ``trials`` trains per draw."""
    simulation = sd.Simulation(t0=0.0, t1=T1, dt=DT, max_spikes=48)
    one = lambda theta, key: summaries(simulation.sample(neuron(theta, SIGMA_V), key, trials)[0][:, 0])  # noqa: E731
    return jax.jit(jax.vmap(one))


def observed(seeds):
    """The statistics of the study's data sets (data seed 100 + s), and their mean spikes per train."""
    data = [simulate_trains(SIGMA_V, 100 + s, TRIALS) for s in seeds]
    return np.stack([np.asarray(summaries(d)) for d in data]), float(np.mean([np.isfinite(d).sum(1).mean() for d in data]))


def simulate(args):
    thetas = np.random.default_rng(args.prior_seed).uniform(LOW, HIGH, size=(args.simulations, 3)).astype(np.float32)
    keys = jax.random.split(jax.random.key(args.prior_seed), args.simulations)
    run, xs = simulator(), []
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, args.simulations, args.chunk):
        xs.append(np.asarray(run(jnp.asarray(thetas[start : start + args.chunk]), keys[start : start + args.chunk])))
        print(f"simulated {start + len(xs[-1])}/{args.simulations} ({time.perf_counter() - wall:.0f} s)", flush=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    x_obs, spikes = observed(args.seeds)
    np.savez(RESULTS / f"sbi_simulations_{args.simulations}.npz", theta=thetas, x=np.concatenate(xs), x_obs=x_obs, seeds=args.seeds)
    print(f"{args.simulations} data sets of {TRIALS} trains ({args.simulations * TRIALS * round(T1 / DT):.2e} neuron-steps): "
          f"wall {wall:.0f} s, cpu {cpu:.0f} s (compile included); observed {spikes:.2f} spikes per train")  # fmt: skip
    return dict(simulations=args.simulations, wall_s=wall, cpu_s=cpu, neuron_steps=args.simulations * TRIALS * round(T1 / DT),
                observed_spikes_per_train=spikes, statistics=STATISTICS, x_obs=x_obs.tolist())  # fmt: skip


def npe(args):
    try:
        import torch
        from sbi.inference import NPE
        from torch.utils.tensorboard import SummaryWriter
        from sbi.utils import BoxUniform
    except ImportError as error:
        raise SystemExit(f"{SBI_MISSING} ({error})") from None
    stored = np.load(RESULTS / f"sbi_simulations_{args.simulations}.npz")
    torch.manual_seed(args.prior_seed)
    torch.set_num_threads(args.torch_threads)
    prior = BoxUniform(low=torch.as_tensor(LOW, dtype=torch.float32), high=torch.as_tensor(HIGH, dtype=torch.float32))
    theta, x = torch.as_tensor(stored["theta"]), torch.as_tensor(stored["x"], dtype=torch.float32)
    wall, cpu = time.perf_counter(), time.process_time()
    # sbi's default writer logs into ./sbi-logs; this run's training log goes to a temporary folder.
    inference = NPE(prior=prior, summary_writer=SummaryWriter(tempfile.mkdtemp(prefix="sbi-logs-")), show_progress_bars=False)
    inference.append_simulations(theta, x).train(show_train_summary=False)
    posterior = inference.build_posterior()
    train_wall, train_cpu = time.perf_counter() - wall, time.process_time() - cpu
    fits = []
    for seed, x_o in zip(stored["seeds"].tolist(), stored["x_obs"]):
        wall, cpu = time.perf_counter(), time.process_time()
        samples = posterior.sample((args.posterior_samples,), x=torch.as_tensor(x_o, dtype=torch.float32), show_progress_bars=False).numpy()
        fits.append(dict(seed=seed, mean=samples.mean(0).tolist(), q05=np.quantile(samples, 0.05, 0).tolist(),
                         q95=np.quantile(samples, 0.95, 0).tolist(), sd=samples.std(0).tolist(),
                         wall_s=time.perf_counter() - wall, cpu_s=time.process_time() - cpu))  # fmt: skip
        print(f"seed {seed}: posterior mean {np.round(fits[-1]['mean'], 4)}, 90% [{np.round(fits[-1]['q05'], 3)}, "
              f"{np.round(fits[-1]['q95'], 3)}] ({fits[-1]['wall_s']:.2f} s)", flush=True)  # fmt: skip
    print(f"NPE trained on {args.simulations} simulations: wall {train_wall:.0f} s, cpu {train_cpu:.0f} s")
    return dict(simulations=args.simulations, train_wall_s=train_wall, train_cpu_s=train_cpu, fits=fits,
                sbi_version=__import__("sbi").__version__, torch_version=torch.__version__)  # fmt: skip


def simloss_fit(seed, args):
    """The spike-time MMD fit of one data set: the final values after ``args.steps`` Adam steps."""
    simulation = sd.Simulation(t0=0.0, t1=T1, dt=DT, max_spikes=48)
    loss = sd.losses.SpikeTimeMMD(num_spikes=8, t0=0.0, t1=T1, bandwidths=(0.5, 1.0, 2.0), time_unit=0.1, intervals=True, marginal=True)
    learn = [sd.Learn("input_current.offset", lower=0.0), sd.Learn("mu_v", lower=0.0, upper=50.0), sd.Learn("v_reset", lower=0.0)]
    optimizer = optax.adam(optax.cosine_decay_schedule(0.05, args.steps, alpha=1e-3 / 0.05))
    data = simulate_trains(SIGMA_V, 100 + seed, TRIALS)[:, None, :]
    wall, cpu = time.perf_counter(), time.process_time()
    result = sd.fit(neuron(jnp.asarray(0.8 * TRUTH), SIGMA_V), data, learn=learn, loss=loss, optimizer=optimizer,
                    simulation=simulation, steps=args.steps, key=jax.random.key(seed), model_samples=TRIALS, progress=False)  # fmt: skip
    estimate = [float(np.asarray(result.values[p.path]).reshape(-1)[0]) for p in learn]
    return dict(seed=seed, estimate=estimate, wall_s=time.perf_counter() - wall, cpu_s=time.process_time() - cpu, steps=args.steps)


def simloss(args):
    fits = []
    for seed in args.seeds:
        fits.append(simloss_fit(seed, args))
        (RESULTS / f"particle_vs_sbi_simloss{args.tag}.partial.json").write_text(json.dumps(dict(args=vars(args), fits=fits), indent=1))
        f = fits[-1]
        print(f"seed {seed}: spike-time MMD {np.round(f['estimate'], 4)} (cpu {f['cpu_s']:.0f} s, wall {f['wall_s']:.0f} s)", flush=True)
    return dict(fits=fits, neuron_steps_per_fit=args.steps * TRIALS * round(T1 / DT))


def errors(estimates, low=None, high=None):
    """Per parameter: relative bias, relative RMSE and 90% coverage (``None`` without intervals)."""
    err = (np.asarray(estimates) - TRUTH) / TRUTH
    cover = None if low is None else ((np.asarray(low) <= TRUTH) & (TRUTH <= np.asarray(high))).mean(0)
    return [dict(parameter=name, bias=err[:, k].mean(), bias_se=err[:, k].std(ddof=1) / np.sqrt(len(err)),
                 rmse=np.sqrt((err[:, k] ** 2).mean()), coverage_90=None if cover is None else cover[k])
            for k, name in enumerate(NAMES)]  # fmt: skip


def npe_method(tag):
    """The table's entry of the NPE run ``particle_vs_sbi_npe<tag>.json`` (and its simulations)."""
    sims = json.loads((RESULTS / f"particle_vs_sbi_simulate{tag}.json").read_text())["result"]
    npe_fits = json.loads((RESULTS / f"particle_vs_sbi_npe{tag}.json").read_text())["result"]
    fits = npe_fits["fits"]
    return {f"NPE (sbi, {sims['simulations']} sims)": dict(
        rows=errors([f["mean"] for f in fits], [f["q05"] for f in fits], [f["q95"] for f in fits]), data_sets=len(fits),
        cpu_per_data_set_s=np.mean([f["cpu_s"] for f in fits]), wall_per_data_set_s=np.mean([f["wall_s"] for f in fits]),
        one_off_cpu_s=sims["cpu_s"] + npe_fits["train_cpu_s"], one_off_wall_s=sims["wall_s"] + npe_fits["train_wall_s"],
        neuron_steps_once=sims["neuron_steps"], neuron_steps_per_data_set=0,
        budget=f"{sims['simulations']} prior draws x trains x steps, once for all data sets")}  # fmt: skip


def table(args):
    particle = json.loads(Path(args.particle).read_text())
    particle = particle.get("result", particle)["fits"]
    particle = [f for f in particle if f["sigma_v"] == SIGMA_V]
    est, se = np.array([f["particle"] for f in particle]), np.array([f["se"] for f in particle])
    sim_fits = [f for path in args.simloss for f in (lambda d: d.get("result", d))(json.loads(Path(path).read_text()))["fits"]]
    steps_per_train = round(T1 / DT)
    methods = {
        "particle likelihood": dict(
            rows=errors(est, est - 1.645 * se, est + 1.645 * se), data_sets=len(particle),
            cpu_per_data_set_s=np.mean([f["cpu_s"] + f["noise_free_cpu_s"] for f in particle]),
            wall_per_data_set_s=np.mean([f["wall_s"] for f in particle]), one_off_cpu_s=0.0,
            neuron_steps_per_data_set=np.mean([(f["iterations"] + 1) for f in particle]) * args.particles * TRIALS * steps_per_train,
            budget="particles x trains x steps x (Newton iterations + 1) value-Hessian evaluations, per data set"),
        "spike-time MMD (sim. loss)": dict(
            rows=errors([f["estimate"] for f in sim_fits]), data_sets=len(sim_fits),
            cpu_per_data_set_s=np.mean([f["cpu_s"] for f in sim_fits]), wall_per_data_set_s=np.mean([f["wall_s"] for f in sim_fits]),
            one_off_cpu_s=0.0, neuron_steps_per_data_set=sim_fits[0]["steps"] * TRIALS * steps_per_train,
            budget="Adam steps x model samples x steps, per data set"),
    }  # fmt: skip
    for tag in args.npe_tags:
        methods.update(npe_method(tag))
    print(f"{'method':>27} {'param':>8} {'bias (+- SE)':>16} {'RMSE':>7} {'cover90':>7} {'sets':>4} | {'CPU/set':>8} {'wall/set':>8} "
          f"{'one-off CPU':>11} {'one-off wall':>12} | simulation budget")  # fmt: skip
    for name, m in methods.items():
        budget = (f"{m['neuron_steps_once']:.2e} neuron-steps once" if "neuron_steps_once" in m
                  else f"{m['neuron_steps_per_data_set']:.2e} neuron-steps per set")  # fmt: skip
        for r in m["rows"]:
            cover = "none" if r["coverage_90"] is None else f"{r['coverage_90']:.2f}"
            print(f"{name:>27} {r['parameter']:>8} {100 * r['bias']:+6.2f}% +- {100 * r['bias_se']:4.2f}% {100 * r['rmse']:6.2f}% "
                  f"{cover:>7} {m['data_sets']:4d} | {m['cpu_per_data_set_s']:7.2f}s {m['wall_per_data_set_s']:7.2f}s "
                  f"{m['one_off_cpu_s']:10.0f}s {m.get('one_off_wall_s', 0.0):11.0f}s | {budget}")  # fmt: skip
    return methods


def rate(args):
    """Spikes per train (256 trains of 1 s, sigma_v 0.25) when one parameter of the truth is changed."""
    rows = []
    for name, values in (("offset", args.offsets), ("v_reset", args.v_resets)):
        for value in values:
            theta = TRUTH.copy()
            theta[NAMES.index(name)] = value
            trains = sd.Simulation(t0=0.0, t1=T1, dt=DT, max_spikes=48).sample(neuron(jnp.asarray(theta), SIGMA_V), jax.random.key(100), TRIALS)[0]
            rows.append(dict(parameter=name, value=value, theta=theta.tolist(), spikes_per_train=float(np.isfinite(trains).sum(-1).mean())))
            print(f"{name} {value:5.2f} (others at the truth): {rows[-1]['spikes_per_train']:.2f} spikes per train", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=("simulate", "npe", "simloss", "table", "rate"))
    parser.add_argument("--simulations", type=int, default=2000, help="prior draws (data sets of 256 trains) for NPE")
    parser.add_argument("--chunk", type=int, default=100, help="draws simulated per jitted call")
    parser.add_argument("--prior-seed", type=int, default=0)
    parser.add_argument("--torch-threads", type=int, default=1, help="npe: torch's CPU threads")
    parser.add_argument("--posterior-samples", type=int, default=4000)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    parser.add_argument("--steps", type=int, default=800, help="Adam steps of the simulation-based loss")
    parser.add_argument("--particle", default=str(RESULTS / "particle_likelihood_study_s025_seeds0to19.json"))
    parser.add_argument("--particles", type=int, default=256, help="the particle study's particles per train")
    parser.add_argument("--simloss", nargs="+", default=[str(RESULTS / "particle_vs_sbi_simloss.json")], help="simloss results, pooled")
    parser.add_argument("--npe-tags", nargs="+", default=[""], help="tags of the simulate / npe results the table reads")
    parser.add_argument("--offsets", type=float, nargs="+", default=[1.5, 2.0, 2.5, 3.0], help="rate: offsets to try")
    parser.add_argument("--v-resets", type=float, nargs="+", default=[1.4, 1.0, 0.7], help="rate: resets to try")
    parser.add_argument("--tag", default="", help="suffix of the results file")
    args = parser.parse_args()
    write_result("particle_vs_sbi", args, dict(simulate=simulate, npe=npe, simloss=simloss, table=table, rate=rate)[args.part](args))


if __name__ == "__main__":
    main()
