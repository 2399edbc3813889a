"""Straight-through (float shadow) gradients through the emulated low-precision forward pass.

The forward pass is the chip's: rounded arithmetic, events on the clock. The backward pass is
that of the float scheme it emulates:

* every rounding ``q(x)`` is ``x + stop_gradient(q(x) - x)`` (value rounded, derivative 1);
* a clock-driven step adds ``(h - stop_gradient(h)) mu(t, y)`` (value 0): moving the end of a
  step moves the state along the drift;
* :class:`StraightThroughGridLocation` reports the grid time (value) with the derivative of the
  crossing time of the step's chord, ``s = -E(y) h / (E(y_next) - E(y))``.

With these, the event core's own differentiation of a split step yields the jump of the
sensitivities ``J+ = grad T J- + (grad T mu- - mu+) d tau`` of the float recursion: the event step
contributes ``mu- d tau`` and the zero-length step that follows at the same grid time ``-mu+ d tau``.
So ``fit``/optax train a model for a chip with the usual machinery: the gradients are those of a
float Euler solution with exact event times, evaluated along the chip's trajectory.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from .._core.event_location import AbstractEventLocation


def straight_through(x, rounded):
    """``rounded`` in value, ``x`` in derivative: ``x + stop_gradient(rounded - x)``.

    Example:
        ```python
        x = jnp.array(0.3)
        jax.value_and_grad(lambda x: sd.hardware.straight_through(x, jnp.round(x)))(x)   # (0.0, 1.0)
        ```
    """
    return x + jax.lax.stop_gradient(rounded - x)


class StraightThroughGridLocation(AbstractEventLocation):
    """Clock-driven events (a neuron fires at the end of the step on which ``E(y_next) > 0``, or
    ``>= 0`` unless ``strict``) whose times differentiate like the chord crossing of the step.

    Values equal :class:`spikesde.GridEventLocation`'s up to ``1e-6 dt`` (a spike is reported that
    long before the grid point, so that the derivative is not split at a tie with the step's end;
    the clock stepper ignores the remaining sliver). Use it with a clock stepper built with
    ``straight_through=True`` (e.g. :class:`LowPrecisionEuler`) to train through the emulation.

    Example:
        ```python
        chip = sd.hardware.LowPrecisionEuler(0.01, sd.hardware.FixedPoint(7, 12), straight_through=True)
        location = sd.hardware.StraightThroughGridLocation()   # simulate(..., stepper=chip, event_location=location)
        ```
    """

    strict: bool = eqx.field(default=False, static=True)

    def locate(self, neuron, stepper, t, y, h, dW, dt, y_next):
        event_now, event_next = neuron.event(y), neuron.event(y_next)
        crossing = event_next > 0 if self.strict else event_next >= 0
        h = jnp.broadcast_to(jnp.asarray(h, event_next.dtype), event_next.shape)
        rise = event_next - event_now
        usable = crossing & (rise > 0) & (event_now < 0)
        safe_rise = jnp.where(usable, rise, 1.0)
        chord = jnp.where(usable, -event_now / safe_rise, 1.0) * h
        # The value sits 1e-6 dt before the step's end: at the end itself the core's
        # min(t + offset, t_end) would tie and split the derivative between the two.
        return crossing, straight_through(chord, h - jnp.minimum(h, 1e-6 * dt))
