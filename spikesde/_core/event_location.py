"""Event location: where on a proposed step each neuron's event function crosses zero.

The event core proposes a step from ``t`` over ``h`` and asks an :class:`AbstractEventLocation`
which neurons cross and when; the choice is an object passed to :func:`spikesde.simulate`.
"""

import abc
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from .event_time import event_along_step, event_offset
from .neuron import AbstractNeuron
from .stepper import AbstractStepper
from .validation import check_count

_EVENT_GRADIENTS = ("root", "recursion")


class AbstractEventLocation(eqx.Module):
    """How the event core locates each neuron's crossing ``E_k(y(t + s)) = 0`` on a proposed step.

    Example:
        ```python
        isinstance(sd.GridEventLocation(), sd.AbstractEventLocation)   # True; simulate(..., event_location=...)
        ```
    """

    @abc.abstractmethod
    def locate(
        self,
        neuron: AbstractNeuron,
        stepper: AbstractStepper,
        t: Float[ArrayLike, ""],
        y: Float[Array, "d n"],
        h: Float[ArrayLike, "*n"],
        dW: Float[Array, "r n"],
        dt: Float[ArrayLike, ""],
        y_next: Float[Array, "d n"],
    ) -> tuple[Bool[Array, " n"], Float[Array, " n"]]:
        """For each neuron: whether its event function crosses zero on the step from ``t`` over ``h``
        (a scalar or one length per neuron), and the offset in ``[0, h]`` of its first crossing
        (differentiable; only meaningful where it crosses).

        Arguments:
            neuron: the neuron population.
            stepper: the integrator step.
            t: the time passed on to ``stepper.step`` (the core passes the grid point that
                starts the current grid step: the input current is read there).
            y: the state at the start of the proposal (each neuron at its own time).
            h: the proposed step length (one per neuron: from its own time to the grid point).
            dW: the Brownian increment of the whole grid step of length ``dt`` that contains
                the proposal; a piece of length ``s`` reads ``dW s / dt`` (the linear interpolant).
            dt: the grid step.
            y_next: ``stepper.step(neuron, t, y, h, dW h / dt)``, already computed by the core.
        """


class ExactEventLocation(AbstractEventLocation):
    r"""The exact crossing of the step's path: closed form when the step is affine in time and the
    event function affine in the state, Newton iterations otherwise.

    The root ``s`` of ``E(step(t, y, s, dW s / dt)) = 0`` is differentiated by the implicit
    function theorem, ``d s = -dE / (dE/ds)``, through one of two exact routes (``event_gradient``):
    ``"root"`` differentiates the closed-form root where there is one (an affine step and event
    function), ``"recursion"`` always injects ``d tau = -(<grad E, J> + d_theta E) / <grad E, mu>``,
    with ``mu`` the slope of the step at the root, through the custom JVP of
    :func:`spikesde._core.event_time.event_offset` (also the "root" route's rule without a closed
    form). Both are exact to every order of derivative (``jax.hessian`` included).

    Arguments:
        root_iterations: Newton iterations when there is no closed form.
        event_gradient: ``"root"`` or ``"recursion"``.

    Example:
        ```python
        sd.simulate(sd.SLIF(), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16, event_location=sd.ExactEventLocation(root_iterations=8)).spike_times
        ```
    """

    root_iterations: int = eqx.field(default=8, static=True)
    event_gradient: Literal["root", "recursion"] = eqx.field(default="root", static=True)

    def __check_init__(self):
        if self.event_gradient not in _EVENT_GRADIENTS:
            raise ValueError(f"event_gradient must be 'root' or 'recursion', got {self.event_gradient!r}")
        check_count("root_iterations", self.root_iterations)

    def locate(self, neuron, stepper, t, y, h, dW, dt, y_next):
        event_now, event_next = neuron.event(y), neuron.event(y_next)
        crossing = event_next >= 0
        rise = event_next - event_now
        rising = crossing & (rise > 0)
        safe_rise = jnp.where(rising, rise, 1.0)
        offset = jnp.where(rising, jnp.clip(-event_now / safe_rise, 0.0, 1.0), 0.0) * h
        closed_form = stepper.affine_in_time and neuron.affine_event
        if closed_form and self.event_gradient == "root":
            return crossing, offset

        # The implicit event time with a custom JVP: exact to every order of derivative.
        iterations = 0 if closed_form else self.root_iterations
        guess, h_max = jax.lax.stop_gradient(offset), jax.lax.stop_gradient(h)
        args = (neuron, stepper, t, y, dW, dt)
        return crossing, event_offset(args, guess, h_max, crossing, event_along=event_along_step, iterations=iterations)


class GridEventLocation(AbstractEventLocation):
    """Clock-driven event location, as on neuromorphic chips: a neuron fires at the end of the
    step on which its event function reaches zero, ``E(y_next) > 0`` (``strict``) or ``>= 0``.

    Spike times then lie on the step grid and carry no gradient; the state at the event is the
    whole step's end. Several neurons that cross on one step all fire at its end.

    Arguments:
        strict: fire on ``E(y_next) > 0`` (default) rather than ``>= 0``.

    Example:
        ```python
        sd.simulate(sd.SLIF(), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16, event_location=sd.GridEventLocation(strict=True)).spike_times   # on the grid
        ```
    """

    strict: bool = eqx.field(default=True, static=True)

    def locate(self, neuron, stepper, t, y, h, dW, dt, y_next):
        event_next = neuron.event(y_next)
        crossing = event_next > 0 if self.strict else event_next >= 0
        return crossing, jnp.broadcast_to(jnp.asarray(h, event_next.dtype), event_next.shape)
