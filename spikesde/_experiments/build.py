"""From a checked configuration to library objects: model, true model, loss, optimiser.

Every builder raises :class:`~.config.ConfigError` naming the key path when the objects refuse a
value that the schema alone could not check (a parameter path that the model lacks, a weights file
of the wrong shape, an optax option that the optimiser does not take).
"""

import inspect
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import msgspec
import numpy as np
import optax

from .._core.current import AbstractCurrent
from .._core.network import Network
from .._core.validation import check_parameters
from .._losses.base import AbstractSpikeTrainLoss
from .._losses.mmd import SignatureKernelMMD
from .._losses.lag_statistics import LagStatisticLoss
from .._losses.signature import ExpectedSignatureLoss
from .._losses.spike_time import FirstSpikeTimeLoss
from .._losses.spike_time_kernel import SpikeTimeMMD
from .._models.currents import ConstantCurrent, PiecewiseConstantCurrent, SinusoidalCurrent
from .._models.lif import LIF
from .._models.slif import SLIF
from .._models.topology import feedforward, recurrent
from .._training.estimator import AbstractGradientEstimator, MaximumLikelihood, PathwiseGradient, ScoreFunctionGradient
from .._training.particle_estimator import ParticleLikelihood
from .._training.simulation import Simulation
from . import schema
from .config import ConfigError

_CURRENTS = {
    schema.Constant: ConstantCurrent,
    schema.PiecewiseConstant: PiecewiseConstantCurrent,
    schema.Sinusoidal: SinusoidalCurrent,
}
_NEURONS = {schema.SLIFModel: SLIF, schema.LIFModel: LIF}


def _fields(spec, *skip: str) -> dict:
    return {name: getattr(spec, name) for name in spec.__struct_fields__ if name not in skip and getattr(spec, name) is not None}


def build_current(spec) -> AbstractCurrent:
    """The input current of a ``[model.input_current]`` table."""
    if type(spec) not in _CURRENTS:  # a stimulus filter needs the data's stimulus (exact_likelihood only)
        raise ConfigError("model.input_current.kind", f"{schema.tag(spec)!r} needs loss.kind = 'exact_likelihood'")
    return _CURRENTS[type(spec)](**_fields(spec))


def build_neuron(spec, path: str = "model"):
    """The neurons of a ``slif`` or ``lif`` model table; a value outside a parameter's domain is a
    ConfigError naming its key (``model.tau_s: SLIF.tau_s must be finite and positive, got 0.0``)."""
    neuron = _NEURONS[type(spec)]
    fields = _fields(spec, "n_neurons", "input_current")
    for name, domain in neuron.domains.items():
        if name in fields:
            try:
                check_parameters(neuron.__name__, {name: domain}, {name: fields[name]})
            except ValueError as error:
                raise ConfigError(f"{path}.{name}", str(error)) from None
    try:
        current = build_current(spec.input_current)
        return neuron(spec.n_neurons, current, **fields)
    except ConfigError:
        raise  # already names its own key (e.g. model.input_current.kind)
    except (TypeError, ValueError) as error:
        raise ConfigError(path, str(error)) from None


def build_model(spec: schema.Model, *, path: str = "model"):
    """A neuron population, or a :class:`spikesde.Network` of one (weights drawn with ``spec.seed``)."""
    if not isinstance(spec, schema.NetworkModel):
        return build_neuron(spec, path)
    neuron = build_neuron(spec.neuron, f"{path}.neuron")
    key = jax.random.key(spec.seed)
    if spec.layers is not None:
        return feedforward(neuron, spec.layers, key=key, weight_low=spec.weight_low, weight_high=spec.weight_high,
                           scale_by_fan_in=spec.scale_by_fan_in)  # fmt: skip
    if spec.recurrent is not None:
        r = spec.recurrent
        return recurrent(neuron, key=key, connection_probability=r.p, weight_scale=r.weight_scale,
                         self_connections=r.self_connections)  # fmt: skip
    return Network(neuron, _read_weights(Path(spec.weights_file), neuron.n_neurons, f"{path}.weights_file"))


def _read_weights(file: Path, n: int, key: str) -> np.ndarray:
    """An ``(n, n)`` weight matrix from ``.npy``, or ``.npz`` (array ``weights``), or text."""
    try:
        if file.suffix == ".npz":
            with np.load(file) as archive:
                weights = archive["weights"]
        elif file.suffix == ".npy":
            weights = np.load(file)
        else:
            weights = np.loadtxt(file, ndmin=2)
    except (OSError, ValueError, KeyError) as error:
        raise ConfigError(key, f"cannot read weights from {file} ({error})") from None
    if weights.shape != (n, n) or not np.all(np.isfinite(weights)):
        raise ConfigError(key, f"{file} must hold a finite ({n}, {n}) matrix, got shape {weights.shape}")
    return weights


# ---------------------------------------------------------------------------------------------
# Parameter paths: "input_current.value", "neuron.mu_v", "weights".


def value_at(model, path: str, key: str):
    """The array at the attribute ``path`` of ``model``; ``key`` names the config entry in errors."""
    node = model
    for depth, part in enumerate(path.split(".")):
        if not hasattr(node, part) or part.startswith("_"):
            here = ".".join(path.split(".")[:depth]) or type(model).__name__
            options = [f for f in getattr(node, "__dataclass_fields__", {}) if not f.startswith("_")]
            raise ConfigError(key, f"{path!r}: {here} has no parameter {part!r} (it has {', '.join(options)})")
        node = getattr(node, part)
    if not eqx.is_inexact_array(node):
        raise ConfigError(key, f"{path!r} is not a floating-point parameter of the model (got {type(node).__name__})")
    return node


def replace_at(model, path: str, value, key: str):
    """``model`` with the array at ``path`` replaced by ``value`` (broadcast to the old shape)."""
    old = value_at(model, path, key)
    try:
        new = jnp.broadcast_to(jnp.asarray(value, dtype=old.dtype), old.shape)
    except (ValueError, TypeError):
        raise ConfigError(key, f"a value of shape {np.shape(value)} does not fit {path!r} of shape {old.shape}") from None
    return eqx.tree_at(lambda m: _get(m, path), model, new)


def _get(model, path: str):
    for part in path.split("."):
        model = getattr(model, part)
    return model


def _key(table: str, path: str) -> str:
    return f'{table}."{path}"' if "." in path else f"{table}.{path}"


def true_model(config: schema.Config, model=None):
    """The model that generates simulated data: ``[model]`` with the ``[data.true]`` values."""
    model = build_model(config.model) if model is None else model
    for path, value in config.data.true.items():
        key = _key("data.true", path)
        if isinstance(value, dict):
            value = value_at(_drawn_truth(config.model, value, key), path, key)
        model = replace_at(model, path, value, key)
    return model


_DRAW_KEYS = {"seed": int, "weight_low": (int, float), "weight_high": (int, float), "scale_by_fan_in": bool}


def _drawn_truth(spec, table: dict, key: str):
    """The network drawn with ``table``'s seed (and weight distribution) in place of ``[model]``'s."""
    wrong = [k for k, v in table.items() if k not in _DRAW_KEYS or not isinstance(v, _DRAW_KEYS[k])
             or (isinstance(v, bool) and _DRAW_KEYS[k] is not bool)]  # fmt: skip
    if "seed" not in table or wrong:
        raise ConfigError(key, "a table value must be { seed = <integer> } (the model drawn with that seed), "
                               "optionally with weight_low, weight_high, scale_by_fan_in")  # fmt: skip
    if not isinstance(spec, schema.NetworkModel):
        raise ConfigError(key, "{ seed = ... } draws network weights; model.kind is not 'network'")
    try:
        return build_model(msgspec.structs.replace(spec, **table))
    except (TypeError, ValueError) as error:
        raise ConfigError(key, str(error)) from None


def check_learn(config: schema.Config, model) -> None:
    """Every ``[learn]`` path names a floating-point parameter, and its ``init`` fits its shape."""
    for path, entry in config.learn.items():
        key = _key("learn", path)
        old = value_at(model, path, key)
        if entry.init is not None:
            replace_at(model, path, entry.init, f"{key}.init")
        for name in ("lower", "upper"):
            bound = getattr(entry, name)
            start = np.asarray(entry.init if entry.init is not None else old, dtype=float)
            if bound is not None and np.any(start <= bound if name == "lower" else start >= bound):
                raise ConfigError(f"{key}.{'init' if entry.init is not None else name}",
                                  f"the start {start.tolist()} is not inside the {name} bound {bound}")  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Simulation, loss and optimiser.


_ESTIMATORS = {"pathwise": PathwiseGradient, "score_function": ScoreFunctionGradient, "maximum_likelihood": MaximumLikelihood}


def _particle_estimator(t: schema.TrainingSection) -> ParticleLikelihood:
    try:
        return ParticleLikelihood(particles=t.particles, ess_threshold=t.ess_threshold, seed=t.particle_seed)
    except ValueError as error:
        name = str(error).split(":")[0]
        raise ConfigError(f"training.{'particle_seed' if name == 'seed' else name}", str(error)) from None


def build_estimator(c: schema.Config, model) -> AbstractGradientEstimator:
    """The estimator of ``training.estimator``, checked against ``model`` (a ConfigError naming the key)."""
    if c.training.estimator == "particle":
        estimator = _particle_estimator(c.training)
    else:
        estimator = _ESTIMATORS[c.training.estimator]()
    try:
        estimator.check(model, max(c.training.model_samples, 2))
    except (TypeError, ValueError) as error:
        raise ConfigError("training.estimator", f"{c.training.estimator}: {error}") from None
    return estimator


def build_simulation(c: schema.Config) -> Simulation:
    """The :class:`spikesde.Simulation` of ``[simulation]``."""
    s = c.simulation
    try:
        return Simulation(s.t0, s.t1, s.dt, s.max_spikes, keep_first=s.keep_first, max_events=s.max_events or None)
    except (TypeError, ValueError) as error:
        raise ConfigError("simulation", str(error)) from None


def build_loss(config: schema.Config, loss=None) -> AbstractSpikeTrainLoss:
    """The training loss of ``[loss]`` (or the table ``loss``) on the window of ``[simulation]``."""
    loss, s = config.loss if loss is None else loss, config.simulation
    if isinstance(loss, schema.ExpectedSignature):  # the solve's event bound bounds the signature's work
        return ExpectedSignatureLoss(t0=s.t0, t1=s.t1, max_events=s.max_events or None, **_fields(loss))
    if isinstance(loss, schema.SignatureMMD):
        return SignatureKernelMMD(t0=s.t0, t1=s.t1, **_fields(loss))
    if isinstance(loss, schema.LagStatistics):
        return _lag_statistic_loss(config, loss)
    if isinstance(loss, schema.SpikeTimeMMDLoss):
        return SpikeTimeMMD(
            num_spikes=loss.num_spikes or s.max_spikes, t0=s.t0, t1=s.t1, bandwidths=tuple(loss.bandwidths),
            time_unit=loss.time_unit, intervals=loss.intervals, marginal=loss.marginal,
        )
    kind = "mse" if isinstance(loss, schema.SpikeTimeMSE) else "mae"
    return FirstSpikeTimeLoss(num_spikes=loss.num_spikes or s.max_spikes, t1=s.t1, kind=kind)


def _lag_statistic_loss(config: schema.Config, loss: schema.LagStatistics) -> LagStatisticLoss:
    connections = None
    if loss.pairs == "connections":  # the model network's connections (its mask: the same for every weight draw)
        if not isinstance(config.model, schema.NetworkModel):
            raise ConfigError("loss.pairs", "'connections' needs a network model; use pairs = 'all'")
        connections = np.asarray(build_model(config.model).mask)
    s = config.simulation
    return LagStatisticLoss(s.t0, s.t1, taus=tuple(loss.taus), taper=loss.taper, connections=connections,
                            whiten=loss.whiten, shrinkage=loss.shrinkage)  # fmt: skip


def test_metric(config: schema.Config) -> FirstSpikeTimeLoss:
    """The reference test metric: MAE of the average first ``max_spikes`` spike times."""
    return FirstSpikeTimeLoss(num_spikes=config.simulation.max_spikes, t1=config.simulation.t1, kind="mae")


def test_metrics(config: schema.Config) -> dict:
    """Test metrics of a run: ``mae`` (:func:`test_metric`) and ``metric`` (``[test_loss]``, when given)."""
    metrics = {"mae": test_metric(config)}
    if config.test_loss is not None:
        metrics["metric"] = build_loss(config, config.test_loss)
    return metrics


def _schedule(o, steps: int):
    if o.schedule == "constant":
        return o.lr
    if o.schedule == "piecewise":
        values = [o.lr, *o.values]
        return optax.piecewise_constant_schedule(o.lr, {b: v / u for b, u, v in zip(o.boundaries, values, values[1:])})
    if o.schedule == "exponential":
        return optax.exponential_decay(o.lr, transition_steps=steps, decay_rate=o.final_lr / o.lr)
    if o.schedule == "cosine":
        return optax.cosine_decay_schedule(o.lr, decay_steps=steps, alpha=o.final_lr / o.lr)
    return optax.linear_schedule(o.lr, o.final_lr, transition_steps=steps)


def build_optimizer(config: schema.Config) -> optax.GradientTransformation:
    """The optax optimiser of ``[optimizer]`` with its learning-rate schedule over ``training.steps``."""
    o = config.optimizer
    if isinstance(o, schema.Newton):
        raise ConfigError("optimizer.name", "'newton' only fits loss.kind = 'exact_likelihood'")
    lr = _schedule(o, config.training.steps)
    if isinstance(o, schema.RMSprop):
        return optax.rmsprop(lr, decay=o.decay, eps=o.eps, momentum=o.momentum or None)
    if isinstance(o, schema.Adam):
        return optax.adam(lr, b1=o.b1, b2=o.b2, eps=o.eps)
    if isinstance(o, schema.SGD):
        return optax.sgd(lr, momentum=o.momentum or None)
    function = getattr(optax, o.function, None)
    if not callable(function) or o.function.startswith("_"):
        raise ConfigError("optimizer.function", f"optax has no optimiser {o.function!r}")
    parameters = inspect.signature(function).parameters
    for name in o.options:
        if name not in parameters or name == "learning_rate":
            allowed = [p for p in parameters if p != "learning_rate"]
            raise ConfigError(f"optimizer.options.{name}", f"not an option of optax.{o.function} ({', '.join(allowed)})")
    try:
        return function(lr, **o.options)
    except (TypeError, ValueError) as error:
        raise ConfigError("optimizer.options", f"optax.{o.function} refused them ({error})") from None
