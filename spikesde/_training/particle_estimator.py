r"""Maximum likelihood under membrane noise: the training objective of :class:`ParticleLikelihood`."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._core.network import Network
from .._gradients.forward import forward_value_and_grad
from .._likelihood.particle import ParticleFilter, check_single_neuron
from .._likelihood.particle_grid import grid_from_buffer
from .estimator import AbstractGradientEstimator


class ParticleLikelihood(AbstractGradientEstimator):
    r"""Minimise the particle-filter estimate of the mean negative log-likelihood of the training
    trains,

        L(theta) = -(1 / B) sum_{j=1}^{B} log Z_hat_theta(y_j),

    ``Z_hat`` the particle filter's likelihood of one neuron's train under membrane noise
    (:class:`spikesde.ParticleFilter`, on the simulation's grid and stepper, reading the input where
    the event core does). Train ``j`` is filtered with the key ``fold_in(key(seed), j)`` at every
    step: common random numbers, so the optimiser sees one smooth objective rather than a fresh
    noisy one per step. Gradients by stop-gradient resampling (an ``O(1 / particles)`` bias, see
    :mod:`spikesde._likelihood.particle_resample`), in forward mode for few parameters (memory
    flat in the window's length) as the trainer's ``gradient`` says. Like :class:`MaximumLikelihood`,
    the step still draws ``model_samples`` samples (without gradient) for the overflow and test
    metrics.

    Arguments:
        particles: particles per train.
        ess_threshold: resample below this fraction of effective particles.
        seed: the seed of the filter's common random numbers.

    For example, ``spikesde.fit(model, data, learn=..., estimator=ParticleLikelihood(particles=128), ...)``.

    Example:
        ```python
        estimator = sd.ParticleLikelihood(particles=128)   # escape-noise SLIF with membrane noise: fit(..., estimator=estimator)
        ```
    """

    particles: int = eqx.field(static=True, default=256)
    ess_threshold: float = eqx.field(static=True, default=0.5)
    seed: int = eqx.field(static=True, default=0)

    def __check_init__(self):
        ParticleFilter(particles=self.particles, ess_threshold=self.ess_threshold)  # the same checks, named the same
        if not isinstance(self.seed, int):
            raise ValueError(f"seed: must be an integer, got {self.seed!r}")

    def check(self, model, model_samples):
        if isinstance(model, Network):
            raise TypeError("the particle likelihood takes one neuron per train, not a Network")
        check_single_neuron(model)

    def value_and_grad(self, trainer, params, key, data):
        sim = trainer.simulation
        pf = ParticleFilter(self.particles, self.ess_threshold, **({} if sim.stepper is None else {"stepper": sim.stepper}))
        base = jax.random.key(self.seed)

        def objective(p):
            model = trainer.model_at(p)
            return -jnp.mean(trains_log_likelihood(pf, model, data[:, 0], base, t0=sim.t0, t1=sim.t1, dt=sim.dt))

        grad_fn = forward_value_and_grad if trainer.gradient_mode(params) == "forward" else jax.value_and_grad
        loss, grads = grad_fn(objective)(params)
        spikes, overflow = jax.lax.stop_gradient(sim.sample(trainer.model_at(params), key, trainer.model_samples))
        return loss, grads, (spikes, overflow)


def trains_log_likelihood(
    pf: ParticleFilter, neuron, buffers: Float[Array, "b max_spikes"], key, *, t0: float, t1: float, dt: float
) -> Float[Array, " b"]:
    """``log Z_hat`` of each one-neuron spike buffer, train ``j`` filtered with ``fold_in(key, j)``
    (the same key: common random numbers)."""

    def one(buffer, index):
        grid, input_times = grid_from_buffer(buffer, t0=t0, t1=t1, dt=dt)
        return pf.log_likelihood(neuron, grid, jax.random.fold_in(key, index), input_times=input_times)

    return jax.vmap(one)(buffers, jnp.arange(buffers.shape[0]))
