r"""Maximum likelihood of a stimulus-driven SLIF (:class:`StimulusDesign`): Newton steps on the
linear parameters, a profile over the membrane rate, Laplace covariance and bootstrap refits.

``theta = {"bias", "weights", "amplitudes", "v_reset", "log_mu_v"}``. At fixed ``mu_v`` the
log-likelihood is concave in the rest (the linear parameters): :func:`fit_at_mu` runs damped
Newton steps on them with ``X(mu_v)`` built once; :func:`profile_fit` maximises over ``log mu_v``
by a bracketing search in log space (no grid ceiling). Second derivatives never go through the parallel scan that
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


def roughness(weights) -> jax.Array:
    """``sum_j (w_{j+1} - 2 w_j + w_{j-1})^2``: the smoothness prior's energy of the filter weights
    (neighbouring raised cosines overlap, so second differences of the weights are those of the
    filter's shape); zero for fewer than three weights."""
    return jnp.sum(jnp.diff(weights, n=2) ** 2) if weights.shape[0] > 2 else jnp.zeros((), weights.dtype)


def split_theta(theta: dict) -> tuple[dict, jax.Array]:
    """``(linear parameters, log_mu_v)``."""
    return {k: v for k, v in theta.items() if k != "log_mu_v"}, theta["log_mu_v"]


def linear_fit(design: StimulusDesign, columns, theta: dict, spike_weights=None, step_weights=None, *,
               n_iter: int = 25, damping: float = 1e-3, smoothness=0.0):  # fmt: skip
    """Newton steps on the linear parameters at the ``log_mu_v`` of ``theta``, ``columns = X(mu_v)``,
    maximising the log-likelihood minus ``smoothness / 2 * roughness(weights)`` (a Gaussian
    smoothness prior on the filter; 0: maximum likelihood). Returns ``(theta, penalised
    log-likelihood)``; vmaps over the weights (bootstrap) and over designs."""
    linear, log_mu_v = split_theta(theta)

    def objective(lin):
        value = design.log_likelihood_from_columns(columns, {**lin, "log_mu_v": log_mu_v}, spike_weights, step_weights)
        return value - 0.5 * smoothness * roughness(lin["weights"])

    linear, value = maximise(objective, linear, n_iter=n_iter, damping=damping)
    return {**linear, "log_mu_v": log_mu_v}, value


@functools.partial(jax.jit, static_argnames=("n_iter",))
def fit_at_mu(design: StimulusDesign, theta: dict, spike_weights=None, step_weights=None, *, n_iter: int = 25,
              damping: float = 1e-3, smoothness=0.0):  # fmt: skip
    """:func:`linear_fit` with ``X(mu_v)`` built from ``theta["log_mu_v"]`` (one compiled program)."""
    columns = design.columns(jnp.exp(theta["log_mu_v"]))
    return linear_fit(design, columns, theta, spike_weights, step_weights, n_iter=n_iter, damping=damping, smoothness=smoothness)


def maximise_1d(f, x0: float, *, step: float, lower: float, upper: float, tol: float):
    """Maximise a unimodal ``f`` on ``[lower, upper]`` from ``x0``: walk uphill with doubling steps
    until the value falls (or a bound is reached), then golden section on the bracket down to
    width ``tol``. Returns ``(x, f(x), on_bound)``, ``on_bound`` true when the maximum is within
    ``tol`` of ``lower`` or ``upper`` (the bound, not the data, decided it: report it)."""
    if not lower <= x0 <= upper:
        raise ValueError(f"the start {x0} lies outside [{lower}, {upper}]")
    seen = {}

    def value(x):
        x = float(min(max(x, lower), upper))
        if x not in seen:
            seen[x] = f(x)
        return seen[x]

    left, middle, right = max(x0 - step, lower), x0, min(x0 + step, upper)
    direction = 1.0 if value(right) > value(middle) else -1.0
    while True:
        outer = right if direction > 0 else left
        if value(outer) <= value(middle) or outer in (lower, upper):
            break
        step *= 2
        if direction > 0:
            left, middle, right = middle, right, min(right + step, upper)
        else:
            left, middle, right = max(left - step, lower), left, middle
    ratio = (math.sqrt(5) - 1) / 2
    while right - left > tol:
        a, b = right - ratio * (right - left), left + ratio * (right - left)
        if value(a) >= value(b):
            right = b
        else:
            left = a
    best = max(seen, key=seen.get)
    return best, seen[best], bool(best - lower < tol or upper - best < tol)


def profile_fit(design: StimulusDesign, theta: dict, weights=(None, None), *, log_mu_bounds=(0.0, math.log(1e6)),
                step: float = 0.7, tol: float = 0.02, n_iter: int = 25, damping: float = 1e-3, smoothness=0.0):  # fmt: skip
    """Profile likelihood over ``log mu_v`` from ``theta["log_mu_v"]`` (:func:`maximise_1d` within
    ``log_mu_bounds``, no grid: the search goes as far as the likelihood asks), the linear
    parameters refitted (warm-started) at every point. ``weights = (spike_weights, step_weights)``
    select the training window. Returns ``(theta, penalised log-likelihood, on_bound)``."""
    # Strongly typed float leaves: a weakly typed start would compile the Newton program twice.
    theta = jax.tree.map(lambda x: jnp.asarray(x, dtype=jnp.result_type(float)), theta)
    fits = {}

    def evaluate(log_mu):
        start = max(fits.items(), key=lambda item: item[1][1])[1][0] if fits else theta
        start = {**start, "log_mu_v": jnp.asarray(log_mu, dtype=theta["log_mu_v"].dtype)}
        fits[log_mu] = fit_at_mu(design, start, *weights, n_iter=n_iter, damping=damping, smoothness=smoothness)
        return float(fits[log_mu][1])

    best, value, on_bound = maximise_1d(evaluate, float(theta["log_mu_v"]), step=step, lower=log_mu_bounds[0],
                                        upper=log_mu_bounds[1], tol=tol)  # fmt: skip
    return fits[best][0], value, on_bound


@functools.partial(jax.jit, static_argnames=("with_mu_v",))
def laplace_covariance(design: StimulusDesign, theta: dict, spike_weights=None, step_weights=None, *,
                       with_mu_v: bool = True, eps: float = 1e-3, smoothness=0.0):  # fmt: skip
    """``(-H)^{-1}`` at ``theta`` over the flattened parameters (``ravel_pytree`` order: amplitudes,
    bias, log_mu_v, v_reset, weights).

    The linear block by autodiff at fixed ``X(mu_v)``; the ``log mu_v`` row by central differences
    of step ``eps`` in ``log mu_v`` (``X`` rebuilt at ``mu_v e^{+-eps}``): of the linear gradient
    for the cross terms, of the value for the diagonal. ``with_mu_v=False``: ``mu_v`` known, its
    row and column are the identity (zero variance after the inverse is taken on the rest).
    ``smoothness``: the covariance of the Laplace posterior under the smoothness prior of
    :func:`linear_fit` (the prior's Hessian added).
    """
    flat, unravel = ravel_pytree(theta)
    index = theta["amplitudes"].shape[0] + 1

    def value(x, log_mu):
        columns = design.columns(jnp.exp(log_mu))
        params = unravel(x)
        value = design.log_likelihood_from_columns(columns, {**params, "log_mu_v": log_mu}, spike_weights, step_weights)
        return value - 0.5 * smoothness * roughness(params["weights"])

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
def bootstrap_refits(design: StimulusDesign, theta: dict, indicators, multiplicity, *, n_iter: int = 2, smoothness=0.0):
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
        params = unravel(x)
        # The prior counts once per replicate; split evenly over the blocks so that the blocks sum to it.
        prior = 0.5 * smoothness * roughness(params["weights"]) * jnp.sum(w) / jnp.maximum(jnp.sum(nodes), 1.0)
        return design.log_likelihood_from_columns(columns, {**params, "log_mu_v": log_mu_v}, w, v) - prior

    g = jax.lax.map(lambda wv: jax.grad(value)(flat, *wv), (nodes, steps))
    h = jax.lax.map(lambda wv: jax.hessian(value)(flat, *wv), (nodes, steps))
    step = jnp.linalg.solve(-jnp.einsum("rb,bij->rij", multiplicity, h), jnp.einsum("rb,bi->ri", multiplicity, g)[..., None])
    starts = flat + step[..., 0]
    if n_iter == 0:
        return jax.vmap(lambda x: {**unravel(x), "log_mu_v": log_mu_v})(starts)

    def refit(x, m):
        w, v = m @ nodes, m @ steps
        return linear_fit(design, columns, {**unravel(x), "log_mu_v": log_mu_v}, w, v, n_iter=n_iter, smoothness=smoothness)[0]

    return jax.vmap(refit)(starts, multiplicity)
