"""Refractory ticks for clock-driven neurons: after a spike a neuron cannot fire for a number of ticks."""

import equinox as eqx
import jax.numpy as jnp

from .._core.neuron import AbstractNeuron


class Refractory(AbstractNeuron):
    """``neuron`` with an absolute refractory period of ``steps`` clock ticks, for clock steppers.

    The state gains a last row ``r``: a spike sets it to ``steps + 1`` and every tick lowers it by
    one; the neuron cannot fire while ``r > 0``. So a neuron that fires at the end of tick ``k``
    cannot fire again at that time (a chip fires at most once per tick, whatever its reset) nor at
    the ends of ticks ``k + 1, ..., k + steps``. It keeps integrating its input meanwhile.
    Use it with an :class:`AbstractClockStepper` (which advances ``r``) and a grid event location.

    Example:
        ```python
        neuron = sd.hardware.Refractory(sd.LIF(1, 1.5, tau_mem=0.02, tau_syn=0.005), steps=2)   # 2 ticks refractory
        neuron.n_neurons, neuron.state_names   # simulate it with a clock stepper, e.g. SpiNNakerStepper
        ```
    """

    neuron: AbstractNeuron
    steps: int = eqx.field(static=True, default=0)

    def __check_init__(self):
        if not isinstance(self.steps, int) or self.steps < 0:
            raise ValueError(f"Refractory: steps must be a non-negative integer, got {self.steps!r}")

    @property
    def n_neurons(self):
        return self.neuron.n_neurons

    @property
    def input_current(self):
        return self.neuron.input_current

    @property
    def state_names(self):
        return (*self.neuron.state_names, "refractory")

    @property
    def synaptic_row(self):
        return self.neuron.synaptic_row

    @property
    def noise_rows(self):
        return self.neuron.noise_rows

    @property
    def uses_clock(self):
        return self.neuron.uses_clock

    @property
    def affine_event(self):
        return self.neuron.affine_event

    def initial_state(self, clock):
        y = self.neuron.initial_state(clock)
        return jnp.concatenate([y, jnp.zeros((1, y.shape[1]), y.dtype)])

    def drift(self, t, y):
        return jnp.concatenate([self.neuron.drift(t, y[:-1]), jnp.zeros_like(y[-1:])])

    def diffusion(self):
        return self.neuron.diffusion()

    def event(self, y):
        # Negative while refractory: neither a strict nor a non-strict grid test fires.
        return jnp.where(y[-1] > 0, -jnp.ones_like(y[-1]), self.neuron.event(y[:-1]))

    def reset(self, y, fired, clock):
        inner = self.neuron.reset(y[:-1], fired, clock)
        return jnp.concatenate([inner, jnp.where(fired, self.steps + 1.0, y[-1])[None]])

    def linear_step(self, t, y, h):
        return jnp.concatenate([self.neuron.linear_step(t, y[:-1], h), y[-1:]])

    def parameter_errors(self):
        return self.neuron.parameter_errors()
