"""Fit recording 1 of the locust receptor neuron (nitime) by exact likelihood, against a nemos GLM.

    python -m spikesde._experiments.grasshopper --out runs/grasshopper [--config configs/grasshopper/recording1.toml]

Trains on ``[0, 8]`` s, tests on ``(8, 10]`` s; writes ``results.json`` and ``grasshopper.png``.
"""

import argparse
import dataclasses
import json
import math
import pathlib
import time
import tomllib

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
import numpy as np

from .._io.grasshopper import read_grasshopper
from .._likelihood.design import StimulusDesign, to_model
from .._likelihood.glm import bin_counts, binned_traces, fit_glm, glm_log_likelihood, simulate_glm
from .._likelihood.grid import EventGrid
from .._likelihood.metrics import (
    binned_poisson_log_likelihood,
    bits_per_spike,
    coincidence_factor,
    poisson_log_likelihood,
)
from .._likelihood.newton import block_weights, maximise, percentile_intervals
from .._likelihood.sampler import sample_spikes, spike_times_from_grid
from .._models.slif import SLIF
from .._models.stimulus import StimulusCurrent, filter_stimulus, raised_cosine_basis


@dataclasses.dataclass(frozen=True)
class GrasshopperConfig:
    recording: int = 1
    train_end: float = 8.0
    dt: float = 1e-4
    n_basis: int = 10
    filter_duration: float = 0.03
    history_taus: tuple[float, ...] = (0.002, 0.005, 0.02, 0.1, 1.0)
    mu_v_grid: tuple[float, ...] = (100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0)
    beta: float = 5.0
    alpha: float = 0.0
    golden_steps: int = 6
    n_boot: int = 40
    n_blocks: int = 16
    n_samples: int = 50
    bin_widths: tuple[float, ...] = (0.001, 0.0005)
    precision: float = 0.002
    seed: int = 0

    @classmethod
    def from_toml(cls, path) -> "GrasshopperConfig":
        with open(path, "rb") as file:
            table = tomllib.load(file).get("grasshopper", {})
        names = {field.name: field for field in dataclasses.fields(cls)}
        unknown = set(table) - set(names)
        if unknown:
            raise ValueError(f"{path}: unknown key(s) in [grasshopper]: {sorted(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in table.items()})


def stimulus_features(recording, config):
    """Log envelope (the stimulus is Gaussian in dB), z-scored on the training window, filtered by
    the raised-cosine basis. Returns the basis and the :class:`StimulusCurrent` (zero weights)."""
    log_env = np.log(recording.stimulus)
    train = log_env[: int(round(config.train_end / recording.dt))]
    z = (log_env - train.mean()) / train.std()
    basis = raised_cosine_basis(config.n_basis, config.filter_duration, recording.dt)
    return basis, StimulusCurrent(filter_stimulus(z, basis), recording.dt)


def initial_theta(config, rate):
    return dict(
        bias=jnp.asarray(1.0 + math.log(rate) / config.beta),
        weights=jnp.zeros(config.n_basis),
        amplitudes=jnp.zeros(len(config.history_taus)),
        v_reset=jnp.asarray(0.5),
        log_mu_v=jnp.asarray(math.log(config.mu_v_grid[0])),
    )


def _split(theta):
    return {k: v for k, v in theta.items() if k != "log_mu_v"}, theta["log_mu_v"]


def _linear_fit(design, columns, theta, spike_weights, step_weights, n_iter):
    linear, log_mu_v = _split(theta)
    objective = lambda lin: design.log_likelihood_from_columns(columns, {**lin, "log_mu_v": log_mu_v}, spike_weights, step_weights)
    linear, value = maximise(objective, linear, n_iter=n_iter)
    return {**linear, "log_mu_v": log_mu_v}, value


@jax.jit
def _fit_at_mu(design, theta, spike_weights, step_weights):
    # Newton on the concave linear part at fixed mu_v (X(mu_v) built once).
    columns = design.columns(jnp.exp(theta["log_mu_v"]))
    return _linear_fit(design, columns, theta, spike_weights, step_weights, 25)


def fit_slif(design, theta, weights, config):
    """Profile likelihood over ``log mu_v``: the grid, then golden-section refinement around the
    best grid point, each point a Newton fit of the linear parameters (warm-started)."""
    profile = {}

    def evaluate(log_mu, start):
        fitted, value = _fit_at_mu(design, {**start, "log_mu_v": jnp.asarray(log_mu)}, *weights)
        profile[float(log_mu)] = (fitted, float(value))
        return fitted, float(value)

    for mu_v in config.mu_v_grid:
        theta, _ = evaluate(math.log(mu_v), theta)
    grid = sorted(profile)
    best = max(range(len(grid)), key=lambda i: profile[grid[i]][1])
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(config.golden_steps):
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        start = profile[grid[best]][0]
        if evaluate(a, start)[1] > evaluate(b, start)[1]:
            high = b
        else:
            low = a
    theta, value = max(profile.values(), key=lambda item: item[1])
    return theta, value


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


@jax.jit
def _laplace(design, theta, spike_weights, step_weights):
    """``(-H)^{-1}`` over all parameters: the linear block by autodiff at fixed ``X(mu_v)``; the
    ``log mu_v`` row and column by central differences of the autodiff gradient (a second
    derivative through the parallel scan would compile for minutes)."""
    objective = lambda th: design.log_likelihood(th, spike_weights, step_weights)
    flat, unravel = ravel_pytree(theta)
    # ravel_pytree orders dict keys: amplitudes, bias, log_mu_v, v_reset, weights.
    index = theta["amplitudes"].shape[0] + 1
    columns = design.columns(jnp.exp(theta["log_mu_v"]))
    at_columns = lambda x: design.log_likelihood_from_columns(columns, unravel(x), spike_weights, step_weights)
    hessian = jax.hessian(at_columns)(flat)
    gradient = jax.grad(lambda x: objective(unravel(x)))
    eps = 1e-4
    step = jnp.zeros_like(flat).at[index].set(eps)
    column = (gradient(flat + step) - gradient(flat - step)) / (2 * eps)
    hessian = hessian.at[index, :].set(column).at[:, index].set(column)
    return jnp.linalg.inv(-hessian)


@jax.jit
def _refit(design, theta, node_weights, step_weights):
    """Bootstrap refits of the linear parameters at the fitted ``mu_v``, 8 replicates at a time."""
    columns = design.columns(jnp.exp(theta["log_mu_v"]))
    refit = lambda w: _linear_fit(design, columns, theta, w[0], w[1], 8)[0]
    return jax.lax.map(refit, (node_weights, step_weights), batch_size=8)


def uncertainty(design, theta, weights, config):
    """Laplace standard deviations and block-bootstrap percentile intervals of every parameter
    (``mu_v`` held at its estimate in the bootstrap)."""
    covariance = _laplace(design, theta, *weights)
    laplace_sd = ravel_pytree(theta)[1](jnp.sqrt(jnp.clip(jnp.diag(covariance), 0.0)))
    node_w, step_w = block_weights(
        design.grid.times, 0.0, config.train_end, config.n_blocks, config.n_boot, jax.random.key(config.seed)
    )
    samples = _refit(design, theta, node_w, step_w)
    return covariance, laplace_sd, samples, percentile_intervals(samples, 0.9)


def glm_baseline(recording, current, spikes, config, bin_width):
    """Fit the nemos GLM on ``(0, train_end]`` at ``bin_width``; test bits/spike and samples."""
    counts = bin_counts(spikes, 0.0, recording.duration, bin_width)
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


def sample_slif(neuron, history, recording, config):
    """``n_samples`` spike trains of the fitted model over the whole recording (host lists)."""
    keys = jax.random.split(jax.random.key(config.seed + 1), config.n_samples)
    run = jax.jit(jax.vmap(lambda k: sample_spikes(neuron, history, t0=0.0, t1=recording.duration, dt=config.dt, key=k)))
    return spike_times_from_grid(run(keys), 0.0, config.dt)


def mean_gamma(samples, data, start, stop, precision):
    """Coincidence factor of each sample with the data on ``(start, stop]``, averaged."""
    window = lambda t: t[(t > start) & (t <= stop)]
    values = [coincidence_factor(window(s), window(data), duration=stop - start, precision=precision) for s in samples]
    return float(np.mean(values)), float(np.std(values) / math.sqrt(len(values)))


def run(config: GrasshopperConfig, out: pathlib.Path) -> dict:
    start_time = time.perf_counter()
    recording = read_grasshopper(config.recording)
    spikes, duration, split = recording.spike_times, recording.duration, config.train_end
    basis, current = stimulus_features(recording, config)
    grid = EventGrid.from_spike_times(spikes, 0.0, duration, config.dt)
    template = SLIF(input_current=current, alpha=config.alpha, beta=config.beta, v0=1.0)
    design = StimulusDesign.build(grid, current, config.history_taus, template)
    train, test = grid.window(0.0, split), grid.window(split, duration)
    n_train, n_test = int(np.sum(spikes <= split)), int(np.sum(spikes > split))
    rate = n_train / split

    log = lambda what: print(f"[{time.perf_counter() - start_time:6.1f} s] {what}", flush=True)
    theta, train_ll = fit_slif(design, initial_theta(config, rate), train, config)
    log("SLIF fitted")
    test_ll = float(design.log_likelihood(theta, *test))
    results = {"config": dataclasses.asdict(config), "n_train_spikes": n_train, "n_test_spikes": n_test}
    slif = {"theta": {k: np.asarray(v).tolist() for k, v in theta.items()}, "train_log_likelihood": float(train_ll)}
    slif["bits_per_spike_continuous"] = bits_per_spike(test_ll, poisson_log_likelihood(n_test, duration - split, rate), n_test)
    covariance, laplace_sd, boot, (boot_low, boot_high) = uncertainty(design, theta, train, config)
    log("Laplace and bootstrap done")
    slif["laplace_sd"] = {k: np.asarray(v).tolist() for k, v in laplace_sd.items()}
    slif["bootstrap_90"] = {k: [np.asarray(boot_low[k]).tolist(), np.asarray(boot_high[k]).tolist()] for k in theta}
    glm = {}
    glm_samples = None
    for width in config.bin_widths:
        fit, counts, bits, features = glm_baseline(recording, current, spikes, config, width)
        glm[f"bits_per_spike_{width * 1e3:g}ms"] = bits
        ll = slif_binned_log_likelihood(design, theta, spikes, width, split, duration, current, config)
        ll0 = binned_poisson_log_likelihood(counts[int(round(split / width)):], np.full(counts.size - int(round(split / width)), rate * width))
        slif[f"bits_per_spike_{width * 1e3:g}ms"] = bits_per_spike(ll, ll0, n_test)
        if width == min(config.bin_widths):
            sampled = simulate_glm(fit, features, config.history_taus, config.n_samples, seed=config.seed)
            glm_samples = [width * (np.flatnonzero(row) + 0.5) for row in (sampled > 0)]
            glm["filter"] = (basis @ fit.stimulus_weights).tolist()
    log("GLM fitted")
    neuron, history = to_model(theta, current, config.history_taus, template)
    samples = sample_slif(neuron, history, recording, config)
    slif["gamma"], slif["gamma_sem"] = mean_gamma(samples, spikes, split, duration, config.precision)
    glm["gamma"], glm["gamma_sem"] = mean_gamma(glm_samples, spikes, split, duration, config.precision)
    log("sampled")
    results.update(slif=slif, glm=glm, seconds=time.perf_counter() - start_time)
    out.mkdir(parents=True, exist_ok=True)
    from .grasshopper_figure import plot_grasshopper

    plot_grasshopper(out / "grasshopper.png", recording, config, basis, theta, covariance, boot, samples, glm_samples)
    results["seconds_with_figure"] = time.perf_counter() - start_time
    (out / "results.json").write_text(json.dumps(results, indent=1))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("runs/grasshopper"))
    parser.add_argument("--config", type=pathlib.Path, default=None)
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    config = GrasshopperConfig.from_toml(args.config) if args.config else GrasshopperConfig()
    results = run(config, args.out)
    slif, glm = results["slif"], results["glm"]
    print(f"{'model':<28}{'bits/spike (cont.)':>20}{'1 ms':>8}{'0.5 ms':>8}{'Gamma':>8}")
    print(f"{'SLIF, exact likelihood':<28}{slif['bits_per_spike_continuous']:>20.3f}{slif['bits_per_spike_1ms']:>8.3f}"
          f"{slif['bits_per_spike_0.5ms']:>8.3f}{slif['gamma']:>8.3f}")
    print(f"{'GLM (nemos)':<28}{'-':>20}{glm['bits_per_spike_1ms']:>8.3f}{glm['bits_per_spike_0.5ms']:>8.3f}{glm['gamma']:>8.3f}")
    print(f"total {results['seconds_with_figure']:.1f} s; wrote {args.out}/results.json and grasshopper.png")


if __name__ == "__main__":
    main()
