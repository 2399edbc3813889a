"""Low-precision hardware emulation on the event core, and NIR export and import of networks.

Number formats ([`FixedPoint`][spikesde.hardware.FixedPoint], [`LowPrecisionFloat`][spikesde.hardware.LowPrecisionFloat])
and rounding modes ([`NearestEven`][spikesde.hardware.NearestEven], [`Stochastic`][spikesde.hardware.Stochastic], ...)
make a [`LowPrecisionEuler`][spikesde.hardware.LowPrecisionEuler] stepper; chip profiles
([`Loihi1Stepper`][spikesde.hardware.Loihi1Stepper], [`SpiNNakerStepper`][spikesde.hardware.SpiNNakerStepper])
reproduce a chip's integer update; [`StraightThroughGridLocation`][spikesde.hardware.StraightThroughGridLocation]
gives clock-driven spikes a gradient.

Example:
    ```python
    import spikesde as sd

    stepper = sd.hardware.LowPrecisionEuler(1e-3, sd.hardware.FixedPoint(7, 12), sd.hardware.Stochastic())
    ```
"""

from ._hardware import (
    AbstractClockStepper,
    AbstractFormat,
    AbstractRounding,
    FixedPoint,
    Floor,
    Loihi1Stepper,
    LoihiLIF,
    LowPrecisionEuler,
    LowPrecisionFloat,
    NearestEven,
    Quantizer,
    Refractory,
    SpiNNakerStepper,
    Stochastic,
    StraightThroughGridLocation,
    TowardZero,
    as_format,
    as_rounding,
    float_format,
    from_nir,
    read_nir,
    to_loihi,
    to_nir,
    write_nir,
)
from ._hardware.loihi_nir import LavaProgramming, loihi_probe_reading, nir_to_loihi
from ._hardware.nir_export import current_raster
from ._hardware.nir_inputs import AbstractSpikeMeaning, ContinuousTimeSpikes, DiscreteTimeSpikes, InputRaster, spike_steps
from ._hardware.straight_through import straight_through  # the function, not the module of the same name

__all__ = [
    "AbstractSpikeMeaning",
    "ContinuousTimeSpikes",
    "DiscreteTimeSpikes",
    "InputRaster",
    "LavaProgramming",
    "current_raster",
    "loihi_probe_reading",
    "nir_to_loihi",
    "spike_steps",
    "AbstractClockStepper",
    "AbstractFormat",
    "AbstractRounding",
    "FixedPoint",
    "Floor",
    "Loihi1Stepper",
    "LoihiLIF",
    "LowPrecisionEuler",
    "LowPrecisionFloat",
    "NearestEven",
    "Quantizer",
    "Refractory",
    "SpiNNakerStepper",
    "Stochastic",
    "StraightThroughGridLocation",
    "TowardZero",
    "as_format",
    "as_rounding",
    "float_format",
    "from_nir",
    "read_nir",
    "straight_through",
    "to_loihi",
    "to_nir",
    "write_nir",
]
