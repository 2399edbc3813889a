"""Low-precision hardware emulation on the event core (formats, rounding, chip profiles,
straight-through gradients) and NIR export/import. Imports models and core only."""

from .clock import AbstractClockStepper, Quantizer
from .fixed_point import LowPrecisionEuler
from .formats import AbstractFormat, FixedPoint, LowPrecisionFloat, as_format, float_format
from .loihi import Loihi1Stepper, LoihiLIF, to_loihi
from .refractory import Refractory
from .nir import from_nir, read_nir, to_nir, write_nir
from .rounding import AbstractRounding, Floor, NearestEven, Stochastic, TowardZero, as_rounding
from .spinnaker import S16_15, SpiNNakerStepper
from .straight_through import StraightThroughGridLocation, straight_through
