"""Reset rules and escape functions in NIR: what NIR's neurons can hold of a spikesde neuron's options.

NIR's ``LIF`` and ``CubaLIF`` fire when ``v`` crosses ``v_threshold`` and then *set* ``v`` to
``v_reset``. Hence, per reset rule (``neuron.reset_rule``; ``None`` is the subtraction of ``v_reset``):

* :class:`SetReset` ``(value)``: ``v_reset = value``, exactly, whatever the crossing.
* :class:`SubtractReset` ``(amount)`` (and the default): ``v_reset = v_threshold - amount``. Equal to
  subtracting only where the crossing is exact (``v = v_threshold`` at the spike: the noise-free,
  hard-threshold limit with located events), which is how :func:`spikesde.from_nir` reads it back.
* :class:`NoReset`: no NIR form (NIR's neurons always reset); refused.

Escape functions: an SLIF is exported as the hard-threshold limit (``beta -> inf``) of its
exponential intensity, with ``(beta, tau_s)`` in the node's metadata and ``v_threshold`` as NIR's
threshold. Only :class:`ExponentialEscape` (given or the default) has that form; the others are
refused by name.

Graphs record the rule in the node metadata ``"spikesde_reset"`` (``"SetReset"`` or
``"SubtractReset"``); nodes without it (other frameworks' graphs) are read as subtracting.
"""

from __future__ import annotations

import numpy as np

from .._models.escape import ExponentialEscape
from .._models.reset import SetReset, SubtractReset

_SUBTRACT_NOTE = "spikesde subtracts v_reset_subtract at a spike; NIR v_reset = v_threshold - v_reset_subtract"


def _vector(x, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)).copy()


def exported_reset(neuron, threshold: np.ndarray) -> tuple[np.ndarray, dict]:
    """NIR's ``v_reset`` for ``neuron`` (threshold per neuron given) and the node metadata that
    records the rule; a rule with no NIR form raises a ``ValueError`` naming it."""
    n, rule = neuron.n_neurons, getattr(neuron, "reset_rule", None)
    if isinstance(rule, SetReset):
        return _vector(rule.value, n), {"spikesde_reset": "SetReset"}
    if rule is None or isinstance(rule, SubtractReset):
        subtract = _vector(neuron.v_reset if rule is None else rule.amount, n)
        metadata = {"spikesde_reset": "SubtractReset", "reset_convention": _SUBTRACT_NOTE, "v_reset_subtract": subtract}
        return threshold - subtract, metadata
    raise ValueError(
        f"NIR export of a {type(neuron).__name__} with reset_rule={type(rule).__name__}: NIR's LIF and CubaLIF set v to "
        "v_reset at every spike, so only SetReset (v_reset = value) and SubtractReset (v_reset = v_threshold - amount) have a NIR form"
    )


def exported_escape(neuron) -> dict[str, np.ndarray]:
    """``v_threshold``, ``beta`` and ``tau_s`` (per neuron) of an SLIF's escape function, which must be
    exponential: NIR holds the hard-threshold limit of that intensity only."""
    escape = neuron.escape_function
    if type(escape) is not ExponentialEscape:
        raise ValueError(
            f"NIR export of a SLIF with escape={type(escape).__name__}: NIR's neurons fire at a hard threshold, which spikesde "
            "writes as the beta -> inf limit of the exponential intensity (ExponentialEscape, with beta and tau_s in metadata); "
            f"{type(escape).__name__} has no such limit in NIR"
        )
    n = neuron.n_neurons
    return {"v_threshold": _vector(escape.v_threshold, n), "beta": _vector(escape.beta, n), "tau_s": _vector(escape.tau_s, n)}


def imported_reset(params: list[dict]) -> SetReset | None:
    """The reset rule of the SLIF populations ``params`` (from ``_population``): a :class:`SetReset`
    of NIR's ``v_reset`` where every node records ``SetReset``; ``None`` (subtract the metadata's
    ``v_reset``) where none does; nodes that mix the two raise naming them."""
    rules = {p["name"]: p["metadata"].get("spikesde_reset", "SubtractReset") for p in params}
    if set(rules.values()) == {"SetReset"}:
        return SetReset(np.concatenate([np.broadcast_to(p["reset"], p["threshold"].shape) for p in params]))
    if "SetReset" in rules.values():
        raise ValueError(f"NIR neuron nodes mix reset rules {rules}: one spikesde population has one reset rule; import them separately")
    return None
