"""Laplace intervals of the stimulus-driven SLIF: the Hessian against autodiff, and coverage over
50 simulated data sets with a known filter (issue 12, acceptance 2)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from spikesde._likelihood import EventGrid, sample_spikes
from spikesde._likelihood.design import StimulusDesign, to_model
from spikesde._likelihood.stimulus_fit import fit_at_mu, laplace_covariance, linear_fit, profile_fit
from spikesde._models.slif import SLIF
from spikesde._models.stimulus import StimulusCurrent, filter_stimulus, raised_cosine_basis

DT = 1e-3  # stimulus sampling step
TAUS = (0.005, 0.1)
TRUE = dict(bias=jnp.asarray(1.55), weights=jnp.array([0.8, 1.2, -0.6, -0.3]), amplitudes=jnp.array([-0.4, -0.1]),
            v_reset=jnp.asarray(0.3), log_mu_v=jnp.log(100.0))  # fmt: skip
Z90 = 1.6448536269514722


def setting(duration, seed=0):
    rng = np.random.default_rng(seed)
    stimulus = np.convolve(rng.normal(size=int(duration / DT) + 1), np.ones(5) / np.sqrt(5), mode="same")
    basis = raised_cosine_basis(4, 0.03, DT)
    current = StimulusCurrent(filter_stimulus(stimulus, basis), DT)
    template = SLIF(input_current=current, alpha=0.0, beta=5.0, tau_s=0.5, v0=1.0)
    return basis, current, template


def simulate_counts(current, template, duration, grid_dt, n, seed):
    neuron, history = to_model(TRUE, current, TAUS, template)
    draw = lambda key: sample_spikes(neuron, history, t0=0.0, t1=duration, dt=grid_dt, key=key)
    return jax.jit(jax.vmap(draw))(jax.random.split(jax.random.key(seed), n))


def test_laplace_covariance_matches_differences_of_the_gradient(x64):
    """The ``log mu_v`` row by central differences of ``X(mu_v)`` against the Hessian by central
    differences of the autodiff gradient of the generic likelihood (a full second-order autodiff
    through the parallel scan compiles for minutes): every entry to 1e-3 of sqrt(|H_ii H_jj|) (the reference's own error is ~5e-4 at a step 1e-5)."""
    duration, grid_dt = 3.0, 1e-3
    _, current, template = setting(duration)
    counts = simulate_counts(current, template, duration, grid_dt, 1, seed=1)[0]
    design = StimulusDesign.build(EventGrid.regular(counts, 0.0, grid_dt), current, TAUS, template)
    theta = {**TRUE, "bias": jnp.asarray(1.5), "log_mu_v": jnp.log(120.0)}
    flat, unravel = ravel_pytree(theta)
    gradient = jax.jit(jax.grad(lambda x: design.log_likelihood(unravel(x))))
    eye = np.eye(flat.size) * 1e-4
    hessian = np.stack([(gradient(flat + e) - gradient(flat - e)) / 2e-4 for e in eye])
    hessian = (hessian + hessian.T) / 2
    scale = np.sqrt(np.outer(np.abs(np.diag(hessian)), np.abs(np.diag(hessian))))

    def check(covariance, reference, keep):
        # Hessians, not covariances: theta is not a maximum, so the inverse can be indefinite.
        got = -np.linalg.inv(np.asarray(covariance)[np.ix_(keep, keep)])
        np.testing.assert_array_less(np.abs(got - reference[np.ix_(keep, keep)]), 1e-3 * scale[np.ix_(keep, keep)])

    check(laplace_covariance(design, theta), hessian, np.arange(flat.size))
    # mu_v known: the inverse of the linear block alone, and no variance for mu_v.
    index = TRUE["amplitudes"].shape[0] + 1  # ravel order: amplitudes, bias, log_mu_v, v_reset, weights
    known = laplace_covariance(design, theta, with_mu_v=False)
    check(known, hessian, np.delete(np.arange(flat.size), index))
    assert known[index, index] == 0.0


def merged_grid(fired, fine_dt, grid_dt, duration, max_spikes):
    """The likelihood's grid for spikes sampled on a finer grid: the regular ``grid_dt`` nodes merged
    with the spike times, padded to a fixed length with zero-length steps at ``duration`` (vmappable).
    Fitting on the sampler's own nodes would put every spike at the end of its step: the intensity
    read at the node instead of along the step biases the short-lag filter by O(dt)."""
    spikes = fine_dt * jnp.nonzero(fired, size=max_spikes, fill_value=0)[0]
    valid = jnp.arange(max_spikes) < fired.sum()
    regular = grid_dt * jnp.arange(int(round(duration / grid_dt)) + 1)
    times = jnp.concatenate([regular, jnp.where(valid, spikes, duration)])
    counts = jnp.concatenate([jnp.zeros(regular.shape, jnp.int32), valid.astype(jnp.int32)])
    order = jnp.argsort(times, stable=True)
    return EventGrid(times[order], counts[order])


def simulated_sets(true, taus, n_sets, duration, fine_dt, seed):
    """``n_sets`` spike trains of the model ``true`` drawn on the grid ``fine_dt``, with the setting's
    current and template and a fit's starting point: ``(current, template, fine_dt, fired, start)``."""
    _, current, template = setting(duration)
    neuron, history = to_model(true, current, taus, template)
    draw = lambda key: sample_spikes(neuron, history, t0=0.0, t1=duration, dt=fine_dt, key=key)
    fired = jax.jit(lambda k: jax.lax.map(draw, k, batch_size=5))(jax.random.split(jax.random.key(seed), n_sets))
    start = {**true, "bias": jnp.asarray(1.5), "weights": jnp.zeros(4), "amplitudes": jnp.zeros(len(taus)), "v_reset": jnp.asarray(0.5)}
    return current, template, fine_dt, fired, start


def coverage(n_sets, duration, grid_dt, seed, refine=8, max_spikes=2000):
    """Fraction of ``n_sets`` simulated data sets whose 90% Laplace interval holds the true value,
    per linear parameter (``mu_v`` known). Spikes are drawn on a grid ``refine`` times finer than
    the likelihood's (:func:`merged_grid`); the fits run vmapped, 10 data sets at a time."""
    current, template, fine_dt, fired, start = simulated_sets(TRUE, TAUS, n_sets, duration, grid_dt / refine, seed)

    def one(f):
        design = StimulusDesign.build(merged_grid(f, fine_dt, grid_dt, duration, max_spikes), current, TAUS, template)
        theta, _ = linear_fit(design, design.columns(jnp.exp(TRUE["log_mu_v"])), start, n_iter=30)
        sd = jnp.sqrt(jnp.clip(jnp.diag(laplace_covariance(design, theta, with_mu_v=False)), 0.0))
        return ravel_pytree(theta)[0], sd

    estimates, sds = jax.jit(lambda f: jax.lax.map(one, f, batch_size=10))(fired)
    truth = ravel_pytree(TRUE)[0]
    covered = np.abs(np.asarray(estimates) - np.asarray(truth)) <= Z90 * np.asarray(sds)
    names = ["amplitudes[0]", "amplitudes[1]", "bias", "log_mu_v", "v_reset"] + [f"weights[{j}]" for j in range(4)]
    counts = np.asarray(fired).sum(axis=1)
    assert counts.max() < max_spikes
    return dict(zip(names, covered.mean(axis=0))), counts


@pytest.mark.slow
def test_laplace_intervals_cover_the_truth_in_50_data_sets(x64):
    """Acceptance 2: the 90% Laplace intervals hold the true value in >= 80% of 50 data sets, for the
    filter weights and every other linear parameter (mu_v known, so its row is left out)."""
    rates, spikes = coverage(50, 20.0, 2e-4, seed=3)
    rates.pop("log_mu_v")
    print("coverage of the 90% Laplace intervals over 50 data sets:", {k: round(float(v), 2) for k, v in rates.items()})
    assert spikes.min() > 600  # ~34 Hz over 20 s
    assert min(rates.values()) >= 0.8, rates


def test_bootstrap_refits_equal_full_refits(x64):
    """The block-decomposed first Newton step plus up to 3 full steps (the experiment's setting)
    reaches the refit of each reweighted likelihood (to 1% of the bootstrap spread, measured 0.16%; one full step
    leaves 6.7% here: 3 s of data in 4 blocks move a refit far, the bias by up to 0.14)."""
    from spikesde._likelihood.newton import block_indicators, block_multiplicities, block_weights
    from spikesde._likelihood.stimulus_fit import bootstrap_refits

    duration, grid_dt = 3.0, 1e-3
    _, current, template = setting(duration)
    counts = simulate_counts(current, template, duration, grid_dt, 1, seed=2)[0]
    design = StimulusDesign.build(EventGrid.regular(counts, 0.0, grid_dt), current, TAUS, template)
    columns = design.columns(jnp.exp(TRUE["log_mu_v"]))
    theta, _ = linear_fit(design, columns, jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), TRUE), n_iter=30)
    key = jax.random.key(5)
    indicators = block_indicators(design.grid.times, 0.0, duration, 4)
    multiplicity = block_multiplicities(4, 3, key)
    node_w, step_w = block_weights(design.grid.times, 0.0, duration, 4, 3, key)
    np.testing.assert_array_equal(node_w, multiplicity.astype(float) @ indicators[0])
    full = jax.vmap(lambda w, v: linear_fit(design, columns, theta, w, v, n_iter=40)[0])(node_w, step_w)
    refits = bootstrap_refits(design, theta, indicators, multiplicity, n_iter=3)
    for name in ("bias", "weights", "amplitudes", "v_reset"):
        spread = np.abs(np.asarray(full[name]) - np.asarray(theta[name])).max()
        assert np.asarray(refits[name]).dtype == np.float64
        assert np.abs(np.asarray(refits[name]) - np.asarray(full[name])).max() < 1e-2 * spread, name


# The parameters the grasshopper pipeline reports: a slow adaptation trace (1 s) beside the fast
# after-spike currents, and mu_v fitted (its Laplace row included).
SLOW_TAUS = (0.005, 0.1, 1.0)
SLOW_TRUE = {**TRUE, "amplitudes": jnp.array([-0.4, -0.1, -0.02])}


def coverage_with_mu(n_sets, duration, grid_dt, seed, refine=8, max_spikes=2000, tol=0.005):
    """Coverage of the 90% Laplace intervals of every fitted parameter, ``log mu_v`` included, fitted
    as the pipeline fits it: :func:`profile_fit` (the bracketing search of :func:`maximise_1d` in
    ``log mu_v``, the linear parameters refitted at each point) from ``mu_v`` = 400 /s, then the full
    covariance (``with_mu_v=True``) at the maximum. Also returns the spike counts and whether any
    ``log mu_v`` ended on a search bound."""
    current, template, fine_dt, fired, start = simulated_sets(SLOW_TRUE, SLOW_TAUS, n_sets, duration, grid_dt / refine, seed)
    build = jax.jit(lambda f: StimulusDesign.build(merged_grid(f, fine_dt, grid_dt, duration, max_spikes), current, SLOW_TAUS, template))
    covariance = jax.jit(laplace_covariance)
    estimates, sds, on_bound, ratios = [], [], [], []
    for f in fired:
        design = build(f)
        theta, value, bound = profile_fit(design, {**start, "log_mu_v": jnp.log(400.0)}, n_iter=30, tol=tol)
        estimates.append(ravel_pytree(theta)[0])
        sds.append(jnp.sqrt(jnp.clip(jnp.diag(covariance(design, theta)), 0.0)))
        on_bound.append(bound)
        # The profile likelihood-ratio statistic of the true mu_v (chi-square 1 if the profile is regular).
        ratios.append(2 * (value - float(fit_at_mu(design, {**theta, "log_mu_v": SLOW_TRUE["log_mu_v"]}, n_iter=30)[1])))
    truth = ravel_pytree(SLOW_TRUE)[0]
    covered = np.abs(np.asarray(estimates) - np.asarray(truth)) <= Z90 * np.asarray(sds)
    names = [f"amplitudes[{j}]" for j in range(3)] + ["bias", "log_mu_v", "v_reset"] + [f"weights[{j}]" for j in range(4)]
    rates = dict(zip(names, covered.mean(axis=0)))
    rates["log_mu_v (profile likelihood)"] = float(np.mean(np.asarray(ratios) <= Z90**2))
    return rates, np.asarray(fired).sum(axis=1), np.asarray(on_bound)


@pytest.mark.slow
def test_laplace_intervals_of_every_reported_parameter_cover_80_to_98_percent(x64):
    """Issue 22: with mu_v fitted by the pipeline's profile search and a slow (1 s) adaptation trace,
    the 90% Laplace intervals of every parameter the pipeline reports (log mu_v included) cover the
    truth in 80-98% of 50 data sets. Measured: 0.82-0.98 (log mu_v 0.82 or 0.84 in two runs; its profile likelihood-ratio
    interval 0.84-0.86), no estimate on a bound, 351 s CPU (491 s wall on the 2-core machine)."""
    rates, spikes, on_bound = coverage_with_mu(50, 20.0, 2e-4, seed=5)
    print("coverage of the 90% Laplace intervals (mu_v fitted) over 50 data sets:", {k: round(float(v), 2) for k, v in rates.items()})
    assert not np.any(on_bound), "a log mu_v estimate ended on a search bound"
    assert spikes.min() > 350  # ~20 Hz over 20 s; the fewest measured: 395
    assert min(rates.values()) >= 0.8 and max(rates.values()) <= 0.98, rates
