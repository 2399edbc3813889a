"""SLIF: escape noise and membrane diffusion against their laws (acceptance 2 and 3)."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import spikesde as sd


def test_interspike_intervals_follow_the_escape_law():
    # V held fixed at v: the clock integrates lambda(v) at a constant rate, so every interval is
    # (Exp(1) + alpha) / lambda(v).
    alpha, v = 0.03, 1.2
    model = sd.SLIF(mu_v=0.0, v0=v, v_reset=0.0, alpha=alpha)
    rate = float(model.intensity(jnp.asarray(v)))
    keys = jax.random.split(jax.random.key(1), 200)
    solve = jax.vmap(lambda key: sd.simulate(model, t0=0.0, t1=40.0, dt=0.1, key=key, max_spikes=160).spike_times[0])
    times = np.asarray(solve(keys))
    assert np.all(np.isfinite(times[:, :51]))
    intervals = np.diff(np.concatenate([np.zeros((200, 1)), times[:, :50]], axis=1), axis=1).ravel()
    assert intervals.size == 10_000
    scaled = intervals * rate - alpha
    assert stats.kstest(scaled, "expon").pvalue > 0.01
    # The test has power: the same intervals reject a law without the offset alpha.
    assert stats.kstest(intervals * rate, "expon").pvalue < 1e-6


# The fast set keeps a smaller sample on a coarser grid (Euler's variance bias mu dt / 2 = 0.75% is
# well inside 3 standard errors, 9.5%, at 2,000 paths); the full one runs with the slow tests.
@pytest.mark.parametrize("paths, dt", [(2_000, 1e-3), pytest.param(10_000, 1e-4, marks=pytest.mark.slow)])
def test_membrane_is_an_ornstein_uhlenbeck_process_without_spikes(paths, dt):
    mu, c, sigma, v0 = 15.0, 1.5, 0.5, 0.0
    model = sd.SLIF(input_current=c, mu_v=mu, sigma_v=sigma, v0=v0, v_threshold=1e6)
    save_at = [0.05, 0.1, 0.2, 0.4]
    keys = jax.random.split(jax.random.key(2), paths)
    solve = jax.vmap(lambda key: sd.simulate(model, t0=0.0, t1=0.4, dt=dt, key=key, max_spikes=1, save_at=save_at).state("V")[:, 0])
    v = np.asarray(solve(keys), dtype=np.float64)
    for column, t in enumerate(save_at):
        mean = c + (v0 - c) * math.exp(-mu * t)
        variance = sigma**2 / (2 * mu) * (1 - math.exp(-2 * mu * t))
        samples = v[:, column]
        standard_error_mean = math.sqrt(variance / samples.size)
        standard_error_variance = variance * math.sqrt(2 / (samples.size - 1))
        assert abs(samples.mean() - mean) < 3 * standard_error_mean, (t, samples.mean(), mean)
        assert abs(samples.var(ddof=1) - variance) < 3 * standard_error_variance, (t, samples.var(), variance)


def test_intensity_formula_and_cap():
    model = sd.SLIF(beta=5.0, v_threshold=1.0, tau_s=2.0)
    v = jnp.asarray([0.0, 1.0, 1.5, 100.0])
    expected = np.exp(5 * np.minimum(np.asarray(v) - 1, 10)) / 2
    np.testing.assert_allclose(model.intensity(v), expected, rtol=1e-6)


def test_reset_subtracts_and_redraws_the_clock():
    model = sd.SLIF(2, v_reset=1.4, alpha=0.03)
    y = jnp.asarray([[1.2, 0.5], [0.1, 0.2], [0.0, -0.3]])
    reset = model.reset(y, jnp.asarray([True, False]), jnp.asarray([0.7, 0.9]))
    np.testing.assert_allclose(reset, [[1.2 - 1.4, 0.5], [0.1, 0.2], [-0.73, -0.3]], rtol=1e-6)


def test_reset_rules_and_escape_functions_are_options():
    y = jnp.asarray([[1.2, 0.5], [0.1, 0.2], [0.0, -0.3]])
    fired, clock = jnp.asarray([True, False]), jnp.asarray([0.7, 0.9])
    np.testing.assert_allclose(sd.SLIF(2, reset_rule=sd.SetReset(-0.1), alpha=0.0).reset(y, fired, clock)[0], [-0.1, 0.5])
    np.testing.assert_allclose(sd.SLIF(2, reset_rule=sd.NoReset(), alpha=0.0).reset(y, fired, clock)[0], [1.2, 0.5])
    np.testing.assert_allclose(sd.SLIF(2, reset_rule=sd.SubtractReset(0.3), alpha=0.0).reset(y, fired, clock)[0], [0.9, 0.5])
    v = jnp.asarray([-2.0, 0.5, 3.0])
    np.testing.assert_allclose(sd.ExponentialLinearEscape(0.4, 1.2, 0.25).rate(v), np.maximum(0.4 * v + 1.2 * np.exp(0.25 * v), 0), rtol=1e-6)
    np.testing.assert_allclose(sd.RectifiedLinearEscape(2.0, 0.0).rate(v), [0.0, 1.0, 6.0], rtol=1e-6)
    model = sd.SLIF(1, 1.0, escape=sd.ExponentialLinearEscape(0.0, 1.238, 0.25))
    np.testing.assert_allclose(model.drift(0.0, jnp.asarray([[4.0], [0.0], [0.0]]))[2], [1.238 * np.exp(1.0)], rtol=1e-6)
    with pytest.raises(ValueError, match="v_reset is the amount of the default reset"):
        sd.SLIF(1, reset_rule=sd.SetReset(0.0), v_reset=1.0)
    with pytest.raises(ValueError, match="beta, tau_s belong to the default exponential intensity"):
        sd.SLIF(1, escape=sd.ExponentialLinearEscape(), beta=2.0, tau_s=0.1)
    with pytest.raises(TypeError, match="reset_rule must be an AbstractReset"):
        sd.SLIF(1, reset_rule="set")
    with pytest.raises(ValueError, match="ExponentialLinearEscape.c2"):
        sd.ExponentialLinearEscape(0.0, -1.0, 0.25)


def test_escape_log_rates_and_their_gradients(x64):
    v = jnp.asarray([-3.0, 0.7, 2.5])
    escapes = [sd.ExponentialEscape(4.0, 1.0, 0.02), sd.RectifiedLinearEscape(3.0, -5.0), sd.ExponentialLinearEscape(0.3, 1.238, 0.25),
               sd.ExponentialLinearEscape(0.0, 1.238, 0.25), sd.ExponentialLinearEscape(0.5, 0.0, 0.25)]  # fmt: skip
    for escape in escapes:
        rate = np.asarray(escape.rate(v))
        log_rate = np.asarray(escape.log_rate(v))
        np.testing.assert_allclose(np.exp(log_rate), rate, rtol=1e-12, err_msg=type(escape).__name__)
        gradient = jax.grad(lambda e: jnp.sum(jnp.where(jnp.isfinite(e.log_rate(v)), e.log_rate(v), 0.0)))(escape)
        for name in ("beta", "v_threshold", "tau_s", "slope", "c1", "c2", "c3"):
            if not hasattr(escape, name) or (name == "c2" and float(escape.c2) == 0):
                continue
            h = 1e-6

            def shifted(d, name=name):
                moved = eqx.tree_at(lambda e: getattr(e, name), escape, getattr(escape, name) + d)
                values = moved.log_rate(v)
                return float(jnp.sum(jnp.where(jnp.isfinite(values), values, 0.0)))

            central = (shifted(h) - shifted(-h)) / (2 * h)
            assert float(getattr(gradient, name)) == pytest.approx(central, rel=1e-6, abs=1e-8), (type(escape).__name__, name)
