r"""Resampling of a weighted particle system, with gradients by stop-gradient resampling.

A particle filter's estimate of the likelihood is the product over resampling epochs of the mean
weight, ``Z_hat = prod_e mean_i w_{e,i}``. Resampling draws ancestors ``a_i`` with probabilities
``w_i / sum w``; the draw is not differentiable. Stop-gradient resampling (Scibior & Wood 2021)
gives each resampled particle the log-weight ``l_{a_i} - stop_gradient(l_{a_i})``: its value is
0 (the usual equal weights after resampling), its gradient that of the ancestor's log-weight; the
banked factor ``log mean w`` enters the value without gradient. So the gradient of ``log Z_hat``
sums every surviving path's whole score, weighted by its final weight: the Fisher identity ``d log p(y) = E[d log p(x, y) | y]`` with the filter's path-space
(genealogy) approximation of the smoothing law. Its forward value is the ordinary filter's; its
second derivative is the path-space estimate of Louis' identity (weighted mean of the paths'
Hessians plus the weighted covariance of their scores), used for intervals.

Bias: ``Z_hat`` is unbiased for the likelihood, so ``log Z_hat`` is biased low by about
``Var(log Z_hat) / 2`` (Jensen); the gradient is a ratio ``grad Z_hat / Z_hat`` of unbiased
estimates, biased by ``O(1 / particles)``, and its variance grows with the window's length as the
genealogy collapses onto few ancestors. ``tests/test_particle_filter.py`` measures both against a
closed form.
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PyTree


def log_mean_weight(log_weights: Float[Array, " p"]) -> Float[Array, ""]:
    """``log mean_i exp(l_i)`` (``-inf`` when every weight is zero)."""
    return jax.nn.logsumexp(log_weights) - jnp.log(log_weights.shape[0]).astype(log_weights.dtype)


def effective_sample_size(log_weights: Float[Array, " p"]) -> Float[Array, ""]:
    """``(sum w)^2 / sum w^2``, between 1 and the number of particles (0 if every weight is zero)."""
    normalised = jax.nn.softmax(jax.lax.stop_gradient(log_weights))
    return jnp.where(jnp.all(jnp.isneginf(log_weights)), 0.0, 1.0 / jnp.sum(normalised**2))


def systematic_indices(log_weights: Float[Array, " p"], uniform: Float[Array, ""]) -> Int[Array, " p"]:
    """Ancestors by systematic resampling: particle ``i`` takes the ancestor whose cumulative
    normalised weight first reaches ``(i + uniform) / p`` (one uniform for all, the lowest-variance
    of the standard schemes).

    Example: ``systematic_indices(jnp.log(jnp.array([0.5, 0.5, 0.0, 0.0])), 0.3)`` is ``[0, 0, 1, 1]``.
    """
    p = log_weights.shape[0]
    cumulative = jnp.cumsum(jax.nn.softmax(jax.lax.stop_gradient(log_weights)))
    positions = (jnp.arange(p, dtype=cumulative.dtype) + uniform) / p
    return jnp.minimum(jnp.searchsorted(cumulative, positions), p - 1)


def resample_if_degenerate(
    particles: PyTree, log_weights: Float[Array, " p"], uniform: Float[Array, ""], threshold: float
) -> tuple[PyTree, Float[Array, " p"], Float[Array, ""], Bool[Array, ""]]:
    """Resample when the effective sample size is below ``threshold * p``.

    Returns ``(particles, log_weights, log_mean, resampled)``: after resampling, the new log-weights
    are ``l_a - stop_gradient(l_a)`` (value 0) and ``log_mean`` is ``log mean(w)`` before it (the
    factor the likelihood estimate banks, without gradient); otherwise everything is unchanged and ``log_mean`` is 0.
    Computed on both branches and selected, so it runs the same under ``vmap``.

    Arguments:
        particles: a pytree of arrays with the particle axis first.
        log_weights: the particles' log-weights ``l_i``.
        uniform: a uniform draw on ``[0, 1)`` for :func:`systematic_indices`.
        threshold: the fraction of the particle count below which to resample (0: never, 1: always).
    """
    p = log_weights.shape[0]
    resampled = effective_sample_size(log_weights) < threshold * p
    ancestors = systematic_indices(log_weights, uniform)
    inherited = log_weights[ancestors]
    # An ancestor is never a zero-weight particle unless all are; keep that case NaN-free.
    fresh = jnp.where(jnp.isfinite(inherited), inherited - jax.lax.stop_gradient(inherited), inherited)
    new_weights = jnp.where(resampled, fresh, log_weights)
    # The banked factor carries no gradient: the resampled weights carry each path's score to the
    # end, where the final weights average it (banking it too would count the past twice).
    mean = jnp.where(resampled, jax.lax.stop_gradient(log_mean_weight(log_weights)), 0.0)
    new_particles = jax.tree_util.tree_map(lambda x: jnp.where(resampled, x[ancestors], x), particles)
    return new_particles, new_weights, mean, resampled
