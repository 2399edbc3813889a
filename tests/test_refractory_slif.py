"""The SLIF with a dead time (issue 23): simulation, likelihood and gradients against closed forms,
central differences and the plain SLIF; refusals where a dead time has no form."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, optimize, stats
from scipy.special import expi

import spikesde as sd

C, MU, BETA, V_TH, TAU_S, V_AFTER, T_REF = 1.6, 30.0, 4.0, 1.0, 0.02, 0.2, 0.005
SPIKES = [0.0123, 0.0457, 0.0832, 0.1305]
ON_GRID = [0.012, 0.044, 0.084, 0.128]  # spikes and dead-time ends on every grid of the order test
T1 = 0.16
LOG_L = eqx.filter_jit(sd.likelihood.log_likelihood)  # one compilation per grid shape


def neuron(t_ref=T_REF, **kw):
    options = dict(mu_v=MU, alpha=0.0, beta=BETA, v_threshold=V_TH, tau_s=TAU_S, v0=0.3, reset_rule=sd.SetReset(V_AFTER))
    return sd.RefractorySLIF(1, C, **(options | kw), t_ref=t_ref)


def integrated_rate(v_start, start, end):
    """``int_start^end lambda(V(u)) du``, ``V(u) = C + (v_start - C) e^{-MU u}``: with ``a = BETA (v_start - C)``,
    ``e^{BETA (C - V_TH)} (Ei(a e^{-MU start}) - Ei(a e^{-MU end})) / (TAU_S MU)``."""
    a = BETA * (v_start - C)
    return np.exp(BETA * (C - V_TH)) * (expi(a * np.exp(-MU * start)) - expi(a * np.exp(-MU * end))) / (TAU_S * MU)


def closed_form(spikes, t1, t_ref):
    """log L of the dead-time neuron: between spikes V relaxes from its reset value, the clock runs
    from ``t_ref`` after the spike (from t0 before the first one)."""
    total, v_start, start, dead = 0.0, 0.3, 0.0, 0.0
    for end in list(spikes) + [t1]:
        total -= integrated_rate(v_start, dead, end - start)
        if end < t1:
            v_minus = C + (v_start - C) * np.exp(-MU * (end - start))
            total += BETA * (v_minus - V_TH) - np.log(TAU_S)
            v_start, dead = V_AFTER, t_ref
        start = end
    return total


def test_the_likelihood_matches_the_closed_form_with_dead_time(x64):
    # Dead-time ends on nodes: exact membrane, trapezoid error O(dt^2), 2e-8 at dt = 1e-5.
    fine = sd.likelihood.EventGrid.from_spike_times(ON_GRID, 0.0, T1, 1e-5)
    assert float(LOG_L(neuron(), fine)) == pytest.approx(closed_form(ON_GRID, T1, T_REF), rel=2e-8)
    # Off the grid (dead-time ends inside steps, taken as the fraction of the step): within 1e-7.
    off = sd.likelihood.EventGrid.from_spike_times(SPIKES, 0.0, T1, 1e-5)
    assert float(LOG_L(neuron(), off)) == pytest.approx(closed_form(SPIKES, T1, T_REF), rel=1e-7)
    # A spike inside the dead time has likelihood 0; the plain SLIF allows it.
    too_soon = sd.likelihood.EventGrid.from_spike_times([0.02, 0.024], 0.0, T1, 1e-3)
    assert float(LOG_L(neuron(), too_soon)) == -np.inf
    assert np.isfinite(float(LOG_L(neuron(0.0), too_soon)))


@pytest.mark.slow
def test_the_likelihood_is_second_order_in_dt_with_dead_time(x64):
    errors = []
    for dt in (4e-3, 2e-3, 1e-3):
        grid = sd.likelihood.EventGrid.from_spike_times(ON_GRID, 0.0, T1, dt)
        errors.append(float(LOG_L(neuron(T_REF - 1e-3), grid)) - closed_form(ON_GRID, T1, T_REF - 1e-3))
    ratios = [errors[0] / errors[1], errors[1] / errors[2]]
    assert all(3.5 < r < 4.5 for r in ratios), (errors, ratios)


@eqx.filter_jit
def _sample(model, key, trials: int, stepper, dt: float):
    # module-level and jitted: one compilation per model class and stepper, shared by the tests
    return sd.Simulation(t0=0.0, t1=0.2, dt=dt, max_spikes=48, dtype=np.float64, stepper=stepper).sample(model, key, trials)


def _times(model, stepper=sd.ExponentialEuler(), trials=200, dt=1e-4):
    spikes, overflow = _sample(model, jax.random.key(7), trials, stepper, dt)
    assert not np.any(overflow)
    return np.asarray(spikes).reshape(trials, -1)


def test_zero_dead_time_steps_as_the_slif(x64):
    options = dict(mu_v=MU, mu_i=20.0, alpha=0.01, beta=BETA, v_threshold=V_TH, tau_s=TAU_S, reset_rule=sd.SetReset(V_AFTER))
    slif, refractory = sd.SLIF(3, C, **options), sd.RefractorySLIF(3, C, **options, t_ref=0.0)
    y = jnp.asarray([[0.3, 1.2, -0.5], [0.1, -0.4, 2.0], [-0.7, 0.05, -1e-3]])
    y4 = jnp.concatenate([y, jnp.zeros((1, 3))])
    fired = jnp.asarray([True, False, True])
    for h in (0.0, 1e-3, jnp.asarray([0.0, 2e-3, 5e-4])):
        np.testing.assert_array_equal(refractory.linear_step(0.1, y4, h)[:3], slif.linear_step(0.1, y, h))
    np.testing.assert_array_equal(refractory.drift(0.1, y4)[:3], slif.drift(0.1, y))
    np.testing.assert_array_equal(refractory.event(y4), slif.event(y))
    np.testing.assert_array_equal(refractory.reset(y4, fired, jnp.full(3, 0.4))[:3], slif.reset(y, fired, jnp.full(3, 0.4)))
    # with a dead time left, the clock waits: over h it runs h - r, and r runs out
    dead = y4.at[3].set(jnp.asarray([5e-4, 2e-3, 0.0]))
    step = sd.RefractorySLIF(3, C, **options, t_ref=1e-3).linear_step(0.1, dead, 1e-3)
    run = np.asarray(slif.intensity(y[0])) * np.asarray([5e-4, 0.0, 1e-3])
    np.testing.assert_allclose(np.asarray(step[2] - y[2]), run, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(step[3]), [0.0, 1e-3, 0.0], atol=1e-15)


@pytest.mark.slow
@pytest.mark.parametrize("stepper", [sd.ExponentialEuler(), sd.EulerMaruyama()])
def test_zero_dead_time_is_the_slif_spike_for_spike(x64, stepper):
    options = dict(mu_v=MU, alpha=0.01, beta=BETA, v_threshold=V_TH, tau_s=TAU_S, v0=V_AFTER, reset_rule=sd.SetReset(V_AFTER))
    slif, refractory = sd.SLIF(1, C, **options), sd.RefractorySLIF(1, C, **options, t_ref=0.0)
    a, b = _times(slif, stepper), _times(refractory, stepper)
    assert np.isfinite(a).sum() > 1000
    np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def _isi(stepper, trials, t_ref=T_REF, dt=1e-4):
    spikes = _times(neuron(t_ref, v0=V_AFTER, alpha=0.01), stepper, trials, dt)
    # V restarts at V_AFTER at every spike: the intervals after the first spike are i.i.d.
    return np.concatenate([np.diff(row[np.isfinite(row)]) for row in spikes])


def isi_cdf(tau, t_ref=T_REF, alpha=0.01):
    """``P(ISI <= tau) = 1 - exp(-(Lambda(tau) - alpha)^+)``, ``Lambda(tau) = int_{t_ref}^tau lambda(V(u)) du``
    (0 before ``t_ref``): the clock, frozen for ``t_ref``, must then run ``alpha + Exp(1)``."""
    tau = np.asarray(tau, float)
    run = np.where(tau > t_ref, integrated_rate(V_AFTER, t_ref, np.maximum(tau, t_ref)), 0.0)
    return -np.expm1(-np.maximum(run - alpha, 0.0))


@pytest.mark.slow
def test_simulated_intervals_follow_the_dead_time_density(x64):
    long = 0.015  # half the mean interval: the law without it is far off (the same compiled sampler)
    isi = _isi(sd.ExponentialEuler(), 200, t_ref=long)
    assert isi.size > 500 and isi.min() >= long
    assert stats.kstest(isi, lambda tau: isi_cdf(tau, t_ref=long)).pvalue > 1e-3
    assert stats.kstest(isi, lambda tau: isi_cdf(tau, t_ref=0.0)).pvalue < 1e-6
    # the CDF is the integral of its density (a check of isi_cdf itself)
    rate = lambda u: np.exp(BETA * (C + (V_AFTER - C) * np.exp(-MU * u) - V_TH)) / TAU_S  # noqa: E731
    start = float(optimize.brentq(lambda u: integrated_rate(V_AFTER, T_REF, u) - 0.01, T_REF, 0.05))
    density = lambda u: rate(u) * (1 - isi_cdf(u))  # noqa: E731
    assert integrate.quad(density, start, 0.05, limit=200)[0] == pytest.approx(float(isi_cdf(0.05)), rel=1e-8)


@pytest.mark.slow
@pytest.mark.parametrize("stepper", [sd.ExponentialEuler(), sd.EulerMaruyama()])
def test_simulated_intervals_follow_the_dead_time_density_many(x64, stepper):
    isi = _isi(stepper, 1000, dt=5e-5)
    assert isi.size > 4000 and isi.min() >= T_REF
    assert stats.kstest(isi, isi_cdf).pvalue > 1e-3


def _central(f, theta, k, step):
    e = jnp.zeros_like(theta).at[k].set(step)
    return (np.asarray(f(theta + e)) - np.asarray(f(theta - e))) / (2 * step)


def _spike_times(th):
    model = sd.RefractorySLIF(1, th[0], mu_v=th[1], alpha=th[2], beta=BETA, v_threshold=V_TH, tau_s=th[3],
                              reset_rule=sd.SetReset(th[4]), t_ref=th[5])  # fmt: skip
    solution = sd.simulate(model, t0=0.0, t1=0.2, dt=1e-3, key=jax.random.key(4), max_spikes=12, stepper=sd.ExponentialEuler())
    return solution.spike_times[0, :5]


THETA = (C, MU, 0.02, TAU_S, V_AFTER, T_REF)


def test_spike_time_derivatives_through_dead_time_match_central_differences(x64):
    """Forward mode along a direction that moves every parameter, and along t_ref alone (one compilation)."""
    theta = jnp.asarray(THETA)
    jvp = jax.jit(lambda th, v: jax.jvp(_spike_times, (th,), (v,)))
    for direction in (theta * jnp.asarray([0.3, -0.2, 0.5, 0.2, -0.3, 0.5]), jnp.zeros(6).at[5].set(1.0)):
        times, tangent = (np.asarray(x) for x in jvp(theta, direction))
        assert np.all(np.isfinite(times)) and np.all(np.diff(times) >= T_REF) and np.all(np.isfinite(tangent))
        step = 1e-6 / float(jnp.max(jnp.abs(direction / theta)))
        central = (np.asarray(jvp(theta + step * direction, direction)[0]) - np.asarray(jvp(theta - step * direction, direction)[0])) / (2 * step)
        np.testing.assert_allclose(tangent, central, rtol=1e-5, atol=1e-8)
    # The first spike precedes every dead time; each later one is delayed by a longer dead time, by
    # less than the dead time itself, since V (not clamped) and so the rate rise meanwhile.
    assert tangent[0] == 0 and np.all(tangent[1:] > 0) and np.all(np.diff(tangent) < 1)


@pytest.mark.slow
def test_spike_time_gradients_through_dead_time_match_central_differences(x64):
    spike_times = jax.jit(_spike_times)
    theta = jnp.asarray(THETA)
    jacobian = np.asarray(jax.jit(jax.jacrev(spike_times))(theta))
    assert np.all(np.isfinite(jacobian))
    for k in range(theta.size):
        central = _central(spike_times, theta, k, 1e-6 * max(1.0, abs(float(theta[k]))))
        np.testing.assert_allclose(jacobian[:, k], central, rtol=1e-5, atol=1e-8, err_msg=str(k))


def test_likelihood_gradients_through_dead_time_match_central_differences(x64):
    grid = sd.likelihood.EventGrid.from_spike_times(SPIKES, 0.0, T1, 1e-3)

    def log_l(th):
        escape = sd.ExponentialLinearEscape(0.3, th[2], th[3])
        model = sd.RefractorySLIF(1, th[0], mu_v=th[1], alpha=0.0, escape=escape, reset_rule=sd.SetReset(0.0), t_ref=th[4])
        return LOG_L(model, grid)

    theta = jnp.asarray([15.0, 100.0, 1.238, 0.25, 0.0042])
    gradient = np.asarray(jax.jit(jax.grad(log_l))(theta))
    assert np.all(np.isfinite(gradient)) and gradient[4] > 0  # a longer dead time removes rate from the integral
    for k in range(theta.size):
        central = float(_central(log_l, theta, k, 1e-7 * max(1.0, abs(float(theta[k])))))
        assert gradient[k] == pytest.approx(central, rel=1e-6, abs=1e-7), k


def test_dead_time_is_declared_and_checked():
    model = sd.RefractorySLIF(2, 1.5, t_ref=[0.001, 0.002])
    np.testing.assert_allclose(np.asarray(model.dead_time()), [0.001, 0.002])
    assert model.state_names == ("V", "I", "s", "r") and model.initial_state(jnp.zeros(2)).shape == (4, 2)
    with pytest.raises(ValueError, match="t_ref"):
        sd.RefractorySLIF(1, 1.5, t_ref=-1e-3)
    with pytest.raises(TypeError, match="t_ref"):
        sd.RefractorySLIF(1, 1.5)  # no default: a dead time is what this neuron adds
    assert not isinstance(model, sd.SLIF)  # SLIF-only paths (three state rows) refuse it by name


def test_exporters_and_slif_only_paths_refuse_it_by_name():
    model = sd.RefractorySLIF(1, 1.5, t_ref=2e-3)
    with pytest.raises(TypeError, match="RefractorySLIF"):
        sd.hardware.to_nir(model)
    stepper = sd.hardware.LowPrecisionEuler(1e-3, sd.hardware.FixedPoint(7, 12), sd.hardware.NearestEven())
    with pytest.raises(TypeError, match="RefractorySLIF"):
        sd.simulate(model, t0=0.0, t1=0.01, dt=1e-3, key=jax.random.key(0), max_spikes=4, stepper=stepper)
    with pytest.raises(TypeError, match="RefractorySLIF"):
        sd.likelihood.buffer_log_likelihood(model, jnp.asarray([0.3, jnp.inf]), t0=0.0, t1=1.0, dt=0.01)
