"""Clock-driven steppers: the state changes only at the ticks of a fixed clock, as on a chip.

A clock-driven stepper plugs into the event core like any :class:`spikesde.AbstractStepper`; with
a grid event-location policy (threshold checked at the ticks) the core's loop, reset map, spike
buffers and :class:`spikesde.Solution` are the float solvers' own.
"""

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._core.neuron import AbstractNeuron
from .._core.stepper import AbstractStepper
from .formats import AbstractFormat
from .refractory import Refractory
from .rounding import AbstractRounding


class AbstractClockStepper(AbstractStepper):
    """A stepper that applies one chip update (a *tick*) to every neuron whose piece of the grid
    step has positive length, and leaves the state unchanged on pieces of length zero.

    The event core calls ``step(neuron, t_i, y, h, dW)`` with ``t_i`` the start of the grid step
    and ``h`` each neuron's piece, from its own time in the step to the step's end. With a grid
    event location (events at the step's end) every neuron's step is one piece, so each neuron
    ticks once per grid step; a neuron that fired is then at the step's end, and its zero-length
    remainder changes nothing. Pieces shorter than ``1e-3 dt`` count as zero (a rounding sliver).

    Chip semantics for jumps: use ``event_policy=spikesde.ParallelEvents()``: spikes of tick ``k``
    and input spikes in ``(t_k, t_k + dt]`` are added to the synaptic rows at the step's end and act
    from tick ``k + 1`` on. The default ``SequentialEvents`` gives the same result for spike
    coupling and for input spikes on grid points, but splits a step at an input spike inside it,
    which would tick twice.

    A :class:`Refractory` neuron is ticked through its inner neuron, and its refractory counter
    drops by one per tick.

    The Brownian increment passed for a piece is rescaled to the whole tick's increment. A ``key``
    seeds the tick's random numbers (stochastic rounding, on-chip noise): the tick ending at
    ``t0 + k dt`` uses ``fold_in(key, k)``, so a run is reproducible and independent of how the
    core splits steps. ``dt`` and ``t0`` must be those given to :func:`spikesde.simulate`.

    Example:
        ```python
        issubclass(sd.hardware.LowPrecisionEuler, sd.hardware.AbstractClockStepper)   # True: one chip tick per step
        ```
    """

    dt: float = eqx.field(static=True)
    t0: float = eqx.field(static=True, default=0.0)
    key: PRNGKeyArray | None = None
    affine_in_time = False

    def __check_init__(self):
        if not (isinstance(self.dt, (int, float)) and math.isfinite(self.dt) and self.dt > 0):
            raise ValueError(f"{type(self).__name__}: dt must be a positive Python float (the clock period), got {self.dt!r}")

    @abc.abstractmethod
    def tick(
        self, neuron: AbstractNeuron, t: Float[Array, ""], y: Float[Array, "d n"], dW: Float[Array, "r n"], key: PRNGKeyArray | None
    ) -> Float[Array, "d n"]:
        """One chip update of the state ``y`` over the tick that starts at ``t`` (length ``dt``)."""

    def shadow(self, neuron: AbstractNeuron, t: Float[ArrayLike, ""], y: Float[Array, "d n"], h: Float[ArrayLike, "*n"]) -> Float[Array, "d n"] | float:
        """A term of value zero added to every step, whose derivative gives gradients (see
        :mod:`spikesde._hardware.straight_through`); none by default."""
        return 0.0

    def step(self, neuron, t, y, h, dW):
        h_value = jax.lax.stop_gradient(h)
        t_value = jax.lax.stop_gradient(t)
        ticks = h_value > 1e-3 * self.dt
        # The core hands a piece dW (h / dt): undo it to get the whole tick's increment.
        whole_dW = dW * (self.dt / jnp.where(h_value > 0, h_value, self.dt))
        number = jnp.round((t_value - self.t0) / self.dt) + 1
        key = None if self.key is None else jax.random.fold_in(self.key, number.astype(jnp.uint32))
        if isinstance(neuron, Refractory):
            inner = self.tick(neuron.neuron, t_value, y[:-1], whole_dW, key)
            y_tick = jnp.concatenate([inner, jnp.maximum(y[-1:] - 1, 0)])
        else:
            y_tick = self.tick(neuron, t_value, y, whole_dW, key)
        return jnp.where(ticks, y_tick, y) + self.shadow(neuron, t, y, h)


class Quantizer(eqx.Module):
    """Rounds every arithmetic result into ``format`` with ``rounding``; stochastic rounding draws
    a fresh key for each operation from ``key`` (``fold_in(key, i)`` for the ``i``-th call).

    ``straight_through=True`` replaces ``q(x)`` by ``x + stop_gradient(q(x) - x)``: the value is
    the rounded one, the derivative that of the float operation (the float shadow).

    Example:
        ```python
        quantizer = sd.hardware.Quantizer(sd.hardware.FixedPoint(3, 8), sd.hardware.NearestEven())
        quantizer(jnp.array(0.1234), 0)   # 0.125: operation 0 rounded into s3.8
        ```
    """

    format: AbstractFormat
    rounding: AbstractRounding
    key: PRNGKeyArray | None = None
    straight_through: bool = eqx.field(static=True, default=False)

    def __call__(self, x: Float[Array, "*s"], op: int) -> Float[Array, "*s"]:
        """The rounded ``x``; ``op`` numbers the operation within the tick (distinct random draws)."""
        key = None
        if self.rounding.needs_key:
            if self.key is None:
                raise ValueError("stochastic rounding needs a key: give the stepper key=jax.random.key(...)")
            key = jax.random.fold_in(self.key, op)
        q = self.format.quantize(x, self.rounding, key)
        if self.straight_through:
            return x + jax.lax.stop_gradient(q - x)
        return q
