"""NIR (the Neuromorphic Intermediate Representation) export and import of LIF/SLIF networks.

Conventions (NIR 1.0, ``nir.CubaLIF``):

    tau_syn dI_n/dt = -I_n + w_in S,     tau_mem dv/dt = (v_leak - v) + R I_n,

with ``S`` a sum of Dirac spikes (a spike through weight ``W`` makes ``I_n`` jump by
``w_in W / tau_syn``), a strict threshold ``v > v_threshold``, and a reset *to* ``v_reset``.

* A spikesde :class:`LIF` (``dV = (-V/tau_mem + I + c) dt``) maps onto ``R = tau_mem``,
  ``I_n = I``, ``w_in = 1``, ``v_leak = c tau_mem``, ``W = w tau_syn``.
* An :class:`SLIF` maps in its noise-free limit (a hard threshold at ``v_threshold``, sigma = 0):
  ``tau_mem = 1/mu_v``, ``tau_syn = 1/mu_i``, ``R = 1``, ``v_leak = c``, ``W = w tau_syn``; the
  escape-noise parameters (``alpha``, ``beta``, ``tau_s``) and the noise scales are kept in the
  node's metadata, which NIR consumers ignore and :func:`from_nir` reads back.
* Reset convention: spikesde *subtracts* ``v_reset`` at a spike, NIR resets to ``v_reset``. For a
  noise-free neuron the spike happens at ``V = threshold`` exactly, so subtracting ``v_reset`` is
  a reset to ``threshold - v_reset``, which is what is exported (and read back).
* The constant input current ``c`` becomes the leak potential ``v_leak``, which is exact; an
  ``Affine`` bias would instead pass through the synaptic filter of a CubaLIF. Affine biases are
  read on import where they are exact (into ``LIF`` nodes) and rejected where they are not.

Only ``Input``, ``Output``, ``Affine``, ``Linear``, ``LIF`` and ``CubaLIF`` nodes are supported;
other kinds raise a ``ValueError`` naming the node and its kind.
"""

from __future__ import annotations

import numpy as np

from .._core.network import Network, as_network
from .._models.currents import ConstantCurrent
from .._models.lif import LIF
from .._models.slif import SLIF

_SUPPORTED = ("Input", "Output", "Affine", "Linear", "LIF", "CubaLIF")
_SLIF_METADATA = ("alpha", "beta", "tau_s", "sigma_v", "sigma_i", "v_reset", "v0", "i0")


def _nir():
    try:
        import nir
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("NIR support needs the nir package: pip install spikesde[nir]") from error
    return nir


def _vector(x, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)).copy()


def _constant_input(neuron) -> np.ndarray:
    if not isinstance(neuron.input_current, ConstantCurrent):
        raise ValueError(f"NIR export needs a constant input current, got {type(neuron.input_current).__name__}")
    return _vector(neuron.input_current.value, neuron.n_neurons)


def _neuron_node(neuron):
    """The CubaLIF node of a LIF or SLIF population and the factor ``tau_syn`` of its weights."""
    nir, n = _nir(), neuron.n_neurons
    c = _constant_input(neuron)
    if isinstance(neuron, LIF):
        tau_mem, tau_syn = _vector(neuron.tau_mem, n), _vector(neuron.tau_syn, n)
        threshold, subtract = _vector(neuron.threshold, n), _vector(neuron.v_reset, n)
        r, v_leak = tau_mem, c * tau_mem
        metadata = {"spikesde_model": "LIF", "sigma_v": _vector(neuron.sigma_v, n), "sigma_i": _vector(neuron.sigma_i, n)}
    elif isinstance(neuron, SLIF):
        with np.errstate(divide="ignore"):
            tau_mem, tau_syn = 1.0 / _vector(neuron.mu_v, n), 1.0 / _vector(neuron.mu_i, n)
        threshold, subtract = _vector(neuron.v_threshold, n), _vector(neuron.v_reset, n)
        r, v_leak = np.ones(n), c
        metadata = {"spikesde_model": "SLIF", **{name: _vector(getattr(neuron, name), n) for name in _SLIF_METADATA}}
    else:
        raise TypeError(f"NIR export supports LIF and SLIF neurons, got {type(neuron).__name__}")
    metadata["reset_convention"] = "spikesde subtracts v_reset_subtract at a spike; NIR v_reset = v_threshold - v_reset_subtract"
    metadata["v_reset_subtract"] = subtract
    node = nir.CubaLIF(
        tau_syn=tau_syn, tau_mem=tau_mem, r=r, v_leak=v_leak, v_threshold=threshold,
        v_reset=threshold - subtract, w_in=np.ones(n), metadata=metadata,
    )
    return node, tau_syn


def to_nir(model: Network | LIF | SLIF):
    """An ``nir.NIRGraph`` of a spikesde network of :class:`LIF` or :class:`SLIF` neurons.

    Nodes: ``"input"`` (Input, one channel per input spike train; one silent channel with zero
    weights when there are none: NIR graphs need an entry point), ``"input_weights"`` (Linear),
    ``"neurons"`` (CubaLIF), ``"output"``, and with coupling ``"recurrent"`` (Linear, neurons to
    neurons). Weights are multiplied by ``tau_syn`` (see the module docstring).
    """
    nir = _nir()
    network = as_network(model)
    neuron, n = network.neuron, network.n_neurons
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
        # NIR graphs need an entry point: one input channel with zero weights.
        m, w_in = 1, np.zeros((n, 1))
    nodes["input"] = nir.Input(input_type=np.array([m]))
    nodes["input_weights"] = nir.Linear(weight=w_in)
    edges += [("input", "input_weights"), ("input_weights", "neurons")]
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={"generator": "spikesde"})


def _synaptic_weight(weight: np.ndarray, tau_syn: np.ndarray, name: str) -> np.ndarray:
    """``W[j, k] = w[k, j] tau_syn[j]``: NIR's jump ``W / tau_syn`` equals the spikesde jump ``w``."""
    weight = np.asarray(weight, dtype=np.float64)
    if not np.all(np.isfinite(tau_syn[np.any(weight != 0, axis=1)])):
        raise ValueError(f"NIR export: {name} reach neurons with tau_syn = inf (mu_i = 0), whose NIR synapse ignores spikes")
    return weight * np.where(np.isfinite(tau_syn), tau_syn, 0.0)[:, None]


def write_nir(model: Network | LIF | SLIF, path) -> None:
    """Write :func:`to_nir` of ``model`` to an NIR (HDF5) file."""
    _nir().write(path, to_nir(model))


def read_nir(path, input_spike_times=None) -> Network:
    """:func:`from_nir` of the graph in an NIR file."""
    return from_nir(_nir().read(path), input_spike_times=input_spike_times)


def _check_kinds(graph) -> dict[str, str]:
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    for name, kind in kinds.items():
        if kind not in _SUPPORTED:
            raise ValueError(f"NIR node {name!r} has kind {kind}, which spikesde does not import (supported: {', '.join(_SUPPORTED)})")
    return kinds


def _size(node, key: str) -> int:
    types = node.output_type if key == "output" else node.input_type
    return int(np.prod(np.asarray(types[key])))


def _population_parameters(name: str, node) -> dict[str, np.ndarray]:
    """Per-neuron spikesde parameters of an NIR LIF/CubaLIF node, and ``jump``: the factor that
    turns an NIR weight into a jump of the spikesde synaptic current."""
    get = lambda field: np.asarray(getattr(node, field), dtype=np.float64).reshape(-1)  # noqa: E731
    threshold, reset = get("v_threshold"), get("v_reset")
    params = {"threshold": threshold, "subtract": threshold - reset, "r": get("r"), "v_leak": get("v_leak")}
    if type(node).__name__ == "CubaLIF":
        params.update(tau_mem=get("tau_mem"), tau_syn=get("tau_syn"), jump=get("r") * get("w_in") / get("tau_syn"))
    else:
        params.update(tau_mem=get("tau"), tau_syn=np.ones_like(threshold), jump=np.full_like(threshold, np.nan))
    metadata = dict(getattr(node, "metadata", {}) or {})
    params["model"] = metadata.get("spikesde_model", "LIF")
    params["metadata"] = metadata
    if params["model"] == "LIF":
        params["jump"] = params["jump"] / params["tau_mem"]  # our I = R I_n / tau_mem
    params["name"] = name
    return params


def _weight_blocks(graph, kinds, populations, inputs):
    """``(source, target, W, bias)`` for every connection into a neuron population (identity
    edges included); connections that only reach ``Output`` nodes are readouts and skipped."""
    blocks = []
    for name, kind in kinds.items():
        if kind not in ("Affine", "Linear"):
            continue
        sources = [s for s, d in graph.edges if d == name]
        targets = [d for s, d in graph.edges if s == name and kinds[d] != "Output"]
        if not targets:
            continue
        if len(sources) != 1 or sources[0] not in populations and sources[0] not in inputs:
            raise ValueError(f"NIR node {name!r} ({kind}) must have exactly one source, an Input or a neuron node; got {sources}")
        node = graph.nodes[name]
        bias = np.asarray(node.bias, np.float64) if kind == "Affine" else None
        for target in targets:
            if target not in populations:
                raise ValueError(f"NIR node {name!r} ({kind}) feeds {target!r} ({kinds[target]}); only neuron nodes can follow a weight")
            blocks.append((sources[0], target, np.asarray(node.weight, np.float64), bias))
    for source, target in graph.edges:
        if target in populations and (source in populations or source in inputs):
            blocks.append((source, target, np.eye(_size(graph.nodes[target], "input")), None))
    return blocks


def from_nir(graph, input_spike_times=None) -> Network:
    """A spikesde :class:`Network` from an ``nir.NIRGraph`` of Input, Output, Affine, Linear, LIF and
    CubaLIF nodes (see the module docstring for the mapping).

    All neuron nodes become one population (LIF, or SLIF when every node carries spikesde's SLIF
    metadata), in the order of ``graph.nodes``; weights between them fill the blocks of the
    weight matrix and the Input channels (in order) become input spike trains. Give their spike
    times as ``input_spike_times`` (``(channels, max_spikes)``, padded with ``+inf``); without them
    the inputs get no spikes (the weights are kept, to be given times later).

    NIR ``LIF`` nodes have no synapse: they may take an Affine bias (a constant current) but not
    spikes. Affine biases into CubaLIF nodes (a constant synaptic drive) are not representable.
    """
    kinds = _check_kinds(graph)
    populations = [name for name, kind in kinds.items() if kind in ("LIF", "CubaLIF")]
    inputs = [name for name, kind in kinds.items() if kind == "Input"]
    if not populations:
        raise ValueError("the NIR graph has no LIF or CubaLIF node")
    params = [_population_parameters(name, graph.nodes[name]) for name in populations]
    sizes = [p["threshold"].size for p in params]
    offsets = dict(zip(populations, np.cumsum([0, *sizes])[:-1]))
    in_sizes = [_size(graph.nodes[name], "input") for name in inputs]
    in_offsets = dict(zip(inputs, np.cumsum([0, *in_sizes])[:-1]))
    n, m = sum(sizes), sum(in_sizes)
    jump = np.concatenate([p["jump"] for p in params])
    r_over_tau = np.concatenate([p["r"] / p["tau_mem"] for p in params])
    c = np.concatenate([p["v_leak"] / (p["tau_mem"] if p["model"] == "LIF" else 1.0) for p in params])
    weights, input_weights = np.zeros((n, n)), np.zeros((m, n))
    for source, target, weight, bias in _weight_blocks(graph, kinds, populations, inputs):
        rows = slice(offsets[target], offsets[target] + weight.shape[0])
        if bias is not None and np.any(bias != 0):
            if kinds[target] == "CubaLIF":
                raise ValueError(f"NIR Affine bias into CubaLIF node {target!r}: a constant synaptic drive is not representable (use v_leak)")
            c[rows] += r_over_tau[rows] * bias
        if not np.any(weight != 0):
            continue
        if kinds[target] == "LIF":
            raise ValueError(f"NIR LIF node {target!r} receives spikes (voltage jumps have no spikesde counterpart); use CubaLIF")
        block = (weight * jump[rows, None]).T
        if source in inputs:
            input_weights[in_offsets[source] : in_offsets[source] + weight.shape[1], rows] = block
        else:
            weights[offsets[source] : offsets[source] + weight.shape[1], rows] = block
    neuron = _neuron(params, c)
    network_inputs = {}
    if m and np.any(input_weights != 0):
        times = np.full((m, 1), np.inf) if input_spike_times is None else np.asarray(input_spike_times, np.float64)
        if times.ndim != 2 or times.shape[0] != m:
            raise ValueError(f"input_spike_times must have shape (channels, max_spikes) with {m} channels, got {times.shape}")
        network_inputs = {"input_spike_times": times, "input_weights": input_weights}
    return Network(neuron, weights if np.any(weights != 0) else None, **network_inputs)


def _neuron(params: list[dict], c: np.ndarray) -> LIF | SLIF:
    cat = lambda key: np.concatenate([p[key] for p in params])  # noqa: E731
    n = c.size
    models = {p["model"] for p in params}
    if models == {"SLIF"}:
        meta = {key: np.concatenate([np.broadcast_to(np.asarray(p["metadata"][key], np.float64), p["threshold"].shape) for p in params]) for key in _SLIF_METADATA}
        return SLIF(n, c, mu_v=1.0 / cat("tau_mem"), mu_i=1.0 / cat("tau_syn"), v_threshold=cat("threshold"), **meta)
    if models != {"LIF"}:
        raise ValueError(f"NIR neuron nodes mix spikesde models {sorted(models)}; import them separately")
    return LIF(n, c, tau_mem=cat("tau_mem"), tau_syn=cat("tau_syn"), threshold=cat("threshold"), v_reset=cat("subtract"))
