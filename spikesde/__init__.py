"""spikesde: stochastic spiking neural networks as event SDEs, with exact pathwise gradients."""

from ._config import Config, ConfigError, load_config
from ._losses import (
    AbstractSpikeTrainLoss,
    ExpectedSignatureLoss,
    FirstSpikeTimeLoss,
    SignatureKernelMMD,
    expected_signature,
    signature_kernel,
)
from ._paths import finite_spike_times, first_spike_times, marcus_lift
from ._plotting import plot_sweep
from ._training import FitResult, RunSummary, TrainState, fit
from ._brownian import AbstractBrownian, DiffraxBrownian, FineGridBrownian, GridBrownian
from ._currents import AbstractCurrent, ConstantCurrent, FunctionCurrent, PiecewiseConstantCurrent, SinusoidalCurrent
from ._forward import forward_value_and_grad
from ._gradients import GradientCheck, check_gradients
from ._lif import LIF
from ._network import Network, feedforward, feedforward_mask, recurrent
from ._neuron import AbstractNeuron
from ._reference import reference_simulate
from ._simulate import simulate
from ._slif import SLIF
from ._solution import Solution
from ._stepper import AbstractStepper, EulerMaruyama, ExponentialEuler

__all__ = [
    "AbstractSpikeTrainLoss",
    "Config",
    "ConfigError",
    "ExpectedSignatureLoss",
    "FirstSpikeTimeLoss",
    "FitResult",
    "RunSummary",
    "SignatureKernelMMD",
    "TrainState",
    "expected_signature",
    "finite_spike_times",
    "first_spike_times",
    "fit",
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
