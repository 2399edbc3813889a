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

# Configurations and sweeps (the command line's layer; imports the training layer).
from ._experiments.config import ConfigError, load_config
from ._experiments.schema import Config
from ._experiments.sweep import run_sweep

__all__ = [
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
    "ExpectedSignatureLoss",
    "FirstSpikeTimeLoss",
    "SignatureKernelMMD",
    "expected_signature",
    "finite_spike_times",
    "first_spike_times",
    "marcus_lift",
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
    # configurations, sweeps and the command line (_experiments)
    "Config",
    "ConfigError",
    "load_config",
    "run_sweep",
]
