"""Network topologies: layered feed-forward and random recurrent networks."""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

from .._core.network import Network
from .._core.neuron import AbstractNeuron


def feedforward_mask(layer_sizes: tuple[int, ...] | list[int]) -> np.ndarray:
    """Connectivity of a layered feed-forward network: layer ``l`` projects to layer ``l + 1``."""
    if len(layer_sizes) < 2 or any(int(size) < 1 for size in layer_sizes):
        raise ValueError(f"layer_sizes needs at least two positive sizes, got {layer_sizes}")
    offsets = np.cumsum([0, *layer_sizes])
    mask = np.zeros((offsets[-1], offsets[-1]), dtype=bool)
    for layer in range(len(layer_sizes) - 1):
        mask[offsets[layer] : offsets[layer + 1], offsets[layer + 1] : offsets[layer + 2]] = True
    return mask


def feedforward(
    neuron: AbstractNeuron,
    layer_sizes: tuple[int, ...] | list[int],
    *,
    key: PRNGKeyArray,
    weight_low: float = 0.5,
    weight_high: float = 1.5,
    scale_by_fan_in: bool = True,
) -> Network:
    """A layered feed-forward network with weights ``U(weight_low, weight_high)``.

    With ``scale_by_fan_in`` the weights into layer ``l + 1`` are multiplied by ``3 / n_l``
    (reference experiment (b): ``U(0.5, 1.5) * 3/4`` and ``* 3/16`` for sizes 4, 16, 2).
    """
    mask = feedforward_mask(layer_sizes)
    if neuron.n_neurons != mask.shape[0]:
        raise ValueError(f"the neuron has {neuron.n_neurons} neurons but the layers sum to {mask.shape[0]}")
    weights = jax.random.uniform(key, mask.shape, minval=weight_low, maxval=weight_high)
    if scale_by_fan_in:
        fan_in = np.concatenate([np.full(size, size, dtype=float) for size in layer_sizes])
        weights = weights * (3.0 / fan_in)[:, None]
    return Network(neuron, jnp.where(mask, weights, 0.0), mask)


def recurrent(
    neuron: AbstractNeuron,
    *,
    key: PRNGKeyArray,
    connection_probability: float = 0.2,
    weight_scale: float = 1.0,
    self_connections: bool = False,
) -> Network:
    """A random recurrent network: each connection exists with ``connection_probability``; weights
    are ``N(0, weight_scale^2 / (p n))``."""
    if not 0 < connection_probability <= 1:
        raise ValueError(f"connection_probability must be in (0, 1], got {connection_probability}")
    n = neuron.n_neurons
    mask_key, weight_key = jax.random.split(key)
    mask = np.array(jax.random.bernoulli(mask_key, connection_probability, (n, n)))
    if not self_connections:
        np.fill_diagonal(mask, False)
    std = weight_scale / np.sqrt(connection_probability * n)
    weights = std * jax.random.normal(weight_key, (n, n))
    return Network(neuron, jnp.where(mask, weights, 0.0), mask)
