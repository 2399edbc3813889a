r"""Discrete-time LIF networks trained by backpropagation through time with surrogate gradients.

Each layer ``l`` follows Neftci, Mostafa & Zenke (2019), with time step ``dt``:

    I_l[t+1] = a I_l[t] + S_{l-1}[t] W_l,      a = exp(-dt / tau_syn),
    U_l[t+1] = b U_l[t] + I_l[t] - theta S_l[t],   b = exp(-dt / tau_mem),
    S_l[t]   = H(U_l[t] - theta),

``S_0`` being the input spikes. The spike nonlinearity ``H`` is an :class:`AbstractSurrogate`: exact
in the forward pass, a pseudo-derivative in the backward pass. The reset term is differentiated
unless ``detach_reset`` (Zenke & Vogels 2021 found detaching it helps).
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .surrogate import AbstractSurrogate, FastSigmoid


class DiscreteLIFNetwork(eqx.Module):
    """A feed-forward network of discrete-time current-based LIF layers.

    Arguments:
        weights: one ``(n_{l-1}, n_l)`` array per layer (``n_0`` input channels).
        dt, tau_mem, tau_syn: time step and time constants (same units).
        threshold: firing threshold ``theta``.
        surrogate: the spike nonlinearity's pseudo-derivative (default :class:`FastSigmoid`).
        detach_reset: stop gradients through the reset term.

    Example:
        ```python
        net = sd.estimators.DiscreteLIFNetwork((jnp.full((2, 3), 0.8),), dt=1e-3, tau_mem=1e-2, tau_syn=5e-3)
        spikes, potentials = net(jnp.ones((20, 2)))   # per layer: (20 steps, 3 neurons)
        ```
    """

    weights: tuple[Float[Array, "n_in n_out"], ...]
    dt: float = eqx.field(static=True)
    tau_mem: float = eqx.field(static=True)
    tau_syn: float = eqx.field(static=True)
    threshold: float = eqx.field(static=True, default=1.0)
    surrogate: AbstractSurrogate = eqx.field(static=True, default=FastSigmoid())
    detach_reset: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        for name in ("dt", "tau_mem", "tau_syn", "threshold"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be positive and finite, got {value}")
        if not self.weights:
            raise ValueError("weights needs at least one layer")
        for index, (w, w_next) in enumerate(zip(self.weights[:-1], self.weights[1:])):
            if w.shape[1] != w_next.shape[0]:
                raise ValueError(
                    f"weights[{index}] has {w.shape[1]} outputs but weights[{index + 1}] has {w_next.shape[0]} inputs"
                )

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (self.weights[0].shape[0], *(w.shape[1] for w in self.weights))

    def __call__(self, inputs: Float[ArrayLike, "steps n_in"]) -> tuple[tuple[Array, ...], tuple[Array, ...]]:
        """Run the network on input spikes ``(steps, n_in)``.

        Returns the spikes ``S_l`` and membrane potentials ``U_l`` of every layer, each ``(steps, n_l)``
        (``S_l[t] = H(U_l[t] - theta)``, with ``U_l[0] = I_l[0] = 0``).
        """
        inputs = jnp.asarray(inputs)
        if inputs.ndim != 2 or inputs.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"inputs must have shape (steps, {self.layer_sizes[0]}), got {inputs.shape}")
        a = math.exp(-self.dt / self.tau_syn)
        b = math.exp(-self.dt / self.tau_mem)
        dtype = inputs.dtype if jnp.issubdtype(inputs.dtype, jnp.floating) else jnp.result_type(float)
        zeros = tuple(jnp.zeros((w.shape[1],), dtype) for w in self.weights)

        def step(carry, s_in):
            currents, potentials = carry
            spikes, new_currents, new_potentials = [], [], []
            below = s_in
            for w, i, u in zip(self.weights, currents, potentials):
                s = self.surrogate(u - self.threshold)
                reset = jax.lax.stop_gradient(s) if self.detach_reset else s
                new_currents.append(a * i + below @ w)
                new_potentials.append(b * u + i - self.threshold * reset)
                spikes.append(s)
                below = s
            return (tuple(new_currents), tuple(new_potentials)), (tuple(spikes), tuple(potentials))

        _, (spikes, potentials) = jax.lax.scan(step, (zeros, zeros), inputs.astype(dtype))
        return spikes, potentials


def init_weights(
    layer_sizes: tuple[int, ...] | list[int], *, key: PRNGKeyArray, scale: float = 1.0
) -> tuple[Float[Array, "n_in n_out"], ...]:
    """Weights ``N(0, scale^2 / n_in)`` for each layer of a feed-forward network."""
    if len(layer_sizes) < 2 or any(int(n) < 1 for n in layer_sizes):
        raise ValueError(f"layer_sizes needs at least two positive sizes, got {layer_sizes}")
    keys = jax.random.split(key, len(layer_sizes) - 1)
    return tuple(
        scale * jax.random.normal(k, (n_in, n_out)) / math.sqrt(n_in)
        for k, n_in, n_out in zip(keys, layer_sizes[:-1], layer_sizes[1:])
    )
