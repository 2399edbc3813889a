r"""The event time as an implicit function, differentiable to every order.

On a step from ``t`` the event function seen along the step is ``g(s; theta) = E(step(t, y, s, dW s / dt))``
for the offset ``s`` into the step; ``theta`` is everything the step reads (the state, the time, the
Brownian increment, the model's parameters). The crossing ``s*(theta)`` solves ``g(s*; theta) = 0``.
By the implicit function theorem

    d s* = -(d_theta g . d theta) / (d_s g),

which is the event-time derivative of the gradient recursion,
``d tau = -(<grad E, J> + d_theta E) / <grad E, mu>``: ``d_theta g`` is ``<grad E, J> + d_theta E`` for
the sensitivity ``J`` of the state reached at the (fixed) root, and ``d_s g = <grad E, mu>`` is the
slope of the step there. :func:`event_offset` is a ``jax.custom_jvp`` whose rule evaluates this with
differentiable JAX operations at the converged root, and obtains that root by calling itself: so
differentiating the rule again differentiates ``s*`` by the same rule, and every order of
derivative (``jax.hessian``, forward-over-reverse, ``jacfwd`` of ``jacfwd``) is the exact derivative
of the discrete map. Differentiating through the Newton iterations instead is exact only at first
order, and holding the root fixed in a one-step correction loses every higher order.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
from jaxtyping import Array, Bool, Float, PyTree

#: ``event_along(s, args) -> E`` for offsets ``s`` of shape ``(n,)``; entry ``k`` of ``E`` depends on
#: ``s[k]`` only (neurons are independent between events).
EventAlong = Callable[[Float[Array, " n"], PyTree], Float[Array, " n"]]


def _value_and_slope(event_along: EventAlong, s, args):
    return jax.jvp(lambda offset: event_along(offset, args), (s,), (jnp.ones_like(s),))


@eqx.filter_custom_jvp
def event_offset(
    args: PyTree,
    guess: Float[Array, " n"],
    h_max: Float[Array, "*n"],
    crossing: Bool[Array, " n"],
    *,
    event_along: EventAlong,
    iterations: int,
) -> Float[Array, " n"]:
    r"""Each neuron's offset ``s*`` in ``[0, h_max]`` with ``event_along(s*, args) = 0``.

    Arguments:
        args: every input of ``event_along`` that may carry a derivative (a pytree: model,
            state, time, Brownian increment, ...).
        guess: a starting offset per neuron (the chord root of the step), not differentiated.
        h_max: the length of the step (the root is kept in ``[0, h_max]``), not differentiated.
        crossing: where the event function crosses zero on the step; elsewhere the offset is
            ``guess`` and its derivative 0.
        event_along: ``g(s, args)``, the event function after an offset ``s`` into the step.
        iterations: Newton iterations from ``guess``, at least 1 (one polishing step when
            ``guess`` is already the root, as for an affine step and an affine event function).

    The derivative is ``-(d_args g . d args) / d_s g`` at the root, where the slope ``d_s g`` is
    positive and the neuron crosses; 0 elsewhere. It composes to every order.
    """
    # At least one step, so that the root is computed from args: with a root that is the
    # (stop-gradient) guess itself, forward-over-reverse through the event loop's scan gave wrong
    # second derivatives in JAX 0.10 (tests/test_second_derivatives.py), forward-over-forward did not.
    root = jnp.clip(guess, 0.0, h_max)
    for _ in range(max(iterations, 1)):
        value, slope = _value_and_slope(event_along, root, args)
        usable = crossing & (slope > 0)
        root = jnp.clip(jnp.where(usable, root - value / jnp.where(usable, slope, 1.0), root), 0.0, h_max)
    return root


@event_offset.def_jvp
def _event_offset_jvp(primals, tangents, *, event_along, iterations):
    args, guess, h_max, crossing = primals
    t_args = tangents[0]
    # The root itself through event_offset: differentiating this rule again uses the rule again.
    root = event_offset(args, guess, h_max, crossing, event_along=event_along, iterations=iterations)
    t_args = jtu.tree_map(_materialise, args, t_args)
    diff, static = eqx.partition(args, eqx.is_inexact_array)
    along = lambda d: event_along(root, eqx.combine(d, static))  # noqa: E731
    _, change = jax.jvp(along, (diff,), (t_args,))
    _, slope = _value_and_slope(event_along, root, args)
    usable = crossing & (slope > 0)
    return root, jnp.where(usable, -change / jnp.where(usable, slope, 1.0), 0.0)


def _materialise(primal, tangent):
    """A zero tangent for an inexact array that received a symbolic zero (``None``)."""
    if not eqx.is_inexact_array(primal):
        return None
    return jnp.zeros_like(primal) if tangent is None else tangent


def event_along_step(s: Float[Array, " n"], args: PyTree) -> Float[Array, " n"]:
    """``E(step(t, y, s, dW s / dt))`` for ``args = (neuron, stepper, t, y, dW, dt)``: the event
    function after an offset ``s`` into a step whose whole-grid-step Brownian increment is ``dW``."""
    neuron, stepper, t, y, dW, dt = args
    return neuron.event(stepper.step(neuron, t, y, s, dW * (s / dt)))
