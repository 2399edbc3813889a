"""NIR (the Neuromorphic Intermediate Representation) import: graphs that spikesde, snnTorch,
Norse, Sinabs, Spyx, Rockpool and Lava write, as a spikesde :class:`Network`.

NIR's neurons (``nir.LIF``, ``nir.CubaLIF``), with ``S`` the input signal:

    LIF:      tau_mem dv/dt = (v_leak - v) + R S,
    CubaLIF:  tau_syn dI/dt = -I + w_in S,     tau_mem dv/dt = (v_leak - v) + R I,

spike when ``v > v_threshold`` and set ``v`` to ``v_reset``. spikesde's :class:`LIF` subtracts
``v_reset`` instead; at an exactly located hard-threshold crossing ``v = v_threshold``, so setting
to ``v_reset`` *is* subtracting ``v_threshold - v_reset``, which is what is imported (exact with the
float solvers' event location; on a clock the overshoot would make them differ, and the chip route
:func:`spikesde.nir_to_loihi` sets to 0 as the chip does).

* ``LIF`` node: ``tau_mem = tau``, ``c = (v_leak + R b) / tau`` (``b`` an Affine bias), and its
  input signal enters ``V`` directly: under :class:`DiscreteTimeSpikes` (the default) a spike of an
  Input channel is the pulse ``R W / tau`` on ``[t, t + dt)`` of the input current (a
  :class:`PiecewiseConstantCurrent`). Spikes from neurons into a ``LIF`` node (one-step pulses made
  at run time) and :class:`ContinuousTimeSpikes` into it (voltage jumps) are refused.
* ``CubaLIF`` node: spikesde's synaptic current is ``R I / tau_mem``, so a spike through weight
  ``W`` is a jump ``area R w_in W / (tau_syn tau_mem)`` with ``area`` the spike's integral (``dt`` or
  1, see :mod:`spikesde._hardware.nir_inputs`); ``c = v_leak / tau_mem``.
* Graphs written by :func:`spikesde.to_nir` carry spikesde's metadata (SLIF escape noise, noise
  scales, reset rule) and are read back losslessly; an SLIF node that records ``SetReset`` comes
  back with ``reset_rule=SetReset(v_reset)`` (see :mod:`spikesde._hardware.nir_reset`).
* ``Affine``, ``Linear``, ``Scale`` and uniform ``Delay`` nodes between an Input or neuron node and a
  neuron node are composed into one weight matrix; delays are allowed on Input routes (the input
  times are shifted). Other kinds raise a ``ValueError`` naming the node, its kind and the reason.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._core.network import Network
from .._models.currents import PiecewiseConstantCurrent
from .._models.lif import LIF
from .._models.slif import SLIF
from .nir_graph import NEURONS, check_outputs, kinds_of, paths_into, read_graph, size
from .nir_inputs import AbstractSpikeMeaning, ContinuousTimeSpikes, DiscreteTimeSpikes, InputRaster
from .nir_reset import imported_reset

_SLIF_METADATA = ("alpha", "beta", "tau_s", "sigma_v", "sigma_i", "v_reset", "v0", "i0")


def read_nir(path, input_spike_times=None, *, inputs: InputRaster | None = None, spikes: AbstractSpikeMeaning | None = None) -> Network:
    """:func:`from_nir` of the graph in an NIR file; a file that is not NIR raises a ``ValueError``
    naming it (no HDF5 signature, or HDF5 without NIR's ``node`` group).

    For example, ``read_nir("lif_norse.nir", inputs=InputRaster(raster, dt=1e-4))``.

    Example:
        ```python
        sd.hardware.write_nir(sd.Network(sd.LIF(2, 1.5, tau_mem=1.0, tau_syn=0.5), jnp.array([[0.0, 0.4], [0.0, 0.0]])), "net.nir")
        network = sd.hardware.read_nir("net.nir", spikes=sd.hardware.ContinuousTimeSpikes())
        ```
    """
    return from_nir(read_graph(path), input_spike_times, inputs=inputs, spikes=spikes)


def _population(name: str, kind: str, node) -> dict:
    """Per-neuron parameters of a NIR LIF/CubaLIF node: spikesde's ``threshold``, ``subtract``,
    ``tau_mem``, ``tau_syn``, constant current ``c``, ``gain`` (NIR input signal -> spikesde input
    current, LIF nodes) and ``jump`` (NIR weight times spike area 1 -> synaptic jump, CubaLIF)."""
    get = lambda field, default=None: np.asarray(getattr(node, field, default), np.float64).reshape(-1)  # noqa: E731
    threshold = get("v_threshold")
    reset = get("v_reset", 0.0) if getattr(node, "v_reset", None) is not None else np.zeros_like(threshold)
    metadata = dict(getattr(node, "metadata", {}) or {})
    p = {"name": name, "kind": kind, "threshold": threshold, "reset": reset, "subtract": threshold - reset, "r": get("r"),
         "v_leak": get("v_leak"), "model": metadata.get("spikesde_model", "LIF"), "metadata": metadata}
    if kind == "CubaLIF":
        p.update(tau_mem=get("tau_mem"), tau_syn=get("tau_syn"))
        p["jump"] = p["r"] * get("w_in") / p["tau_syn"]
        p["gain"] = np.full_like(threshold, np.nan)
    else:
        p.update(tau_mem=get("tau"), jump=np.full_like(threshold, np.nan))
        p["tau_syn"] = p["tau_mem"]  # unused: nothing jumps into a LIF node's synaptic row
        p["gain"] = p["r"] / p["tau_mem"]
    if p["model"] == "LIF":
        p["jump"] = p["jump"] / p["tau_mem"]  # our I = R I_nir / tau_mem
        p["c"] = p["v_leak"] / p["tau_mem"]
    else:
        p["c"] = p["v_leak"]
    p["c"] = np.broadcast_to(p["c"], threshold.shape).copy()
    return p


def _meaning(graph, spikes, raster) -> AbstractSpikeMeaning:
    if spikes is None:
        declared = (getattr(graph, "metadata", None) or {}).get("spike_meaning")
        spikes = ContinuousTimeSpikes() if declared == "continuous" else DiscreteTimeSpikes()
    if isinstance(spikes, DiscreteTimeSpikes) and raster is not None:
        if spikes.dt is None:
            spikes = DiscreteTimeSpikes(raster.dt)
        elif not np.isclose(spikes.dt, raster.dt, rtol=1e-12, atol=0.0):
            raise ValueError(f"DiscreteTimeSpikes.dt = {spikes.dt} differs from the InputRaster's dt = {raster.dt}")
    return spikes


def _channel_events(input_spike_times, raster, m):
    """Per channel: (times, amplitudes) of the input spikes (raster rows ``k`` at ``k dt``, graded)."""
    if raster is not None:
        if input_spike_times is not None:
            raise ValueError("give either input_spike_times or inputs (an InputRaster), not both")
        if raster.n_channels != m:
            raise ValueError(f"inputs: the InputRaster has {raster.n_channels} channels, the graph's Input nodes {m}")
        rows = [np.flatnonzero(column) for column in raster.values.T]
        return [(r * raster.dt, raster.values[r, k], r) for k, r in enumerate(rows)]
    if input_spike_times is None:
        return [(np.zeros(0), np.zeros(0), None)] * m
    times = np.asarray(input_spike_times, np.float64)
    if times.ndim != 2 or times.shape[0] != m:
        raise ValueError(f"input_spike_times must have shape (channels, max_spikes) with {m} channels, got {times.shape}")
    return [(t[np.isfinite(t)], np.ones(int(np.isfinite(t).sum())), None) for t in times]


def _grid_time(k: int, dt: float) -> float:
    """``k dt`` as the solver's grid computes it (``t0 + k dt`` with ``t0 = 0``, in JAX's default
    float): a pulse edge a rounding error away from the grid point would lose or double the step.
    Build the model in the precision it is simulated in (inside ``jax.enable_x64`` for float64)."""
    dtype = jnp.zeros(()).dtype
    return float(np.asarray(k, dtype) * np.asarray(dt, dtype))


class _Assembly:
    """The pieces of the Network, filled route by route."""

    def __init__(self, n, events):
        self.weights = np.zeros((n, n))
        self.pulses = []  # (start, end, amplitude vector of n)
        self.input_times, self.input_weights = [], []
        self.events, self.n = events, n

    def pulse_route(self, columns, weight, gain, channel_offset, delay, dt):
        for i in range(weight.shape[1]):
            times, amplitudes, rows = self.events[channel_offset + i]
            for j, (t, a) in enumerate(zip(times, amplitudes)):
                vector = np.zeros(self.n)
                vector[columns] = gain * weight[:, i] * a
                if rows is not None:
                    t, end = _grid_time(rows[j], dt), _grid_time(rows[j] + 1, dt)
                else:
                    end = t + dt
                self.pulses.append((t + delay, end + delay, vector))

    def jump_route(self, columns, weight, jump, channel_offset, delay):
        """Input spikes as jumps: one Network input channel per (route, channel, spike amplitude)."""
        for i in range(weight.shape[1]):
            times, amplitudes, _ = self.events[channel_offset + i]
            for a in np.unique(amplitudes):
                row = np.zeros(self.n)
                row[columns] = weight[:, i] * jump * a
                self.input_times.append(times[amplitudes == a] + delay)
                self.input_weights.append(row)

    def current(self, c):
        if not self.pulses:
            return c
        edges = np.unique(np.concatenate([[s, e] for s, e, _ in self.pulses]))
        values = np.broadcast_to(c, (edges.size + 1, self.n)).copy()
        for start, end, vector in self.pulses:
            values[np.searchsorted(edges, start) + 1 : np.searchsorted(edges, end) + 1] += vector
        return PiecewiseConstantCurrent(edges, values)

    def network_inputs(self):
        if not self.input_times or not np.any(np.asarray(self.input_weights) != 0):
            return {}
        width = max(1, max(t.size for t in self.input_times))
        times = np.full((len(self.input_times), width), np.inf)
        for k, t in enumerate(self.input_times):
            times[k, : t.size] = np.sort(t)
        return {"input_spike_times": times, "input_weights": np.asarray(self.input_weights)}


def from_nir(graph, input_spike_times=None, *, inputs: InputRaster | None = None, spikes: AbstractSpikeMeaning | None = None) -> Network:
    """A spikesde :class:`Network` from an ``nir.NIRGraph`` (see the module docstring for the mapping).

    All neuron nodes become one population (LIF, or SLIF when every node carries spikesde's SLIF
    metadata), in the order of ``graph.nodes``; the Input nodes' channels, in order, are the inputs.

    Arguments:
        graph: the ``nir.NIRGraph``.
        input_spike_times: ``(channels, max_spikes)`` input spike times padded with ``+inf``, or
        inputs: an :class:`InputRaster` (row ``k`` is step ``[k dt, (k + 1) dt)``; graded values
            scale the spikes). Without either the inputs are silent.
        spikes: what a spike means (:class:`DiscreteTimeSpikes` or :class:`ContinuousTimeSpikes`).
            Default: :class:`ContinuousTimeSpikes` for graphs spikesde wrote with that meaning, else
            :class:`DiscreteTimeSpikes` with the raster's ``dt`` (the frameworks' meaning).

    For example, ``from_nir(nir.read("lif_norse.nir"), inputs=InputRaster(raster, dt=1e-4))``.

    Example:
        ```python
        graph = sd.hardware.to_nir(sd.Network(sd.LIF(2, 1.5, tau_mem=1.0, tau_syn=0.5), jnp.array([[0.0, 0.4], [0.0, 0.0]])))
        network = sd.hardware.from_nir(graph)     # a spikesde Network of LIF neurons
        ```
    """
    kinds = kinds_of(graph)
    check_outputs(graph, kinds)
    spikes = _meaning(graph, spikes, inputs)
    populations = [name for name, kind in kinds.items() if kind in NEURONS]
    if not populations:
        raise ValueError("the NIR graph has no LIF or CubaLIF node")
    params = [_population(name, kinds[name], graph.nodes[name]) for name in populations]
    offsets = dict(zip(populations, np.cumsum([0, *[p["threshold"].size for p in params]])[:-1]))
    sources = [name for name, kind in kinds.items() if kind == "Input"]
    in_offsets = dict(zip(sources, np.cumsum([0, *[size(graph.nodes[s], output=True) for s in sources]])[:-1]))
    m = sum(size(graph.nodes[s], output=True) for s in sources)
    n = sum(p["threshold"].size for p in params)
    assembly = _Assembly(n, _channel_events(input_spike_times, inputs, m))
    c = np.concatenate([p["c"] for p in params])
    for p in params:
        _add_routes(graph, kinds, p, offsets, in_offsets, assembly, c, spikes)
    neuron = _neuron(params, assembly.current(c))
    weights = assembly.weights
    return Network(neuron, weights if np.any(weights != 0) else None, **assembly.network_inputs())


def _add_routes(graph, kinds, p, offsets, in_offsets, assembly, c, spikes):
    """Every route into population ``p``: its bias into ``c``, its weights into the assembly."""
    target, kind = p["name"], p["kind"]
    columns = slice(offsets[target], offsets[target] + p["threshold"].size)
    for path in paths_into(graph, kinds, target):
        if np.any(path.bias != 0):
            if kind == "CubaLIF":
                raise ValueError(f"NIR Affine bias into CubaLIF node {target!r}: a constant synaptic drive is not representable (use v_leak)")
            c[columns] += p["gain"] * path.bias
        if not np.any(path.weight != 0):
            continue
        from_input = kinds[path.source] == "Input"
        if kind == "LIF":
            if not isinstance(spikes, DiscreteTimeSpikes):
                raise ValueError(f"NIR LIF node {target!r} receives spikes, which {type(spikes).__name__} makes voltage jumps: spikesde's LIF has no voltage jumps; use DiscreteTimeSpikes(dt) (the frameworks' meaning) or a CubaLIF")
            if not from_input:
                raise ValueError(f"NIR LIF node {target!r} receives spikes from neuron node {path.source!r}: under DiscreteTimeSpikes they are one-step pulses made at run time, which spikesde cannot apply; use CubaLIF nodes")
            assembly.pulse_route(columns, path.weight, p["gain"], in_offsets[path.source], path.delay, spikes.spike_area())
            continue
        jump = p["jump"] * spikes.spike_area()
        if from_input:
            assembly.jump_route(columns, path.weight, jump, in_offsets[path.source], path.delay)
        elif path.delay != 0:
            raise ValueError(f"NIR route {path.source!r} -> {target!r} has a delay of {path.delay}: spikesde's Network has no synaptic delays")
        else:
            rows = slice(offsets[path.source], offsets[path.source] + path.weight.shape[1])
            assembly.weights[rows, columns] += (path.weight * jump[:, None]).T


def _neuron(params: list[dict], current) -> LIF | SLIF:
    cat = lambda key: np.concatenate([p[key] for p in params])  # noqa: E731
    n = sum(p["threshold"].size for p in params)
    models = {p["model"] for p in params}
    if models == {"SLIF"}:
        meta = {key: np.concatenate([np.broadcast_to(np.asarray(p["metadata"][key], np.float64), p["threshold"].shape) for p in params]) for key in _SLIF_METADATA}
        rule = imported_reset(params)
        if rule is not None:  # the metadata's v_reset (0) is the unused amount of the default rule
            meta = {key: value for key, value in meta.items() if key != "v_reset"} | {"reset_rule": rule}
        return SLIF(n, current, mu_v=1.0 / cat("tau_mem"), mu_i=1.0 / cat("tau_syn"), v_threshold=cat("threshold"), **meta)
    if models != {"LIF"}:
        raise ValueError(f"NIR neuron nodes mix spikesde models {sorted(models)}; import them separately")
    return LIF(n, current, tau_mem=cat("tau_mem"), tau_syn=cat("tau_syn"), threshold=cat("threshold"), v_reset=cat("subtract"))
