r"""The likelihood of a spike train under membrane noise, by a particle filter (sequential Monte Carlo).

With membrane noise the state ``y`` (``V``, ``I`` and the escape clock) is hidden: the likelihood of
observed spikes is an integral over its paths. On the nodes ``tau_0 < ... < tau_N`` of an
:class:`EventGrid` (every spike a node) ``p`` particles move from node to node by the model's own
stepper with Brownian increments ``dW ~ N(0, h)`` (the bootstrap proposal: the model's own
dynamics). As in the noise-free likelihood (:mod:`spikesde._likelihood.core_path`) the clock
``s = event(y)`` starts at ``-alpha`` and restarts there at every spike; a particle's weight
is multiplied

- over each step, by the escape-noise survival ``exp(-(max(s_+, 0) - max(s_-, 0)))``, ``s_-`` and
  ``s_+`` the clock before and after (``exp(-int lambda dt)`` once the clock has run ``alpha``),
- at a spike, by the intensity ``lambda`` of the piece that ends at it (``0`` if ``s_+ < 0``),
  after which the neuron's own ``reset`` (with clock 0) moves the particle.

Whenever the effective sample size falls below ``ess_threshold * p`` the particles are resampled
(:mod:`spikesde._likelihood.particle_resample`, stop-gradient). The estimate ``log Z_hat`` is the
sum of the logs of the mean weights; ``Z_hat`` is unbiased for the likelihood. For
``sigma -> 0`` every particle follows the noise-free path and ``log Z_hat`` is the exact
log-density of :func:`spikesde.buffer_log_likelihood`.

The pass is one ``lax.scan`` with nothing stored per step: memory is ``O(p x state)`` whatever the
window, in the value and in forward-mode derivatives (reverse mode keeps the carry of every step).
The random numbers come from ``key`` alone (one ``fold_in`` per step), so one key gives common random
numbers across parameter values: the estimate is then a smooth function of the parameters between
the rare values where a resampling draw picks another ancestor.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._core.neuron import AbstractNeuron
from .._core.stepper import AbstractStepper, EulerMaruyama
from .grid import EventGrid
from .particle_resample import log_mean_weight, resample_if_degenerate

LogIntensity = Callable[[AbstractNeuron, Float[Array, "d n"]], Float[Array, " n"]]


def default_log_intensity(neuron: AbstractNeuron, y: Float[Array, "d n"]) -> Float[Array, " n"]:
    """``log lambda`` at the state ``y``: the neuron's own :meth:`~spikesde.AbstractNeuron.log_escape_rate`
    (in the log domain for exponential escape, so a deep membrane does not underflow)."""
    if not neuron.has_escape_rate:
        raise TypeError(
            f"the particle filter needs an escape rate: {type(neuron).__name__} declares none "
            "(give it log_escape_rate(y) or escape_rate(y), or pass log_intensity=)"
        )
    return neuron.log_escape_rate(y)


def clock_step_log_weight(s_before: Float[Array, "*n"], s_after: Float[Array, "*n"]) -> Float[Array, "*n"]:
    """``-(max(s_+, 0) - max(s_-, 0))`` for a clock that runs up: ``-(s_+ - s_-)`` once it has run
    ``alpha`` (written so, the weight of a started clock is exactly its run's exponential)."""
    return jnp.where(s_before >= 0, -(s_after - s_before), -jnp.maximum(s_after, 0.0))


class ParticleFilter(eqx.Module):
    """The particle-filter log-likelihood of one neuron's spike train under membrane noise (see the
    module docstring for the maths and the gradient's bias).

    Arguments:
        particles: the number of particles ``p``.
        ess_threshold: resample when the effective sample size is below ``ess_threshold * p``
            (0: never, 1: at every step).
        stepper: the step of the hidden state (default :class:`spikesde.EulerMaruyama`, the one
            :func:`spikesde.simulate` uses by default; use the simulation's own).
        log_intensity: ``(neuron, y) -> log lambda`` per neuron (default
            :func:`default_log_intensity`); the clock row's run is the stepper's.

    Example:
        ```python
        grid = sd.likelihood.EventGrid.from_spike_times([0.3, 0.7], t0=0.0, t1=1.0, dt=0.01)
        pf = sd.likelihood.ParticleFilter(particles=64)
        pf.log_likelihood(sd.SLIF(sigma_v=0.3, alpha=0.0), grid, jax.random.key(0))   # an unbiased estimate of L
        ```
    """

    particles: int = eqx.field(static=True, default=256)
    ess_threshold: float = eqx.field(static=True, default=0.5)
    stepper: AbstractStepper = eqx.field(default_factory=EulerMaruyama)
    log_intensity: LogIntensity = eqx.field(static=True, default=default_log_intensity)

    def __check_init__(self):
        if not (isinstance(self.particles, int) and self.particles >= 1):
            raise ValueError(f"particles: must be a positive integer, got {self.particles!r}")
        if not 0.0 <= self.ess_threshold <= 1.0:
            raise ValueError(f"ess_threshold: must lie in [0, 1], got {self.ess_threshold}")

    def log_likelihood(
        self, neuron: AbstractNeuron, grid: EventGrid, key: PRNGKeyArray, *, input_times: Float[Array, " steps"] | None = None
    ) -> Float[Array, ""]:
        """``log Z_hat`` of the spikes on ``grid`` (one train, one neuron).

        Arguments:
            neuron: a population of one neuron with an intensity and additive noise.
            grid: the observation (:meth:`EventGrid.from_spike_times`, or
                :func:`spikesde._likelihood.particle_grid.grid_from_buffer`).
            key: the filter's randomness (the same key: common random numbers).
            input_times: where each step reads the input (default the node that starts it);
                :func:`grid_from_buffer` gives the event core's.
        """
        check_single_neuron(neuron)
        return self._scan(neuron, grid, key, input_times)[0]

    def trials_log_likelihood(self, neuron: AbstractNeuron, grids: EventGrid, key: PRNGKeyArray) -> Float[Array, " trials"]:
        """``log Z_hat`` of each trial of stacked grids (:func:`stack_grids`), each from its own key."""
        check_single_neuron(neuron)
        keys = jax.random.split(key, grids.times.shape[0])
        return jax.vmap(lambda g, k: self._scan(neuron, g, k, None)[0])(grids, keys)

    def _scan(self, neuron, grid, key, input_times):
        dtype = grid.times.dtype
        p, rows = self.particles, len(neuron.noise_rows)
        zero_clock = jnp.zeros((neuron.n_neurons,), dtype)
        y0 = jnp.broadcast_to(neuron.initial_state(zero_clock).astype(dtype), (p, neuron.state_dim, neuron.n_neurons))
        step = jax.vmap(lambda y, t, h, dw: self.stepper.step(neuron, t, y, h, dw), in_axes=(0, None, None, 0))
        reset = jax.vmap(lambda y: neuron.reset(y, jnp.ones((neuron.n_neurons,), bool), zero_clock))
        log_lam = jax.vmap(lambda y: self.log_intensity(neuron, y))

        def body(carry, inputs):
            y, log_w, banked, finite = carry
            t, h, spike, n = inputs
            noise_key, resample_key = jax.random.split(jax.random.fold_in(key, n))
            dw = jnp.sqrt(h) * jax.random.normal(noise_key, (p, rows, neuron.n_neurons), dtype)
            spike_log_intensity = log_lam(y)
            s_before = jax.vmap(neuron.event)(y)
            y = step(y, t, h, dw)
            s_after = jax.vmap(neuron.event)(y)
            increment = clock_step_log_weight(s_before, s_after)
            at_spike = jnp.where(s_after >= 0, spike_log_intensity, -jnp.inf)
            increment = increment + jnp.where(spike, at_spike, 0.0)
            log_w = log_w + increment.sum(axis=-1)
            y = jnp.where(spike, reset(y), y)
            finite = finite & jnp.all(jnp.isfinite(y))
            y, log_w, mean, _ = resample_if_degenerate(y, log_w, jax.random.uniform(resample_key, (), dtype), self.ess_threshold)
            return (y, log_w, banked + mean, finite), None

        steps = grid.steps
        starts = grid.times[:-1] if input_times is None else input_times
        inputs = (starts, steps, grid.counts[1:] > 0, jnp.arange(steps.shape[0]))
        init = (y0, jnp.zeros((p,), dtype), jnp.zeros((), dtype), jnp.asarray(True))
        (y, log_w, banked, finite), _ = jax.lax.scan(body, init, inputs)
        estimate = eqx.error_if(banked + log_mean_weight(log_w), ~finite, "the particle filter's hidden state became non-finite (NaN or inf)")
        return estimate, y, log_w


def check_single_neuron(neuron) -> None:
    """A TypeError unless ``neuron`` is a neuron population; a ValueError unless it has one neuron."""
    if not isinstance(neuron, AbstractNeuron):
        raise TypeError(f"the particle filter needs a neuron population (one neuron per train), got {type(neuron).__name__}")
    if neuron.n_neurons != 1:
        raise ValueError(f"the particle filter takes one neuron per spike train: n_neurons={neuron.n_neurons}, need 1")
