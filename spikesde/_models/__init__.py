"""Neuron models, input currents and network topologies (built on the core's interfaces)."""

from .currents import ConstantCurrent, FunctionCurrent, PiecewiseConstantCurrent, SinusoidalCurrent, as_current
from .lif import LIF
from .slif import SLIF
from .topology import feedforward, feedforward_mask, fixed_fan_in, recurrent
from .escape import AbstractEscape, ExponentialEscape, ExponentialLinearEscape, RectifiedLinearEscape
from .reset import AbstractReset, NoReset, SetReset, SubtractReset
