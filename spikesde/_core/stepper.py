"""Steps of the event core: how the state moves over a piece of a grid step."""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .neuron import AbstractNeuron


class AbstractStepper(eqx.Module):
    """One step of an integrator, from ``(t, y)`` over a time ``h`` with Brownian increment ``dW``.

    The event core calls ``step`` for whole grid steps and for the pieces of a step split at event
    times; ``h`` is then a scalar or one length per neuron (for locating each neuron's crossing),
    and ``dW`` is the matching piece of the linearly interpolated Brownian increment of the rows
    ``neuron.noise_rows``.
    Integrators differ only here: how events are found and applied is shared.

    Example:
        ```python
        isinstance(sd.EulerMaruyama(), sd.AbstractStepper)   # True; simulate(..., stepper=...) takes any of them
        ```
    """

    #: Whether the step is affine in ``h`` for a fixed ``dW / h`` (event times of an affine event
    #: function then have a closed form and need no Newton iterations).
    affine_in_time: eqx.AbstractClassVar[bool]

    @abc.abstractmethod
    def step(
        self, neuron: AbstractNeuron, t: Float[ArrayLike, ""], y: Float[Array, "d n"], h: Float[ArrayLike, "*n"], dW: Float[Array, "r n"]
    ) -> Float[Array, "d n"]:
        """The state at ``t + h``."""


class EulerMaruyama(AbstractStepper):
    """``y + mu(t, y) h + sigma dW`` (strong order 1 for additive noise).

    Example:
        ```python
        sd.simulate(sd.SLIF(input_current=1.5, sigma_v=0.5), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16, stepper=sd.EulerMaruyama()).spike_times
        ```
    """

    affine_in_time = True

    def step(self, neuron, t, y, h, dW):
        return add_noise(neuron, y + scale_neurons(neuron.drift(t, y), h), dW)


class ExponentialEuler(AbstractStepper):
    """Exact flow of the linear part of the drift with the non-linear part frozen at the step start,
    plus ``sigma dW``: exact for a deterministic LIF with constant input, whatever the step.

    Example:
        ```python
        sd.simulate(sd.SLIF(input_current=1.5, mu_v=200.0), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16, stepper=sd.ExponentialEuler()).spike_times
        ```
    """

    affine_in_time = False

    def step(self, neuron, t, y, h, dW):
        return add_noise(neuron, neuron.linear_step(t, y, h), dW)


def add_noise(neuron: AbstractNeuron, y: Float[Array, "d n"], dW: Float[Array, "r n"]) -> Float[Array, "d n"]:
    """``y + sigma dW`` on the noisy rows."""
    return y.at[jnp.asarray(neuron.noise_rows)].add(neuron.diffusion() * dW)


def scale_neurons(x: Float[Array, "d n"], s: Float[ArrayLike, "*n"]) -> Float[Array, "d n"]:
    """``x[r, k] s[k]``: each neuron's column of ``x`` scaled by its own ``s[k]`` (or one scalar).

    Written row by row rather than as a broadcast: reverse mode then sums the ``d`` rows' products
    with elementwise adds that XLA fuses, where the transpose of a broadcast is a reduction over the
    short row axis, which the CPU backend runs as a separate, slow kernel (about 0.2 ms per call at
    ``n = 2,000``, three per iteration of the event core).
    """
    if jnp.ndim(s) == 0 or x.shape[0] == 0:  # a scalar, or no rows (a neuron without noise)
        return x * s
    return jnp.stack([row * s for row in x])
