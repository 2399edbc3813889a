"""Reading NIR files and walking NIR graphs: which node kinds spikesde takes, and the linear maps
(``Affine``, ``Linear``, ``Scale``, uniform ``Delay``) between spike sources and neuron nodes."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np

NEURONS = ("LIF", "CubaLIF")
LINEAR = ("Affine", "Linear", "Scale", "Delay")
SOURCES = ("Input",)
# Why each NIR kind outside NEURONS, LINEAR, Input and Output is refused.
REFUSED = {
    "IF": "a leak-free neuron (tau_mem = inf), which spikesde's LIF cannot hold (its exact step divides by tau_mem)",
    "I": "an integrator without spikes; spikesde simulates spiking populations",
    "Integrator": "an integrator without spikes; spikesde simulates spiking populations",
    "LI": "a leaky integrator without spikes (a readout); spikesde simulates spiking populations",
    "CubaLI": "a leaky integrator without spikes (a readout); spikesde simulates spiking populations",
    "Threshold": "a memoryless Heaviside of a continuous signal, which has no spike-event counterpart",
    "NIRGraph": "a nested graph; flatten it first",
}


def _nir():
    try:
        import nir
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("NIR support needs the nir package: pip install spikesde[nir]") from error
    return nir


def read_graph(path):
    """``nir.read(path)`` after checking that ``path`` is an NIR file (an HDF5 file with NIR's
    ``node`` group); anything else raises a ``ValueError`` naming the file and what is missing."""
    import h5py

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"NIR file {path!r} does not exist")
    if not h5py.is_hdf5(path):
        raise ValueError(f"{path!r} is not an NIR file: NIR files are HDF5, and this file has no HDF5 signature")
    with h5py.File(path, "r") as file:
        if "node" not in file:
            raise ValueError(f"{path!r} is HDF5 but not NIR: it has no 'node' group (top-level keys: {sorted(file.keys())})")
    try:
        return _nir().read(path)
    except ValueError as error:
        if "Type inference" not in str(error):
            raise ValueError(f"{path!r} has NIR's layout but nir could not read it: {error!r}") from error
        # Older exporters wrote shapes nir's checker now rejects (e.g. an Output typed [1, 1, 1] after
        # a 1-neuron LIF); spikesde reads sizes from the neuron and weight nodes, so say so and go on.
        warnings.warn(f"NIR file {path!r} fails nir's type check ({error}); read without it", stacklevel=3)
        return _nir().read(path, type_check=False)
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path!r} has NIR's layout but nir could not read it: {error!r}") from error


def kinds_of(graph) -> dict[str, str]:
    """``{node name: kind}``; a kind spikesde does not import raises naming the node, kind and reason."""
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    for name, kind in kinds.items():
        if kind in REFUSED:
            raise ValueError(f"NIR node {name!r} has kind {kind}: {REFUSED[kind]}")
        if kind not in (*NEURONS, *LINEAR, *SOURCES, "Output"):
            supported = ", ".join((*SOURCES, "Output", *LINEAR, *NEURONS))
            raise ValueError(f"NIR node {name!r} has kind {kind}, which spikesde does not import (supported: {supported})")
    return kinds


def size(node, output: bool = False) -> int:
    types = node.output_type if output else node.input_type
    return int(np.prod(np.asarray(next(iter(types.values())))))


@dataclass
class Path:
    """A linear route from ``source`` (an Input or neuron node, or ``None`` for a constant bias)
    into a node: its signal is ``weight @ source + bias``, delayed by ``delay``."""

    source: str | None
    weight: np.ndarray
    bias: np.ndarray
    delay: float


def _apply(name: str, kind: str, node, path: Path, own_bias: bool) -> Path:
    """``path`` continued through node ``name``; ``own_bias``: add the node's bias (once per node,
    not once per incoming route)."""
    f64 = lambda x: np.asarray(x, np.float64)  # noqa: E731
    if kind in ("Affine", "Linear"):
        w = f64(node.weight)
        bias = w @ path.bias + (f64(node.bias) if kind == "Affine" and own_bias else 0.0)
        return Path(path.source, w @ path.weight, bias, path.delay)
    if kind == "Scale":
        s = f64(node.scale).reshape(-1)
        return Path(path.source, s[:, None] * path.weight, s * path.bias, path.delay)
    delay = f64(node.delay).reshape(-1)
    if delay.size and not np.all(delay == delay[0]):
        raise ValueError(f"NIR node {name!r} (Delay) has per-channel delays {delay}; spikesde takes one delay per node")
    if np.any(path.bias != 0):
        raise ValueError(f"NIR node {name!r} (Delay) delays a constant bias, whose onset at t = delay spikesde cannot represent")
    return Path(path.source, path.weight, path.bias, path.delay + (float(delay[0]) if delay.size else 0.0))


def paths_into(graph, kinds: dict[str, str], target: str, _seen: tuple[str, ...] = ()) -> list[Path]:
    """The routes from spike sources into ``target``'s input, composing the linear nodes between
    them (NIR sums the signals of several incoming edges). Identity edges give identity weights."""
    paths = []
    for source, destination in graph.edges:
        if destination != target:
            continue
        kind = kinds[source]
        if kind in NEURONS or kind in SOURCES:
            n = size(graph.nodes[source], output=True)
            paths.append(Path(source, np.eye(n), np.zeros(n), 0.0))
        elif kind in LINEAR:
            if source in _seen:
                raise ValueError(f"NIR graph has a cycle of linear nodes through {source!r}: no neuron breaks it")
            inner = paths_into(graph, kinds, source, (*_seen, source))
            if not inner:
                raise ValueError(f"NIR node {source!r} ({kind}) has no input edge")
            paths += [_apply(source, kind, graph.nodes[source], p, own_bias=k == 0) for k, p in enumerate(inner)]
        else:
            raise ValueError(f"NIR node {source!r} ({kind}) feeds {target!r}; only Input, neuron and linear nodes can")
    return paths


def check_outputs(graph, kinds: dict[str, str]) -> None:
    """Edges may end at neuron, linear or Output nodes, and Output nodes may only read neuron
    nodes (directly or through linear maps, a readout spikesde does not simulate: refused)."""
    for source, destination in graph.edges:
        if kinds[destination] == "Input":
            raise ValueError(f"NIR edge ({source!r}, {destination!r}) ends at an Input node")
        if kinds[destination] == "Output" and kinds[source] not in (*NEURONS, "Input"):
            raise ValueError(
                f"NIR node {destination!r} (Output) reads {source!r} ({kinds[source]}): a weighted readout is not a spiking "
                "population; spikesde returns the spikes of the neuron nodes, apply the readout to them"
            )
