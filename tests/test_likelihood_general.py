"""One log-likelihood for any escape-noise neuron (issue 23): closed form, order in dt, the neuron's
own reset and escape rate, user-written neurons, duplicate spikes, gradients, Monte Carlo density."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import expi

import spikesde as sd
from spikesde._core.neuron import AbstractNeuron

SPIKES = [0.0123, 0.0457, 0.0832, 0.1305]
ON_GRID = [0.012, 0.044, 0.084, 0.128]  # multiples of 4e-3: a regular grid at every dt of the order test
T1 = 0.16


def exponential_closed_form(c, mu, beta, v_th, tau_s, v0, spikes, t1, after_spike):
    """log L of the exponential-escape neuron with constant input: between spikes V = c + (V+ - c) e^{-mu u}
    and int_0^T exp(beta (V - v_th)) / tau_s du = e^{beta (c - v_th)} (Ei(a) - Ei(a e^{-mu T})) / (tau_s mu),
    a = beta (V+ - c)."""
    total, v_plus, start = 0.0, v0, 0.0
    for end in list(spikes) + [t1]:
        a, duration = beta * (v_plus - c), end - start
        total -= np.exp(beta * (c - v_th)) * (expi(a) - expi(a * np.exp(-mu * duration))) / (tau_s * mu)
        if end < t1:
            v_minus = c + (v_plus - c) * np.exp(-mu * duration)
            total += beta * (v_minus - v_th) - np.log(tau_s)
            v_plus = after_spike(v_minus)
        start = end
    return total


@pytest.mark.parametrize("rule", [sd.SetReset(0.2), sd.SubtractReset(0.7), sd.NoReset()])
def test_closed_form_isi_density_and_second_order_in_dt(x64, rule):
    neuron = sd.SLIF(1, 1.6, mu_v=30.0, alpha=0.0, beta=4.0, v_threshold=1.0, tau_s=0.02, v0=0.3, reset_rule=rule)
    after = lambda v: float(rule.apply(jnp.asarray(v), 1))  # noqa: E731
    reference = exponential_closed_form(1.6, 30.0, 4.0, 1.0, 0.02, 0.3, ON_GRID, T1, after)
    errors = []
    for dt in (4e-3, 2e-3, 1e-3):
        grid = sd.likelihood.EventGrid.from_spike_times(ON_GRID, 0.0, T1, dt)
        errors.append(float(sd.likelihood.log_likelihood(neuron, grid)) - reference)
    ratios = [errors[0] / errors[1], errors[1] / errors[2]]
    assert all(3.6 < r < 4.4 for r in ratios), (errors, ratios)  # the trapezoid rule's O(dt^2)
    # dt = 1e-5: still O(dt^2) (1e-4 times the error at 1e-3) and within 2e-8 of the closed form.
    fine = float(sd.likelihood.log_likelihood(neuron, sd.likelihood.EventGrid.from_spike_times(ON_GRID, 0.0, T1, 1e-5))) - reference
    assert abs(fine / errors[2] - 1e-4) < 1e-5 and abs(fine) < 2e-8 * abs(reference), (fine, errors)
    # Spikes off the grid are nodes of their own: the same agreement.
    off_grid = exponential_closed_form(1.6, 30.0, 4.0, 1.0, 0.02, 0.3, SPIKES, T1, after)
    assert float(sd.likelihood.log_likelihood(neuron, sd.likelihood.EventGrid.from_spike_times(SPIKES, 0.0, T1, 1e-5))) == pytest.approx(off_grid, rel=2e-8)


class ResetToZero(sd.SLIF):
    """The issue's subclass: a reset that sets V to 0."""

    def reset(self, y, fired, clock):
        v, i, s = y
        return jnp.stack([jnp.where(fired, 0.0, v), i, jnp.where(fired, -(clock + self.alpha), s)])


def test_an_overridden_reset_is_honoured(x64):
    grid = sd.likelihood.EventGrid.from_spike_times([0.066, 0.074, 0.088], 0.0, 1.0, 1e-4)
    kw = dict(mu_v=100.0, tau_s=0.01, alpha=0.0)
    subclass = float(sd.likelihood.log_likelihood(ResetToZero(1, 0.9, v_reset=0.0, **kw), grid))
    option = float(sd.likelihood.log_likelihood(sd.SLIF(1, 0.9, reset_rule=sd.SetReset(0.0), **kw), grid))
    subtract = float(sd.likelihood.log_likelihood(sd.SLIF(1, 0.9, v_reset=0.0, **kw), grid))
    assert subclass == pytest.approx(option, rel=1e-13)
    assert abs(subclass - subtract) > 0.5


class EscapeUnit(AbstractNeuron):
    """A user-written escape-noise neuron, state (V,): V' = (c - V) / tau, rate c1 V + c2 exp(c3 V), V <- 0."""

    n_neurons: int = eqx.field(static=True)
    input_current: sd.ConstantCurrent
    tau: jax.Array
    c2: jax.Array
    c3: jax.Array
    state_names = ("V",)
    synaptic_row = 0
    noise_rows = ()
    uses_clock = False
    affine_event = True

    def initial_state(self, clock):
        return jnp.zeros((1, self.n_neurons))

    def drift(self, t, y):
        return (self.input_current(t) - y) / self.tau

    def diffusion(self):
        return jnp.zeros((0, self.n_neurons))

    def event(self, y):
        return -jnp.ones_like(y[0])

    def reset(self, y, fired, clock):
        return jnp.where(fired, 0.0, y)

    def linear_step(self, t, y, h):
        decay = jnp.exp(-h / self.tau)
        return y * decay + self.input_current(t) * (1 - decay)

    def log_escape_rate(self, y):
        return jnp.log(self.c2) + self.c3 * y[0]


def test_a_user_written_neuron_gets_the_likelihood(x64):
    grid = sd.likelihood.EventGrid.from_spike_times(SPIKES, 0.0, T1, 1e-4)
    mine = EscapeUnit(1, sd.ConstantCurrent(15.0), jnp.asarray(0.01), jnp.asarray(1.238), jnp.asarray(0.25))
    slif = sd.SLIF(1, 15.0, mu_v=100.0, alpha=0.0, escape=sd.ExponentialLinearEscape(0.0, 1.238, 0.25), reset_rule=sd.SetReset(0.0))
    assert float(sd.likelihood.log_likelihood(mine, grid)) == pytest.approx(float(sd.likelihood.log_likelihood(slif, grid)), rel=1e-12)


def test_neurons_without_an_escape_rate_are_refused_by_name():
    grid = sd.likelihood.EventGrid.from_spike_times(SPIKES, 0.0, T1, 1e-3)
    with pytest.raises(TypeError, match="LIF declares no escape_rate"):
        sd.likelihood.log_likelihood(sd.LIF(1, 1.5), grid)
    with pytest.raises(TypeError, match="LIF declares no escape_rate"):
        sd.MaximumLikelihood().check(sd.LIF(1, 1.5), 1)
    with pytest.raises(ValueError, match="sigma_v"):
        sd.likelihood.log_likelihood(sd.SLIF(1, 1.5, sigma_v=0.1), grid)


def test_duplicate_spikes_are_two_events_on_one_node(x64):
    kw = dict(mu_v=30.0, alpha=0.0, tau_s=0.05)
    single = sd.likelihood.EventGrid.from_spike_times([0.05], 0.0, 0.1, 1e-3)
    double = sd.likelihood.EventGrid.from_spike_times([0.05, 0.05], 0.0, 0.1, 1e-3)
    assert int(double.counts.max()) == 2
    log_rate = float(sd.SLIF(1, 1.6, **kw).log_intensity(_v_before(sd.SLIF(1, 1.6, **kw), single, 0.05)))
    # Two resets of 0.4 leave V where one reset of 0.8 does; the second spike adds log lambda(V^-) (no reset before it).
    two = float(sd.likelihood.log_likelihood(sd.SLIF(1, 1.6, v_reset=0.4, **kw), double))
    one = float(sd.likelihood.log_likelihood(sd.SLIF(1, 1.6, v_reset=0.8, **kw), single))
    assert two == pytest.approx(one + log_rate, rel=1e-12)
    trains = sd.SpikeTrains([[[0.3, 0.5, 0.5]]], 0.0, 1.0)
    assert np.isfinite(float(sd.likelihood.log_likelihood(sd.SLIF(1, 1.6, **kw), trains, dt=1e-3)))


def _v_before(neuron, grid, t):
    from spikesde._likelihood.exact import membrane

    v_minus, _ = membrane(neuron, grid)
    return v_minus[int(np.argmin(np.abs(np.asarray(grid.times) - t)))]


def test_gradients_match_central_differences(x64):
    grid = sd.likelihood.EventGrid.from_spike_times(SPIKES, 0.0, T1, 1e-3)
    theta = jnp.asarray([15.0, 100.0, 1.238, 0.25, 2.0])

    def log_l(th):
        escape = sd.ExponentialLinearEscape(0.3, th[2], th[3])
        return sd.likelihood.log_likelihood(sd.SLIF(1, th[0], mu_v=th[1], alpha=0.0, escape=escape, reset_rule=sd.SetReset(th[4])), grid)

    gradient = np.asarray(jax.grad(log_l)(theta))
    assert np.all(np.isfinite(gradient))
    for k in range(theta.size):
        step = 1e-6 * max(1.0, abs(float(theta[k])))
        e = jnp.zeros_like(theta).at[k].set(step)
        central = (float(log_l(theta + e)) - float(log_l(theta - e))) / (2 * step)
        assert gradient[k] == pytest.approx(central, rel=1e-6, abs=1e-7), k


def test_trial_grid_sums_trials_and_neurons(x64):
    trains = sd.SpikeTrains([[[0.01, 0.05], [0.02]], [[0.07], []]], 0.0, 0.1)
    model = sd.SLIF(2, 1.6, mu_v=30.0, alpha=0.0, tau_s=0.05)
    total = float(sd.likelihood.log_likelihood(model, trains, dt=1e-3))
    one = sd.SLIF(1, 1.6, mu_v=30.0, alpha=0.0, tau_s=0.05)
    parts = sum(float(sd.likelihood.log_likelihood(one, sd.likelihood.EventGrid.from_spike_times(train, 0.0, 0.1, 1e-3)))
                for trial in trains.times for train in trial)  # fmt: skip
    assert total == pytest.approx(parts, rel=1e-12)
    with pytest.raises(ValueError, match="dt is needed"):
        sd.likelihood.log_likelihood(model, trains)


def test_density_matches_monte_carlo_of_the_core(x64):
    """P(no spike in [0, T]) and P(exactly one spike) from the likelihood against 20000 core simulations."""
    t1, dt = 0.1, 5e-4
    model = sd.SLIF(1, 1.2, mu_v=20.0, alpha=0.0, tau_s=0.2, v0=0.5, reset_rule=sd.SetReset(0.0))
    n_nodes = int(round(t1 / dt)) + 1
    log_l = jax.jit(jax.vmap(lambda counts: sd.likelihood.log_likelihood(model, sd.likelihood.EventGrid.regular(counts, 0.0, dt))))
    one_hot = jnp.eye(n_nodes, dtype=jnp.int32)[1:]
    density = np.exp(np.asarray(log_l(one_hot)))
    p_one = float(np.sum(0.5 * dt * (density[1:] + density[:-1])) + 0.5 * dt * density[0])
    p_none = float(np.exp(log_l(jnp.zeros((1, n_nodes), jnp.int32))[0]))
    simulation = sd.Simulation(t0=0.0, t1=t1, dt=1e-4, max_spikes=8, dtype=np.float64)
    spikes, _ = jax.jit(lambda key: simulation.sample(model, key, 20000))(jax.random.key(3))
    counts = np.isfinite(np.asarray(spikes)).sum(-1).ravel()
    for k, p in ((0, p_none), (1, p_one)):
        observed = np.mean(counts == k)
        assert abs(observed - p) < 4 * np.sqrt(p * (1 - p) / counts.size) + 2e-3, (k, observed, p)


def test_the_buffer_likelihood_name_is_deprecated(x64):
    with pytest.warns(DeprecationWarning, match="use spikesde.likelihood.log_likelihood"):
        value = sd.likelihood.buffer_log_likelihood(sd.SLIF(1, 1.5, alpha=0.0), jnp.asarray([0.3, jnp.inf]), t0=0.0, t1=1.0, dt=0.01)
    assert np.isfinite(float(value))


class DeadUnit(EscapeUnit):
    """EscapeUnit with an absolute refractory period of 10 ms."""

    def dead_time(self):
        return jnp.full((self.n_neurons,), 0.01)


def test_dead_time_removes_its_window_from_the_integral_and_forbids_spikes_inside(x64):
    # c = 0 and V(0) = 0: V stays 0, the rate is c2 throughout, so log L = n log c2 - c2 (T - n d).
    neuron = DeadUnit(1, sd.ConstantCurrent(0.0), jnp.asarray(0.01), jnp.asarray(30.0), jnp.asarray(0.25))
    value = float(sd.likelihood.log_likelihood(neuron, sd.likelihood.EventGrid.from_spike_times(SPIKES, 0.0, T1, 1e-3)))
    assert value == pytest.approx(len(SPIKES) * np.log(30.0) - 30.0 * (T1 - len(SPIKES) * 0.01), rel=1e-12)
    too_soon = sd.likelihood.EventGrid.from_spike_times([0.02, 0.025], 0.0, T1, 1e-3)
    assert float(sd.likelihood.log_likelihood(neuron, too_soon)) == -np.inf
    assert np.isfinite(float(sd.likelihood.log_likelihood(EscapeUnit(1, sd.ConstantCurrent(0.0), jnp.asarray(0.01), jnp.asarray(30.0), jnp.asarray(0.25)), too_soon)))
