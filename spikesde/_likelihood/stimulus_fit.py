r"""Maximum likelihood of a stimulus-driven SLIF (:class:`StimulusDesign`): Newton steps on the
linear parameters, a profile over the membrane rate, Laplace covariance and bootstrap refits.

``theta = {"bias", "weights", "amplitudes", "v_reset", "log_mu_v"}``. At fixed ``mu_v`` the
log-likelihood is concave in the rest (the linear parameters): :func:`fit_at_mu` runs damped
Newton steps on them with ``X(mu_v)`` built once; :func:`profile_fit` maximises over ``log mu_v``
on a grid, then by golden section. Second derivatives never go through the parallel scan that
builds ``X(mu_v)`` (it would compile for minutes): the ``log mu_v`` row of the Hessian is a central
difference of ``X`` itself (:func:`laplace_covariance`).
"""

import functools
import math

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from .design import StimulusDesign
from .newton import maximise

LINEAR = ("amplitudes", "bias", "v_reset", "weights")


def split_theta(theta: dict) -> tuple[dict, jax.Array]:
    """``(linear parameters, log_mu_v)``."""
    return {k: v for k, v in theta.items() if k != "log_mu_v"}, theta["log_mu_v"]


def linear_fit(design: StimulusDesign, columns, theta: dict, spike_weights=None, step_weights=None, *,
               n_iter: int = 25, damping: float = 1e-3):  # fmt: skip
    """Newton steps on the linear parameters at the ``log_mu_v`` of ``theta``, ``columns = X(mu_v)``.
    Returns ``(theta, log-likelihood)``; vmaps over the weights (bootstrap) and over designs."""
    linear, log_mu_v = split_theta(theta)
    objective = lambda lin: design.log_likelihood_from_columns(columns, {**lin, "log_mu_v": log_mu_v}, spike_weights, step_weights)
    linear, value = maximise(objective, linear, n_iter=n_iter, damping=damping)
    return {**linear, "log_mu_v": log_mu_v}, value


@functools.partial(jax.jit, static_argnames=("n_iter",))
def fit_at_mu(design: StimulusDesign, theta: dict, spike_weights=None, step_weights=None, *, n_iter: int = 25,
              damping: float = 1e-3):  # fmt: skip
    """:func:`linear_fit` with ``X(mu_v)`` built from ``theta["log_mu_v"]`` (one compiled program)."""
    columns = design.columns(jnp.exp(theta["log_mu_v"]))
    return linear_fit(design, columns, theta, spike_weights, step_weights, n_iter=n_iter, damping=damping)


def profile_fit(design: StimulusDesign, theta: dict, weights=(None, None), *, mu_v_grid, golden_steps: int = 6,
                n_iter: int = 25, damping: float = 1e-3):  # fmt: skip
    """Profile likelihood over ``log mu_v``: every ``mu_v_grid`` point (warm-started Newton fits of
    the linear parameters), then ``golden_steps`` of golden section between the neighbours of the
    best grid point. ``weights = (spike_weights, step_weights)`` select the training window.
    Returns ``(theta, log-likelihood)`` of the best point."""
    profile = {}
    # Strongly typed float leaves: a weakly typed start would compile the Newton program twice.
    theta = jax.tree.map(lambda x: jnp.asarray(x, dtype=jnp.result_type(float)), theta)

    def evaluate(log_mu, start):
        start = {**start, "log_mu_v": jnp.asarray(log_mu, dtype=theta["log_mu_v"].dtype)}
        fitted, value = fit_at_mu(design, start, *weights, n_iter=n_iter, damping=damping)
        profile[float(log_mu)] = (fitted, float(value))
        return fitted, float(value)

    for mu_v in mu_v_grid:
        theta, _ = evaluate(math.log(mu_v), theta)
    grid = sorted(profile)
    best = max(range(len(grid)), key=lambda i: profile[grid[i]][1])
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(golden_steps):
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        start = profile[grid[best]][0]
        if evaluate(a, start)[1] > evaluate(b, start)[1]:
            high = b
        else:
            low = a
    return max(profile.values(), key=lambda item: item[1])


@functools.partial(jax.jit, static_argnames=("with_mu_v",))
def laplace_covariance(design: StimulusDesign, theta: dict, spike_weights=None, step_weights=None, *,
                       with_mu_v: bool = True, eps: float = 1e-3):  # fmt: skip
    """``(-H)^{-1}`` at ``theta`` over the flattened parameters (``ravel_pytree`` order: amplitudes,
    bias, log_mu_v, v_reset, weights).

    The linear block by autodiff at fixed ``X(mu_v)``; the ``log mu_v`` row by central differences
    of step ``eps`` in ``log mu_v`` (``X`` rebuilt at ``mu_v e^{+-eps}``): of the linear gradient
    for the cross terms, of the value for the diagonal. ``with_mu_v=False``: ``mu_v`` known, its
    row and column are the identity (zero variance after the inverse is taken on the rest).
    """
    flat, unravel = ravel_pytree(theta)
    index = theta["amplitudes"].shape[0] + 1

    def value(x, log_mu):
        columns = design.columns(jnp.exp(log_mu))
        return design.log_likelihood_from_columns(columns, {**unravel(x), "log_mu_v": log_mu}, spike_weights, step_weights)

    log_mu = theta["log_mu_v"]
    hessian = jax.hessian(value)(flat, log_mu)
    if not with_mu_v:
        hessian = hessian.at[index, :].set(0.0).at[:, index].set(0.0).at[index, index].set(-1.0)
        covariance = jnp.linalg.inv(-hessian)
        return covariance.at[index, index].set(0.0)
    gradient = jax.grad(value)
    cross = (gradient(flat, log_mu + eps) - gradient(flat, log_mu - eps)) / (2 * eps)
    diagonal = (value(flat, log_mu + eps) - 2 * value(flat, log_mu) + value(flat, log_mu - eps)) / eps**2
    column = cross.at[index].set(diagonal)
    hessian = hessian.at[index, :].set(column).at[:, index].set(column)
    return jnp.linalg.inv(-hessian)


@functools.partial(jax.jit, static_argnames=("n_iter",))
def bootstrap_refits(design: StimulusDesign, theta: dict, indicators, multiplicity, *, n_iter: int = 2):
    """Block-bootstrap refits of the linear parameters at the fitted ``mu_v``, vmapped.

    ``indicators = (node_indicators, step_indicators)`` of the blocks (:func:`block_indicators`),
    ``multiplicity`` ``(replicates, blocks)`` (:func:`block_multiplicities`): replicate ``r``
    weights block ``b`` by ``multiplicity[r, b]``. With ``alpha = 0`` the log-likelihood is a sum
    of local terms, so at ``theta`` the gradient and Hessian of every replicate are the same
    combination of the blocks' own: the first Newton step of all replicates costs one Hessian per
    block, not one per replicate. Then up to ``n_iter`` damped Newton steps (stopping on
    convergence) finish each refit; ``n_iter = 0`` is the one-step bootstrap. (With ``alpha > 0``
    the first step is approximate, as the clock couples a block to the interval it cuts; the
    Newton steps after it are exact.)
    """
    columns = design.columns(jnp.exp(theta["log_mu_v"]))
    linear, log_mu_v = split_theta(theta)
    flat, unravel = ravel_pytree(linear)
    nodes, steps = indicators
    multiplicity = multiplicity.astype(flat.dtype)

    def value(x, w, v):
        return design.log_likelihood_from_columns(columns, {**unravel(x), "log_mu_v": log_mu_v}, w, v)

    g = jax.lax.map(lambda wv: jax.grad(value)(flat, *wv), (nodes, steps))
    h = jax.lax.map(lambda wv: jax.hessian(value)(flat, *wv), (nodes, steps))
    step = jnp.linalg.solve(-jnp.einsum("rb,bij->rij", multiplicity, h), jnp.einsum("rb,bi->ri", multiplicity, g)[..., None])
    starts = flat + step[..., 0]
    if n_iter == 0:
        return jax.vmap(lambda x: {**unravel(x), "log_mu_v": log_mu_v})(starts)

    def refit(x, m):
        w, v = m @ nodes, m @ steps
        return linear_fit(design, columns, {**unravel(x), "log_mu_v": log_mu_v}, w, v, n_iter=n_iter)[0]

    return jax.vmap(refit)(starts, multiplicity)
