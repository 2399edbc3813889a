"""NIR export of spikesde networks (the inverse of :func:`spikesde.from_nir`).

* A :class:`LIF` or :class:`SLIF` population with a constant input current becomes
  Input -> Linear -> CubaLIF (+ recurrent Linear) -> Output, read with
  :class:`ContinuousTimeSpikes` (declared in the graph's metadata): a spike through NIR weight
  ``W`` makes ``I_n`` jump by ``w_in W / tau_syn``. A spikesde :class:`LIF`
  (``dV = (-V/tau_mem + I + c) dt``) maps onto ``R = tau_mem``, ``I_n = I``, ``w_in = 1``,
  ``v_leak = c tau_mem``, ``W = w tau_syn``; an :class:`SLIF` in its noise-free limit onto
  ``tau_mem = 1/mu_v``, ``tau_syn = 1/mu_i``, ``R = 1``, ``v_leak = c``, ``W = w tau_syn``, with the
  escape-noise parameters and noise scales in the node's metadata (read back by ``from_nir``).
* A :class:`LIF` population driven by a :class:`PiecewiseConstantCurrent` (no coupling, no input
  spikes, ``i0 = 0``) becomes Input ``"current"`` (one channel per neuron) -> Linear (``diag(tau_mem)``)
  -> ``nir.LIF`` (``tau = tau_mem``, ``R = 1``, ``v_leak = 0``) -> Output, read with
  :class:`DiscreteTimeSpikes`: the input value ``x_k`` held on step ``k`` is the current ``c``.
  :func:`current_raster` gives the raster of ``c`` on the clock.
* Resets: NIR sets ``v`` to its ``v_reset``. ``SetReset(value)`` is written as ``v_reset = value``;
  subtracting ``amount`` (the default ``v_reset``, or ``SubtractReset``) as ``v_reset = threshold -
  amount``, equal only at an exactly located hard-threshold crossing; ``NoReset`` and escape
  functions other than the exponential one are refused (see :mod:`spikesde._hardware.nir_reset`).
"""

from __future__ import annotations

import numpy as np

from .._core.network import Network, as_network
from .._models.currents import ConstantCurrent, PiecewiseConstantCurrent
from .._models.lif import LIF
from .._models.slif import SLIF
from .nir_graph import _nir
from .nir_inputs import InputRaster
from .nir_reset import exported_escape, exported_reset

_SLIF_METADATA = ("alpha", "sigma_v", "sigma_i", "v0", "i0")


def _vector(x, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)).copy()


def _constant_input(neuron) -> np.ndarray:
    if not isinstance(neuron.input_current, ConstantCurrent):
        raise ValueError(
            f"NIR export of a {type(neuron).__name__} with a {type(neuron.input_current).__name__}: only a constant input current, "
            "or a PiecewiseConstantCurrent into an uncoupled LIF without input spikes, has a NIR form"
        )
    return _vector(neuron.input_current.value, neuron.n_neurons)


def _neuron_node(neuron):
    """The CubaLIF node of a LIF or SLIF population and the factor ``tau_syn`` of its weights."""
    nir, n = _nir(), neuron.n_neurons
    c = _constant_input(neuron)
    if isinstance(neuron, LIF):
        tau_mem, tau_syn = _vector(neuron.tau_mem, n), _vector(neuron.tau_syn, n)
        threshold = _vector(neuron.threshold, n)
        r, v_leak = tau_mem, c * tau_mem
        metadata = {"spikesde_model": "LIF", "sigma_v": _vector(neuron.sigma_v, n), "sigma_i": _vector(neuron.sigma_i, n)}
    elif isinstance(neuron, SLIF):
        with np.errstate(divide="ignore"):
            tau_mem, tau_syn = 1.0 / _vector(neuron.mu_v, n), 1.0 / _vector(neuron.mu_i, n)
        escape = exported_escape(neuron)
        threshold = escape.pop("v_threshold")
        r, v_leak = np.ones(n), c
        metadata = {"spikesde_model": "SLIF", **escape, **{name: _vector(getattr(neuron, name), n) for name in _SLIF_METADATA}}
    else:
        raise TypeError(f"NIR export supports LIF and SLIF neurons, got {type(neuron).__name__}")
    v_reset, reset_metadata = exported_reset(neuron, threshold)
    metadata |= reset_metadata
    if isinstance(neuron, SLIF):  # from_nir reads an SLIF's subtracted amount from "v_reset" (0, unused, under SetReset)
        metadata["v_reset"] = reset_metadata.get("v_reset_subtract", np.zeros(n))
    node = nir.CubaLIF(
        tau_syn=tau_syn, tau_mem=tau_mem, r=r, v_leak=v_leak, v_threshold=threshold,
        v_reset=v_reset, w_in=np.ones(n), metadata=metadata,
    )
    return node, tau_syn


def to_nir(model: Network | LIF | SLIF):
    """An ``nir.NIRGraph`` of a spikesde network of :class:`LIF` or :class:`SLIF` neurons (see the
    module docstring; anything else raises naming what has no NIR form).

    Nodes: ``"input"`` (Input, one channel per input spike train; one silent channel with zero
    weights when there are none: NIR graphs need an entry point), ``"input_weights"`` (Linear),
    ``"neurons"`` (CubaLIF), ``"output"``, and with coupling ``"recurrent"`` (Linear, neurons to
    neurons); or, for a piecewise-constant current, ``"current"`` -> ``"current_weights"`` ->
    ``"neurons"`` (LIF) -> ``"output"``.

    For example, ``nir.write("net.nir", to_nir(spikesde.LIF(2, 1.5)))``.

    Example:
        ```python
        network = sd.Network(sd.LIF(2, 1.5, tau_mem=1.0, tau_syn=0.5), jnp.array([[0.0, 0.4], [0.0, 0.0]]))
        graph = sd.hardware.to_nir(network)
        back = sd.hardware.from_nir(graph)        # the same network
        ```
    """
    nir = _nir()
    network = as_network(model)
    neuron, n = network.neuron, network.n_neurons
    if isinstance(neuron.input_current, PiecewiseConstantCurrent):
        return _piecewise_graph(network)
    node, tau_syn = _neuron_node(neuron)
    nodes = {"neurons": node, "output": nir.Output(output_type=np.array([n]))}
    edges = [("neurons", "output")]
    coupling = network.coupling()
    if coupling is not None:
        nodes["recurrent"] = nir.Linear(weight=_synaptic_weight(np.asarray(coupling).T, tau_syn, "weights"))
        edges += [("neurons", "recurrent"), ("recurrent", "neurons")]
    if network.input_spike_times is not None:
        m = network.input_spike_times.shape[0]
        w_in = _synaptic_weight(np.asarray(network.input_coupling()).T, tau_syn, "input_weights")
    else:
        m, w_in = 1, np.zeros((n, 1))
    nodes["input"] = nir.Input(input_type=np.array([m]))
    nodes["input_weights"] = nir.Linear(weight=w_in)
    edges += [("input", "input_weights"), ("input_weights", "neurons")]
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={"generator": "spikesde", "spike_meaning": "continuous"})


def _piecewise_graph(network: Network):
    nir, neuron, n = _nir(), network.neuron, network.n_neurons
    if not isinstance(neuron, LIF):
        raise ValueError(f"NIR export of a {type(neuron).__name__} with a PiecewiseConstantCurrent: only a LIF's current enters its voltage directly, as NIR's LIF input does")
    if network.coupling() is not None or network.input_spike_times is not None:
        raise ValueError("NIR export: a LIF with a PiecewiseConstantCurrent and synaptic inputs (coupling or input spikes) has no NIR form: NIR's LIF has no synapse and its CubaLIF takes input only through the synapse")
    if np.any(_vector(neuron.i0, n) != 0):
        raise ValueError("NIR export: a LIF with a PiecewiseConstantCurrent needs i0 = 0 (NIR's LIF has no synaptic current)")
    tau, threshold = _vector(neuron.tau_mem, n), _vector(neuron.threshold, n)
    v_reset, metadata = exported_reset(neuron, threshold)
    nodes = {
        "current": nir.Input(input_type=np.array([n])),
        # R = 1 (as Norse and Lava assume) and the weight tau: the input value x is the current c = R W x / tau.
        "current_weights": nir.Linear(weight=np.diag(tau)),
        "neurons": nir.LIF(tau=tau, r=np.ones(n), v_leak=np.zeros(n), v_threshold=threshold, v_reset=v_reset, metadata=metadata),
        "output": nir.Output(output_type=np.array([n])),
    }
    edges = [("current", "current_weights"), ("current_weights", "neurons"), ("neurons", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={"generator": "spikesde", "spike_meaning": "discrete"})


def current_raster(model: Network | LIF, dt: float, t1: float) -> InputRaster:
    """The :class:`InputRaster` (``(steps, n)``, ``steps = t1 / dt``) of a LIF's piecewise-constant
    input current, the input of the graph :func:`to_nir` writes for it. Every breakpoint must lie
    on the clock ``k dt`` (else the current is not constant over a step: raises naming it).

    For example, ``read_nir(path, inputs=current_raster(lif, dt=1e-3, t1=1.0))``.

    Example:
        ```python
        lif = sd.LIF(2, sd.PiecewiseConstantCurrent([0.5], [1.0, 2.0]))
        sd.hardware.current_raster(lif, dt=0.1, t1=1.0).values[:, 0]   # [1.0] * 5 + [2.0] * 5
        ```
    """
    network = as_network(model)
    current = network.neuron.input_current
    if not isinstance(current, PiecewiseConstantCurrent):
        raise TypeError(f"current_raster needs a PiecewiseConstantCurrent, got {type(current).__name__}")
    breakpoints = np.asarray(current.breakpoints)
    ticks = breakpoints.astype(np.float64) / dt
    # On the clock up to the rounding of the breakpoints' own precision (float32 without x64).
    tolerance = 16 * np.finfo(breakpoints.dtype).eps * np.maximum(1.0, np.abs(ticks))
    off = np.flatnonzero(np.abs(ticks - np.round(ticks)) > tolerance)
    if off.size:
        raise ValueError(f"current_raster: breakpoint {off[0]} at t = {float(current.breakpoints[off[0]]):.6g} is not on the clock of dt = {dt}")
    steps = int(round(t1 / dt))
    # Midpoints: the value held on [k dt, (k + 1) dt), whatever the rounding of k dt.
    index = np.searchsorted(np.asarray(current.breakpoints), (np.arange(steps) + 0.5) * dt, side="right")
    values = np.asarray(current.values, np.float64)[index]
    return InputRaster(np.broadcast_to(values.reshape(steps, -1), (steps, network.n_neurons)), dt)


def _synaptic_weight(weight: np.ndarray, tau_syn: np.ndarray, name: str) -> np.ndarray:
    """``W[j, k] = w[k, j] tau_syn[j]``: NIR's jump ``W / tau_syn`` equals the spikesde jump ``w``."""
    weight = np.asarray(weight, dtype=np.float64)
    if not np.all(np.isfinite(tau_syn[np.any(weight != 0, axis=1)])):
        raise ValueError(f"NIR export: {name} reach neurons with tau_syn = inf (mu_i = 0), whose NIR synapse ignores spikes")
    return weight * np.where(np.isfinite(tau_syn), tau_syn, 0.0)[:, None]


def write_nir(model: Network | LIF | SLIF, path) -> None:
    """Write :func:`to_nir` of ``model`` to an NIR (HDF5) file.

    Example:
        ```python
        sd.hardware.write_nir(sd.Network(sd.LIF(2, 1.5, tau_mem=1.0, tau_syn=0.5), jnp.array([[0.0, 0.4], [0.0, 0.0]])), "net.nir")
        network = sd.hardware.read_nir("net.nir")
        ```
    """
    _nir().write(path, to_nir(model))
