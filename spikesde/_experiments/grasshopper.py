"""Fit recording 1 of the locust receptor neuron (nitime) by exact likelihood, against a nemos GLM.

    spikesde fit configs/grasshopper.toml --out runs/grasshopper
    python -m spikesde._experiments.grasshopper --out runs/grasshopper [--config configs/grasshopper.toml]

Trains on ``[0, 8]`` s, tests on ``(8, 10]`` s; writes ``results.json`` and ``grasshopper.png``.
"""

import argparse
import dataclasses
import json
import math
import pathlib
import time

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
import numpy as np

from .._io.grasshopper import read_grasshopper, stimulus_of
from .._likelihood.design import StimulusDesign, to_model
from .._likelihood.glm import bin_counts, binned_traces, fit_glm, glm_log_likelihood, simulate_glm
from .._likelihood.grid import EventGrid
from .._likelihood.metrics import (
    binned_poisson_log_likelihood,
    bits_per_spike,
    coincidence_factor,
    poisson_log_likelihood,
)
from .._likelihood.newton import block_indicators, block_multiplicities, percentile_intervals
from .._likelihood.sampler import sample_spikes, spike_times_from_grid
from .._likelihood.stimulus_fit import bootstrap_refits, laplace_covariance, profile_fit
from .._models.slif import SLIF
from .._models.stimulus import StimulusCurrent, filter_stimulus, raised_cosine_basis
from .grasshopper_noise import fit_membrane_noise, noisy_samples, psth_error, windowed_score


@dataclasses.dataclass(frozen=True)
class GrasshopperConfig:
    """The settings of the fit; the defaults are those of ``configs/grasshopper.toml``, from which
    :func:`~.likelihood_run.settings_from_config` builds them (``spikesde fit``)."""

    recording: int = 1
    train_end: float = 8.0
    dt: float = 1e-4
    n_basis: int = 10
    filter_duration: float = 0.03
    history_taus: tuple[float, ...] = (0.002, 0.005, 0.02, 0.1, 1.0)
    transform: str = "log_zscore"
    mu_v_grid: tuple[float, ...] = (100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0)
    beta: float = 5.0
    alpha: float = 0.0
    v_threshold: float = 1.0
    tau_s: float = 1.0
    v0: float = 1.0
    golden_steps: int = 6
    newton_steps: int = 25
    n_boot: int = 40
    n_blocks: int = 16
    bootstrap_steps: int = 3
    level: float = 0.9
    n_samples: int = 50
    bin_widths: tuple[float, ...] = (0.001, 0.0005)
    precision: float = 0.002
    glm: bool = True
    noise_sigmas: tuple[float, ...] = (2.5, 5.0, 10.0, 20.0)
    noise_shifts: tuple[float, ...] = (0.0,)
    noise_samples: int = 8
    noise_window: float = 0.5
    seed: int = 0


def transformed_stimulus(stimulus, dt, config):
    """The stimulus after ``config.transform``: ``log_zscore`` (the envelope is Gaussian in dB: log,
    then z-scored on the training window), ``zscore`` or ``none``."""
    values = np.log(stimulus) if config.transform == "log_zscore" else np.asarray(stimulus, dtype=np.float64)
    if config.transform == "none":
        return values
    train = values[: int(round(config.train_end / dt))]
    return (values - train.mean()) / train.std()


def stimulus_features(trains, config):
    """The raised-cosine basis and the :class:`StimulusCurrent` (zero weights) of the first trial's
    ``stimulus`` covariate, transformed by :func:`transformed_stimulus`."""
    stimulus, dt = stimulus_of(trains)
    basis = raised_cosine_basis(config.n_basis, config.filter_duration, dt)
    return basis, StimulusCurrent(filter_stimulus(transformed_stimulus(stimulus, dt, config), basis), dt)


def initial_theta(config, rate):
    return dict(
        bias=jnp.asarray(1.0 + math.log(rate) / config.beta),
        weights=jnp.zeros(config.n_basis),
        amplitudes=jnp.zeros(len(config.history_taus)),
        v_reset=jnp.asarray(0.5),
        log_mu_v=jnp.asarray(math.log(config.mu_v_grid[0])),
    )


def fit_slif(design, theta, weights, config):
    """:func:`profile_fit` with the settings of ``config``."""
    return profile_fit(design, theta, weights, mu_v_grid=config.mu_v_grid, golden_steps=config.golden_steps,
                       n_iter=config.newton_steps)  # fmt: skip


def uncertainty(design, theta, weights, config):
    """Laplace covariance (all parameters) and block-bootstrap percentile intervals (``mu_v`` held
    at its estimate in the bootstrap) at ``config.level``."""
    covariance = laplace_covariance(design, theta, *weights)
    laplace_sd = ravel_pytree(theta)[1](jnp.sqrt(jnp.clip(jnp.diag(covariance), 0.0)))
    indicators = block_indicators(design.grid.times, 0.0, config.train_end, config.n_blocks)
    multiplicity = block_multiplicities(config.n_blocks, config.n_boot, jax.random.key(config.seed))
    samples = bootstrap_refits(design, theta, indicators, multiplicity, n_iter=config.bootstrap_steps)
    return covariance, laplace_sd, samples, percentile_intervals(samples, config.level)


def slif_binned_log_likelihood(design, theta, spikes, bin_width, start, stop, current, config):
    """Poisson-count log-likelihood of the binned test spikes under the SLIF, comparable with the
    GLM's: every spike is moved to the right edge of its bin (so, like the GLM, the model sees the
    history at bin resolution and no reset inside a bin), and the expected count of a bin is the
    integrated conditional intensity over it."""
    edges = np.ceil(np.asarray(spikes) / bin_width - 1e-9) * bin_width
    grid = EventGrid.from_spike_times(edges, 0.0, float(design.grid.times[-1]), config.dt)
    binned = StimulusDesign.build(grid, current, config.history_taus, design.template)
    _, step_terms = jax.jit(lambda d, th: d.terms(th))(binned, theta)
    per_bin = int(round(bin_width / config.dt))
    first, last = int(round(start / bin_width)), int(round(stop / bin_width))
    expected = -np.asarray(step_terms).reshape(-1, per_bin).sum(axis=1)[first:last]
    counts = np.asarray(grid.counts[1:]).reshape(-1, per_bin).sum(axis=1)[first:last]
    return binned_poisson_log_likelihood(counts, expected)


def glm_baseline(duration, current, spikes, config, bin_width):
    """Fit the nemos GLM on ``(0, train_end]`` at ``bin_width``; test bits/spike and samples."""
    counts = bin_counts(spikes, 0.0, duration, bin_width)
    edges = np.arange(counts.size) * bin_width
    features = np.asarray(current.feature_values(jnp.asarray(edges)))
    traces = binned_traces(counts, bin_width, config.history_taus)
    split = int(round(config.train_end / bin_width))
    fit = fit_glm(features[:split], counts[:split], traces[:split], bin_width)
    rate = counts[:split].sum() / config.train_end
    test = slice(split, None)
    ll = glm_log_likelihood(fit, features[test], counts[test], traces[test])
    ll0 = binned_poisson_log_likelihood(counts[test], np.full(counts[test].size, rate * bin_width))
    return fit, counts, bits_per_spike(ll, ll0, int(counts[test].sum())), features


def sample_slif(neuron, history, duration, config):
    """``n_samples`` spike trains of the fitted model over the whole recording (host lists)."""
    keys = jax.random.split(jax.random.key(config.seed + 1), config.n_samples)
    run = jax.jit(jax.vmap(lambda k: sample_spikes(neuron, history, t0=0.0, t1=duration, dt=config.dt, key=k)))
    return spike_times_from_grid(run(keys), 0.0, config.dt)


def mean_gamma(samples, data, start, stop, precision):
    """Coincidence factor of each sample with the data on ``(start, stop]``, averaged."""
    window = lambda t: t[(t > start) & (t <= stop)]
    values = [coincidence_factor(window(s), window(data), duration=stop - start, precision=precision) for s in samples]
    return float(np.mean(values)), float(np.std(values) / math.sqrt(len(values)))


def _log(start_time):
    return lambda what: print(f"[{time.perf_counter() - start_time:6.1f} s] {what}", flush=True)


def _plain(tree) -> dict:
    return {k: np.asarray(v).tolist() for k, v in tree.items()}


def fit_recording(trains, config: GrasshopperConfig, log=print):
    """The likelihood fit of the first trial of ``trains`` (with a ``stimulus`` covariate) on
    ``(0, train_end]`` and its held-out bits per spike; Laplace and bootstrap intervals."""
    spikes, duration, split = trains.times[0][0], trains.t1, config.train_end
    basis, current = stimulus_features(trains, config)
    grid = EventGrid.from_spike_times(spikes, 0.0, duration, config.dt)
    template = SLIF(input_current=current, alpha=config.alpha, beta=config.beta, v_threshold=config.v_threshold,
                    tau_s=config.tau_s, v0=config.v0)  # fmt: skip
    design = StimulusDesign.build(grid, current, config.history_taus, template)
    train, test = grid.window(0.0, split), grid.window(split, duration)
    n_train, n_test = int(np.sum(spikes <= split)), int(np.sum(spikes > split))
    rate = n_train / split
    theta, train_ll = fit_slif(design, initial_theta(config, rate), train, config)
    log("SLIF fitted")
    test_ll = float(design.log_likelihood(theta, *test))
    slif = {"theta": _plain(theta), "train_log_likelihood": float(train_ll)}
    slif["bits_per_spike_continuous"] = bits_per_spike(test_ll, poisson_log_likelihood(n_test, duration - split, rate), n_test)
    covariance, laplace_sd, boot, (boot_low, boot_high) = uncertainty(design, theta, train, config)
    log("Laplace and bootstrap done")
    slif["laplace_sd"] = _plain(laplace_sd)
    slif["bootstrap"] = {k: [np.asarray(boot_low[k]).tolist(), np.asarray(boot_high[k]).tolist()] for k in theta}
    fitted = dict(design=design, current=current, basis=basis, theta=theta, covariance=covariance, boot=boot, rate=rate)
    return slif, fitted, (n_train, n_test)


def _binned_scores(trains, config, fitted, slif):
    """Bits per spike of the SLIF and the GLM at every bin width; GLM samples at the finest."""
    spikes, duration, split, rate = trains.times[0][0], trains.t1, config.train_end, fitted["rate"]
    glm, glm_samples = {}, None
    for width in config.bin_widths:
        first = int(round(split / width))
        ll = slif_binned_log_likelihood(fitted["design"], fitted["theta"], spikes, width, split, duration, fitted["current"], config)
        counts = bin_counts(spikes, 0.0, duration, width)
        ll0 = binned_poisson_log_likelihood(counts[first:], np.full(counts.size - first, rate * width))
        slif[f"bits_per_spike_{width * 1e3:g}ms"] = bits_per_spike(ll, ll0, int(counts[first:].sum()))
        if not config.glm:
            continue
        fit, counts, bits, features = glm_baseline(duration, fitted["current"], spikes, config, width)
        glm[f"bits_per_spike_{width * 1e3:g}ms"] = bits
        if width == min(config.bin_widths):
            sampled = simulate_glm(fit, features, config.history_taus, config.n_samples, seed=config.seed)
            glm_samples = [width * (np.flatnonzero(row) + 0.5) for row in (sampled > 0)]
            glm["filter"] = (fitted["basis"] @ fit.stimulus_weights).tolist()
    return glm, glm_samples


def run(config: GrasshopperConfig, out: pathlib.Path, *, trains=None, plot: bool = True) -> dict:
    """The whole experiment: likelihood fit, intervals, binned scores, GLM, samples, Gamma, figure.
    Writes ``out/results.json`` (and ``out/grasshopper.png``); returns the results."""
    start_time, start_cpu = time.perf_counter(), time.process_time()
    log = _log(start_time)
    trains = read_grasshopper(config.recording) if trains is None else trains
    spikes, duration, split = trains.times[0][0], trains.t1, config.train_end
    slif, fitted, (n_train, n_test) = fit_recording(trains, config, log)
    results = {"config": dataclasses.asdict(config), "n_train_spikes": n_train, "n_test_spikes": n_test}
    glm, glm_samples = _binned_scores(trains, config, fitted, slif)
    log("binned scores" + (" and GLM" if config.glm else ""))
    neuron, history = to_model(fitted["theta"], fitted["current"], config.history_taus, fitted["design"].template)
    samples = sample_slif(neuron, history, duration, config)
    slif["gamma"], slif["gamma_sem"] = mean_gamma(samples, spikes, split, duration, config.precision)
    if glm_samples is not None:
        glm["gamma"], glm["gamma_sem"] = mean_gamma(glm_samples, spikes, split, duration, config.precision)
    log("sampled")
    if config.noise_sigmas:
        results["slif_noise"] = membrane_noise(trains, config, fitted, samples, glm_samples)
        log("SLIF with membrane noise fitted by the kernel score")
    # CPU time (all threads) bounds the wall time on an idle machine; wall time depends on the load.
    results.update(slif=slif, glm=glm, seconds=time.perf_counter() - start_time, cpu_seconds=time.process_time() - start_cpu)
    out.mkdir(parents=True, exist_ok=True)
    if plot:
        from .grasshopper_figure import plot_grasshopper

        plot_grasshopper(out / "grasshopper.png", trains, config, fitted, samples, glm_samples or [])
    results["seconds_with_figure"] = time.perf_counter() - start_time
    (out / "results.json").write_text(json.dumps(results, indent=1))
    return results


def membrane_noise(trains, config, fitted, noise_free_samples, glm_samples=None) -> dict:
    """The SLIF with membrane noise (:mod:`.grasshopper_noise`): ``(sigma_v, bias shift)`` by the
    windowed kernel score on the training part, then held-out Gamma, kernel score and PSTH error,
    the last two also for the noise-free SLIF and the GLM samples."""
    spikes, duration, split, width = trains.times[0][0], trains.t1, config.train_end, config.noise_window
    best, table = fit_membrane_noise(fitted, spikes, config, sigmas=config.noise_sigmas, shifts=config.noise_shifts,
                                     n_samples=config.noise_samples, width=width, seed=config.seed + 2)  # fmt: skip
    samples = noisy_samples(fitted, config, *best, config.n_samples, jax.random.key(config.seed + 1))
    row = {"sigma_v": best[0], "bias_shift": best[1], "train_scores": [[*k, v] for k, v in table.items()]}
    row["gamma"], row["gamma_sem"] = mean_gamma(samples, spikes, split, duration, config.precision)
    others = (("", samples), ("noise_free_", noise_free_samples)) + ((("glm_", glm_samples),) if glm_samples else ())
    for name, trains_ in others:
        row[name + "test_kernel_score"] = windowed_score(trains_[: config.noise_samples], spikes, split, duration, width)
        row[name + "psth_rmse"] = psth_error(trains_, spikes, split, duration)
    return row


def results_table(results: dict) -> str:
    """The Markdown table of held-out scores of a :func:`run` (the sample-based columns, kernel
    score and PSTH error on the test windows, only with the membrane-noise fit)."""
    slif, glm, noise = results["slif"], results["glm"], results.get("slif_noise")
    widths = list(results["config"]["bin_widths"])
    f3 = lambda d, key: f"{d[key]:.3f}" if key in d else "-"  # noqa: E731
    head = ["model", "bits/spike, continuous"] + [f"bits/spike, {w * 1e3:g} ms" for w in widths] + ["Gamma (2 ms)"]
    head += ["kernel score (test)", "PSTH RMSE (Hz)"] if noise else []
    rows = []
    for name, d, continuous, sampled in (
        ("SLIF, exact likelihood", slif, f3(slif, "bits_per_spike_continuous"), "noise_free_"),
        ("GLM (nemos)", glm, "-", "glm_" if noise and "glm_psth_rmse" in noise else None),
        (f"SLIF + membrane noise (sigma_v {noise['sigma_v']:g}), kernel score" if noise else "", noise, "intractable", ""),
    ):
        if not d:
            continue
        row = [name, continuous] + [f3(d, f"bits_per_spike_{w * 1e3:g}ms") for w in widths]
        row.append(f"{d['gamma']:.3f} +- {d['gamma_sem']:.3f}" if "gamma" in d else "-")
        if noise:
            row += ["-", "-"] if sampled is None else [f"{noise[sampled + 'test_kernel_score']:.2f}", f"{noise[sampled + 'psth_rmse']:.1f}"]
        rows.append(row)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("runs/grasshopper"))
    parser.add_argument("--config", type=pathlib.Path, default=None, help="a config like configs/grasshopper.toml")
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    if args.config is None:
        config = GrasshopperConfig()
    else:
        from .config import load_config
        from .likelihood_run import settings_from_config

        config = settings_from_config(load_config(args.config))
    results = run(config, args.out)
    print(results_table(results), end="")
    print(f"total {results['seconds_with_figure']:.1f} s; wrote {args.out}/results.json and grasshopper.png")


if __name__ == "__main__":
    main()
