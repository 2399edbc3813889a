"""Experiment configurations: TOML files checked against a schema, with command-line overrides.

A configuration is a tree of frozen dataclasses (the schema). Loading one checks every key: a
missing key, a value of the wrong type, an unknown key, or an option that does not belong to the
chosen variant (e.g. ``optimizer.decay`` with ``optimizer.name = "adam"``) raises a
:class:`ConfigError` (a ``ValueError``) that names the key path, such as ``optimizer.lr``.
"""

import dataclasses
import math
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

REQUIRED = dataclasses.MISSING


class ConfigError(ValueError):
    """A configuration that does not match the schema; the message starts with the key path."""

    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


def _field(default=REQUIRED, *, doc: str = "", only_for: tuple[str, ...] | None = None):
    """A schema entry. ``only_for`` restricts an optional key to some variants of the section."""
    metadata = {"doc": doc, "only_for": only_for}
    if default is REQUIRED:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class SimulationConfig:
    t0: float = _field(doc="start of the observation window")
    t1: float = _field(doc="end of the observation window")
    dt: float = _field(doc="Euler step")
    max_spikes: int = _field(doc="spike buffer per neuron; later spikes are ignored")

    def check(self, path):
        if not self.t1 > self.t0:
            raise ConfigError(f"{path}.t1", f"must be greater than t0 = {self.t0}, got {self.t1}")
        if not self.dt > 0:
            raise ConfigError(f"{path}.dt", f"must be positive, got {self.dt}")
        if self.max_spikes < 1:
            raise ConfigError(f"{path}.max_spikes", f"must be at least 1, got {self.max_spikes}")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    kind: Literal["slif"] = _field(doc="neuron model")
    mu_v: float = _field()
    mu_i: float = _field()
    v_reset: float = _field()
    alpha: float = _field()
    sigma_i: float = _field(0.0)
    beta: float = _field(5.0)
    v_threshold: float = _field(1.0)
    tau_s: float = _field(1.0)
    v0: float = _field(0.0)
    i0: float = _field(0.0)


# Fields of each input current: the constructor arguments, and which of them can be learned.
CURRENT_FIELDS: dict[str, tuple[str, ...]] = {
    "constant": ("value",),
    "piecewise_constant": ("breakpoints", "values"),
    "sinusoidal": ("offset", "amplitude", "frequency", "phase"),
}
LEARNABLE_CURRENT_FIELDS: dict[str, tuple[str, ...]] = {
    "constant": ("value",),
    "piecewise_constant": ("values",),
    "sinusoidal": ("offset", "amplitude", "frequency", "phase"),
}


@dataclasses.dataclass(frozen=True)
class CurrentConfig:
    kind: Literal["constant", "piecewise_constant", "sinusoidal"] = _field(doc="input current c(t)")
    true: dict[str, float | tuple[float, ...]] = _field(doc="every field of the current, at its true value")
    init: dict[str, float | tuple[float, ...]] = _field(doc="the learned fields, at their starting values")

    def check(self, path):
        fields = CURRENT_FIELDS[self.kind]
        for name in fields:
            if name not in self.true:
                raise ConfigError(f"{path}.true.{name}", f"missing (a {self.kind!r} current needs {list(fields)})")
        for name in self.true:
            if name not in fields:
                raise ConfigError(f"{path}.true.{name}", f"unknown field of a {self.kind!r} current (fields: {list(fields)})")
        if not self.init:
            raise ConfigError(f"{path}.init", "must name at least one field to learn")
        learnable = LEARNABLE_CURRENT_FIELDS[self.kind]
        for name, value in self.init.items():
            if name not in learnable:
                raise ConfigError(f"{path}.init.{name}", f"not a learnable field of a {self.kind!r} current ({list(learnable)})")
            if _shape(value) != _shape(self.true[name]):
                raise ConfigError(f"{path}.init.{name}", f"has length {_shape(value)} but true.{name} has {_shape(self.true[name])}")
        if self.kind == "piecewise_constant":
            breakpoints = self.true["breakpoints"]
            values = self.true["values"]
            if not isinstance(breakpoints, tuple) or not isinstance(values, tuple) or len(values) != len(breakpoints) + 1:
                raise ConfigError(f"{path}.true.values", "needs one more entry than true.breakpoints (both lists)")
            if any(b >= a for a, b in zip(breakpoints[1:], breakpoints[:-1])):
                raise ConfigError(f"{path}.true.breakpoints", "must be increasing")


def _shape(value):
    return len(value) if isinstance(value, tuple) else ()


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    sigma_v: tuple[float, ...] = _field(doc="noise levels on V, one run each")
    sample_size: tuple[int, ...] = _field(doc="numbers of true samples, one run each")

    def check(self, path):
        if not self.sigma_v:
            raise ConfigError(f"{path}.sigma_v", "must not be empty")
        if not self.sample_size:
            raise ConfigError(f"{path}.sample_size", "must not be empty")
        if any(s < 0 for s in self.sigma_v):
            raise ConfigError(f"{path}.sigma_v", "noise levels must be non-negative")
        if any(n < 2 for n in self.sample_size):
            raise ConfigError(f"{path}.sample_size", "sample sizes must be at least 2")


_LOSS_KINDS = ("expected_signature", "signature_mmd", "spike_time_mse", "spike_time_mae")


@dataclasses.dataclass(frozen=True)
class LossConfig:
    kind: Literal["expected_signature", "signature_mmd", "spike_time_mse", "spike_time_mae"] = _field()
    depth: int = _field(3, only_for=("expected_signature",))
    reduction: Literal["sum", "mean"] = _field("sum", only_for=("expected_signature",))
    refinement: int = _field(1, only_for=("signature_mmd",))
    time_scale: float = _field(1.0, only_for=("expected_signature", "signature_mmd"))
    count_scale: float = _field(1.0, only_for=("expected_signature", "signature_mmd"))
    taper: float = _field(0.0, doc="spike jumps taper to 0 over this time before t1", only_for=("expected_signature", "signature_mmd"))
    num_spikes: int = _field(0, doc="0: max_spikes", only_for=("spike_time_mse", "spike_time_mae"))

    def check(self, path):
        if self.depth < 1:
            raise ConfigError(f"{path}.depth", f"must be at least 1, got {self.depth}")
        if self.refinement < 0:
            raise ConfigError(f"{path}.refinement", f"must be non-negative, got {self.refinement}")
        if self.taper < 0:
            raise ConfigError(f"{path}.taper", f"must be non-negative, got {self.taper}")
        if self.num_spikes < 0:
            raise ConfigError(f"{path}.num_spikes", f"must be non-negative, got {self.num_spikes}")


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    name: Literal["rmsprop", "adam", "sgd"] = _field()
    lr: float = _field(doc="(initial) learning rate")
    decay: float = _field(0.9, only_for=("rmsprop",))
    momentum: float = _field(0.0, only_for=("rmsprop", "sgd"))
    eps: float = _field(1e-8, only_for=("rmsprop", "adam"))
    b1: float = _field(0.9, only_for=("adam",))
    b2: float = _field(0.999, only_for=("adam",))
    schedule: Literal["constant", "exponential", "cosine"] = _field("constant")
    final_lr: float = _field(0.0, doc="learning rate at the last step (exponential, cosine)")

    def check(self, path):
        if not self.lr > 0:
            raise ConfigError(f"{path}.lr", f"must be positive, got {self.lr}")
        if self.schedule == "exponential" and not self.final_lr > 0:
            raise ConfigError(f"{path}.final_lr", "an exponential schedule needs a positive final_lr")
        if self.schedule != "constant" and not 0 <= self.final_lr <= self.lr:
            raise ConfigError(f"{path}.final_lr", f"must lie in [0, lr = {self.lr}], got {self.final_lr}")
        if self.schedule == "constant" and self.final_lr != 0.0:
            raise ConfigError(f"{path}.final_lr", "only applies to a decaying schedule (schedule = 'exponential' or 'cosine')")


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    steps: int = _field(doc="optimiser steps")
    seed: int = _field(doc="seed of data, test set, model samples")
    model_samples: int = _field(0, doc="model samples per step (0: the sample size)")
    test_size: int = _field(0, doc="fresh true samples in the test set (0: the sample size)")
    checkpoint_every: int = _field(100, doc="steps between checkpoints (0: only at the end)")
    final_window: int = _field(100, doc="steps averaged for the final estimate")
    tolerance: float = _field(0.05, doc="report the first step with every learned value this close to the truth")
    gradient: Literal["auto", "forward", "reverse"] = _field(
        "auto", doc="differentiation mode; auto: forward for at most 4 learned scalars (cheaper), else reverse"
    )

    def check(self, path):
        for name in ("steps", "final_window"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{path}.{name}", f"must be at least 1, got {getattr(self, name)}")
        for name in ("model_samples", "test_size", "checkpoint_every"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{path}.{name}", f"must be non-negative, got {getattr(self, name)}")
        if self.model_samples == 1 or self.test_size == 1:
            raise ConfigError(path, "model_samples and test_size must be 0 or at least 2")


@dataclasses.dataclass(frozen=True)
class Config:
    """A full experiment: fit the input current of SLIF neurons to samples of spike trains."""

    name: str = _field(doc="experiment name (the default run folder is runs/<name>)")
    simulation: SimulationConfig = _field()
    model: ModelConfig = _field()
    current: CurrentConfig = _field()
    sweep: SweepConfig = _field()
    loss: LossConfig = _field()
    optimizer: OptimizerConfig = _field()
    training: TrainingConfig = _field()

    def check(self, path):
        if not self.name or any(c in self.name for c in "/\\"):
            raise ConfigError("name", f"must be a non-empty name without slashes, got {self.name!r}")
        if self.current.kind == "piecewise_constant":
            breakpoints = self.current.true["breakpoints"]
            if any(not self.simulation.t0 < b < self.simulation.t1 for b in breakpoints):
                raise ConfigError("current.true.breakpoints", "must lie inside (simulation.t0, simulation.t1)")
        if self.loss.num_spikes > self.simulation.max_spikes:
            raise ConfigError("loss.num_spikes", f"exceeds simulation.max_spikes = {self.simulation.max_spikes}")

    def to_dict(self) -> dict:
        """The resolved configuration as plain TOML-ready data (every default filled in)."""
        return _to_plain(self)


# ---------------------------------------------------------------------------------------------
# Parsing against the schema.


def _type_name(annotation) -> str:
    origin = typing.get_origin(annotation)
    if annotation is float:
        return "a number"
    if annotation is int:
        return "an integer"
    if annotation is str:
        return "a string"
    if annotation is bool:
        return "a boolean"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(annotation)[0])[2:]}s"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is dict:
        return "a table"
    return getattr(annotation, "__name__", str(annotation))


def _describe(value) -> str:
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "table"}.get(
        type(value), type(value).__name__
    )
    text = repr(value)
    return f"{kind} {text if len(text) < 40 else text[:37] + '...'}"


def _coerce(value, annotation, path: str):
    """Check ``value`` against ``annotation``; return it in canonical form (tuples, floats)."""
    origin = typing.get_origin(annotation)
    if dataclasses.is_dataclass(annotation):
        return _build(annotation, value, path)
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(path, f"expected {_type_name(annotation)}, got {_describe(value)}")
        if not math.isfinite(value):
            raise ConfigError(path, f"must be finite, got {value}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(path, f"expected {_type_name(annotation)}, got {_describe(value)}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(path, f"expected {_type_name(annotation)}, got {_describe(value)}")
        return value
    if origin is Literal:
        if value not in typing.get_args(annotation) or isinstance(value, bool):
            raise ConfigError(path, f"expected {_type_name(annotation)}, got {_describe(value)}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(path, f"expected {_type_name(annotation)}, got {_describe(value)}")
        (item,) = typing.get_args(annotation)[:1]
        return tuple(_coerce(v, item, f"{path}[{i}]") for i, v in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(annotation):
            try:
                return _coerce(value, option, path)
            except ConfigError:
                continue
        raise ConfigError(path, f"expected {_type_name(annotation)}, got {_describe(value)}")
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(path, f"expected a table, got {_describe(value)}")
        _, item = typing.get_args(annotation)
        return {str(k): _coerce(v, item, f"{path}.{k}") for k, v in value.items()}
    raise TypeError(f"unsupported schema type {annotation!r}")


def _variant(cls, data: Mapping) -> tuple[str, str] | None:
    """The field that selects a section's variant (``kind`` or ``name``) and its value."""
    for selector in ("kind", "name"):
        field = next((f for f in dataclasses.fields(cls) if f.name == selector), None)
        if field is not None and typing.get_origin(field.type) is Literal:
            return selector, data.get(selector)
    return None


def _build(cls, data, path: str):
    if not isinstance(data, Mapping):
        raise ConfigError(path, f"expected a table, got {_describe(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    prefix = f"{path}." if path else ""
    for key in data:
        if key not in fields:
            raise ConfigError(f"{prefix}{key}", f"unknown key (allowed: {', '.join(fields)})")
    variant = _variant(cls, data)
    values = {}
    for name, field in fields.items():
        key_path = f"{prefix}{name}"
        if name not in data:
            if field.default is REQUIRED:
                raise ConfigError(key_path, "missing required key")
            continue
        only_for = field.metadata.get("only_for")
        if only_for is not None and variant is not None and variant[1] in typing.get_args(hints[variant[0]]):
            if variant[1] not in only_for:
                raise ConfigError(
                    key_path, f"is not an option of {prefix}{variant[0]} = {variant[1]!r} (it applies to {', '.join(only_for)})"
                )
        values[name] = _coerce(data[name], hints[name], key_path)
    config = cls(**values)
    if hasattr(config, "check"):
        config.check(path)
    return config


def config_from_dict(data: Mapping[str, Any]) -> Config:
    """Check ``data`` against the schema and build a :class:`Config`."""
    return _build(Config, data, "")


def _parse_value(text: str):
    """A TOML value (``1e-2``, ``[16, 32]``, ``"adam"``, ``true``); a bare word is read as a string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        if text and all(c.isalnum() or c in "_-." for c in text) and not text[0].isdigit() and text[0] not in "-.":
            return text
        raise


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str]) -> dict:
    """Apply ``key.path=value`` overrides (values in TOML syntax) to raw configuration data.

    The key path must exist in the schema; the value is type-checked when the result is loaded.
    """
    data = _deep_copy(data)
    for override in overrides:
        key, separator, text = override.partition("=")
        key = key.strip()
        if not separator or not key:
            raise ConfigError("", f"override {override!r} is not of the form key.path=value")
        try:
            value = _parse_value(text.strip())
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(key, f"cannot parse override value {text!r} as TOML ({error})") from None
        parts = key.split(".")
        _check_schema_path(parts)
        node = data
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(".".join(parts[: depth + 1]), "is not a table")
            node = child
        node[parts[-1]] = value
    return data


def _check_schema_path(parts: list[str]) -> None:
    cls: Any = Config
    for depth, part in enumerate(parts):
        path = ".".join(parts[: depth + 1])
        if cls is dict:
            return  # free-form table (current.true, current.init): checked on load
        if not dataclasses.is_dataclass(cls):
            raise ConfigError(path, f"{'.'.join(parts[:depth])} is not a table")
        hints = typing.get_type_hints(cls)
        if part not in hints:
            parent = ".".join(parts[:depth]) or "the top level"
            raise ConfigError(path, f"unknown key (allowed in {parent}: {', '.join(hints)})")
        annotation = hints[part]
        cls = dict if typing.get_origin(annotation) is dict else annotation


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> Config:
    """Read a TOML configuration, apply ``overrides`` and check the result against the schema."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("", f"{path}: invalid TOML ({error})") from None
    return config_from_dict(apply_overrides(data, overrides))


def _deep_copy(data):
    if isinstance(data, Mapping):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_deep_copy(v) for v in data]
    return data


def _to_plain(value):
    if dataclasses.is_dataclass(value):
        variant = _variant(type(value), {f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
        return {
            f.name: _to_plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            # Options of other variants keep their defaults but are not part of this configuration.
            if variant is None or f.metadata.get("only_for") is None or variant[1] in f.metadata["only_for"]
        }
    if isinstance(value, Mapping):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_to_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Writing TOML (tomllib only reads). Enough for configurations: scalars, lists, nested tables.


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def dumps_toml(data: Mapping[str, Any]) -> str:
    """Write nested tables of scalars and lists as TOML (the inverse of ``tomllib.loads``)."""
    lines: list[str] = []

    def table(node: Mapping, prefix: str):
        scalars = {k: v for k, v in node.items() if not isinstance(v, Mapping)}
        tables = {k: v for k, v in node.items() if isinstance(v, Mapping)}
        if prefix and (scalars or not tables):
            lines.append(f"[{prefix}]")
        for key, value in scalars.items():
            lines.append(f"{key} = {_toml_value(value)}")
        if scalars:
            lines.append("")
        for key, value in tables.items():
            table(value, f"{prefix}.{key}" if prefix else key)

    table(data, "")
    return "\n".join(lines).rstrip() + "\n"


def config_to_toml(config: Config) -> str:
    """The resolved configuration (defaults filled in) as TOML; :func:`load_config` reads it back."""
    return dumps_toml(config.to_dict())
