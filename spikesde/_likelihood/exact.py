r"""The exact log-likelihood of an observed spike train under a noise-free escape-noise SLIF.

With no membrane noise (``sigma_v = sigma_i = 0``) and the spike times observed, the membrane is a
deterministic function of the parameters: it follows ``V' = mu_v (I + c(t) + h(t) - V)`` and is
reset (``V <- V - v_reset``) at the observed spikes; ``h`` is the after-spike current. Only the
clock is random. After each spike (and at ``t0``) the clock restarts at ``-(E + alpha)``,
``E ~ Exp(1)``, and the neuron fires when the integrated intensity since the last spike,
``C(t) = int_{t_last}^t lambda(V) du``, reaches ``E + alpha``. Hence

    P(no spike in (t_last, t]) = exp(-max(C(t) - alpha, 0)),

a point process with conditional intensity ``lambda*(t) = lambda(V(t)) 1[C(t) > alpha]``: no
spike can come before the clock has run ``alpha`` (an absolute refractory period measured in
integrated intensity), after which the hazard is ``lambda(V)``. The log-likelihood of spikes
``t_1 < ... < t_n`` in ``[t0, t1]`` is

    log L = sum_i [ log lambda(V(t_i^-)) + log 1[C(t_i^-) >= alpha] ] - int_{t0}^{t1} lambda*(t) dt
          = sum_i log lambda(V(t_i^-)) - sum_{intervals k} max(C_k - alpha, 0),

``C_k`` the clock's total run over inter-spike interval ``k`` (the last one censored at ``t1``).
So ``alpha`` adds ``alpha`` per complete interval while every ``C_k >= alpha``, and the likelihood
is zero (``log L = -inf``) as soon as one interval has ``C_k < alpha``: the maximum-likelihood
``alpha`` is ``min_k C_k``, on the edge of the support, as for the end point of a uniform law. We
therefore treat ``alpha`` as known (0 for real data), not as a parameter to fit.

Discretisation: on the nodes of an :class:`EventGrid` (every spike is a node), the input
``c + I + h`` is held at its value at the left node of each step and the membrane takes the exact
linear flow; ``int lambda`` over a step is the trapezoid rule, exact to ``O(dt^2)``.
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._models.slif import SLIF
from .._models.stimulus import AfterSpikeCurrent
from .grid import EventGrid


def _linear_recurrence(decay: Float[Array, " n"], drive: Float[Array, " n"], x0) -> Float[Array, " n+1"]:
    """``x_{n+1} = decay_n x_n + drive_n`` from ``x_0``, by a parallel (associative) scan."""

    def combine(left, right):
        a1, b1 = left
        a2, b2 = right
        return a1 * a2, a2 * b1 + b2

    a, b = jax.lax.associative_scan(combine, (decay, drive))
    return jnp.concatenate([jnp.reshape(x0, (1,)), a * x0 + b])


def history_traces(grid: EventGrid, taus: tuple[float, ...]) -> Float[Array, "nodes n_taus"]:
    """``sum_{t_s <= tau_n} exp(-(tau_n - t_s) / tau_j)`` at every node (the spike at the node included)."""
    counts = grid.counts.astype(grid.times.dtype)

    def one(tau):
        decay = jnp.exp(-grid.steps / tau)
        return _linear_recurrence(decay, counts[1:], counts[0])

    return jnp.stack([one(tau) for tau in taus], axis=-1)


def membrane(neuron: SLIF, grid: EventGrid, history: AfterSpikeCurrent | None = None):
    """The membrane potential just before (``V^-``) and just after (``V^+``) each node."""
    times, counts = grid.times, grid.counts.astype(grid.times.dtype)
    drive = jax.vmap(neuron.input_current)(times[:-1]).reshape(-1)
    drive = drive + jnp.reshape(neuron.i0 * jnp.exp(-neuron.mu_i * (times[:-1] - times[0])), (-1,))
    if history is not None:
        drive = drive + history_traces(grid, history.taus)[:-1] @ history.amplitudes
    mu_v, v_reset = jnp.reshape(neuron.mu_v, ()), jnp.reshape(neuron.v_reset, ())
    decay = jnp.exp(-mu_v * grid.steps)
    # V^-_{n+1} = decay_n (V^-_n - v_reset counts_n) + (1 - decay_n) drive_n
    offsets = -jnp.expm1(-mu_v * grid.steps) * drive - decay * v_reset * counts[:-1]
    v_minus = _linear_recurrence(decay, offsets, jnp.reshape(neuron.v0, ()))
    return v_minus, v_minus - v_reset * counts


def log_intensity(neuron: SLIF, v):
    """``log lambda(v)`` of the neuron's escape function (computed in the log domain)."""
    return neuron.log_intensity(v)


def likelihood_terms(neuron: SLIF, grid: EventGrid, history: AfterSpikeCurrent | None = None):
    """The log-likelihood split into its local pieces: ``(spike_terms, step_terms)``.

    ``spike_terms[n]``: ``counts[n] (log lambda(V(tau_n^-)) + log 1[C >= alpha])`` at node ``n``;
    ``step_terms[n]``: ``-int lambda*`` over step ``n``. Their (weighted) sums give the
    log-likelihood of any window or bootstrap resample, conditional on the spikes before it.
    """
    v_minus, v_plus = membrane(neuron, grid, history)
    return terms_from_membrane(neuron, grid, v_minus, v_plus)


def terms_from_membrane(neuron: SLIF, grid: EventGrid, v_minus, v_plus):
    """:func:`likelihood_terms` given the membrane before/after each node (intensity and clock
    parameters read from ``neuron``)."""
    lam_plus = jnp.exp(log_intensity(neuron, v_plus[:-1]))
    lam_minus = jnp.exp(log_intensity(neuron, v_minus[1:]))
    step_integral = 0.5 * grid.steps * (lam_plus + lam_minus)
    return clock_terms(grid.counts, step_integral, log_intensity(neuron, v_minus), neuron.alpha)


def clock_terms(counts, step_integral, spike_log_intensity, alpha):
    """``(spike_terms, step_terms)`` of an escape-noise clock from its run over each step.

    ``counts[n]``: spikes at node ``n``; ``step_integral[n]``: ``int lambda`` over step ``n`` (any
    quadrature); ``spike_log_intensity[n]``: ``log lambda`` just before node ``n``; ``alpha``: the
    clock offset. The clock restarts at every spike; a spike before it has run ``alpha`` is
    impossible (``-inf``).
    """
    alpha = jnp.reshape(alpha, ())
    # Clock run since the last spike: C^+_n after node n, C^-_{n+1} = C^+_n + step_integral_n.
    cumulative = jnp.concatenate([jnp.zeros(1, step_integral.dtype), jnp.cumsum(step_integral)])
    last_spike = jax.lax.cummax(jnp.where(counts > 0, jnp.arange(counts.shape[0]), 0))
    clock_plus = cumulative - cumulative[last_spike]
    clock_minus = jnp.concatenate([jnp.zeros(1, step_integral.dtype), clock_plus[:-1] + step_integral])
    step_terms = -(jnp.maximum(clock_minus[1:] - alpha, 0.0) - jnp.maximum(clock_plus[:-1] - alpha, 0.0))
    feasible = jnp.where(clock_minus >= alpha, 0.0, -jnp.inf)
    spike_terms = jnp.where(counts > 0, counts * spike_log_intensity + feasible, 0.0)
    return spike_terms, step_terms


def weighted_sum(spike_terms, step_terms, spike_weights=None, step_weights=None):
    """``sum w_spike spike_terms + sum w_step step_terms`` (a zero weight drops a ``-inf`` term)."""
    if spike_weights is not None:
        spike_terms = jnp.where(spike_weights > 0, spike_weights * spike_terms, 0.0)
    if step_weights is not None:
        step_terms = step_weights * step_terms
    return spike_terms.sum() + step_terms.sum()


def log_likelihood(neuron: SLIF, grid: EventGrid, history: AfterSpikeCurrent | None = None, *, spike_weights=None, step_weights=None):
    """The former SLIF-only entry point: :func:`spikesde.log_likelihood` (the same discretisation,
    built from the neuron's own interface; :func:`likelihood_terms` stays the fast SLIF path)."""
    from .general import log_likelihood as general  # noqa: PLC0415 (general builds on this module)

    return general(neuron, grid, history, spike_weights=spike_weights, step_weights=step_weights)
