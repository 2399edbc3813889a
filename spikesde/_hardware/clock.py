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
    """A stepper that applies one chip update (a *tick*) when a step ends on the clock grid
    ``t0 + k dt`` and leaves the state unchanged when it ends between ticks.

    The event core splits a grid step at input spikes: the piece up to the input spike then
    changes nothing, the input is added to the synaptic row, and the piece ending on the grid
    applies the tick with it, so inputs that arrive during a tick period take effect at its end.
    ``dt`` and ``t0`` must be those given to :func:`spikesde.simulate`. Time points within
    ``1e-3 dt`` (plus a few ulps) of a grid point count as on it: an input spike that close before
    a tick is applied at the next one.

    A :class:`Refractory` neuron is ticked through its inner neuron, and its refractory counter
    drops by one per tick.

    The Brownian increment passed for the ticking piece is rescaled to the whole tick's
    increment. A ``key`` seeds the tick's random numbers (stochastic rounding, on-chip noise):
    tick ``k`` uses ``fold_in(key, k)``, so a run is reproducible and independent of how the core
    splits steps.
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
        end = jax.lax.stop_gradient(t) + h_value
        index = jnp.round((end - self.t0) / self.dt)
        # A piece ticks when it ends on a grid point and is not a rounding-error sliver (the core
        # computes grid times in the state's float type, so allow a few ulps of the time as well).
        tolerance = 1e-3 * self.dt + 16 * jnp.finfo(y.dtype).eps * jnp.abs(end)
        on_grid = (h_value > tolerance) & (jnp.abs(end - (self.t0 + index * self.dt)) < tolerance)
        # The core hands the ticking piece dW (h / dt): undo it to get the whole tick's increment.
        whole_dW = dW * (self.dt / jnp.where(h_value > 0, h_value, self.dt))
        key = None if self.key is None else jax.random.fold_in(self.key, jnp.max(index).astype(jnp.uint32))
        start = jnp.asarray(self.t0 + (jnp.max(index) - 1) * self.dt, y.dtype)
        if isinstance(neuron, Refractory):
            inner = self.tick(neuron.neuron, start, y[:-1], whole_dW, key)
            y_tick = jnp.concatenate([inner, jnp.maximum(y[-1:] - 1, 0)])
        else:
            y_tick = self.tick(neuron, start, y, whole_dW, key)
        return jnp.where(on_grid, y_tick, y) + self.shadow(neuron, t, y, h)


class Quantizer(eqx.Module):
    """Rounds every arithmetic result into ``format`` with ``rounding``; stochastic rounding draws
    a fresh key for each operation from ``key`` (``fold_in(key, i)`` for the ``i``-th call).

    ``straight_through=True`` replaces ``q(x)`` by ``x + stop_gradient(q(x) - x)``: the value is
    the rounded one, the derivative that of the float operation (the float shadow).
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
