"""Low-precision hardware emulation on the event core (formats, rounding, chip profiles,
straight-through gradients) and NIR export/import. Imports models and core only."""

from .clock import AbstractClockStepper, Quantizer
from .fixed_point import LowPrecisionEuler
from .formats import AbstractFormat, FixedPoint, LowPrecisionFloat, as_format, float_format
from .loihi import Loihi1Stepper, LoihiLIF, to_loihi
from .refractory import Refractory
from .nir import from_nir, read_nir
from .nir_export import current_raster, to_nir, write_nir
from .nir_inputs import AbstractSpikeMeaning, ContinuousTimeSpikes, DiscreteTimeSpikes, InputRaster, spike_steps
from .rounding import AbstractRounding, Floor, NearestEven, Stochastic, TowardZero, as_rounding
from .spinnaker import S16_15, SpiNNakerStepper
from .straight_through import StraightThroughGridLocation, straight_through
from .loihi_nir import LavaProgramming, loihi_probe_reading, nir_to_loihi
