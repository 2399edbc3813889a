"""Exponential clocks of escape-noise neurons: one random stream per neuron, drawn when it fires."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray


def neuron_clock_keys(clock_key: PRNGKeyArray, n: int) -> PRNGKeyArray:
    """The clock key of each of ``n`` neurons, ``fold_in(clock_key, k)`` for neuron ``k``.

    Neuron ``k``'s clocks therefore do not depend on the size of the network: pass
    ``clock_keys=neuron_clock_keys(key, n)[k:k+1]`` to a one-neuron solve to give it the clocks
    neuron ``k`` sees in the network.

    Example:
        ```python
        keys = sd.neuron_clock_keys(jax.random.key(0), 10)   # neuron k's clocks, whatever the network size
        keys.shape   # (10,)
        ```
    """
    return jax.vmap(jax.random.fold_in, in_axes=(None, 0))(clock_key, jnp.arange(n))


def clock_draws(clock_keys: PRNGKeyArray, index: Int[ArrayLike, "*n"], dtype) -> Float[Array, " n"]:
    """The Exp(1) draw ``index`` of each neuron's clock: index 0 at ``t0``, index ``j`` after its
    ``j``-th spike; ``exponential(fold_in(clock_keys[k], index[k]))``, whatever the buffer sizes."""
    index = jnp.broadcast_to(jnp.asarray(index), clock_keys.shape)
    return jax.vmap(lambda key, j: jax.random.exponential(jax.random.fold_in(key, j), (), dtype))(clock_keys, index)


def clock_table(clock_keys: PRNGKeyArray, length: int, dtype) -> Float[Array, "n length"]:
    """Draws ``0 .. length - 1`` of every neuron's clock (the same stream as :func:`clock_draws`)."""
    return jax.vmap(lambda j: clock_draws(clock_keys, j, dtype), out_axes=1)(jnp.arange(length))
