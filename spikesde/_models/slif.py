"""The stochastic leaky integrate-and-fire neuron with escape noise (Holberg & Salvi 2024)."""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._core.current import AbstractCurrent
from .currents import as_current
from .escape import AbstractEscape, ExponentialEscape
from .reset import AbstractReset
from .._core.neuron import AbstractNeuron, _as_parameter, decay_phi1
from .._core.validation import check_count


class _SLIFBase(AbstractNeuron):
    """The fields, the escape rate and the membrane flow that :class:`SLIF` and
    :class:`spikesde.RefractorySLIF` share (see :class:`SLIF` for each field)."""

    n_neurons: int = eqx.field(static=True)
    input_current: AbstractCurrent
    mu_v: Float[Array, "*n"]
    mu_i: Float[Array, "*n"]
    sigma_v: Float[Array, "*n"]
    sigma_i: Float[Array, "*n"]
    v_reset: Float[Array, "*n"]
    alpha: Float[Array, "*n"]
    beta: Float[Array, "*n"]
    v_threshold: Float[Array, "*n"]
    tau_s: Float[Array, "*n"]
    v0: Float[Array, "*n"]
    i0: Float[Array, "*n"]
    reset_rule: AbstractReset | None
    escape: AbstractEscape | None

    synaptic_row: ClassVar[int] = 1
    noise_rows: ClassVar[tuple[int, ...]] = (0, 1)
    uses_clock: ClassVar[bool] = True
    affine_event: ClassVar[bool] = True
    domains: ClassVar[dict[str, str]] = dict(
        mu_v="nonnegative", mu_i="nonnegative", sigma_v="nonnegative", sigma_i="nonnegative", v_reset="finite",
        alpha="nonnegative", beta="finite", v_threshold="finite", tau_s="positive", v0="finite", i0="finite",
    )

    def __init__(
        self,
        n_neurons: int = 1,
        input_current: ArrayLike | AbstractCurrent = 1.5,
        *,
        mu_v: ArrayLike = 15.0,
        mu_i: ArrayLike = 0.0,
        sigma_v: ArrayLike = 0.0,
        sigma_i: ArrayLike = 0.0,
        v_reset: ArrayLike | None = None,
        alpha: ArrayLike = 0.03,
        beta: ArrayLike | None = None,
        v_threshold: ArrayLike | None = None,
        tau_s: ArrayLike | None = None,
        v0: ArrayLike = 0.0,
        i0: ArrayLike = 0.0,
        reset_rule: AbstractReset | None = None,
        escape: AbstractEscape | None = None,
    ):
        _check_options(reset_rule, escape, v_reset=v_reset, beta=beta, v_threshold=v_threshold, tau_s=tau_s)
        self.n_neurons = check_count("n_neurons", n_neurons)
        self.input_current = as_current(input_current)
        self.mu_v = _as_parameter(mu_v)
        self.mu_i = _as_parameter(mu_i)
        self.sigma_v = _as_parameter(sigma_v)
        self.sigma_i = _as_parameter(sigma_i)
        self.v_reset = _as_parameter((1.4 if reset_rule is None else 0.0) if v_reset is None else v_reset)
        self.alpha = _as_parameter(alpha)
        self.beta = _as_parameter(5.0 if beta is None else beta)
        self.v_threshold = _as_parameter(1.0 if v_threshold is None else v_threshold)
        self.tau_s = _as_parameter(1.0 if tau_s is None else tau_s)
        self.v0 = _as_parameter(v0)
        self.i0 = _as_parameter(i0)
        self.reset_rule = reset_rule
        self.escape = escape

    def intensity(self, v: Float[Array, "*n"]) -> Float[Array, "*n"]:
        """``lambda(v) = exp(beta min(v - v_threshold, 10)) / tau_s``, with the whole rate capped at
        ``exp(max_exponent(dtype))`` (about 2e26 in float32) by capping the exponent itself, so that
        the rate, and every gradient through it, is finite for any finite parameters (the cap at 10
        alone protects only ``beta < 8.9`` in float32). With an ``escape`` function: ``escape.rate(v)``."""
        return self.escape_function.rate(v)

    def log_intensity(self, v: Float[Array, "*n"]) -> Float[Array, "*n"]:
        """``log lambda(v)``, in the log domain (``beta min(v - v_threshold, 10) - log tau_s``)."""
        return self.escape_function.log_rate(v)

    @property
    def escape_function(self) -> AbstractEscape:
        """The escape function in use: ``escape``, or the exponential one of ``beta, v_threshold, tau_s``."""
        return ExponentialEscape(self.beta, self.v_threshold, self.tau_s) if self.escape is None else self.escape

    def escape_rate(self, y):
        return self.intensity(y[0])

    def log_escape_rate(self, y):
        return self.log_intensity(y[0])

    def clock_offset(self):
        return jnp.broadcast_to(self.alpha, (self.n_neurons,))

    def diffusion(self):
        shape = (self.n_neurons,)
        return jnp.stack([jnp.broadcast_to(self.sigma_v, shape), jnp.broadcast_to(self.sigma_i, shape)])

    def _membrane_drift(self, t, v, i):
        """``(dV/dt, dI/dt)`` between spikes."""
        c = self.input_current(t)
        return self.mu_v * (i + c - v), jnp.broadcast_to(-self.mu_i * i, v.shape)

    def _membrane_flow(self, t, v, i, h):
        """``(V, I)`` after a time ``h`` with the input held at ``c(t)``: the exact flow of the linear
        block ``V' = mu_v (I + c - V)``, ``I' = -mu_i I``, its coupling integral written through phi1
        so that ``mu_v = mu_i`` needs no special case and large rates cannot overflow (see decay_phi1)."""
        c = self.input_current(t)
        coupling = self.mu_v * h * decay_phi1(self.mu_v, self.mu_i, h)
        v_new = v * jnp.exp(-self.mu_v * h) + c * (-jnp.expm1(-self.mu_v * h)) + i * coupling
        return v_new, jnp.broadcast_to(i * jnp.exp(-self.mu_i * h), v_new.shape)

    def _reset_membrane(self, v, fired):
        """``V`` after a spike where ``fired``: the reset rule, or the subtraction of ``v_reset``."""
        if self.reset_rule is None:
            return jnp.where(fired, v - self.v_reset, v)
        return self.reset_rule.apply(v, fired.astype(int))

    def _initial_rows(self, clock):
        """``V``, ``I`` and the clock ``s = -(clock + alpha)`` at ``t0``, each ``(n_neurons,)``."""
        shape = (self.n_neurons,)
        return [jnp.broadcast_to(x, shape) for x in (self.v0, self.i0, -(clock + self.alpha))]


class SLIF(_SLIFBase):
    r"""Stochastic leaky integrate-and-fire neurons, state ``(V, I, s)``.

    Between spikes, for each neuron,

        dV = mu_v (I + c(t) - V) dt + sigma_v dW_V,
        dI = -mu_i I dt + sigma_i dW_I,
        ds = lambda(V) dt,   lambda(v) = exp(beta min(v - v_threshold, 10)) / tau_s
                             (or ``escape.rate(v)`` with an escape function given).

    The clock ``s`` starts at ``-(E_0 + alpha)`` with ``E_0 ~ Exp(1)``; the neuron fires when ``s``
    crosses 0, i.e. when the integrated intensity reaches ``Exp(1) + alpha`` (the time-rescaling
    construction of a point process with stochastic intensity ``lambda(V)``). At a spike:
    ``V <- V - v_reset`` (or the reset rule's ``V``), ``s <- -(E' + alpha)`` with a fresh
    ``E' ~ Exp(1)``; the network adds the synaptic weights to the post-synaptic ``I``.

    NEST's ``pp_psc_delta`` (``dV/dt = -V/tau_m + I_e/C_m``, rate ``c_1 V + c_2 exp(c_3 V)``,
    ``V <- 0`` at a spike, ``dead_time = 0``) is, with ``V`` in mV and time in seconds,
    ``SLIF(1, I_e tau_m / C_m, mu_v=1/tau_m, alpha=0, escape=ExponentialLinearEscape(c_1, c_2, c_3),
    reset_rule=SetReset(0.0))``. With ``dead_time > 0`` it is :class:`spikesde.RefractorySLIF` with
    the same arguments and ``t_ref = dead_time`` (in seconds).

    Arguments (each a scalar or one value per neuron):
        n_neurons: number of neurons in the population.
        input_current: ``c(t)``: a number, an array, a callable or an :class:`AbstractCurrent`.
        mu_v, mu_i: membrane and synaptic rates (1/time).
        sigma_v, sigma_i: noise scales on ``V`` and ``I``.
        v_reset: amount subtracted from ``V`` at a spike (default 1.4; only with the default reset rule).
        reset_rule: an :class:`AbstractReset` (``SubtractReset``, ``SetReset``, ``NoReset``) instead of
            subtracting ``v_reset``; ``v_reset`` must then not be given (it is stored as 0, unused).
        escape: an :class:`AbstractEscape` instead of the exponential intensity; ``beta``,
            ``v_threshold``, ``tau_s`` must then not be given (their defaults are stored, unused).
        alpha: clock offset (acts like a refractory period).
        beta, v_threshold, tau_s: parameters of the intensity ``lambda``.
        v0, i0: initial ``V`` and ``I``.

    Example:
        ```python
        neurons = sd.SLIF(1, input_current=1.5, mu_v=15.0, sigma_v=0.5, v_reset=1.4)
        sd.simulate(neurons, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16).spike_times   # (1, 16), +inf padded
        ```
    """

    state_names: ClassVar[tuple[str, ...]] = ("V", "I", "s")

    def initial_state(self, clock):
        return jnp.stack(self._initial_rows(clock))

    def drift(self, t, y):
        v, i, _ = y
        return jnp.stack([*self._membrane_drift(t, v, i), self.intensity(v)])

    def event(self, y):
        return y[2]

    def reset(self, y, fired, clock):
        v, i, s = y
        return jnp.stack([self._reset_membrane(v, fired), i, jnp.where(fired, -(clock + self.alpha), s)])

    def linear_step(self, t, y, h):
        v, i, s = y
        v_new, i_new = self._membrane_flow(t, v, i, h)
        return jnp.stack([v_new, i_new, jnp.broadcast_to(s + self.intensity(v) * h, v_new.shape)])


def _check_options(reset_rule, escape, **given) -> None:
    """A reset rule replaces ``v_reset``, an escape function ``beta, v_threshold, tau_s``: refuse both at once."""
    if reset_rule is not None and not isinstance(reset_rule, AbstractReset):
        raise TypeError(f"reset_rule must be an AbstractReset (SubtractReset, SetReset, NoReset), got {type(reset_rule).__name__}")
    if escape is not None and not isinstance(escape, AbstractEscape):
        raise TypeError(f"escape must be an AbstractEscape, got {type(escape).__name__}")
    if reset_rule is not None and given["v_reset"] is not None:
        raise ValueError(f"v_reset is the amount of the default reset; with reset_rule={type(reset_rule).__name__} give it there")
    clash = [name for name in ("beta", "v_threshold", "tau_s") if given[name] is not None]
    if escape is not None and clash:
        raise ValueError(f"{', '.join(clash)} belong to the default exponential intensity; with escape={type(escape).__name__} give them there")
