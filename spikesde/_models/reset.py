r"""Reset rules: what a spike does to the membrane potential, as option objects.

    SubtractReset(amount):  V <- V - amount      (per spike; the SLIF's default, ``amount = v_reset``)
    SetReset(value):        V <- value           (NEST's ``pp_psc_delta`` and ``iaf_*``: ``value`` the rest)
    NoReset():              V unchanged          (spike-response models whose after-spike effect is a current)

``apply(v, count)`` applies the rule for ``count`` spikes at one instant (two spikes stamped on the
same time step are two resets: subtracting twice, setting once). Fields are learnable parameters
(learn path ``"neuron.reset_rule.<field>"``). Exporters (NIR) read the rule's type and fields.

Example:

    >>> import spikesde as sd
    >>> neuron = sd.SLIF(1, 1.5, reset_rule=sd.SetReset(0.0))
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .._core.neuron import _as_parameter
from .._core.validation import check_parameters


class AbstractReset(eqx.Module):
    """A reset rule of the membrane potential.

    Example:
        ```python
        class HalfReset(sd.AbstractReset):   # V <- V / 2^count
            def apply(self, v, count):
                return v * 0.5**count
        neuron = sd.SLIF(reset_rule=HalfReset())
        ```
    """

    @abc.abstractmethod
    def apply(self, v: Float[Array, "*n"], count: Int[Array, "*n"]) -> Float[Array, "*n"]:
        """``V`` after ``count`` spikes at one instant (``count = 0``: unchanged)."""


class SubtractReset(AbstractReset):
    """``V <- V - amount`` at every spike.

    Example:
        ```python
        neuron = sd.SLIF(reset_rule=sd.SubtractReset(1.4))   # the default: V <- V - v_reset at each spike
        sd.SubtractReset(1.4).apply(jnp.array(1.0), jnp.array(2))   # two spikes at once: 1.0 - 2.8 = -1.8
        ```
    """

    amount: Float[Array, "*n"] = eqx.field(converter=_as_parameter)

    def __check_init__(self):
        check_parameters("SubtractReset", {"amount": "finite"}, {"amount": self.amount})

    def apply(self, v, count):
        return v - self.amount * count


class SetReset(AbstractReset):
    """``V <- value`` after a spike (however many at that instant).

    Example:
        ```python
        neuron = sd.SLIF(reset_rule=sd.SetReset(0.0))   # V <- 0 after a spike
        sd.SetReset(0.0).apply(jnp.array(1.0), jnp.array(2))   # 0.0
        ```
    """

    value: Float[Array, "*n"] = eqx.field(converter=_as_parameter)

    def __check_init__(self):
        check_parameters("SetReset", {"value": "finite"}, {"value": self.value})

    def apply(self, v, count):
        return jnp.where(count > 0, self.value, v)


class NoReset(AbstractReset):
    """``V`` is not reset.

    Example:
        ```python
        neuron = sd.SLIF(reset_rule=sd.NoReset(), alpha=0.0)   # an inhomogeneous Poisson process of rate lambda(V)
        ```
    """

    def apply(self, v, count):
        return v
