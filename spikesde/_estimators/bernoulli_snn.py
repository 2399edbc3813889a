r"""Probabilistic spiking networks in discrete time: Bernoulli (sigmoid) GLM neurons.

The model of Jang & Simeone (2021) and of sampling-based credit assignment in Poisson SNNs: at
each step ``t`` neuron ``i`` fires with probability ``sigma(u_i[t])``,

    u_i[t] = b_i + sum_m x_m[t] W^in_{mi} + sum_j z_j[t] W^rec_{ji},
    z_j[t] = a z_j[t-1] + s_j[t-1],   a = exp(-dt / tau)    (a trace of past spikes, z[0] = 0),

independently across neurons given the past. The log-likelihood of a spike raster ``s`` is

    log p(s) = sum_{t, i} s_i[t] log sigma(u_i[t]) + (1 - s_i[t]) log(1 - sigma(u_i[t])),

a smooth function of the parameters with the spikes held fixed: the ingredient of score-function
(likelihood-ratio) and importance-weighted gradient estimators. Splitting the neurons into visible
``x`` and hidden ``h`` gives the causally conditioned likelihoods ``log p(x || h)`` and
``log p(h || x)`` (the sums over visible, resp. hidden, neurons), whose sum is ``log p(x, h)``.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, PRNGKeyArray


def bernoulli_log_prob(u: Float[Array, "*n"], spikes: Float[Array, "*n"]) -> Float[Array, "*n"]:
    """``log p(s | u) = s log sigma(u) + (1 - s) log(1 - sigma(u))`` of each neuron at one step."""
    # log sigma(u) = -softplus(-u), log(1 - sigma(u)) = -softplus(u): finite for any u.
    return -spikes * jax.nn.softplus(-u) - (1 - spikes) * jax.nn.softplus(u)


class BernoulliSNN(eqx.Module):
    """A recurrent network of Bernoulli GLM neurons driven by input spikes.

    Arguments:
        input_weights: ``(m, n)`` weights from input channels to neurons.
        recurrent_weights: ``(n, n)`` weights ``W^rec[j, i]`` from neuron ``j``'s spike trace to ``i``.
        bias: ``(n,)`` biases.
        trace_decay: ``a`` in ``[0, 1)``, the per-step decay of the spike traces.

    Example:
        ```python
        snn = sd.estimators.BernoulliSNN(jnp.full((2, 3), 0.5), jnp.zeros((3, 3)), jnp.full(3, -1.0))   # 2 inputs, 3 neurons
        inputs, spikes = jnp.ones((4, 2)), jnp.zeros((4, 3))                                            # 4 time steps
        snn.log_prob(inputs, spikes)   # log p(no spike in 4 steps)
        ```
    """

    input_weights: Float[Array, "m n"]
    recurrent_weights: Float[Array, "n n"]
    bias: Float[Array, " n"]
    trace_decay: float = eqx.field(static=True, default=0.5)

    def __check_init__(self):
        n = self.bias.shape[-1]
        if self.recurrent_weights.shape != (n, n):
            raise ValueError(f"recurrent_weights must have shape ({n}, {n}), got {self.recurrent_weights.shape}")
        if self.input_weights.ndim != 2 or self.input_weights.shape[1] != n:
            raise ValueError(f"input_weights must have shape (channels, {n}), got {self.input_weights.shape}")
        if not (0 <= self.trace_decay < 1 and math.isfinite(self.trace_decay)):
            raise ValueError(f"trace_decay must lie in [0, 1), got {self.trace_decay}")

    @property
    def n_neurons(self) -> int:
        return self.bias.shape[-1]

    def _potential(self, x_t, trace):
        return self.bias + x_t @ self.input_weights + trace @ self.recurrent_weights

    def log_prob_per_neuron(self, inputs: Float[ArrayLike, "T m"], spikes: Float[ArrayLike, "T n"]) -> Float[Array, " n"]:
        """``sum_t log p(s_i[t] | past)`` for each neuron ``i``, the spikes held fixed (teacher forcing)."""
        inputs, spikes = jnp.asarray(inputs), jnp.asarray(spikes)
        spikes = jax.lax.stop_gradient(spikes.astype(self.bias.dtype))

        def step(trace, xs):
            x_t, s_t = xs
            return self.trace_decay * trace + s_t, bernoulli_log_prob(self._potential(x_t, trace), s_t)

        _, log_p = jax.lax.scan(step, jnp.zeros((self.n_neurons,), self.bias.dtype), (inputs, spikes))
        return jnp.sum(log_p, axis=0)

    def log_prob(self, inputs: Float[ArrayLike, "T m"], spikes: Float[ArrayLike, "T n"]) -> Float[Array, ""]:
        """``log p(s)`` of a whole raster."""
        return jnp.sum(self.log_prob_per_neuron(inputs, spikes))

    def sample(
        self,
        inputs: Float[ArrayLike, "T m"],
        key: PRNGKeyArray,
        observed: Float[ArrayLike, "T n"] | None = None,
        visible: Bool[ArrayLike, " n"] | None = None,
    ) -> Float[Array, "T n"]:
        """A raster ``(T, n)``; with ``observed`` and ``visible``, the visible neurons are clamped to
        ``observed`` and the hidden ones sampled from ``p(h || x)``. No gradient flows through it."""
        inputs = jnp.asarray(inputs)
        steps = inputs.shape[0]
        clamp = jnp.zeros((self.n_neurons,), bool) if visible is None else jnp.asarray(visible, bool)
        targets = jnp.zeros((steps, self.n_neurons), self.bias.dtype) if observed is None else jnp.asarray(observed, self.bias.dtype)
        model = jax.lax.stop_gradient(self)

        def step(trace, xs):
            x_t, target, step_key = xs
            u = model._potential(x_t, trace)
            drawn = jax.random.bernoulli(step_key, jax.nn.sigmoid(u)).astype(u.dtype)
            s_t = jnp.where(clamp, target, drawn)
            return model.trace_decay * trace + s_t, s_t

        keys = jax.random.split(key, steps)
        _, spikes = jax.lax.scan(step, jnp.zeros((self.n_neurons,), self.bias.dtype), (inputs, targets, keys))
        return spikes


def random_bernoulli_snn(
    n_inputs: int, n_neurons: int, *, key: PRNGKeyArray, scale: float = 1.0, bias: float = -1.0, trace_decay: float = 0.5
) -> BernoulliSNN:
    """A network with ``N(0, scale^2 / fan_in)`` weights and a common bias."""
    k_in, k_rec = jax.random.split(key)
    return BernoulliSNN(
        input_weights=scale * jax.random.normal(k_in, (n_inputs, n_neurons)) / math.sqrt(max(n_inputs, 1)),
        recurrent_weights=scale * jax.random.normal(k_rec, (n_neurons, n_neurons)) / math.sqrt(n_neurons),
        bias=jnp.full((n_neurons,), bias),
        trace_decay=trace_decay,
    )
