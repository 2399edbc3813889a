"""NIR graphs on Loihi: the chip's integers programmed as Lava's NIR import does, so a ``.nir``
file alone gives the chip's trace (:class:`LoihiLIF`, :class:`Loihi1Stepper`).

Lava's conversion (the NIR repository's ``paper/01_lif/_lava_nir.py``; :class:`LavaProgramming`),
with ``int`` truncating toward zero, for a NIR ``LIF`` node (``tau``, ``R``, ``v_threshold``):

    du = 4095                       (the synaptic current lasts one tick: a spike is a one-step input)
    dv = int(4095 dt / tau)
    vth = int(131071 v_threshold) >> 9       (the threshold register is vth << 6: ~2^14 per volt)
    a_in = int(256 R W dt / tau)    (a spike's voltage step R W dt / tau, 256 per volt)

and for a ``CubaLIF`` node (the same discrete-time reading, the spike entering the synapse):
``du = int(4095 dt / tau_syn)``, ``dv = int(4095 dt / tau_mem)``,
``a_in = int(256 R w_in W dt^2 / (tau_syn tau_mem))``. A synaptic input larger than the 8-bit
weight mantissa is written ``mant << exp`` (Loihi's weight exponent), ``mant`` truncated.

The chip sets ``v`` to 0 after a spike, so NIR ``v_reset`` must be 0; Lava programs no bias, so
``v_leak`` and Affine biases must be 0 (both refused by name otherwise).

The chip's voltage probe reads 128 at the tick of a spike, where the register itself holds 0 (the
next tick decays from 0; published Loihi trace of the NIR paper's single-LIF benchmark): see
:func:`loihi_probe_reading`.
"""

from __future__ import annotations

import equinox as eqx
import numpy as np
from jaxtyping import ArrayLike

from .._core.network import Network
from .loihi import LoihiLIF
from .nir_graph import NEURONS, check_outputs, kinds_of, paths_into, size
from .nir_inputs import InputRaster

_SPIKE_READING = 128


class LavaProgramming(eqx.Module):
    """Lava's NIR-to-Loihi integer conversion (see the module docstring); ``weight_bits`` is the
    signed weight mantissa width (8: mantissas in ``[-128, 127]`` before the exponent).

    Example:
        ```python
        import numpy as np
        sd.hardware.LavaProgramming().decays(1e-4, np.array([2.5e-3]), None)   # ([4095], [163])
        ```
    """

    weight_bits: int = 8

    def decays(self, dt: float, tau_mem: np.ndarray, tau_syn: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        # Lava's order of operations, (dt / tau) * 4095: 4095 * dt / tau can round below an integer.
        du = np.full(tau_mem.shape, 4095) if tau_syn is None else ((dt / tau_syn) * 4095).astype(np.int64)
        return du, ((dt / tau_mem) * 4095).astype(np.int64)

    def threshold(self, v_threshold: np.ndarray) -> np.ndarray:
        return (v_threshold * 131071).astype(np.int64) >> 9

    def synaptic_input(self, volts: np.ndarray, name: str) -> np.ndarray:
        """``a_in = mant << exp`` for a voltage step of ``volts`` (256 per volt, truncated)."""
        exact = 256 * volts
        limit = 2 ** (self.weight_bits - 1)
        exponent = np.zeros(exact.shape, np.int64)
        for _ in range(8):
            exponent = np.where(np.abs(np.trunc(exact / 2.0**exponent)) > limit - 1, exponent + 1, exponent)
        if np.any(np.abs(np.trunc(exact / 2.0**exponent)) > limit - 1):
            raise ValueError(f"nir_to_loihi: {name} needs a weight exponent above 7 (|256 x| up to {np.max(np.abs(exact)):.4g})")
        return np.trunc(exact / 2.0**exponent).astype(np.int64) << exponent


def _node_registers(name: str, kind: str, node, dt: float, programming: LavaProgramming) -> dict:
    get = lambda field: np.asarray(getattr(node, field), np.float64).reshape(-1)  # noqa: E731
    if np.any(get("v_leak") != 0):
        raise ValueError(f"nir_to_loihi: node {name!r} ({kind}) has v_leak != 0; Lava's conversion programs no bias")
    reset = getattr(node, "v_reset", None)
    if reset is not None and np.any(np.asarray(reset) != 0):
        raise ValueError(f"nir_to_loihi: node {name!r} ({kind}) resets to v_reset = {np.asarray(reset)}; the chip sets v to 0")
    tau_mem = get("tau_mem" if kind == "CubaLIF" else "tau")
    tau_syn = get("tau_syn") if kind == "CubaLIF" else None
    du, dv = programming.decays(dt, tau_mem, tau_syn)
    # Voltage step of one spike through weight 1, in the discrete-time reading.
    step = get("r") * dt / tau_mem * (get("w_in") * dt / tau_syn if kind == "CubaLIF" else 1.0)
    return {"du": du, "dv": dv, "vth": programming.threshold(get("v_threshold")), "step": step}


def nir_to_loihi(graph, dt: float, input_spike_times: ArrayLike | None = None, *, inputs: InputRaster | None = None,
                 programming: LavaProgramming | None = None) -> Network:
    """A :class:`spikesde.Network` of :class:`LoihiLIF` neurons programmed from an ``nir.NIRGraph``
    as Lava programs Loihi (see the module docstring).

    Simulate it with ``stepper=Loihi1Stepper(dt=dt)``, ``event_location=GridEventLocation(strict=True)``
    and ``event_policy=ParallelEvents()``. Inputs: an :class:`InputRaster` of 0/1 spikes (row ``k``
    is placed at ``(k + 1) dt``, so it reaches ``u`` at tick ``k + 1``, as through Lava's ``Dense``),
    or ``input_spike_times`` already on the clock.

    For example, ``nir_to_loihi(nir.read("lif_norse.nir"), 1e-4, inputs=InputRaster(raster, 1e-4))``.

    Example:
        ```python
        graph = sd.hardware.to_nir(sd.Network(sd.LIF(2, 0.0, tau_mem=1.0, tau_syn=0.5), jnp.array([[0.0, 0.4], [0.0, 0.0]])))
        network = sd.hardware.nir_to_loihi(graph, 1e-3)   # LoihiLIF neurons, registers as Lava programs them
        ```
    """
    programming = LavaProgramming() if programming is None else programming
    kinds = kinds_of(graph)
    check_outputs(graph, kinds)
    populations = [name for name, kind in kinds.items() if kind in NEURONS]
    if not populations:
        raise ValueError("the NIR graph has no LIF or CubaLIF node")
    registers = [_node_registers(name, kinds[name], graph.nodes[name], dt, programming) for name in populations]
    sizes = [r["vth"].size for r in registers]
    offsets = dict(zip(populations, np.cumsum([0, *sizes])[:-1]))
    sources = [name for name, kind in kinds.items() if kind == "Input"]
    in_offsets = dict(zip(sources, np.cumsum([0, *[size(graph.nodes[s], output=True) for s in sources]])[:-1]))
    n, m = sum(sizes), sum(size(graph.nodes[s], output=True) for s in sources)
    weights, input_weights = np.zeros((n, n)), np.zeros((m, n))
    for target, reg in zip(populations, registers):
        columns = slice(offsets[target], offsets[target] + reg["vth"].size)
        for path in paths_into(graph, kinds, target):
            if np.any(path.bias != 0):
                raise ValueError(f"nir_to_loihi: an Affine bias reaches node {target!r}; Lava's conversion programs no bias")
            if path.delay != 0:
                raise ValueError(f"nir_to_loihi: route {path.source!r} -> {target!r} has a delay; Lava's conversion has none")
            a_in = programming.synaptic_input(path.weight * reg["step"][:, None], f"the weights from {path.source!r} to {target!r}").T
            if kinds[path.source] == "Input":
                input_weights[in_offsets[path.source] : in_offsets[path.source] + a_in.shape[0], columns] += a_in
            else:
                weights[offsets[path.source] : offsets[path.source] + a_in.shape[0], columns] += a_in
    cat = lambda key: np.concatenate([r[key] for r in registers])  # noqa: E731
    neuron = LoihiLIF(n, 0.0, du=cat("du"), dv=cat("dv"), vth=cat("vth"))
    times = _tick_times(input_spike_times, inputs, m, dt)
    extra = {} if times is None or not np.any(input_weights != 0) else {"input_spike_times": times, "input_weights": input_weights}
    return Network(neuron, weights if np.any(weights != 0) else None, **extra)


def _tick_times(input_spike_times, inputs, m, dt):
    if inputs is not None:
        if input_spike_times is not None:
            raise ValueError("give either input_spike_times or inputs (an InputRaster), not both")
        if inputs.n_channels != m or not np.isclose(inputs.dt, dt, rtol=1e-12, atol=0.0):
            raise ValueError(f"inputs: the InputRaster has {inputs.n_channels} channels and dt = {inputs.dt}; the graph has {m}, the clock dt = {dt}")
        return inputs.tick_times()
    if input_spike_times is None:
        return None
    times = np.asarray(input_spike_times, np.float64)
    if times.ndim != 2 or times.shape[0] != m:
        raise ValueError(f"input_spike_times must have shape (channels, max_spikes) with {m} channels, got {times.shape}")
    return times


def loihi_probe_reading(v: ArrayLike, fired: ArrayLike) -> np.ndarray:
    """The voltage a Loihi state probe reports: the register ``v``, except 128 at the ticks where
    the neuron fired (the register holds 0 there; published Loihi trace of the NIR paper's
    single-LIF benchmark, whose CPU simulation reads 0 at the same ticks).

    Example:
        ```python
        sd.hardware.loihi_probe_reading([5, 0, 7], [False, True, False])   # [5, 128, 7]
        ```
    """
    v, fired = np.asarray(v), np.asarray(fired, bool)
    return np.where(fired, _SPIKE_READING, v)
