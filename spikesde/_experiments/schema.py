"""The configuration schema: frozen ``msgspec`` structs, one per TOML section.

Every struct forbids unknown keys; sections with variants are tagged unions (``model.kind``,
``model.input_current.kind``, ``data.source``, ``loss.kind``, ``optimizer.name``). Checks that relate
several keys live in ``__post_init__`` and raise ``ValueError("key: message")``; the loader in
:mod:`.config` turns them into a :class:`~.config.ConfigError` naming the whole key path.
"""

import math
from typing import Any, Literal

from .schema_base import _Section
from .schema_losses import (  # noqa: F401 (re-exported: the loss sections are part of the schema)
    ExactLikelihood,
    ExpectedSignature,
    LagStatistics,
    Loss,
    SignatureMMD,
    SpikeTimeMAE,
    SpikeTimeMMDLoss,
    SpikeTimeMSE,
    _PathLoss,
)

from .schema_optimizers import (  # noqa: F401 (re-exported: the optimiser sections are part of the schema)
    Adam,
    Newton,
    Optax,
    _Optimizer,
    Optimizer,
    RMSprop,
    SGD,
)

Scalars = float | list[float]


# ---------------------------------------------------------------------------------------------
# [model.input_current]


class Constant(_Section, tag_field="kind", tag="constant"):
    """``c(t) = value`` (one value, or one per neuron)."""

    value: Scalars = 1.5


class PiecewiseConstant(_Section, tag_field="kind", tag="piecewise_constant"):
    """``c(t) = values[i]`` on ``[breakpoints[i-1], breakpoints[i])``."""

    breakpoints: list[float]
    values: list[Scalars]

    def __post_init__(self):
        if len(self.values) != len(self.breakpoints) + 1:
            raise ValueError(f"values: needs len(breakpoints) + 1 = {len(self.breakpoints) + 1} entries, got {len(self.values)}")
        if any(b <= a for a, b in zip(self.breakpoints[:-1], self.breakpoints[1:])):
            raise ValueError("breakpoints: must be increasing")


class Sinusoidal(_Section, tag_field="kind", tag="sinusoidal"):
    """``c(t) = offset + amplitude sin(2 pi frequency t + phase)``."""

    offset: Scalars
    amplitude: Scalars
    frequency: Scalars
    phase: Scalars = 0.0


class StimulusFilter(_Section, tag_field="kind", tag="stimulus_filter"):
    """``c(t) = b + sum_j w_j (phi_j * s)(t)`` plus after-spike currents ``sum_i a_i sum_{t_s < t} exp(-(t - t_s) / tau_i)``.

    ``s`` is the data's ``stimulus`` covariate after ``transform`` (``log_zscore``: log, then
    z-scored on the training window; ``zscore``; ``none``), ``phi_j`` ``n_basis`` raised cosines over
    ``filter_duration`` s, ``history_taus`` the after-spike time constants (s). The weights ``w``,
    bias ``b`` and amplitudes ``a`` are learned; only with ``loss.kind = "exact_likelihood"``.
    """

    n_basis: int = 10
    filter_duration: float = 0.03
    history_taus: list[float] = []
    transform: Literal["log_zscore", "zscore", "none"] = "log_zscore"

    def __post_init__(self):
        if self.n_basis < 1:
            raise ValueError(f"n_basis: must be at least 1, got {self.n_basis}")
        if not self.filter_duration > 0:
            raise ValueError(f"filter_duration: must be positive, got {self.filter_duration}")
        if any(not tau > 0 for tau in self.history_taus):
            raise ValueError(f"history_taus: must be positive time constants, got {self.history_taus}")


Current = Constant | PiecewiseConstant | Sinusoidal | StimulusFilter


# ---------------------------------------------------------------------------------------------
# [model]: a neuron population or a network of one.


class _Neurons(_Section):
    n_neurons: int = 1
    input_current: Current = Constant()

    def __post_init__(self):
        if self.n_neurons < 1:
            raise ValueError(f"n_neurons: must be at least 1, got {self.n_neurons}")
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, list) and len(value) not in (1, self.n_neurons):
                raise ValueError(f"{name}: has {len(value)} entries but n_neurons = {self.n_neurons}")


class SLIFModel(_Neurons, tag_field="kind", tag="slif"):
    """Stochastic LIF neurons with escape noise (:class:`spikesde.SLIF`); each value a number or one per neuron."""

    mu_v: Scalars = 15.0
    mu_i: Scalars = 0.0
    sigma_v: Scalars = 0.0
    sigma_i: Scalars = 0.0
    v_reset: Scalars = 1.4
    alpha: Scalars = 0.03
    beta: Scalars = 5.0
    v_threshold: Scalars = 1.0
    tau_s: Scalars = 1.0
    v0: Scalars = 0.0
    i0: Scalars = 0.0


class LIFModel(_Neurons, tag_field="kind", tag="lif"):
    """Leaky integrate-and-fire neurons with a hard threshold (:class:`spikesde.LIF`)."""

    tau_mem: Scalars = 1.0
    tau_syn: Scalars = 0.5
    threshold: Scalars = 1.0
    v_reset: Scalars | None = None
    sigma_v: Scalars = 0.0
    sigma_i: Scalars = 0.0
    v0: Scalars = 0.0
    i0: Scalars = 0.0


Neuron = SLIFModel | LIFModel


class Recurrent(_Section):
    """A random recurrent network (:func:`spikesde.recurrent`) of ``model.neuron.n_neurons`` neurons."""

    p: float = 0.2
    weight_scale: float = 1.0
    self_connections: bool = False

    def __post_init__(self):
        if not 0 < self.p <= 1:
            raise ValueError(f"p: must lie in (0, 1], got {self.p}")


class NetworkModel(_Section, tag_field="kind", tag="network"):
    """Neurons coupled by weights: feed-forward ``layers``, a ``recurrent`` draw, or a ``weights_file``.

    ``seed`` draws the weights (and the recurrent mask); ``[data.true] weights = { seed = ... }``
    draws the true weights the same way with another seed.
    """

    neuron: Neuron
    layers: list[int] | None = None
    recurrent: Recurrent | None = None
    weights_file: str | None = None
    seed: int = 0
    weight_low: float = 0.5
    weight_high: float = 1.5
    scale_by_fan_in: bool = True

    def __post_init__(self):
        given = [k for k in ("layers", "recurrent", "weights_file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"layers: give exactly one of layers, recurrent, weights_file (got {given or 'none'})")
        if self.layers is not None:
            if len(self.layers) < 2 or min(self.layers) < 1:
                raise ValueError(f"layers: needs at least two positive sizes, got {self.layers}")
            if sum(self.layers) != self.neuron.n_neurons:
                raise ValueError(f"layers: sum to {sum(self.layers)} but neuron.n_neurons = {self.neuron.n_neurons}")


Model = SLIFModel | LIFModel | NetworkModel


# ---------------------------------------------------------------------------------------------
# [data]


class SimulatedData(_Section, tag_field="source", tag="simulate"):
    """Spike trains drawn from the true model: ``[model]`` with the ``true`` overrides.

    ``true`` maps parameter paths of the model (``"input_current.value"``, ``"neuron.mu_v"``,
    ``"weights"``) to their true values: a number, a list, or ``{ seed = N }`` (the value of the
    model built with ``model.seed = N``: true network weights; the table may also set
    ``weight_low``, ``weight_high``, ``scale_by_fan_in`` when the truth is drawn from another
    distribution than the start). Every parameter not named here is
    shared by the model and the truth, so a sweep over ``model.sigma_v`` sets the noise of both.
    """

    num_samples: int
    test_size: int = 0
    seed: int = 0
    true: dict[str, Any] = {}

    def __post_init__(self):
        if self.num_samples < 2:
            raise ValueError(f"num_samples: must be at least 2, got {self.num_samples}")
        if self.test_size < 0 or self.test_size == 1:
            raise ValueError(f"test_size: must be 0 (as many as num_samples) or at least 2, got {self.test_size}")


class FileData(_Section, tag_field="source", tag="file"):
    """Recorded spike trains read from ``path`` (``.npz``, ``.nwb``; relative to the config file)."""

    path: str
    format: Literal["auto", "npz", "nwb", "neo"] = "auto"
    test_fraction: float = 0.0

    def __post_init__(self):
        if not 0 <= self.test_fraction < 1:
            raise ValueError(f"test_fraction: must lie in [0, 1), got {self.test_fraction}")


class GrasshopperData(_Section, tag_field="source", tag="grasshopper"):
    """The nitime locust receptor recording ``recording`` (1 or 2; ``pip install spikesde[data]``),
    trained on ``[0, train_end]`` s and tested on the rest of its 10 s."""

    recording: int = 1
    train_end: float = 8.0

    def __post_init__(self):
        if self.recording not in (1, 2):
            raise ValueError(f"recording: must be 1 or 2, got {self.recording}")
        if not 0 < self.train_end < 10:
            raise ValueError(f"train_end: must lie in (0, 10) s, got {self.train_end}")


Data = SimulatedData | FileData | GrasshopperData


class LearnEntry(_Section):
    """One learned parameter: its start (default: the model's value) and optional bounds."""

    init: float | list[Any] | None = None  # a number, or (nested) lists of numbers
    lower: float | None = None
    upper: float | None = None

    def __post_init__(self):
        if self.init is not None and not _numeric(self.init):
            raise ValueError(f"init: must be a number or (nested) lists of numbers, got {self.init!r}")
        if self.lower is not None and self.upper is not None and not self.lower < self.upper:
            raise ValueError(f"upper: must be greater than lower = {self.lower}, got {self.upper}")


# ---------------------------------------------------------------------------------------------
# [simulation], [loss], [optimizer], [training]


class SimulationSection(_Section, kw_only=True):
    t0: float = 0.0
    t1: float
    dt: float
    max_spikes: int  # spike buffer per neuron
    max_events: int = 0  # spikes of all neurons in one solve (0: enough for full buffers)
    keep_first: bool = False  # compare only each neuron's first max_spikes spikes (experiment (a))

    def __post_init__(self):
        if not self.t1 > self.t0:
            raise ValueError(f"t1: must be greater than t0 = {self.t0}, got {self.t1}")
        if not self.dt > 0:
            raise ValueError(f"dt: must be positive, got {self.dt}")
        steps = (self.t1 - self.t0) / self.dt
        if abs(steps - round(steps)) > 1e-6 * max(1.0, steps):
            raise ValueError(f"dt: {self.dt} does not divide the window [{self.t0}, {self.t1}] ({steps:.4g} steps)")
        if self.max_spikes < 1:
            raise ValueError(f"max_spikes: must be at least 1, got {self.max_spikes}")
        if self.max_events < 0:
            raise ValueError(f"max_events: must be non-negative (0: enough for full buffers), got {self.max_events}")


class TrainingSection(_Section):
    steps: int
    seed: int = 0
    model_samples: int = 0  # 0: as many as the training samples
    checkpoint_every: int = 100
    final_window: int = 100  # steps averaged for the final estimate
    tolerance: float = 0.05  # report the first step with every learned value this close to the truth
    gradient: Literal["auto", "forward", "reverse"] = "auto"
    # pathwise: exact gradients of the loss through the simulator; score_function: likelihood-ratio
    # estimate (noise-free SLIF); maximum_likelihood: minimise -log p(data) instead (noise-free SLIF).
    estimator: Literal["pathwise", "score_function", "maximum_likelihood", "particle"] = "pathwise"
    # particle: the particle-filter likelihood under membrane noise (one neuron per train).
    particles: int = 256
    ess_threshold: float = 0.5
    particle_seed: int = 0

    def __post_init__(self):
        for name in ("steps", "final_window"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be at least 1, got {getattr(self, name)}")
        if self.checkpoint_every < 0:
            raise ValueError(f"checkpoint_every: must be non-negative, got {self.checkpoint_every}")
        if self.model_samples < 0 or self.model_samples == 1:
            raise ValueError(f"model_samples: must be 0 or at least 2, got {self.model_samples}")


class Config(_Section):
    """A whole experiment: model, data, what is learned, loss, optimiser, training, and a sweep.

    Example:
        ```python
        import msgspec
        config = {"name": "fit", "model": {"kind": "slif", "input_current": {"kind": "constant", "value": 1.0}},
                  "data": {"source": "simulate", "num_samples": 16, "true": {"input_current.value": 1.5}},
                  "learn": {"input_current.value": {}}, "simulation": {"t0": 0.0, "t1": 2.0, "dt": 0.01, "max_spikes": 3},
                  "loss": {"kind": "spike_time_mse"}, "optimizer": {"name": "adam", "lr": 0.05}, "training": {"steps": 3}}
        open("fit.toml", "wb").write(msgspec.toml.encode(config))   # the same as a TOML file
        config = sd.experiments.load_config("fit.toml")             # a checked Config, defaults filled in
        config.simulation.dt, config.training.steps                 # 0.01, 3
        ```
    """

    name: str
    model: Model
    data: Data
    learn: dict[str, LearnEntry]
    simulation: SimulationSection
    loss: Loss
    optimizer: Optimizer
    training: TrainingSection
    test_loss: Loss | None = None  # an extra test metric (records: test_metric), e.g. a reference run's loss
    sweep: dict[str, list[Any]] = {}

    def __post_init__(self):
        if not self.name or any(c in self.name for c in "/\\"):
            raise ValueError(f"name: must be a non-empty name without slashes, got {self.name!r}")
        if not self.learn:
            raise ValueError("learn: name at least one parameter path to learn")
        for name in ("loss", "test_loss"):
            num_spikes = getattr(getattr(self, name), "num_spikes", 0)
            if num_spikes > self.simulation.max_spikes:
                raise ValueError(f"{name}.num_spikes: exceeds simulation.max_spikes = {self.simulation.max_spikes}")
        for key, values in self.sweep.items():
            if not values:
                raise ValueError(f"sweep.{key}: must list at least one value")
        neuron = self.model.neuron if isinstance(self.model, NetworkModel) else self.model
        current = neuron.input_current
        if isinstance(current, PiecewiseConstant):
            if any(not self.simulation.t0 < b < self.simulation.t1 for b in current.breakpoints):
                raise ValueError("model.input_current.breakpoints: must lie inside (simulation.t0, simulation.t1)")


def tag(section) -> str:
    """The variant of a tagged section (``loss.kind``, ``optimizer.name``, ...)."""
    return section.__struct_config__.tag


def _numeric(value) -> bool:
    if isinstance(value, list):
        return all(_numeric(v) for v in value)
    return isinstance(value, int | float) and not isinstance(value, bool)


def first_non_finite(value) -> str | None:
    """The first key path (relative) of a non-finite number in raw data, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((f"[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for key, item in items:
        found = first_non_finite(item)
        if found is not None:
            sep = "" if str(key).startswith("[") else "."
            return f"{sep}{key}{found}"
    return None
