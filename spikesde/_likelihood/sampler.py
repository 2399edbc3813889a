"""Sampling spike trains from the noise-free escape-noise SLIF on a regular grid (time rescaling)."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, PRNGKeyArray

from .._models.slif import SLIF
from .._models.stimulus import AfterSpikeCurrent
from .exact import log_intensity


def sample_spikes(
    neuron: SLIF,
    history: AfterSpikeCurrent | None,
    *,
    t0: float,
    t1: float,
    dt: float,
    key: PRNGKeyArray,
) -> Bool[Array, " nodes"]:
    """One spike train of the model whose likelihood :func:`log_likelihood` computes, on the nodes
    ``t0 + k dt`` (a spike is put on the first node where the clock has run past ``E + alpha``).

    The same discretisation as the likelihood: input held over a step, exact membrane flow,
    trapezoidal clock; the neuron's reset rule (subtract ``v_reset`` by default). With membrane noise (``neuron.sigma_v > 0``, which the likelihood ignores)
    each step adds the exact Ornstein-Uhlenbeck increment ``sigma_v sqrt((1 - e^{-2 mu_v dt}) /
    (2 mu_v)) N(0, 1)`` (its normals from a stream apart from the clock's, so ``sigma_v = 0``
    draws the same spikes as the noise-free model). Returns a boolean array over the ``round((t1 - t0) / dt) + 1`` nodes;
    vmap over keys for many trials.

    Example:
        ```python
        fired = sd.likelihood.sample_spikes(sd.SLIF(1, 1.5, mu_v=10.0, alpha=0.0, reset_rule=sd.SetReset(0.0)), None, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0))
        fired.sum()   # spikes on the nodes 0.01, ..., 1
        ```
    """
    n_steps = int(round((t1 - t0) / dt))
    times = t0 + dt * jnp.arange(n_steps + 1)
    drive = jax.vmap(neuron.input_current)(times[:-1]).reshape(-1)
    drive = drive + jnp.reshape(neuron.i0 * jnp.exp(-neuron.mu_i * (times[:-1] - t0)), (-1,))
    taus = jnp.asarray(history.taus if history is not None else (1.0,))
    amplitudes = history.amplitudes if history is not None else jnp.zeros(1)
    trace_decay = jnp.exp(-dt / taus)
    mu_v, v_reset, alpha = (jnp.reshape(x, ()) for x in (neuron.mu_v, neuron.v_reset, neuron.alpha))
    decay = jnp.exp(-mu_v * dt)
    noise_scale = jnp.reshape(neuron.sigma_v, ()) * jnp.sqrt(-jnp.expm1(-2 * mu_v * dt) / (2 * mu_v))
    keys = jax.random.split(key, n_steps + 1)

    def step(carry, inputs):
        v, traces, clock, threshold = carry
        drive_n, key_n = inputs
        lam_start = jnp.exp(log_intensity(neuron, v))
        v = decay * v + (1 - decay) * (drive_n + traces @ amplitudes)
        v = v + noise_scale * jax.random.normal(jax.random.fold_in(key_n, 1), dtype=v.dtype)
        clock = clock + 0.5 * dt * (lam_start + jnp.exp(log_intensity(neuron, v)))
        fired = clock >= threshold
        v = jnp.where(fired, v - v_reset, v) if neuron.reset_rule is None else neuron.reset_rule.apply(v, fired.astype(jnp.int32))
        traces = traces * trace_decay + fired
        clock = jnp.where(fired, 0.0, clock)
        threshold = jnp.where(fired, alpha + jax.random.exponential(key_n, dtype=clock.dtype), threshold)
        return (v, traces, clock, threshold), fired

    dtype = drive.dtype
    init = (jnp.reshape(neuron.v0, ()).astype(dtype), jnp.zeros_like(taus, dtype=dtype), jnp.zeros((), dtype),
            alpha + jax.random.exponential(keys[0], dtype=dtype))
    _, fired = jax.lax.scan(step, init, (drive, keys[1:]))
    return jnp.concatenate([jnp.zeros(1, bool), fired])


def spike_times_from_grid(fired, t0: float, dt: float) -> list:
    """Host-side: per trial (leading axes flattened), the times of the nodes that fired."""
    import numpy as np

    fired = np.asarray(fired)
    fired = fired.reshape(-1, fired.shape[-1])
    return [t0 + dt * np.flatnonzero(row) for row in fired]
