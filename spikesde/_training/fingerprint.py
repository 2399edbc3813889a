"""Canonical descriptions of the objects that determine a run, and their hashes.

:func:`describe` turns models, losses, optax optimisers (closures over their hyper-parameters),
schedules, arrays and plain functions into a JSON-able structure that is equal exactly when the
objects compute the same thing: arrays by dtype, shape and bytes; modules and dataclasses by
class and fields; functions by their code, defaults and closure values. A checkpoint stores the
hashes, so a resume can refuse a run of another configuration, and the compiled step can be
reused by a later fit with an equal (not the same) optimiser.
"""

import dataclasses
import functools
import hashlib
import json
import types

import jax
import numpy as np


class Undescribable(TypeError):
    """An object whose behaviour cannot be told from its contents (compared by identity instead)."""


_MAX_DEPTH = 40


def describe(obj, *, _depth: int = 0, _seen: frozenset = frozenset()):
    """A JSON-able structure equal for two objects exactly when they compute the same thing."""
    if _depth > _MAX_DEPTH:
        raise Undescribable("nested too deeply")
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return {"float": repr(obj)}
    if isinstance(obj, (np.generic, np.ndarray, jax.Array)):
        return _describe_array(obj)
    if isinstance(obj, (np.dtype, type)):
        return {"type": f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', str(obj))}"}
    if id(obj) in _seen:
        return {"cycle": type(obj).__qualname__}
    sub = functools.partial(_describe_child, depth=_depth + 1, seen=_seen | {id(obj)})
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return {type(obj).__name__: [sub(x) for x in obj]}
    if isinstance(obj, dict):
        return {"dict": [[sub(k), sub(v)] for k, v in sorted(obj.items(), key=lambda kv: repr(kv[0]))]}
    if hasattr(obj, "_fields"):  # a NamedTuple (optax transformations and states)
        return {"class": _name(type(obj)), "fields": {f: sub(getattr(obj, f)) for f in obj._fields}}
    if dataclasses.is_dataclass(obj):  # equinox modules included
        fields = {f.name: sub(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return {"class": _name(type(obj)), "fields": fields}
    if isinstance(obj, functools.partial):
        return {"partial": sub(obj.func), "args": sub(obj.args), "keywords": sub(obj.keywords)}
    if isinstance(obj, types.MethodType):
        return {"method": sub(obj.__func__), "self": sub(obj.__self__)}
    if isinstance(obj, types.FunctionType):
        return _describe_function(obj, sub)
    if isinstance(obj, (types.BuiltinFunctionType, types.ModuleType, jax.custom_jvp, jax.custom_vjp)):
        return {"named": f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', getattr(obj, '__name__', ''))}"}
    if callable(getattr(obj, "__wrapped__", None)):
        return {"wrapped": sub(obj.__wrapped__)}
    raise Undescribable(f"cannot describe a {type(obj).__name__}")


def _describe_child(obj, *, depth, seen):
    return describe(obj, _depth=depth, _seen=seen)


def _name(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _describe_array(x):
    if isinstance(x, jax.core.Tracer):
        raise Undescribable("a traced array")
    if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        x = jax.random.key_data(x)
    x = np.asarray(x)
    digest = hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()[:24]
    return {"array": [str(x.dtype), list(x.shape), digest]}


def _describe_code(code: types.CodeType):
    consts = [_describe_code(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
    return [code.co_qualname if hasattr(code, "co_qualname") else code.co_name, code.co_code.hex(), consts, list(code.co_names)]


def _cell_contents(cell):
    try:
        return cell.cell_contents
    except ValueError:  # a closure cell not yet filled
        return {"empty cell": None}


def _describe_function(fn: types.FunctionType, sub):
    closure = [sub(_cell_contents(cell)) for cell in fn.__closure__ or ()]
    return {
        "function": f"{fn.__module__}.{fn.__qualname__}",
        "code": hashlib.sha256(json.dumps(_describe_code(fn.__code__)).encode()).hexdigest()[:24],
        "defaults": sub(fn.__defaults__),
        "kwdefaults": sub(fn.__kwdefaults__),
        "closure": closure,
    }


def digest(obj) -> str:
    """A short hash of :func:`describe` (of the type name and ``repr`` when it cannot be described)."""
    try:
        text = json.dumps(describe(obj), sort_keys=True)
    except Undescribable:
        text = f"{_name(type(obj))}:{_stable_repr(obj)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _stable_repr(obj) -> str:
    text = repr(obj)
    return "" if " at 0x" in text else text


class ByDescription:
    """Wraps an object so that equality and hash follow :func:`describe` (identity when it cannot).

    Used for the static parts of a :class:`spikesde.Trainer` (the optimiser, user functions):
    ``equinox.filter_jit`` then reuses a compiled step for an equal optimiser built anew.
    """

    __slots__ = ("obj", "_key")

    def __init__(self, obj):
        self.obj = obj
        try:
            self._key = json.dumps(describe(obj), sort_keys=True)
        except Undescribable:
            self._key = None

    def __eq__(self, other):
        if not isinstance(other, ByDescription):
            return NotImplemented
        if self.obj is other.obj:
            return True
        return self._key is not None and self._key == other._key

    def __hash__(self):
        return hash(self._key) if self._key is not None else id(self.obj)

    def __repr__(self):
        return f"ByDescription({self.obj!r})"
