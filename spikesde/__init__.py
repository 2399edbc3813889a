"""spikesde: stochastic spiking neural networks as event SDEs, with exact pathwise gradients.

The public API, by layer (imports inside the package point one way: experiments -> training ->
losses, gradients and estimators -> models -> core).
"""

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
from ._core import (
    AbstractEventLocation,
    AbstractCoupling,
    AbstractEventPolicy,
    DenseCoupling,
    ExactEventLocation,
    FanInCoupling,
    GridEventLocation,
    ParallelEvents,
    SequentialEvents,
    neuron_clock_keys,
)
from ._io import SpikeTrains, from_neo, load_spike_trains, save_spike_trains, simulate_spike_trains, to_neo
from ._datasets import encode_first_spike_times, yinyang
from ._estimators import (
    AbstractBaseline,
    AbstractClassifierEstimator,
    AbstractSurrogate,
    ArcTan,
    BernoulliSNN,
    CompartmentSchedule,
    DiscreteLIFNetwork,
    ExactGradient,
    FastSigmoid,
    FirstSpikeLIFNetwork,
    LeaveOneOut,
    AbstractHiddenSignal,
    ImportanceWeighted,
    LogMeanSignal,
    MultiSampleEM,
    MultiSampleEMClassifier,
    NoBaseline,
    OnlineEMClassifier,
    OnlineMultiSampleEM,
    RunningMean,
    ScoreFunction,
    ScoreFunctionClassifier,
    SigmoidDerivative,
    SurrogateGradient,
    Triangle,
    expected_calibration_error,
    lif_first_spike_times,
)
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
    Refractory,
    SpiNNakerStepper,
    Stochastic,
    StraightThroughGridLocation,
    TowardZero,
    float_format,
    from_nir,
    read_nir,
    to_loihi,
    to_nir,
    write_nir,
)
from ._hardware import (
    AbstractSpikeMeaning,
    ContinuousTimeSpikes,
    DiscreteTimeSpikes,
    InputRaster,
    LavaProgramming,
    current_raster,
    loihi_probe_reading,
    nir_to_loihi,
    spike_steps,
)
from ._io import from_nir_events, from_nir_gridded, to_nir_events, to_nir_gridded
from ._gradients import GradientCheck, check_gradients, forward_value_and_grad
from ._losses import (
    AbstractSpikeTrainLoss,
    ExpectedSignatureLoss,
    FirstSpikeTimeLoss,
    LagStatisticLoss,
    SignatureKernelMMD,
    expected_signature,
    finite_spike_times,
    first_spike_times,
    marcus_lift,
    signature_kernel,
)
from ._losses import (
    AbstractKernelSolver,
    AbstractSpikeTrainKernel,
    AbstractStaticKernel,
    KernelMMD,
    KernelScore,
    LinearKernel,
    PDESolver,
    PySigLibSolver,
    RBFKernel,
    SignaturePDEKernel,
    TruncatedSignatureKernel,
    signature_kernel_gram,
    spike_events,
    spike_train_signature,
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
    fixed_fan_in,
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

from ._io.grasshopper import read_grasshopper, stimulus_of
from ._likelihood import EventGrid, log_likelihood, sample_spikes
from ._likelihood.design import StimulusDesign
from ._likelihood.metrics import bits_per_spike, coincidence_factor, poisson_log_likelihood
from ._models.stimulus import AfterSpikeCurrent, StimulusCurrent, filter_stimulus, raised_cosine_basis
from ._experiments.config import ConfigError, load_config
from ._experiments.schema import Config
from ._experiments.sweep import run_sweep

# Score-function gradients of the continuous-time SLIF (issue 11).
from ._estimators.slif_score import SLIFSpikeTrainModel
from ._likelihood.core_path import deprecated_buffer_log_likelihood as buffer_log_likelihood
# Escape functions and reset rules as options; one likelihood for escape-noise neurons (issue 23).
from ._models.escape import AbstractEscape, ExponentialEscape, ExponentialLinearEscape, RectifiedLinearEscape
from ._models.reset import AbstractReset, NoReset, SetReset, SubtractReset
from ._likelihood.grid import TrialGrid
from ._training.likelihood_fit import LikelihoodFit, ProfileLikelihood, fit_likelihood, profile_likelihood
from ._training.estimator import AbstractGradientEstimator, MaximumLikelihood, PathwiseGradient, ScoreFunctionGradient
from ._losses import SpikeTimeKernel, SpikeTimeMMD
# Generative training of networks (issue 9): the models of a run, spike-train statistics side by side.
from ._experiments.models import RunModels, run_models
from ._experiments.spike_plots import plot_spike_statistics
# Likelihood under membrane noise (issue 27).
from ._likelihood.particle import ParticleFilter
from ._training.particle_estimator import ParticleLikelihood
from ._likelihood.protocol import Protocol
from ._experiments.score import score_run

__all__ = sorted(name for name in dir() if not name.startswith("_"))
