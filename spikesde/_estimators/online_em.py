r"""The online three-factor form of multi-sample generalised EM (Jang & Simeone 2021).

The batch estimator (:class:`MultiSampleEM`) waits for the whole sequence. Online, every
compartment ``k`` keeps, for every synapse, an **eligibility trace** of the local derivative of its
own log-likelihood, and a central unit broadcasts a **global learning signal** built from the ``K``
compartments' observed-spike log-likelihoods. For the :class:`BernoulliSNN` neuron ``i`` with
potential ``u_i[t] = b_i + sum_m x_m[t] W^in_mi + sum_j z_j[t] W^rec_ji`` the derivative of
``log p(s_i[t] | past)`` is local (pre-synaptic trace times post-synaptic error):

    d/dW^in_mi = x_m[t] (s_i[t] - sigma(u_i[t])),   d/dW^rec_ji = z_j[t] (s_i[t] - sigma(u_i[t])),
    d/db_i = s_i[t] - sigma(u_i[t]),

and at each step ``t``

    e^k[t]   = kappa e^k[t-1] + grad log p(s^k[t] | past^k)         (eligibility trace, per synapse)
    l^k[t]   = gamma l^k[t-1] + log p(x[t] | past^k)                (discounted visible log-likelihood)
    w^k[t]   = softmax_k l^k[t]                                     (importance weights)
    Delta[t] = sum_k w^k[t] e^k[t]                                  (synapses onto visible neurons)

Onto hidden neurons the learning signal is an option (:class:`AbstractHiddenSignal`):
:class:`ImportanceWeighted` (generalised EM, the M-step of the importance-weighted posterior:
``sum_k w^k e^k``, no baseline) or :class:`LogMeanSignal` (the score-function gradient of the
``K``-sample bound, as in the authors' multi-sample code: ``(L[t] - b[t]) sum_k e^k`` with
``L[t] = log mean_k exp l^k[t]`` and a running per-synapse baseline
``b = <E^2 L> / <E^2>``, ``E = sum_k e^k``, averaged with decay ``baseline_decay``).

Every ``update_every`` steps (and at the last) the update ``theta <- theta + eta Delta[t]`` is
applied, so later steps of the same sequence run with the new weights. With ``kappa = gamma = 1``
and one update at the end, ``Delta[T]`` is the batch estimate: ``MultiSampleEM``'s for
``ImportanceWeighted``, the score-function gradient of ``log mean_k p(x || h^k)`` for
``LogMeanSignal`` without baseline. The paper scales the trace increments by ``1 - kappa``; here
they are not scaled, so ``kappa = 1`` keeps the exact sum (the factor is a learning-rate choice).
"""

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from .bernoulli_snn import BernoulliSNN, bernoulli_log_prob
from .multisample import check_compartments


def _params(model: BernoulliSNN, input_weights, recurrent_weights, bias) -> BernoulliSNN:
    return BernoulliSNN(input_weights, recurrent_weights, bias, trace_decay=model.trace_decay)


def _zeros(model: BernoulliSNN) -> BernoulliSNN:
    return jax.tree_util.tree_map(jnp.zeros_like, model)


def _by_neuron(tree: BernoulliSNN, mask: Bool[Array, " n"], other: BernoulliSNN) -> BernoulliSNN:
    """``tree`` on the synapses onto neurons in ``mask`` (the last axis is the post-synaptic neuron),
    ``other`` elsewhere."""
    return jax.tree_util.tree_map(lambda a, b: jnp.where(mask, a, b), tree, other)


def local_gradient(model: BernoulliSNN, x_t, trace, spikes) -> tuple[BernoulliSNN, Float[Array, " n"]]:
    """``(grad log p(s[t] | past), log p(s_i[t] | past) per neuron)`` of one step, in closed form."""
    u = model._potential(x_t, trace)
    error = spikes - jax.nn.sigmoid(u)
    return _params(model, jnp.outer(x_t, error), jnp.outer(trace, error), error), bernoulli_log_prob(u, spikes)


class AbstractHiddenSignal(eqx.Module):
    """The learning signal of the synapses onto hidden neurons.

    Example:
        ```python
        isinstance(sd.estimators.ImportanceWeighted(), sd.estimators.AbstractHiddenSignal)   # True: hidden_signal=...
        ```
    """

    def init(self, model: BernoulliSNN):
        """The signal's running state before the first step."""
        return None

    @abc.abstractmethod
    def __call__(self, traces: BernoulliSNN, weights: Float[Array, " K"], bound: Float[Array, ""], state):
        """``(update of the hidden synapses, new state)`` from the ``K`` stacked traces."""


class ImportanceWeighted(AbstractHiddenSignal):
    """Generalised EM: ``sum_k w^k e^k``, the same global signal as the visible synapses.

    Example:
        ```python
        em = sd.estimators.OnlineMultiSampleEM(num_compartments=4, hidden_signal=sd.estimators.ImportanceWeighted())
        ```
    """

    def __call__(self, traces, weights, bound, state):
        return jax.tree_util.tree_map(lambda e: jnp.tensordot(weights, e, 1), traces), state


class LogMeanSignal(AbstractHiddenSignal):
    """``(L - b) sum_k e^k`` with ``L = log mean_k exp l^k`` and the per-synapse running baseline
    ``b = <E^2 L> / <E^2>`` (``E = sum_k e^k``, decay ``baseline_decay`` per step; ``None``: ``b = 0``).
    The baseline uses the current step too, as the authors' code does, so it is not exactly
    independent of the sample: a variance reduction with a small bias.

    Example:
        ```python
        em = sd.estimators.OnlineMultiSampleEM(num_compartments=4, hidden_signal=sd.estimators.LogMeanSignal(baseline_decay=0.9))
        ```
    """

    baseline_decay: float | None = eqx.field(static=True, default=0.9)

    def __check_init__(self):
        if self.baseline_decay is not None and not 0 <= self.baseline_decay <= 1:
            raise ValueError(f"baseline_decay must lie in [0, 1] or be None, got {self.baseline_decay}")

    def init(self, model):
        return (_zeros(model), _zeros(model))

    def __call__(self, traces, weights, bound, state):
        total = jax.tree_util.tree_map(lambda e: jnp.sum(e, axis=0), traces)
        if self.baseline_decay is None:
            return jax.tree_util.tree_map(lambda e: bound * e, total), state
        decay = self.baseline_decay
        num = jax.tree_util.tree_map(lambda n, e: decay * n + e**2 * bound, state[0], total)
        den = jax.tree_util.tree_map(lambda d, e: decay * d + e**2, state[1], total)
        # b = 0 where no trace has been seen yet (den = 0); the guard keeps the division finite
        baseline = jax.tree_util.tree_map(lambda n, d: jnp.where(d > 0, n / jnp.where(d > 0, d, 1.0), 0.0), num, den)
        update = jax.tree_util.tree_map(lambda e, b: (bound - b) * e, total, baseline)
        return update, (num, den)


class OnlineEMResult(eqx.Module):
    """What :meth:`OnlineMultiSampleEM.run` returns.

    Arguments:
        model: the network after the online updates (unchanged when ``learning_rate = 0``).
        update: ``sum`` of the updates ``Delta[t]`` at the update steps (structure of the model).
        bound: ``L[T] = log mean_k exp l^k[T]`` (with ``gamma = 1``: ``log mean_k p(x || h^k)``).
        weights: the final importance weights ``w^k[T]``.
        traces: the final eligibility traces, stacked over compartments.
        rasters: the sampled rasters ``(K, T, n)`` (visible neurons clamped).

    Example:
        ```python
        snn = sd.estimators.BernoulliSNN(jnp.full((2, 3), 0.5), jnp.zeros((3, 3)), jnp.full(3, -1.0))   # neuron 2 visible
        result = sd.estimators.OnlineMultiSampleEM(num_compartments=4).run(
            snn, jnp.ones((5, 2)), jnp.zeros((5, 3)), jnp.array([False, False, True]), jax.random.key(0))
        result.bound, result.rasters.shape   # the bound on log p(observed), (4 samples, 5 steps, 3 neurons)
        ```
    """

    model: BernoulliSNN
    update: BernoulliSNN
    bound: Float[Array, ""]
    weights: Float[Array, " K"]
    traces: BernoulliSNN
    rasters: Float[Array, "K T n"]


class OnlineMultiSampleEM(eqx.Module):
    """Online multi-sample generalised EM with eligibility traces (module docstring for the maths).

    Arguments:
        num_compartments: ``K``, hidden samples sharing the weights.
        eligibility_decay: ``kappa`` in ``[0, 1]``, the eligibility traces' decay per step.
        likelihood_decay: ``gamma`` in ``[0, 1]``, the decay of the visible log-likelihood ``l^k``.
        update_every: apply an update every this many steps (and at the last); ``None``: at the end only.
        hidden_signal: the learning signal of synapses onto hidden neurons.

    Example:
        ```python
        em = sd.estimators.OnlineMultiSampleEM(num_compartments=4, eligibility_decay=0.9,
                                               hidden_signal=sd.estimators.LogMeanSignal(0.9))
        ```
    """

    num_compartments: int = eqx.field(static=True)
    eligibility_decay: float = eqx.field(static=True, default=1.0)
    likelihood_decay: float = eqx.field(static=True, default=1.0)
    update_every: int | None = eqx.field(static=True, default=None)
    hidden_signal: AbstractHiddenSignal = ImportanceWeighted()

    def __check_init__(self):
        check_compartments(self.num_compartments)
        for name in ("eligibility_decay", "likelihood_decay"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 <= value <= 1):
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if self.update_every is not None and (int(self.update_every) != self.update_every or self.update_every < 1):
            raise ValueError(f"update_every must be a positive integer or None, got {self.update_every}")

    def run(
        self,
        model: BernoulliSNN,
        inputs: Float[Array, "T m"],
        observed: Float[Array, "T n"],
        visible: Bool[Array, " n"],
        key: PRNGKeyArray,
        learning_rate: float | Float[Array, ""] = 0.0,
    ) -> OnlineEMResult:
        """One pass over a sequence, sampling and learning as it goes.

        ``observed`` holds the visible neurons' spikes (other columns ignored), ``visible`` marks the
        observed neurons, ``learning_rate`` is ``eta`` (0: the weights stay fixed and ``update`` is the
        accumulated online estimate). Keys are split as :class:`MultiSampleEM` splits them, so with
        fixed weights both sample the same rasters.
        """
        inputs, visible = jnp.asarray(inputs), jnp.asarray(visible, bool)
        observed = jnp.asarray(observed, model.bias.dtype)
        steps, k, n = inputs.shape[0], self.num_compartments, model.n_neurons
        every = steps if self.update_every is None else self.update_every
        model = jax.lax.stop_gradient(model)
        # (T, K) step keys: compartment keys first, then each one's per-step keys, as in sample()
        step_keys = jax.vmap(lambda c: jax.random.split(c, steps))(jax.random.split(key, k)).swapaxes(0, 1)
        stack = jax.tree_util.tree_map(lambda a: jnp.zeros((k,) + a.shape, a.dtype), model)
        carry = (model, stack, jnp.zeros((k, n), model.bias.dtype), jnp.zeros((k,), model.bias.dtype),
                 self.hidden_signal.init(model), _zeros(model))  # fmt: skip

        def compartment(params, trace, x_t, target, step_key):
            drawn = jax.random.bernoulli(step_key, jax.nn.sigmoid(params._potential(x_t, trace))).astype(trace.dtype)
            spikes = jnp.where(visible, target, drawn)
            grad, log_p = local_gradient(params, x_t, trace, spikes)
            return grad, jnp.sum(jnp.where(visible, log_p, 0.0)), params.trace_decay * trace + spikes, spikes

        def step(carry, xs):
            params, traces, z, ell, signal_state, total = carry
            t, x_t, target, keys = xs
            grads, log_visible, z, spikes = jax.vmap(compartment, in_axes=(None, 0, None, None, 0))(params, z, x_t, target, keys)
            traces = jax.tree_util.tree_map(lambda e, g: self.eligibility_decay * e + g, traces, grads)
            ell = self.likelihood_decay * ell + log_visible
            weights = jax.nn.softmax(ell)
            bound = jax.scipy.special.logsumexp(ell) - jnp.log(k)
            hidden, signal_state = self.hidden_signal(traces, weights, bound, signal_state)
            weighted = jax.tree_util.tree_map(lambda e: jnp.tensordot(weights, e, 1), traces)
            delta = _by_neuron(weighted, visible, hidden)
            apply = ((t + 1) % every == 0) | (t == steps - 1)
            delta = jax.tree_util.tree_map(lambda d: jnp.where(apply, d, 0.0), delta)
            params = jax.tree_util.tree_map(lambda p, d: p + learning_rate * d, params, delta)
            total = jax.tree_util.tree_map(jnp.add, total, delta)
            return (params, traces, z, ell, signal_state, total), (spikes, bound, weights)

        xs = (jnp.arange(steps), inputs, observed, step_keys)
        (params, traces, _, _, _, total), (spikes, bounds, weights) = jax.lax.scan(step, carry, xs)
        return OnlineEMResult(params, total, bounds[-1], weights[-1], traces, spikes.swapaxes(0, 1))

    def eligibility_traces(self, model: BernoulliSNN, inputs: Float[Array, "T m"], spikes: Float[Array, "T n"]) -> BernoulliSNN:
        """``e[T] = sum_t kappa^(T-t) grad log p(s[t] | past)`` of a fixed raster (teacher forcing)."""
        inputs, spikes = jnp.asarray(inputs), jnp.asarray(spikes, model.bias.dtype)

        def step(carry, xs):
            trace, e = carry
            grad, _ = local_gradient(model, xs[0], trace, xs[1])
            e = jax.tree_util.tree_map(lambda a, g: self.eligibility_decay * a + g, e, grad)
            return (model.trace_decay * trace + xs[1], e), None

        (_, traces), _ = jax.lax.scan(step, (jnp.zeros((model.n_neurons,), model.bias.dtype), _zeros(model)), (inputs, spikes))
        return traces
