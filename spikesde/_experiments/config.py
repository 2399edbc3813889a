"""Loading, overriding, sweeping and writing configurations (TOML, checked by :mod:`.schema`).

A configuration error is a :class:`ConfigError` (a ``ValueError``) whose one-line message starts
with the key path (``optimizer.decay: unknown key for optimizer.name = 'adam' ...``) or the file.
"""

import itertools
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from . import schema
from .schema import Config


class ConfigError(ValueError):
    """A configuration that does not match the schema; ``path`` is the key path (or file) at fault.

    Example:
        ```python
        open("bad.toml", "w").write("simulation = { t0 = 0.0, t1 = 1.0, dt = -0.01, max_spikes = 3 }")
        try:
            sd.experiments.load_config("bad.toml")
        except sd.experiments.ConfigError as error:
            print(error.path, "|", error)   # the key at fault and what was expected
        ```
    """

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


# The tagged unions of the schema, by key path, to list their choices in errors.
_UNIONS: dict[str, tuple[str, Any]] = {
    "model": ("kind", schema.Model),
    "model.input_current": ("kind", schema.Current),
    "model.neuron": ("kind", schema.Neuron),
    "model.neuron.input_current": ("kind", schema.Current),
    "data": ("source", schema.Data),
    "loss": ("kind", schema.Loss),
    "optimizer": ("name", schema.Optimizer),
}


def _choices(union) -> list[str]:
    return [cls.__struct_config__.tag for cls in union.__args__]


def _describe(value) -> str:
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a table"}
    text = repr(value)
    return f"{kind.get(type(value), type(value).__name__)} {text if len(text) < 40 else text[:37] + '...'}"


def _lookup(data, path: str):
    node = data
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        try:
            node = node[int(part[1:-1])] if part.startswith("[") else node[part]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    return node


def _translate(error: msgspec.ValidationError, data, prefix: str = "") -> ConfigError:
    """A msgspec error (``Expected `int`, got `str` - at `$.training.steps```) as a ConfigError."""
    text, _, where = str(error).rpartition(" - at `")
    if not text:
        text, where = str(error), "$`"
    path = ".".join(p for p in (prefix, where.rstrip("`")[1:].lstrip(".")) if p)
    path = re.sub(r"\.?\[\.\.\.\]", "", path)
    join = lambda key: f"{path}.{key}" if path else key  # noqa: E731
    if m := re.fullmatch(r"Object contains unknown field `(.+)`", text):
        union = _UNIONS.get(path)
        variant = _lookup(data, f"{path}.{union[0]}") if union else None
        where_text = f" for {path}.{union[0]} = {variant!r}" if variant is not None else ""
        return ConfigError(join(m[1]), f"unknown key{where_text}")
    if m := re.fullmatch(r"Object missing required field `(.+)`", text):
        if path in _UNIONS and m[1] == _UNIONS[path][0]:
            return ConfigError(join(m[1]), f"missing (one of {', '.join(map(repr, _choices(_UNIONS[path][1])))})")
        return ConfigError(join(m[1]), "missing required key")
    if m := re.fullmatch(r"Invalid value (.+)", text):
        parent, _, key = path.rpartition(".")
        if parent in _UNIONS and key == _UNIONS[parent][0]:
            return ConfigError(path, f"got {m[1]}, expected one of {', '.join(map(repr, _choices(_UNIONS[parent][1])))}")
        return ConfigError(path, f"invalid value {m[1]}")
    if m := re.fullmatch(r"Expected `(.+)`, got `(.+)`", text):
        value = _lookup(data, path[len(prefix) + 1 :] if prefix else path)
        got = _describe(value) if value is not None else m[2]
        return ConfigError(path, f"expected {m[1].replace('array', 'list').replace('object', 'table')}, got {got}")
    if m := re.fullmatch(r"([A-Za-z_][\w.]*): (.+)", text):  # a __post_init__ check: "key: message"
        return ConfigError(join(m[1]), m[2])
    return ConfigError(path, text)


def convert(data: Mapping[str, Any], type_=Config, prefix: str = ""):
    """Check raw data (as read from TOML) against a schema struct; errors name the key path."""
    where = schema.first_non_finite(data)
    if where is not None:
        path = ".".join(p for p in (prefix, where.lstrip(".")) if p)
        raise ConfigError(path, "must be a finite number")
    if type_ is Config and isinstance(data, Mapping) and isinstance(data.get("sweep"), Mapping):
        for key, values in data["sweep"].items():
            if not isinstance(values, list):
                where = f'sweep."{key}"' if "." in key else f"sweep.{key}"
                raise ConfigError(where, f"must be a list of the values to sweep (e.g. [{values!r}]), got {values!r}")
    if type_ is Config and isinstance(data, Mapping) and isinstance(data.get("learn"), Mapping):
        for key, entry in data["learn"].items():  # each entry on its own, so that errors name it
            convert(entry, schema.LearnEntry, f'learn."{key}"' if "." in key else f"learn.{key}")
    try:
        return msgspec.convert(data, type_)
    except msgspec.ValidationError as error:
        raise _translate(error, data, prefix) from None


# ---------------------------------------------------------------------------------------------
# Reading files and --set overrides.


def read_toml(path: str | Path) -> dict:
    """Raw data of a TOML file; a missing, unreadable, non-UTF-8 or non-TOML file is a ConfigError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise ConfigError(str(path), "is a folder, not a TOML configuration file") from None
    except OSError as error:
        raise ConfigError(str(path), f"cannot read the configuration ({error.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(str(path), f"is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(path), f"is not valid TOML ({error})") from None


# Tables whose keys are themselves dotted paths: `--set sweep.model.sigma_v=[0.5]` means the
# key "model.sigma_v" of [sweep].
_PATH_TABLES = {("sweep",): (), ("data", "true"): (), ("learn",): ("init", "lower", "upper")}


def split_key(key: str) -> list[str]:
    """The parts of a key path in TOML syntax (``optimizer.lr``, ``sweep."model.sigma_v"``)."""
    try:
        node = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        raise ConfigError(key, "is not a key path (write it as in TOML: optimizer.lr, sweep.\"model.sigma_v\")") from None
    parts = []
    while isinstance(node, dict):
        ((name, node),) = node.items()
        parts.append(name)
    for table, leaves in _PATH_TABLES.items():
        n = len(table)
        if tuple(parts[:n]) == table and len(parts) > n + 1:
            tail = parts[n:]
            if leaves and tail[-1] in leaves and len(tail) > 2:
                return [*table, ".".join(tail[:-1]), tail[-1]]
            if not (leaves and tail[-1] in leaves):
                return [*table, ".".join(tail)]
    return parts


def parse_value(text: str):
    """A TOML value (``1e-2``, ``[16, 32]``, ``"adam"``, ``true``); a bare word is a string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        if re.fullmatch(r"[A-Za-z_][\w.\-]*", text):
            return text
        raise


def set_key(data: dict, parts: Sequence[str], value) -> dict:
    """A deep copy of ``data`` with ``value`` at the key path ``parts``."""
    data = _copy(data)
    node = data
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(".".join(parts[: depth + 1]), f"is {_describe(child)}, not a table")
        node = child
    node[parts[-1]] = value
    return data


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str]) -> dict:
    """Apply ``key.path=value`` overrides (values in TOML syntax); the result is checked on conversion."""
    data = _copy(data)
    for override in overrides:
        key, separator, text = override.partition("=")
        if not separator or not key.strip():
            raise ConfigError("--set", f"{override!r} is not of the form key.path=value")
        try:
            value = parse_value(text.strip())
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(key.strip(), f"cannot read the value {text.strip()!r} as TOML ({error})") from None
        data = set_key(data, split_key(key.strip()), value)
    return data


def _copy(data):
    if isinstance(data, Mapping):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def _resolve_files(data: dict, base: Path) -> dict:
    """File paths in the config (data.path, model.weights_file) relative to the config's folder."""
    for parts in (("data", "path"), ("model", "weights_file")):
        value = _lookup(data, ".".join(parts))
        if isinstance(value, str) and not Path(value).expanduser().is_absolute():
            data = set_key(data, parts, str((base / Path(value).expanduser()).resolve()))
    return data


def load_raw(path: str | Path, overrides: Sequence[str] = ()) -> dict:
    """Raw data of a configuration file with overrides applied and file paths resolved."""
    data = apply_overrides(read_toml(path), overrides)
    return _resolve_files(data, Path(path).resolve().parent)


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> Config:
    """Read a TOML configuration, apply ``overrides`` (``key.path=value``) and check it, every sweep run too.

    Example:
        ```python
        import pathlib
        pathlib.Path("fit.toml").write_text('''name = "fit"
        model = { kind = "slif", input_current = { kind = "constant", value = 1.0 } }
        data = { source = "simulate", num_samples = 16, true = { "input_current.value" = 1.5 } }
        learn = { "input_current.value" = {} }
        simulation = { t0 = 0.0, t1 = 2.0, dt = 0.01, max_spikes = 3, keep_first = true }
        loss = { kind = "spike_time_mse" }
        optimizer = { name = "adam", lr = 0.05 }
        training = { steps = 3 }
        ''')
        config = sd.experiments.load_config("fit.toml", overrides=["training.steps=2"])
        config.training.steps   # 2
        ```
    """
    raw = load_raw(path, overrides)
    expand_sweep(raw)
    return convert(raw)


def to_builtins(config: Config) -> dict:
    """The resolved configuration (defaults filled in, unset options left out) as plain data."""

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(msgspec.to_builtins(config))


def config_to_toml(config: Config) -> str:
    """The resolved configuration as TOML (written with tomli-w); :func:`load_config` reads it back."""
    import tomli_w  # noqa: PLC0415

    return tomli_w.dumps(to_builtins(config))


# ---------------------------------------------------------------------------------------------
# Sweeps.


class Run(msgspec.Struct, frozen=True):
    """One run of a sweep: its folder (relative to the sweep's), the swept values, its config."""

    folder: str
    values: dict[str, Any]
    config: Config


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ",".join(_format(v) for v in value)
    return re.sub(r"[^\w.,+\-]", "_", str(value))


def _labels(keys: Sequence[str]) -> dict[str, str]:
    """Folder labels of sweep keys: the last part of the path, or the whole path where that is ambiguous."""
    last = {key: split_key(key)[-1].split(".")[-1] for key in keys}
    counts = {label: list(last.values()).count(label) for label in last.values()}
    return {key: last[key] if counts[last[key]] == 1 else key.replace('"', "") for key in keys}


def expand_sweep(data: Mapping[str, Any]) -> list[Run]:
    """Every run of the sweep in raw ``data`` (the product of the [sweep] lists), each checked.

    A sweep key is any key path of the configuration (``"model.sigma_v"``, ``"data.num_samples"``);
    the run sets that key and nothing else, so a model parameter is shared by the true model
    unless ``[data.true]`` names it.
    """
    base = convert(data)  # the whole file is checked first
    sweep = base.sweep
    labels = _labels(list(sweep))
    runs = []
    for combination in itertools.product(*sweep.values()):
        run_data = {k: v for k, v in _copy(data).items() if k != "sweep"}
        values = dict(zip(sweep, combination))
        for key, value in values.items():
            try:
                run_data = set_key(run_data, split_key(key), value)
            except ConfigError as error:
                raise ConfigError(f"sweep.{key}", error.message) from None
        try:
            config = convert(run_data)
        except ConfigError as error:
            swept = [k for k in sweep if error.path == k or error.path.startswith((f"{k}.", f"{k}["))]
            path = f'sweep."{swept[0]}"' if swept else error.path
            raise ConfigError(path, f"{error} (in the sweep run {_run_name(values, labels)})") from None
        runs.append(Run(_run_name(values, labels), values, config))
    return runs


def _run_name(values: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    return "/".join(f"{labels[key]}={_format(value)}" for key, value in values.items()) or "run"
