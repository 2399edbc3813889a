"""Checking up front that a solve fits in memory."""

import os

import jax
import numpy as np

from .network import Network

_INT32_MAX = 2**31 - 1


def _bytes_limit(device) -> int | None:
    try:
        stats = device.memory_stats() or {}
    except Exception:  # some backends do not implement memory_stats
        stats = {}
    return int(stats["bytes_limit"]) if "bytes_limit" in stats else None


def _host_ram() -> int:
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def available_bytes() -> int:
    """Memory of the default device: its ``bytes_limit`` where it reports one, else the host's RAM."""
    limit = _bytes_limit(jax.devices()[0])
    return _host_ram() if limit is None else limit


def solve_bytes(network: Network, *, num_steps: int, max_spikes: int, dtype) -> int:
    """Bytes one forward solve holds at once: the Brownian increments of every step, the spike
    buffer and clock table, and the per-neuron loop state (a lower bound; batches multiply it)."""
    neuron = network.neuron
    n = neuron.n_neurons
    itemsize = np.dtype(dtype).itemsize
    increments = num_steps * int(np.prod(neuron.brownian_shape))
    buffers = 2 * n * (max_spikes + 1)
    state = 8 * neuron.state_dim * n
    save_slots = 4 * num_steps
    return (increments + buffers + state) * itemsize + save_slots


def check_memory(network: Network, *, num_steps: int, max_spikes: int, max_events: int, dtype) -> None:
    """Raise a ValueError naming the size when a solve cannot fit, before anything is allocated."""
    needed = solve_bytes(network, num_steps=num_steps, max_spikes=max_spikes, dtype=dtype)
    limit = available_bytes()
    if needed > limit:
        raise ValueError(
            f"this solve needs at least {needed / 2**30:.3g} GiB ({num_steps} steps of Brownian increments of "
            f"shape {network.neuron.brownian_shape} and spike buffers of {network.n_neurons} x {max_spikes}), "
            f"more than the {limit / 2**30:.3g} GiB available: raise dt, shorten [t0, t1], or lower max_spikes"
        )
    if num_steps + max_events > _INT32_MAX:
        raise ValueError(
            f"the solve needs up to num_steps + max_events = {num_steps} + {max_events} loop iterations, "
            f"more than 2**31 - 1: raise dt or lower max_events"
        )


def device_bytes() -> int:
    """Memory of one device: its ``bytes_limit`` where it reports one; host devices share the RAM,
    so each CPU device counts an equal share of it."""
    limit = _bytes_limit(jax.local_devices()[0])
    return _host_ram() // len(jax.local_devices()) if limit is None else limit


def devices_needed(per_solve: int, samples: int, limit: int) -> int | None:
    """The fewest devices with ``limit`` bytes each that hold ``samples`` solves of ``per_solve``
    bytes, ``ceil(samples / devices)`` on each; ``None`` when one solve alone exceeds ``limit``."""
    if per_solve > limit:
        return None
    per_device = limit // per_solve  # solves one device holds
    return -(-samples // per_device)


def check_batch_memory(network: Network, *, num_steps: int, max_spikes: int, dtype, samples: int, devices: int) -> int:
    """The bytes each of ``devices`` holds for ``samples`` solves sharded over them (at least
    ``ceil(samples / devices)`` times :func:`solve_bytes`); a ValueError saying how many devices
    the batch needs when it does not fit."""
    per_solve = solve_bytes(network, num_steps=num_steps, max_spikes=max_spikes, dtype=dtype)
    per_device = per_solve * -(-samples // devices)
    limit = device_bytes()
    if per_device <= limit:
        return per_device
    needed = devices_needed(per_solve, samples, limit)
    remedy = (
        f"it needs at least {needed} devices of this size (a jax.sharding.Mesh over them), or fewer samples"
        if needed is not None
        else "one solve alone does not fit a device: raise dt, shorten [t0, t1], or lower max_spikes"
    )
    raise ValueError(
        f"{samples} model samples on {devices} device{'s' if devices > 1 else ''} need at least "
        f"{per_device / 2**30:.3g} GiB per device ({-(-samples // devices)} solves of {per_solve / 2**30:.3g} GiB), "
        f"more than the {limit / 2**30:.3g} GiB of one device: {remedy}"
    )
