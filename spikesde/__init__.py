"""spikesde: stochastic spiking neural networks as event SDEs, with exact pathwise gradients."""

from ._core import (
    AbstractBrownian,
    AbstractCurrent,
    AbstractNeuron,
    AbstractStepper,
    DiffraxBrownian,
    EulerMaruyama,
    ExponentialEuler,
    FineGridBrownian,
    GridBrownian,
    Network,
    Solution,
    reference_simulate,
    simulate,
)
from ._experiments.config import Config, ConfigError, load_config
from ._experiments.plotting import plot_sweep
from ._io import SpikeTrains, from_neo, load_spike_trains, save_spike_trains, simulate_spike_trains, to_neo
from ._gradients import GradientCheck, check_gradients, forward_value_and_grad
from ._losses import (
    AbstractSpikeTrainLoss,
    ExpectedSignatureLoss,
    FirstSpikeTimeLoss,
    SignatureKernelMMD,
    expected_signature,
    finite_spike_times,
    first_spike_times,
    marcus_lift,
    signature_kernel,
)
from ._models import (
    LIF,
    SLIF,
    ConstantCurrent,
    FunctionCurrent,
    PiecewiseConstantCurrent,
    SinusoidalCurrent,
    feedforward,
    feedforward_mask,
    recurrent,
)
from ._training.legacy_sweep import RunSummary
from ._training import (
    CheckpointError,
    FitResult,
    JsonLinesTracker,
    Learn,
    RunFolderError,
    Simulated,
    Simulation,
    Trainer,
    TrainState,
    fit,
)

from ._likelihood import EventGrid, log_likelihood, sample_spikes
from ._likelihood.design import StimulusDesign
from ._likelihood.metrics import bits_per_spike, coincidence_factor, poisson_log_likelihood
from ._models.stimulus import AfterSpikeCurrent, StimulusCurrent, filter_stimulus, raised_cosine_basis
from ._io.grasshopper import read_grasshopper

__all__ = [
    "AfterSpikeCurrent",
    "EventGrid",
    "StimulusCurrent",
    "StimulusDesign",
    "bits_per_spike",
    "coincidence_factor",
    "filter_stimulus",
    "log_likelihood",
    "poisson_log_likelihood",
    "raised_cosine_basis",
    "read_grasshopper",
    "sample_spikes",
    # fitting (_training)
    "CheckpointError",
    "FitResult",
    "JsonLinesTracker",
    "Learn",
    "RunFolderError",
    "Simulated",
    "Simulation",
    "Trainer",
    "TrainState",
    "fit",
    # spike-train data (_io)
    "SpikeTrains",
    "from_neo",
    "load_spike_trains",
    "save_spike_trains",
    "simulate_spike_trains",
    "to_neo",
    "AbstractSpikeTrainLoss",
    "Config",
    "ConfigError",
    "ExpectedSignatureLoss",
    "FirstSpikeTimeLoss",
    "RunSummary",
    "SignatureKernelMMD",
    "expected_signature",
    "finite_spike_times",
    "first_spike_times",
    "load_config",
    "marcus_lift",
    "plot_sweep",
    "signature_kernel",
    "AbstractBrownian",
    "AbstractCurrent",
    "AbstractNeuron",
    "AbstractStepper",
    "ConstantCurrent",
    "DiffraxBrownian",
    "EulerMaruyama",
    "ExponentialEuler",
    "FineGridBrownian",
    "FunctionCurrent",
    "GradientCheck",
    "GridBrownian",
    "LIF",
    "Network",
    "PiecewiseConstantCurrent",
    "SLIF",
    "SinusoidalCurrent",
    "Solution",
    "check_gradients",
    "feedforward",
    "feedforward_mask",
    "forward_value_and_grad",
    "recurrent",
    "reference_simulate",
    "simulate",
]
