"""Forward-mode value and gradient: forward sensitivities, one tangent per parameter."""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree


def forward_value_and_grad(fn: Callable, *, has_aux: bool = False) -> Callable:
    """Like ``equinox.filter_value_and_grad``, by forward-mode differentiation.

    ``fn(params, *args)`` returns a scalar (or ``(scalar, aux)`` with ``has_aux``). The gradient with
    respect to the inexact arrays of ``params`` is assembled from the directional derivatives along
    the ``P`` unit vectors, computed together under ``vmap``: the sensitivities ``J = dy/dtheta`` are
    carried forward through the solve next to the state. The cost grows with ``P`` and the memory is
    that of one forward solve, whatever its length: the better route for a few parameters (input
    currents, time constants); reverse mode is better for many (weights).

    Example:
        ```python
        first = lambda c: sd.simulate(sd.SLIF(input_current=c), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16).spike_times[0, 0]
        value, slope = sd.forward_value_and_grad(first)(jnp.array(1.5))   # d(first spike time)/d(current) < 0
        ```
    """

    def wrapped(params, *args, **kwargs):
        differentiable, static = eqx.partition(params, eqx.is_inexact_array)
        flat, unravel = ravel_pytree(differentiable)

        def along(direction):
            def of_flat(vector):
                return fn(eqx.combine(unravel(vector), static), *args, **kwargs)

            return jax.jvp(of_flat, (flat,), (direction,), has_aux=has_aux)

        outputs = jax.vmap(along)(jnp.eye(flat.size, dtype=flat.dtype))
        if has_aux:
            values, tangents, aux = outputs
            aux = jax.tree_util.tree_map(lambda x: x[0], aux)
        else:
            values, tangents = outputs
        gradient = unravel(tangents)
        value = values[0]
        return ((value, aux), gradient) if has_aux else (value, gradient)

    return wrapped
