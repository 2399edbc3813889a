"""Maximum likelihood by damped Newton steps, Laplace intervals, and block-bootstrap weights.

The likelihood of a noise-free escape-noise model is smooth and, for the linear parameters of the
input (bias, filter weights, after-spike amplitudes, reset), concave (it is a point-process GLM in
them), so a few Newton steps converge. Everything here is jit- and vmap-compatible: bootstrap
refits run as one vmapped program.
"""

from collections.abc import Callable

import jax
import jax.scipy.special
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PRNGKeyArray


def maximise(fn: Callable, params, *, n_iter: int = 25, damping: float = 1e-3, rtol: float = 1e-12, info: bool = False):
    """Maximise ``fn(params)`` (a scalar, twice differentiable) by Levenberg-damped Newton steps.

    Step ``delta = (-H + mu s I)^{-1} g`` with ``s`` the mean ``|diag H|``; a step that raises
    ``fn`` is taken and ``mu`` shrinks 3x, otherwise ``mu`` grows 5x. Stops after ``n_iter`` steps,
    or once a step changed ``fn`` by at most ``rtol (1 + |fn|)`` (converged: Newton's last gain
    is the square of the one before); under vmap every member runs until all have stopped,
    the converged ones frozen. Returns ``(params, value)``, and with ``info`` also
    ``(steps, converged)``.
    """
    flat, unravel = ravel_pytree(params)

    def objective(x):
        return fn(unravel(x))

    def gradient_with_value(x):
        g = jax.grad(objective)(x)
        return g, g

    # One forward-over-reverse program gives the Hessian and the gradient together (one compile of fn's graph).
    hessian_and_gradient = jax.jacfwd(gradient_with_value, has_aux=True)
    eye = jnp.eye(flat.shape[0], dtype=flat.dtype)

    def body(carry):
        i, x, value, mu, _ = carry
        h, g = hessian_and_gradient(x)
        scale = jnp.mean(jnp.abs(jnp.diag(h))) + 1e-12
        step = jnp.linalg.solve(-h + mu * scale * eye, g)
        candidate = objective(x + step)
        better = jnp.isfinite(candidate) & (candidate > value)
        converged = jnp.isfinite(candidate) & (jnp.abs(candidate - value) <= rtol * (1 + jnp.abs(value)))
        x = jnp.where(better, x + step, x)
        value = jnp.where(better, candidate, value)
        mu = jnp.where(better, jnp.maximum(mu / 3, 1e-10), mu * 5)
        return i + 1, x, value, mu, converged

    def running(carry):
        i, *_, converged = carry
        return (i < n_iter) & ~converged

    init = (0, flat, objective(flat), jnp.asarray(damping, flat.dtype), jnp.asarray(False))
    steps, x, value, _, converged = jax.lax.while_loop(running, body, init)
    return (unravel(x), value, (steps, converged)) if info else (unravel(x), value)


def laplace_covariance(fn: Callable, params) -> tuple[Float[Array, "p p"], Callable]:
    """Covariance ``(-H)^{-1}`` of the Laplace approximation at a maximum of the log-likelihood
    ``fn``, over the flattened parameters; also returns the function that unflattens a vector."""
    flat, unravel = ravel_pytree(params)
    hessian = jax.hessian(lambda x: fn(unravel(x)))(flat)
    return jnp.linalg.inv(-hessian), unravel


def laplace_intervals(fn: Callable, params, level: float = 0.9):
    """Normal ``level`` intervals ``theta +- z sd`` from :func:`laplace_covariance`, as two pytrees
    ``(low, high)`` shaped like ``params``, and the standard deviations (same shape)."""
    covariance, unravel = laplace_covariance(fn, params)
    flat, _ = ravel_pytree(params)
    sd = jnp.sqrt(jnp.clip(jnp.diag(covariance), 0.0))
    z = jax.scipy.special.ndtri(0.5 + level / 2)
    return unravel(flat - z * sd), unravel(flat + z * sd), unravel(sd)


def block_indicators(times: Float[Array, " nodes"], start: float, stop: float, n_blocks: int):
    """``(node_indicators, step_indicators)``, ``(n_blocks, nodes)`` and ``(n_blocks, steps)``: which
    block of ``n_blocks`` equal blocks of ``[start, stop]`` every node (spike) in ``(start, stop]``
    and every step inside ``[start, stop]`` belongs to (all zero outside)."""
    if n_blocks < 2:
        raise ValueError(f"n_blocks must be at least 2, got {n_blocks}")
    width = (stop - start) / n_blocks

    def one_hot(t, inside):
        index = jnp.clip(jnp.floor((t - start) / width).astype(jnp.int32), 0, n_blocks - 1)
        return jnp.where(inside, jax.nn.one_hot(index, n_blocks, dtype=times.dtype).T, 0.0)

    nodes = one_hot(times, (times > start) & (times <= stop))
    steps = one_hot(times[:-1], (times[:-1] >= start) & (times[1:] <= stop))
    return nodes, steps


def block_multiplicities(n_blocks: int, n_boot: int, key: PRNGKeyArray) -> Float[Array, "boot blocks"]:
    """How often each block is drawn when ``n_blocks`` blocks are drawn with replacement, per replicate."""
    draws = jax.random.randint(key, (n_boot, n_blocks), 0, n_blocks)
    return jax.vmap(lambda d: jnp.bincount(d, length=n_blocks))(draws)


def block_weights(
    times: Float[Array, " nodes"], start: float, stop: float, n_blocks: int, n_boot: int, key: PRNGKeyArray
) -> tuple[Float[Array, "boot nodes"], Float[Array, "boot steps"]]:
    """Bootstrap over time blocks: cut ``[start, stop]`` into ``n_blocks`` equal blocks, draw
    ``n_blocks`` of them with replacement per replicate, and weight every node (spike) and step by
    how often its block was drawn (0 outside the window). The likelihood is conditional on the
    spike history, so a reweighted block keeps its own past: no edge effects."""
    nodes, steps = block_indicators(times, start, stop, n_blocks)
    multiplicity = block_multiplicities(n_blocks, n_boot, key).astype(times.dtype)
    return multiplicity @ nodes, multiplicity @ steps


def percentile_intervals(samples, level: float = 0.9):
    """Percentile bootstrap intervals over the leading axis of every leaf: ``(low, high)``."""
    q = [50 * (1 - level), 50 * (1 + level)]
    low = jax.tree_util.tree_map(lambda x: np.percentile(np.asarray(x), q[0], axis=0), samples)
    high = jax.tree_util.tree_map(lambda x: np.percentile(np.asarray(x), q[1], axis=0), samples)
    return low, high
