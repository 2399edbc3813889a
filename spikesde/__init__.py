"""spikesde: stochastic spiking neural networks as event SDEs, with exact pathwise gradients.

The top level holds what most programs use: neuron models and currents, networks, ``simulate`` and
its options, spike-train data, losses, ``fit`` and ``Trainer``. Families live in sub-namespaces:
``spikesde.estimators``, ``.hardware``, ``.likelihood``, ``.signatures``, ``.losses``, ``.io``,
``.datasets``, ``.experiments`` and ``.recipes``. (Inside the package imports point one way:
experiments -> training -> losses, gradients and estimators -> models -> core.)

Each public name's docstring ends with a short example; the examples start from ``import jax``,
``import jax.numpy as jnp`` and ``import spikesde as sd``.
"""

import importlib as _importlib
import warnings as _warnings

# Neuron models, input currents, networks.
from ._core import AbstractCurrent, AbstractNeuron, Network
from ._core import AbstractCoupling, DenseCoupling, FanInCoupling
from ._models import (
    LIF,
    SLIF,
    ConstantCurrent,
    FunctionCurrent,
    PiecewiseConstantCurrent,
    SinusoidalCurrent,
    feedforward,
    feedforward_mask,
    fixed_fan_in,
    recurrent,
)
# Neuron options: escape functions (firing intensity) and reset rules.
from ._models.escape import AbstractEscape, ExponentialEscape, ExponentialLinearEscape, RectifiedLinearEscape
from ._models.reset import AbstractReset, NoReset, SetReset, SubtractReset
from ._models.refractory_slif import RefractorySLIF  # the SLIF with a dead time

# Simulation and its options: steppers, Brownian motions, event location and event policy.
from ._core import (
    AbstractBrownian,
    AbstractEventLocation,
    AbstractEventPolicy,
    AbstractStepper,
    DiffraxBrownian,
    EulerMaruyama,
    ExactEventLocation,
    ExponentialEuler,
    FineGridBrownian,
    GridBrownian,
    GridEventLocation,
    ParallelEvents,
    SequentialEvents,
    Solution,
    neuron_clock_keys,
    reference_simulate,
)
from ._core.simulate import simulate  # the function, not the module of the same name (for the API reference)

# Spike-train data.
from ._io import SpikeTrains, load_spike_trains, save_spike_trains, simulate_spike_trains

# The losses most fits use (the kernels behind them: spikesde.losses).
from ._losses import (
    AbstractSpikeTrainLoss,
    ExpectedSignatureLoss,
    FirstSpikeTimeLoss,
    LagStatisticLoss,
    SignatureKernelMMD,
    SpikeTimeMMD,
)

# Training: fit, Trainer, learned parameters, gradient estimators, run folders.
from ._training import (
    AbstractGradientEstimator,
    CheckpointError,
    FitResult,
    JsonLinesTracker,
    Learn,
    MaximumLikelihood,
    PathwiseGradient,
    RunFolderError,
    ScoreFunctionGradient,
    Simulated,
    Simulation,
    Trainer,
    TrainState,
)
from ._training.fit import fit  # the function, not the module of the same name
from ._training.particle_estimator import ParticleLikelihood
from ._gradients import GradientCheck, check_gradients, forward_value_and_grad

# Public sub-namespaces (recipes and experiments load on first use: they pull in plotting code).
from . import datasets, estimators, hardware, io, likelihood, losses, signatures

_LAZY_MODULES = ("experiments", "recipes")

# Names that left the top level (or were renamed) in 0.2: old spelling -> (module, new name).
# They keep working, with a DeprecationWarning, for one release.
_MOVED = {
    # classifiers: <Method>Classifier, like ScoreFunctionClassifier
    "ExactGradient": ("estimators", "PathwiseClassifier"),
    "SurrogateGradient": ("estimators", "SurrogateClassifier"),
    **{
        name: ("estimators", name)
        for name in (
            "AbstractBaseline", "AbstractClassifierEstimator", "AbstractHiddenSignal", "AbstractSurrogate", "ArcTan",
            "BernoulliSNN", "CompartmentSchedule", "DiscreteLIFNetwork", "FastSigmoid", "FirstSpikeLIFNetwork",
            "ImportanceWeighted", "LeaveOneOut", "LogMeanSignal", "MultiSampleEM", "MultiSampleEMClassifier",
            "NoBaseline", "OnlineEMClassifier", "OnlineMultiSampleEM", "RunningMean", "SLIFSpikeTrainModel",
            "ScoreFunction", "ScoreFunctionClassifier", "SigmoidDerivative", "Triangle",
            "expected_calibration_error", "lif_first_spike_times",
        )
    },
    **{
        name: ("hardware", name)
        for name in (
            "AbstractClockStepper", "AbstractFormat", "AbstractRounding", "FixedPoint", "Floor", "Loihi1Stepper",
            "LoihiLIF", "LowPrecisionEuler", "LowPrecisionFloat", "NearestEven", "Refractory", "SpiNNakerStepper",
            "Stochastic", "StraightThroughGridLocation", "TowardZero", "float_format", "from_nir", "read_nir",
            "to_loihi", "to_nir", "write_nir",
        )
    },
    **{
        name: ("losses", name)
        for name in (
            "AbstractSpikeTrainKernel", "AbstractStaticKernel", "KernelMMD", "KernelScore", "LinearKernel",
            "RBFKernel", "SignaturePDEKernel", "SpikeTimeKernel", "TruncatedSignatureKernel",
            "finite_spike_times", "first_spike_times",
        )
    },
    **{
        name: ("signatures", name)
        for name in (
            "AbstractKernelSolver", "PDESolver", "PySigLibSolver", "expected_signature", "marcus_lift",
            "signature_kernel", "signature_kernel_gram", "spike_events", "spike_train_signature",
        )
    },
    **{
        name: ("likelihood", name)
        for name in (
            "AfterSpikeCurrent", "EventGrid", "StimulusCurrent", "StimulusDesign", "bits_per_spike",
            "buffer_log_likelihood", "coincidence_factor", "filter_stimulus", "log_likelihood",
            "poisson_log_likelihood", "raised_cosine_basis", "sample_spikes",
        )
    },
    **{
        name: ("io", name)
        for name in ("from_neo", "to_neo", "from_nir_events", "from_nir_gridded", "to_nir_events", "to_nir_gridded")
    },
    **{name: ("datasets", name) for name in ("encode_first_spike_times", "yinyang", "read_grasshopper", "stimulus_of")},
    **{
        name: ("experiments", name)
        for name in ("Config", "ConfigError", "RunModels", "load_config", "plot_spike_statistics", "run_models",
                     "run_sweep")
    },
}


def __getattr__(name: str):
    if name in _LAZY_MODULES:
        return _importlib.import_module(f"{__name__}.{name}")
    if name in _MOVED:
        module, new = _MOVED[name]
        _warnings.warn(
            f"spikesde.{name} is deprecated and will be removed in the next release; use spikesde.{module}.{new}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(_importlib.import_module(f"{__name__}.{module}"), new)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_MODULES))


__all__ = sorted(
    name for name, value in globals().items()
    if not name.startswith("_") and not isinstance(value, type(_importlib)) and name not in ("annotations",)
)
