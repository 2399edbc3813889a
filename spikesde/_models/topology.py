"""Network topologies: layered feed-forward, random recurrent and random fixed fan-in networks."""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

from .._core.coupling import FanInCoupling
from .._core.network import Network
from .._core.neuron import AbstractNeuron


def feedforward_mask(layer_sizes: tuple[int, ...] | list[int]) -> np.ndarray:
    """Connectivity of a layered feed-forward network: layer ``l`` projects to layer ``l + 1``.

    Example:
        ```python
        mask = sd.feedforward_mask([2, 3, 1])   # (6, 6) booleans: 2 -> 3 -> 1
        mask.sum()                              # 2 * 3 + 3 * 1 = 9
        ```
    """
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

    Example:
        ```python
        network = sd.feedforward(sd.SLIF(6, input_current=[1.5] * 2 + [0.0] * 4), [2, 3, 1], key=jax.random.key(1))
        network.weights.shape   # (6, 6), nonzero only from each layer to the next
        ```
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
    are ``N(0, weight_scale^2 / (p n))``.

    Example:
        ```python
        network = sd.recurrent(sd.SLIF(10, input_current=1.2), key=jax.random.key(1), connection_probability=0.3)
        network.mask.sum()   # about 0.3 * 10 * 9 connections, no self-connections
        ```
    """
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


def fixed_fan_in(
    neuron: AbstractNeuron,
    *,
    key: PRNGKeyArray,
    fan_in: int,
    weight_scale: float = 1.0,
    self_connections: bool = False,
) -> Network:
    """A random recurrent network in which every neuron has exactly ``fan_in`` inputs, drawn
    uniformly without replacement from the other neurons (or all neurons with
    ``self_connections``); weights ``N(0, weight_scale^2 / fan_in)``, as :func:`recurrent` with
    ``connection_probability = fan_in / n``. Stored as a :class:`FanInCoupling`, so a solve costs
    ``O(n fan_in)`` per iteration. The draw is a function of ``key`` (its bits seed NumPy's
    generator, which samples without replacement in ``O(fan_in)`` per neuron).

    Example:
        ```python
        network = sd.fixed_fan_in(sd.SLIF(200, input_current=1.2), key=jax.random.key(1), fan_in=20, weight_scale=0.3)
        network.fan_in.sources.shape   # (200, 20): each neuron's 20 presynaptic neurons
        ```
    """
    n = neuron.n_neurons
    pool = n if self_connections else n - 1
    if isinstance(fan_in, bool) or int(fan_in) != fan_in or not 1 <= int(fan_in) <= pool:
        raise ValueError(f"fan_in must be an integer in [1, {pool}] for {n} neurons (self_connections={self_connections}), got {fan_in}")
    fan_in = int(fan_in)
    source_key, weight_key = jax.random.split(key)
    rng = np.random.default_rng(np.asarray(jax.random.key_data(source_key)).ravel().tolist())
    sources = np.stack([rng.choice(pool, fan_in, replace=False) for _ in range(n)])
    if not self_connections:
        sources = sources + (sources >= np.arange(n)[:, None])  # skip neuron j among j's sources
    weights = weight_scale / np.sqrt(fan_in) * jax.random.normal(weight_key, (n, fan_in))
    return Network(neuron, fan_in=FanInCoupling(sources, weights))
