"""The classic leaky integrate-and-fire neuron with a deterministic threshold."""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._core.current import AbstractCurrent
from .currents import as_current
from .._core.neuron import AbstractNeuron, _as_parameter, decay_phi1
from .._core.validation import check_count


class LIF(AbstractNeuron):
    r"""Leaky integrate-and-fire neurons with a hard threshold, state ``(V, I)``.

        dV = (-V / tau_mem + I + c(t)) dt + sigma_v dW_V,
        dI = -I / tau_syn dt + sigma_i dW_I.

    Neuron ``k`` fires when ``V_k`` crosses ``threshold``; then ``V_k <- V_k - v_reset``
    (``v_reset`` defaults to ``threshold``, so ``V`` restarts at 0). With ``c`` constant,
    ``V(0) = 0`` and ``c tau_mem > threshold`` the spikes are periodic with period
    ``tau_mem ln(c tau_mem / (c tau_mem - threshold))``.

    With ``sigma_v != 0`` the event is a first-passage time of a diffusion: simulation works, but
    spike times have no pathwise derivative (use :class:`SLIF` for noisy gradients).

    Arguments (each a scalar or one value per neuron): ``n_neurons``, ``input_current`` (``c(t)``),
    ``tau_mem``, ``tau_syn`` (time constants), ``threshold``, ``v_reset`` (amount subtracted at a
    spike), ``sigma_v``, ``sigma_i`` (noise scales), ``v0``, ``i0`` (initial state).

    Example:
        ```python
        neuron = sd.LIF(1, input_current=1.5, tau_mem=1.0, tau_syn=0.5, threshold=1.0)
        sd.simulate(neuron, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16).spike_times[0, 0]   # deterministic: ln 3 = 1.0986...
        ```
    """

    n_neurons: int = eqx.field(static=True)
    input_current: AbstractCurrent
    tau_mem: Float[Array, "*n"]
    tau_syn: Float[Array, "*n"]
    threshold: Float[Array, "*n"]
    v_reset: Float[Array, "*n"]
    sigma_v: Float[Array, "*n"]
    sigma_i: Float[Array, "*n"]
    v0: Float[Array, "*n"]
    i0: Float[Array, "*n"]

    state_names: ClassVar[tuple[str, ...]] = ("V", "I")
    synaptic_row: ClassVar[int] = 1
    noise_rows: ClassVar[tuple[int, ...]] = (0, 1)
    uses_clock: ClassVar[bool] = False
    affine_event: ClassVar[bool] = True
    domains: ClassVar[dict[str, str]] = dict(
        tau_mem="positive", tau_syn="positive", threshold="finite", v_reset="finite",
        sigma_v="nonnegative", sigma_i="nonnegative", v0="finite", i0="finite",
    )

    def __init__(
        self,
        n_neurons: int = 1,
        input_current: ArrayLike | AbstractCurrent = 1.5,
        *,
        tau_mem: ArrayLike = 1.0,
        tau_syn: ArrayLike = 0.5,
        threshold: ArrayLike = 1.0,
        v_reset: ArrayLike | None = None,
        sigma_v: ArrayLike = 0.0,
        sigma_i: ArrayLike = 0.0,
        v0: ArrayLike = 0.0,
        i0: ArrayLike = 0.0,
    ):
        self.n_neurons = check_count("n_neurons", n_neurons)
        self.input_current = as_current(input_current)
        self.tau_mem = _as_parameter(tau_mem)
        self.tau_syn = _as_parameter(tau_syn)
        self.threshold = _as_parameter(threshold)
        self.v_reset = _as_parameter(threshold if v_reset is None else v_reset)
        self.sigma_v = _as_parameter(sigma_v)
        self.sigma_i = _as_parameter(sigma_i)
        self.v0 = _as_parameter(v0)
        self.i0 = _as_parameter(i0)

    def initial_state(self, clock):
        shape = (self.n_neurons,)
        return jnp.stack([jnp.broadcast_to(self.v0, shape), jnp.broadcast_to(self.i0, shape)])

    def drift(self, t, y):
        v, i = y
        c = self.input_current(t)
        return jnp.stack([-v / self.tau_mem + i + c, jnp.broadcast_to(-i / self.tau_syn, v.shape)])

    def diffusion(self):
        shape = (self.n_neurons,)
        return jnp.stack([jnp.broadcast_to(self.sigma_v, shape), jnp.broadcast_to(self.sigma_i, shape)])

    def event(self, y):
        return y[0] - self.threshold

    def reset(self, y, fired, clock):
        v, i = y
        return jnp.stack([jnp.where(fired, v - self.v_reset, v), i])

    def linear_step(self, t, y, h):
        v, i = y
        c = self.input_current(t)
        rate_v = 1 / self.tau_mem
        rate_i = 1 / self.tau_syn
        decay_v = jnp.exp(-rate_v * h)
        coupling = h * decay_phi1(rate_v, rate_i, h)
        v_new = v * decay_v + c * self.tau_mem * (-jnp.expm1(-rate_v * h)) + i * coupling
        i_new = i * jnp.exp(-rate_i * h)
        return jnp.stack([v_new, jnp.broadcast_to(i_new, v_new.shape)])
