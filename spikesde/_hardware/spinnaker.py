"""A SpiNNaker-style LIF: s16.15 fixed point, exponential Euler, truncating multiplies."""


import jax.numpy as jnp

from .._models.lif import LIF
from .clock import AbstractClockStepper, Quantizer
from .formats import FixedPoint
from .rounding import Floor

#: SpiNNaker's ``accum`` (GCC ``stdfix``): 16 integer bits, 15 fraction bits.
S16_15 = FixedPoint(16, 15)


class SpiNNakerStepper(AbstractClockStepper):
    r"""The sPyNNaker LIF update for a :class:`spikesde.LIF`, in s16.15 with truncating multiplies:

        a <- q(tau_mem (I + c))                       (the steady state I R + V_rest, R = tau_mem, V_rest = 0)
        V <- a - q(e^(-dt / tau_mem) q(a - V))        (exponential Euler)
        I <- q(e^(-dt / tau_syn) I)

    with the constants ``e^(-dt/tau)`` stored in s16.15 and ``q`` the s16.15 product truncated as
    GCC's fixed-point multiply does (the low bits dropped: :class:`Floor`). Additions of s16.15
    numbers are exact (saturating). Pair it with ``GridEventLocation(strict=False)``
    (sPyNNaker fires when ``V >= threshold``); the reset is the model's (:class:`spikesde.LIF`
    subtracts ``v_reset``, where sPyNNaker sets ``V`` to ``V_reset``).

    s16.15 values need 32 bits: simulate with ``dtype=jnp.float64`` under ``jax.enable_x64``.

    Example:
        ```python
        stepper = sd.hardware.SpiNNakerStepper(dt=1e-3)   # s16.15 needs a float64 carrier:
        neuron = sd.LIF(1, 1.5, tau_mem=0.02, tau_syn=0.005)  # simulate(neuron, ..., stepper=stepper, dtype=jnp.float64) under jax.enable_x64
        ```
    """

    def tick(self, neuron, t, y, dW, key):
        if not isinstance(neuron, LIF):
            raise TypeError(f"SpiNNakerStepper simulates LIF neurons, got {type(neuron).__name__}")
        S16_15.check_carrier(y.dtype)
        q = Quantizer(S16_15, Floor())
        v, i = y
        decay_v = q(jnp.exp(-self.dt / neuron.tau_mem), 0)
        decay_i = q(jnp.exp(-self.dt / neuron.tau_syn), 1)
        c = q(neuron.input_current(t), 2)
        a = q(neuron.tau_mem * q(i + c, 3), 4)
        v_new = q(a - q(decay_v * q(a - v, 5), 6), 7)
        i_new = q(decay_i * i, 8)
        return jnp.stack([v_new, jnp.broadcast_to(i_new, v_new.shape)])
