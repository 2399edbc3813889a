"""The particle-filter likelihood under membrane noise: its noise-free limit, an exactly solvable
linear-Gaussian case, 1/particles variance, and its gradients."""

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikesde import SLIF, simulate
from spikesde.likelihood import EventGrid, buffer_log_likelihood
from spikesde._core.current import AbstractCurrent
from spikesde._core.neuron import AbstractNeuron, _as_parameter
from spikesde._likelihood.particle import ParticleFilter
from spikesde._likelihood.particle_grid import grid_from_buffer, stack_grids
from spikesde._likelihood.particle_resample import (
    resample_if_degenerate,
    systematic_indices,
)
from spikesde._models.currents import SinusoidalCurrent, as_current

SINE = dict(offset=1.5, amplitude=1.0, frequency=2.0)


class LinearClockNeuron(AbstractNeuron):
    """A test neuron whose filter weights are exponentials of linear functions of a Gaussian path:
    ``dV = mu (c - V) dt + sigma dW``, clock rate ``a + b V``, reset ``V <- V - r``; used with
    ``log lambda = k V`` at spikes. ``log Z = E[L] + Var[L] / 2`` in closed form."""

    n_neurons: int = eqx.field(static=True)
    input_current: AbstractCurrent
    mu: jax.Array
    sigma: jax.Array
    r: jax.Array
    a: jax.Array
    b: jax.Array
    state_names: ClassVar[tuple[str, ...]] = ("V", "I", "s")
    synaptic_row: ClassVar[int] = 1
    noise_rows: ClassVar[tuple[int, ...]] = (0,)
    uses_clock: ClassVar[bool] = True
    affine_event: ClassVar[bool] = True

    def __init__(self, c=1.0, mu=5.0, sigma=0.5, r=1.0, a=5.0, b=1.0):
        self.n_neurons = 1
        self.input_current = as_current(c)
        self.mu, self.sigma, self.r, self.a, self.b = (_as_parameter(x) for x in (mu, sigma, r, a, b))

    def initial_state(self, clock):
        return jnp.stack([jnp.zeros(1), jnp.zeros(1), -clock]).astype(clock.dtype)

    def drift(self, t, y):
        v = y[0]
        return jnp.stack([self.mu * (self.input_current(t) - v), jnp.zeros_like(v), self.a + self.b * v])

    def diffusion(self):
        return jnp.reshape(self.sigma, (1, 1))

    def event(self, y):
        return y[2]

    def linear_step(self, t, y, h):
        c = self.input_current(t)
        v = c + (y[0] - c) * jnp.exp(-self.mu * h)
        return jnp.stack([v, y[1], y[2] + (self.a + self.b * y[0]) * h])

    def reset(self, y, fired, clock):
        return jnp.stack([jnp.where(fired, y[0] - self.r, y[0]), y[1], jnp.where(fired, -clock, y[2])])


K_LOG_INTENSITY = 2.0


def linear_log_intensity(neuron, y):
    return K_LOG_INTENSITY * y[0]


def linear_gaussian_log_z(neuron: LinearClockNeuron, grid: EventGrid):
    """The exact ``log Z`` of the filter's weights for :class:`LinearClockNeuron` (Euler-Maruyama):
    ``V_n = m_n + G_n . z`` is Gaussian, ``L = sum_n w_n V_n + const`` with
    ``w_n = -b h_n + k 1[spike at n+1]``, so ``log E[exp L] = E L + |sum_n w_n G_n|^2 / 2``."""
    h, spikes = grid.steps, (grid.counts[1:] > 0).astype(grid.times.dtype)
    n = h.shape[0]
    mu, sigma, r, a, b = (jnp.reshape(x, ()) for x in (neuron.mu, neuron.sigma, neuron.r, neuron.a, neuron.b))
    c = jnp.reshape(neuron.input_current.value, ())

    def step(carry, inputs):
        m, g, mean, coef = carry
        h_n, spike, index = inputs
        w = -b * h_n + K_LOG_INTENSITY * spike
        mean, coef = mean + w * m - a * h_n, coef + w * g
        m = m + mu * (c - m) * h_n - r * spike
        g = (1 - mu * h_n) * g + sigma * jnp.sqrt(h_n) * jax.nn.one_hot(index, n, dtype=g.dtype)
        return (m, g, mean, coef), None

    zero = jnp.zeros((), h.dtype)
    init = (zero, jnp.zeros(n, h.dtype), zero, jnp.zeros(n, h.dtype))
    (_, _, mean, coef), _ = jax.lax.scan(step, init, (h, spikes, jnp.arange(n)))
    return mean + 0.5 * jnp.sum(coef**2)


@pytest.fixture
def linear_case(x64):
    grid = EventGrid.from_spike_times([0.213, 0.45, 0.7, 0.83], t0=0.0, t1=1.0, dt=0.02)
    return LinearClockNeuron(), grid


def test_systematic_resampling_follows_the_weights():
    indices = systematic_indices(jnp.log(jnp.array([0.5, 0.5, 0.0, 0.0])), jnp.asarray(0.3))
    np.testing.assert_array_equal(indices, [0, 0, 1, 1])
    counts = jnp.bincount(systematic_indices(jnp.log(jnp.array([0.1, 0.2, 0.3, 0.4])), jnp.asarray(0.5)), length=4)
    np.testing.assert_array_equal(counts, [0, 1, 1, 2])  # floor/ceil of 4 w_i


def test_resampling_banks_the_mean_weight_and_passes_the_ancestors_scores(x64):
    slopes = jnp.array([0.0, -0.5, -1.0, -5.0])

    def estimate(theta):
        _, new, mean, resampled = resample_if_degenerate(jnp.arange(4.0), slopes * theta, jnp.asarray(0.5), 0.9)
        return mean + jax.nn.logsumexp(new) - jnp.log(4.0), resampled

    value, resampled = jax.jit(estimate)(1.0)
    assert bool(resampled)  # ESS = 2.6 < 0.9 x 4
    np.testing.assert_allclose(value, jax.nn.logsumexp(slopes) - np.log(4.0), rtol=1e-12)
    # Ancestors (0, 0, 1, 2): the gradient is the mean of their scores, the bank adds none.
    np.testing.assert_allclose(jax.grad(lambda t: estimate(t)[0])(1.0), (0.0 + 0.0 - 0.5 - 1.0) / 4, rtol=1e-12)


def test_noise_free_limit_is_the_exact_likelihood(x64):
    """sigma_v = 0: every particle follows the noise-free path, the estimate is the exact density of
    the event core's buffer; the gap closes as sigma_v -> 0."""
    for alpha in (0.0, 0.03):
        quiet = SLIF(input_current=SinusoidalCurrent(**SINE), alpha=alpha)
        buffer = simulate(quiet, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(1), max_spikes=24).spike_times[0]
        exact = buffer_log_likelihood(quiet, buffer, t0=0.0, t1=1.0, dt=0.01)
        grid, input_times = grid_from_buffer(buffer, t0=0.0, t1=1.0, dt=0.01)
        pf = ParticleFilter(particles=32)
        keys = jax.random.split(jax.random.key(0), 8)
        one = lambda m, k, grid=grid, input_times=input_times: pf.log_likelihood(m, grid, k, input_times=input_times)  # noqa: E731
        estimate = eqx.filter_jit(jax.vmap(one, in_axes=(None, 0)))
        gaps = []
        for sigma in (0.0, 1e-3, 1e-2, 1e-1):
            noisy = eqx.tree_at(lambda m: m.sigma_v, quiet, jnp.asarray(sigma))
            gaps.append(float(jnp.max(jnp.abs(estimate(noisy, keys) - exact))))
        assert gaps[0] < 1e-10, gaps
        assert gaps[1] < 2e-3 and gaps[1] < gaps[2] / 5 < gaps[3] / 25, gaps


def test_linear_gaussian_case_matches_its_closed_form(linear_case):
    """Z_hat is unbiased: the mean of Z_hat / Z over independent filters is 1 within its error."""
    neuron, grid = linear_case
    log_z = linear_gaussian_log_z(neuron, grid)
    pf = ParticleFilter(particles=256, log_intensity=linear_log_intensity)
    keys = jax.random.split(jax.random.key(3), 32)
    estimates = jax.jit(jax.vmap(lambda k: pf.log_likelihood(neuron, grid, k)))(keys)
    ratio = np.exp(np.asarray(estimates - log_z))
    assert abs(ratio.mean() - 1.0) < 4 * ratio.std(ddof=1) / np.sqrt(ratio.size) + 1e-3, (ratio.mean(), ratio.std())
    assert abs(float(estimates.mean() - log_z)) < 0.05


def test_variance_falls_as_one_over_particles():
    neuron = SLIF(input_current=SinusoidalCurrent(**SINE), sigma_v=0.6, alpha=0.0)
    buffer = simulate(neuron, t0=0.0, t1=0.5, dt=0.01, key=jax.random.key(2), max_spikes=24).spike_times[0]
    grid, input_times = grid_from_buffer(buffer, t0=0.0, t1=0.5, dt=0.01)
    keys = jax.random.split(jax.random.key(5), 160)
    variances = []
    for particles in (32, 128):
        pf = ParticleFilter(particles=particles)
        estimates = jax.jit(jax.vmap(lambda k, pf=pf: pf.log_likelihood(neuron, grid, k, input_times=input_times)))(keys)
        variances.append(float(np.var(np.asarray(estimates), ddof=1)))
    assert 2.3 < variances[0] / variances[1] < 7.0, variances


def test_gradient_without_resampling_is_the_derivative_of_the_estimate(x64):
    """With the noise fixed (common random numbers) and no resampling the estimate is smooth: its
    gradient matches central finite differences."""
    neuron = SLIF(input_current=SinusoidalCurrent(**SINE), sigma_v=0.4, alpha=0.0)
    grid = EventGrid.from_spike_times([0.11, 0.2, 0.33, 0.61], t0=0.0, t1=0.8, dt=0.01)
    pf = ParticleFilter(particles=16, ess_threshold=0.0)

    def f(theta):
        model = eqx.tree_at(lambda m: (m.input_current.offset, m.mu_v, m.v_reset), neuron, (theta[0], theta[1], theta[2]))
        return pf.log_likelihood(model, grid, jax.random.key(4))

    f = jax.jit(f)
    theta = jnp.array([1.5, 15.0, 1.4])
    grad = jax.jit(jax.grad(f))(theta)
    eps = 1e-6
    fd = np.array([(f(theta.at[i].add(eps)) - f(theta.at[i].add(-eps))) / (2 * eps) for i in range(3)])
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("ess_threshold", [0.5, 1.0])
def test_stop_gradient_resampling_estimates_the_exact_score_and_hessian(linear_case, ess_threshold):
    """With resampling (at every step for threshold 1), the stop-gradient gradient is the Fisher
    identity's score and its Hessian Louis' identity: their means over filters match the closed
    form's derivatives within Monte Carlo error; forward and reverse mode agree."""
    neuron, grid = linear_case
    pf = ParticleFilter(particles=256, ess_threshold=ess_threshold, log_intensity=linear_log_intensity)

    def with_params(theta):
        return eqx.tree_at(lambda m: (m.mu, m.r, m.b), neuron, (theta[0], theta[1], theta[2]))

    def f(theta, key):
        return pf.log_likelihood(with_params(theta), grid, key)

    theta = jnp.array([5.0, 1.0, 1.0])
    exact_grad = jax.grad(lambda t: linear_gaussian_log_z(with_params(t), grid))(theta)
    exact_hessian = jax.hessian(lambda t: linear_gaussian_log_z(with_params(t), grid))(theta)
    keys = jax.random.split(jax.random.key(7), 24)
    grads = jax.jit(jax.vmap(lambda k: jax.grad(f)(theta, k)))(keys)
    hessians = jax.jit(jax.vmap(lambda k: jax.jacfwd(jax.jacfwd(f))(theta, k)))(keys)
    for estimates, exact in ((grads, exact_grad), (hessians, exact_hessian)):
        error = np.asarray(estimates.mean(0) - exact)
        se = np.asarray(estimates.std(0, ddof=1)) / np.sqrt(keys.shape[0])
        assert np.all(np.abs(error) < 4 * se + 1e-9 + 1e-3 * np.abs(exact)), (error, se)
    np.testing.assert_allclose(jax.jacfwd(f)(theta, keys[0]), grads[0], rtol=1e-8)


def test_trials_stack_and_match_one_by_one():
    neuron = SLIF(input_current=SinusoidalCurrent(**SINE), sigma_v=0.3, alpha=0.0)
    grids = [EventGrid.from_spike_times(s, t0=0.0, t1=0.5, dt=0.01) for s in ([0.105, 0.3], [0.2], [0.05, 0.155, 0.4])]
    pf = ParticleFilter(particles=16)
    stacked = pf.trials_log_likelihood(neuron, stack_grids(grids), jax.random.key(0))
    keys = jax.random.split(jax.random.key(0), 3)
    # The longest trial needs no padding; a shorter one's padding changes nothing.
    one = eqx.filter_jit(pf.log_likelihood)
    np.testing.assert_allclose(stacked[2], one(neuron, grids[2], keys[2]), rtol=1e-5)
    np.testing.assert_allclose(stacked[1], one(neuron, grids[1], keys[1]), rtol=1e-5)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="particles"):
        ParticleFilter(particles=0)
    with pytest.raises(ValueError, match="ess_threshold"):
        ParticleFilter(ess_threshold=1.5)
    grid = EventGrid.from_spike_times([0.2], t0=0.0, t1=0.5, dt=0.01)
    with pytest.raises(ValueError, match="n_neurons"):
        ParticleFilter().log_likelihood(SLIF(n_neurons=2), grid, jax.random.key(0))
    with pytest.raises(ValueError, match="vector"):
        grid_from_buffer(jnp.ones((2, 3)), t0=0.0, t1=1.0, dt=0.1)
