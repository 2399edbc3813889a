"""spikesde: stochastic spiking neural networks as event SDEs, with exact pathwise gradients."""

from ._brownian import AbstractBrownian, DiffraxBrownian, FineGridBrownian, GridBrownian
from ._currents import AbstractCurrent, ConstantCurrent, FunctionCurrent, PiecewiseConstantCurrent, SinusoidalCurrent
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
    "recurrent",
    "reference_simulate",
    "simulate",
]
