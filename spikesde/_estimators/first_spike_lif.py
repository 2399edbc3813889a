r"""Feed-forward LIF networks with exact spike times in closed form (Göltz et al. 2021).

Current-based LIF neurons as in :class:`spikesde.LIF` (``dV = (-V / tau_mem + I) dt``,
``dI = -I / tau_syn dt``, an input spike of weight ``w`` adds ``w`` to ``I``) with
``tau_mem = 2 tau_syn = 2 tau``. A spike at ``t_j`` then contributes
``w_j K(t - t_j)``, ``K(s) = 2 tau (exp(-s / 2 tau) - exp(-s / tau))`` for ``s > 0``, so that with
``x = exp(-t / 2 tau)`` and the causal set ``C`` (inputs before ``t``)

    V(t) = 2 tau (A x - B x^2),   A = sum_{j in C} w_j exp(t_j / 2 tau),   B = sum_{j in C} w_j exp(t_j / tau),

and the threshold crossing ``V = theta`` solves a quadratic in ``x``. The first spike is the earliest
upward crossing over all causal sets (one per gap between sorted input times). Its value is the
same first spike time the event core finds with an exact stepper, and differentiating the closed
form gives the exact pathwise gradient (the implicit-function derivative
``d t* = -d_theta V / V'(t*)``) at a cost of ``O(n_in)`` per neuron, with no time stepping.

Each hidden neuron contributes its first spike only (time-to-first-spike coding): later spikes are
ignored, as if the neuron were refractory after firing. The output layer does not spike: the logits
are the maxima over a time grid of the output neurons' membrane potentials, computed from the
hidden spike times with ``K``.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray


def psp_kernel(s: Float[ArrayLike, "*shape"], tau: float) -> Float[Array, "*shape"]:
    """``K(s) = 2 tau (exp(-s / 2 tau) - exp(-s / tau))`` for ``s > 0``, else 0 (``tau_syn = tau``)."""
    s = jnp.asarray(s)
    positive = s > 0
    safe = jnp.where(positive, s, 0.0)  # keeps exp finite for s = -inf (absent spikes)
    return jnp.where(positive, 2 * tau * (jnp.exp(-safe / (2 * tau)) - jnp.exp(-safe / tau)), 0.0)


def lif_first_spike_times(
    input_times: Float[ArrayLike, " m"], weights: Float[ArrayLike, "m n"], *, tau: float, threshold: float
) -> Float[Array, " n"]:
    """The first spike time of each of ``n`` neurons driven by ``m`` input spikes (``+inf`` entries
    are absent spikes), ``+inf`` where a neuron never reaches ``threshold``.

    Arguments:
        input_times: ``(m,)`` input spike times (any order).
        weights: ``(m, n)`` input weights.
        tau: the synaptic time constant (``tau_mem = 2 tau``), in the units of the times.
        threshold: the firing threshold ``theta``.

    Example:
        ```python
        times = sd.estimators.lif_first_spike_times(jnp.array([1.0, 2.0]), jnp.array([[1.5], [1.5]]), tau=5.0, threshold=1.0)
        ```
    """
    input_times, weights = jnp.asarray(input_times), jnp.asarray(weights)
    order = jnp.argsort(input_times)
    times, weights = input_times[order], weights[order]
    present = jnp.isfinite(times)
    t_safe = jnp.where(present, times, 0.0)
    # Shift times by the first input so exp(t / tau) stays in range.
    origin = jax.lax.stop_gradient(t_safe[0])
    scaled = jnp.where(present, t_safe - origin, 0.0)
    a = jnp.cumsum(jnp.where(present[:, None], weights * jnp.exp(scaled / (2 * tau))[:, None], 0.0), axis=0)
    b = jnp.cumsum(jnp.where(present[:, None], weights * jnp.exp(scaled / tau)[:, None], 0.0), axis=0)
    starts = times[:, None]
    ends = jnp.concatenate([times[1:], jnp.array([jnp.inf], times.dtype)])[:, None]
    # B x^2 - A x + c = 0 with c = theta / (2 tau); stable roots q / B and c / q.
    c = threshold / (2 * tau)
    disc = a**2 - 4 * b * c
    real = disc >= 0
    sqrt_disc = jnp.sqrt(jnp.where(real, disc, 1.0))
    q = 0.5 * (a + jnp.where(a >= 0, 1.0, -1.0) * sqrt_disc)
    best = jnp.full(weights.shape[1], jnp.inf, times.dtype)
    for numerator, denominator in ((q, b), (c, q)):
        ok = real & (denominator != 0)
        x = jnp.where(ok, numerator / jnp.where(ok, denominator, 1.0), -1.0)
        ok = ok & (x > 0)
        t = origin - 2 * tau * jnp.log(jnp.where(ok, x, 1.0))
        # Upward crossing: dV/dt = x (2 B x - A) > 0; inside the gap of its causal set.
        ok = ok & (2 * b * x > a) & (t >= starts) & (t < ends) & present[:, None]
        best = jnp.minimum(best, jnp.min(jnp.where(ok, t, jnp.inf), axis=0))
    return best


class FirstSpikeLIFNetwork(eqx.Module):
    """A ``n_in - n_hidden - n_out`` LIF classifier with exact first-spike times (see module docstring).

    Arguments:
        hidden_weights: ``(n_in, n_hidden)`` input-to-hidden weights.
        output_weights: ``(n_hidden, n_out)`` hidden-to-output weights.
        tau_syn: synaptic time constant ``tau`` (``tau_mem = 2 tau``).
        threshold: hidden firing threshold.
        readout_times: the grid over which the output potentials are maximised.

    Example:
        ```python
        net = sd.estimators.FirstSpikeLIFNetwork(jnp.full((2, 3), 2.0), jnp.full((3, 2), 2.0), tau_syn=5.0,
                                                 readout_times=jnp.linspace(0.0, 30.0, 31))
        net(jnp.array([1.0, 2.0]))   # the output logits (2,)
        ```
    """

    hidden_weights: Float[Array, "n_in n_hidden"]
    output_weights: Float[Array, "n_hidden n_out"]
    tau_syn: float = eqx.field(static=True)
    threshold: float = eqx.field(static=True, default=1.0)
    readout_times: Float[Array, " T"] = eqx.field(converter=jnp.asarray, default=None)

    def __check_init__(self):
        for name in ("tau_syn", "threshold"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be positive and finite, got {value}")
        if self.hidden_weights.shape[1] != self.output_weights.shape[0]:
            raise ValueError(
                f"hidden_weights has {self.hidden_weights.shape[1]} outputs but output_weights has "
                f"{self.output_weights.shape[0]} inputs"
            )
        if self.readout_times.ndim != 1 or self.readout_times.size < 1:
            raise ValueError("readout_times must be a non-empty 1-d grid")

    def hidden_spike_times(self, input_times: Float[ArrayLike, " n_in"]) -> Float[Array, " n_hidden"]:
        """First spike time of every hidden neuron (``+inf`` if silent)."""
        return lif_first_spike_times(input_times, self.hidden_weights, tau=self.tau_syn, threshold=self.threshold)

    def output_potentials(self, input_times: Float[ArrayLike, " n_in"]) -> Float[Array, "T n_out"]:
        """Output membrane potentials on ``readout_times``."""
        return self.potentials_from_hidden(self.hidden_spike_times(input_times))

    def potentials_from_hidden(self, hidden_times: Float[ArrayLike, " n_hidden"]) -> Float[Array, "T n_out"]:
        """Output potentials on ``readout_times`` given the hidden first-spike times (``+inf``: silent)."""
        hidden_times = jnp.asarray(hidden_times)
        lag = self.readout_times[:, None] - jnp.where(jnp.isfinite(hidden_times), hidden_times, jnp.inf)[None]
        return psp_kernel(lag, self.tau_syn) @ self.output_weights

    def __call__(self, input_times: Float[ArrayLike, " n_in"]) -> Float[Array, " n_out"]:
        """Logits: the maximum over ``readout_times`` of each output potential."""
        return jnp.max(self.output_potentials(input_times), axis=0)


def random_first_spike_network(
    n_in: int,
    n_hidden: int,
    n_out: int,
    *,
    key: PRNGKeyArray,
    tau_syn: float,
    readout_times: ArrayLike,
    threshold: float = 1.0,
    hidden_mean: float = 0.0,
    hidden_scale: float = 1.0,
    output_scale: float = 1.0,
) -> FirstSpikeLIFNetwork:
    """Weights ``N(hidden_mean, hidden_scale^2 / n_in)`` and ``N(0, output_scale^2 / n_hidden)``."""
    k_hidden, k_out = jax.random.split(key)
    return FirstSpikeLIFNetwork(
        hidden_weights=hidden_mean + hidden_scale * jax.random.normal(k_hidden, (n_in, n_hidden)) / math.sqrt(n_in),
        output_weights=output_scale * jax.random.normal(k_out, (n_hidden, n_out)) / math.sqrt(n_hidden),
        tau_syn=tau_syn,
        threshold=threshold,
        readout_times=readout_times,
    )
