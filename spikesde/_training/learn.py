r"""Which parameters of a model are learned, where they start, and their domain.

A learned parameter is named by its attribute path in the model (``"neuron.input_current.value"``,
``"weights"``, ``"neuron.mu_v"``). The optimiser works on an unconstrained value ``u``; the model
sees the constrained value

    x = u                                   (no bounds)
    x = lower + softplus(u)                 (lower bound only)
    x = upper - softplus(u)                 (upper bound only)
    x = lower + (upper - lower) sigmoid(u)  (both bounds)

so every optimiser step stays inside the domain. Connectivity masks are respected: where a
:class:`spikesde.Network`'s ``mask`` is false, ``weights`` keeps the model's value and the gradient
of ``u`` there is exactly zero.
"""

import dataclasses
import functools
import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._core.network import Network

Params = dict[str, Float[Array, "..."]]


def _as_array_or_none(x):
    return None if x is None else jnp.asarray(x, dtype=float)


class Learn(eqx.Module):
    """One learned parameter.

    Arguments:
        path: attribute path in the model, dot separated, e.g. ``"neuron.mu_v"``.
        init: starting value (``None``: the model's current value); broadcast against the model's
            value, so a scalar parameter may start as one value per neuron.
        lower, upper: optional bounds of the domain (open interval), imposed by the
            reparametrisation in the module docstring.

    Example:
        ```python
        learn = [sd.Learn("input_current.value", init=1.0, lower=0.0), sd.Learn("mu_v", lower=0.0, upper=50.0)]
        ```
    """

    path: str = eqx.field(static=True)
    init: Float[Array, "..."] | None = eqx.field(default=None, converter=_as_array_or_none)
    lower: float | None = eqx.field(static=True, default=None)
    upper: float | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        if not isinstance(self.path, str) or not all(part.isidentifier() for part in self.path.split(".")):
            raise ValueError(f"learn path must be dot-separated attribute names, got {self.path!r}")
        for name in ("lower", "upper"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise ValueError(f"learn {self.path!r}: {name} must be a finite number or None, got {value!r}")
        if self.lower is not None and self.upper is not None and not self.lower < self.upper:
            raise ValueError(f"learn {self.path!r}: lower={self.lower} must be below upper={self.upper}")

    def constrain(self, u: Float[Array, "..."]) -> Float[Array, "..."]:
        """The model's value ``x`` of the unconstrained ``u``."""
        lo, hi = self.lower, self.upper
        if lo is None and hi is None:
            return u
        if hi is None:
            return lo + jax.nn.softplus(u)
        if lo is None:
            return hi - jax.nn.softplus(u)
        return lo + (hi - lo) * jax.nn.sigmoid(u)

    def unconstrain(self, x: Float[Array, "..."]) -> Float[Array, "..."]:
        """The inverse of :meth:`constrain` (``x`` strictly inside the bounds)."""
        lo, hi = self.lower, self.upper
        if lo is None and hi is None:
            return x
        if hi is None:
            return _softplus_inverse(x - lo)
        if lo is None:
            return _softplus_inverse(hi - x)
        p = (x - lo) / (hi - lo)
        return jnp.log(p) - jnp.log1p(-p)

    def inside(self, x) -> np.ndarray:
        """Which entries of ``x`` lie strictly inside the bounds."""
        x = np.asarray(x)
        ok = np.isfinite(x)
        if self.lower is not None:
            ok &= x > self.lower
        if self.upper is not None:
            ok &= x < self.upper
        return ok


def _softplus_inverse(y):
    # log(e^y - 1) = y + log(1 - e^-y), stable for large y.
    return y + jnp.log(-jnp.expm1(-y))


def _getter(path: str):
    return lambda model: functools.reduce(getattr, path.split("."), model)


def _lookup(model, path: str):
    """The value at ``path``, with an error naming the path and the fields that exist."""
    obj = model
    parts = path.split(".")
    for depth, name in enumerate(parts):
        fields = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else []
        if name not in fields:
            where = ".".join(parts[:depth]) or "the model"
            raise ValueError(
                f"learn path {path!r}: {where} ({type(obj).__name__}) has no field {name!r}; "
                f"its fields are {fields}"
            )
        obj = getattr(obj, name)
    if not eqx.is_inexact_array(obj):
        kind = "None" if obj is None else type(obj).__name__
        raise TypeError(f"learn path {path!r} is not a floating-point array in the model (it is {kind})")
    return obj


def mask_of(model, path: str):
    """The connectivity mask that applies to ``path`` (``None``: every entry is learned)."""
    parent_path, _, name = path.rpartition(".")
    parent = _getter(parent_path)(model) if parent_path else model
    if name == "weights" and isinstance(parent, Network) and parent.mask is not None:
        return parent.mask
    return None


def as_learn_specs(learn: Sequence[str | Learn]) -> tuple[Learn, ...]:
    """Normalise ``learn`` (paths or :class:`Learn`) and refuse duplicates."""
    if isinstance(learn, (str, Learn)):
        learn = [learn]
    specs = []
    for item in learn:
        if isinstance(item, str):
            item = Learn(item)
        if not isinstance(item, Learn):
            raise TypeError(f"learn entries must be paths (str) or Learn, got {type(item).__name__}")
        specs.append(item)
    if not specs:
        raise ValueError("learn is empty: name at least one parameter path to learn")
    paths = [s.path for s in specs]
    for path in paths:
        if paths.count(path) > 1:
            raise ValueError(f"learn path {path!r} is given more than once")
    return tuple(specs)


def prepare(model, learn: Sequence[str | Learn]):
    """Check ``learn`` against ``model`` and put each ``init`` into the model.

    Returns the model holding the starting values and the specs (with ``init`` cleared: the
    model now holds it). Errors name the path: a missing field, a value that is not a float
    array, an ``init`` of the wrong shape, or a starting value outside the bounds.
    """
    specs = as_learn_specs(learn)
    for spec in specs:
        current = _lookup(model, spec.path)
        value = current if spec.init is None else spec.init.astype(current.dtype)
        try:
            shape = jnp.broadcast_shapes(value.shape, current.shape)
        except ValueError:
            raise ValueError(
                f"learn {spec.path!r}: init has shape {value.shape}, not broadcastable to the model's {current.shape}"
            ) from None
        value = jnp.broadcast_to(value, shape)
        mask = mask_of(model, spec.path)
        inside = spec.inside(value) | (False if mask is None else ~np.asarray(mask))
        if not np.all(inside):
            bad = np.asarray(value)[~inside].ravel()[0]
            raise ValueError(
                f"learn {spec.path!r}: starting value {float(bad):g} is outside the domain "
                f"({spec.lower}, {spec.upper}) (bounds are open)"
            )
        if mask is not None:
            value = jnp.where(mask, value, current)
        model = eqx.tree_at(_getter(spec.path), model, value)
    specs = tuple(dataclasses.replace(spec, init=None) for spec in specs)
    return model, specs


def initial_params(model, specs: tuple[Learn, ...]) -> Params:
    """The unconstrained parameters of the values the model holds now."""
    params = {}
    for spec in specs:
        x = _getter(spec.path)(model)
        mask = mask_of(model, spec.path)
        if mask is not None:
            # Outside the mask the value is never used; keep the inverse finite there.
            x = jnp.where(mask, x, _interior_point(spec, x.dtype))
        params[spec.path] = spec.unconstrain(x)
    return params


def _interior_point(spec: Learn, dtype):
    lo, hi = spec.lower, spec.upper
    if lo is not None and hi is not None:
        value = (lo + hi) / 2
    else:
        value = lo + 1.0 if lo is not None else hi - 1.0 if hi is not None else 0.0
    return jnp.asarray(value, dtype=dtype)


def constrained_values(model, specs: tuple[Learn, ...], params: Params) -> Params:
    """The model's values of the learned parameters, by path (masked-out entries at the model's value)."""
    values = {}
    for spec in specs:
        x = spec.constrain(params[spec.path])
        mask = mask_of(model, spec.path)
        if mask is not None:
            x = jnp.where(mask, x, _getter(spec.path)(model))
        values[spec.path] = x
    return values


def fill(model, specs: tuple[Learn, ...], params: Params):
    """``model`` with the learned values of ``params`` in place."""
    values = constrained_values(model, specs, params)
    paths = [spec.path for spec in specs]
    return eqx.tree_at(lambda m: [_getter(p)(m) for p in paths], model, [values[p] for p in paths])


def num_learned(params: Params) -> int:
    """The number of learned scalars (the number of forward-mode tangents)."""
    return sum(int(np.size(v)) for v in params.values())


def check_learned_model(model) -> None:
    """Refuse a model whose learned values no longer fit the neuron (e.g. a per-neuron init of the wrong length)."""
    neuron = model.neuron if isinstance(model, Network) else model
    errors = neuron.parameter_errors() if hasattr(neuron, "parameter_errors") else []
    if errors:
        raise ValueError("; ".join(errors))

