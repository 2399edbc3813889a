"""Input currents c(t): differentiable, time-dependent drives of the membrane potential."""

from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._core.current import AbstractCurrent
from .._core.validation import check_parameters, is_concrete


class ConstantCurrent(AbstractCurrent):
    """``c(t) = value``.

    Example:
        ```python
        current = sd.ConstantCurrent(jnp.array([1.2, 1.8]))
        neurons = sd.SLIF(2, input_current=current)   # the same as sd.SLIF(2, input_current=[1.2, 1.8])
        current(0.5)                                  # [1.2, 1.8]
        ```
    """

    value: Float[Array, "*n"]

    def __init__(self, value: ArrayLike):
        self.value = jnp.asarray(value, dtype=float)

    def __check_init__(self):
        check_parameters("ConstantCurrent", {"value": "finite"}, {"value": self.value})

    def __call__(self, t):
        return self.value


class PiecewiseConstantCurrent(AbstractCurrent):
    """``c(t) = values[i]`` for ``breakpoints[i-1] <= t < breakpoints[i]``.

    ``values`` has one more entry (along axis 0) than ``breakpoints``; the breakpoints are
    increasing. Only ``values`` is differentiable (the breakpoints are where ``c`` jumps).

    Example:
        ```python
        current = sd.PiecewiseConstantCurrent(breakpoints=jnp.array([0.5]), values=jnp.array([1.0, 2.0]))
        current(jnp.array([0.25, 0.75]))   # [1.0, 2.0]
        neuron = sd.SLIF(input_current=current)
        ```
    """

    breakpoints: Float[Array, " b"]
    values: Float[Array, "b+1 *n"]

    def __init__(self, breakpoints: ArrayLike, values: ArrayLike):
        self.breakpoints = jnp.asarray(breakpoints, dtype=float)
        self.values = jnp.asarray(values, dtype=float)
        if self.breakpoints.ndim != 1:
            raise ValueError(f"breakpoints must be one-dimensional, got shape {self.breakpoints.shape}")
        if self.values.shape[0] != self.breakpoints.shape[0] + 1:
            raise ValueError(
                f"values needs len(breakpoints) + 1 = {self.breakpoints.shape[0] + 1} entries along axis 0, "
                f"got {self.values.shape[0]}"
            )

    def __check_init__(self):
        check_parameters("PiecewiseConstantCurrent", {"breakpoints": "finite", "values": "finite"}, vars(self))
        if is_concrete(self.breakpoints) and bool(jnp.any(jnp.diff(self.breakpoints) <= 0)):
            raise ValueError(f"PiecewiseConstantCurrent.breakpoints must be strictly increasing, got {self.breakpoints}")

    def __call__(self, t):
        index = jnp.searchsorted(self.breakpoints, t, side="right")
        return self.values[index]


class SinusoidalCurrent(AbstractCurrent):
    """``c(t) = offset + amplitude * sin(2 pi frequency t + phase)``.

    Example:
        ```python
        current = sd.SinusoidalCurrent(offset=1.5, amplitude=1.0, frequency=2.0)
        current(0.125)   # 1.5 + sin(2 pi 2 0.125) = 2.5
        neuron = sd.SLIF(input_current=current)
        ```
    """

    offset: Float[Array, "*n"]
    amplitude: Float[Array, "*n"]
    frequency: Float[Array, "*n"]
    phase: Float[Array, "*n"]

    def __init__(self, offset: ArrayLike, amplitude: ArrayLike, frequency: ArrayLike, phase: ArrayLike = 0.0):
        self.offset = jnp.asarray(offset, dtype=float)
        self.amplitude = jnp.asarray(amplitude, dtype=float)
        self.frequency = jnp.asarray(frequency, dtype=float)
        self.phase = jnp.asarray(phase, dtype=float)

    def __check_init__(self):
        check_parameters("SinusoidalCurrent", dict.fromkeys(("offset", "amplitude", "frequency", "phase"), "finite"), vars(self))

    def __call__(self, t):
        return self.offset + self.amplitude * jnp.sin(2 * jnp.pi * self.frequency * t + self.phase)


class FunctionCurrent(AbstractCurrent):
    """``c(t) = fn(t, params)`` for a user function; ``params`` is a differentiable pytree.

    Example:
        ```python
        current = sd.FunctionCurrent(lambda t, p: p["c"] * (1.0 + jnp.sin(t)), {"c": jnp.array(1.5)})
        current(0.0)   # 1.5; p["c"] is learnable ("input_current.params.c")
        neuron = sd.SLIF(input_current=current)
        ```
    """

    fn: Callable = eqx.field(static=True)
    params: object

    def __call__(self, t):
        return self.fn(t, self.params)


def as_current(current) -> AbstractCurrent:
    """Wrap a number, an array or a callable ``t -> c(t)`` as an :class:`AbstractCurrent`."""
    if isinstance(current, AbstractCurrent):
        return current
    if callable(current):
        return FunctionCurrent(lambda t, _: current(t), None)
    return ConstantCurrent(current)
