"""The interface of input currents c(t)."""

import abc

import equinox as eqx
from jaxtyping import Array, ArrayLike, Float


class AbstractCurrent(eqx.Module):
    """An input current ``c(t)``, broadcastable to ``(n_neurons,)``.

    Every array field is a parameter: gradients of a simulation reach it.

    Example:
        ```python
        class Ramp(sd.AbstractCurrent):
            slope: jax.Array
            def __call__(self, t):
                return self.slope * t
        neuron = sd.SLIF(input_current=Ramp(jnp.array(2.0)))
        ```
    """

    @abc.abstractmethod
    def __call__(self, t: Float[ArrayLike, ""]) -> Float[Array, "*n"]:
        """Return ``c(t)``."""
