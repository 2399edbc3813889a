"""Gradient estimators of the literature beside exact pathwise gradients: surrogate gradients,
score-function (likelihood-ratio) estimates, multi-sample generalised EM; and spiking classifiers
that train with each of them behind one interface."""

from .bernoulli_snn import BernoulliSNN, random_bernoulli_snn
from .calibration import classification_metrics, expected_calibration_error
from .classifier import AbstractClassifierEstimator, PathwiseClassifier, SurrogateClassifier, bin_spike_times
from .compartment_schedule import CompartmentSchedule
from .discrete_lif import DiscreteLIFNetwork, init_weights
from .first_spike_lif import FirstSpikeLIFNetwork, lif_first_spike_times, psp_kernel, random_first_spike_network
from .multisample import MultiSampleEM
from .online_em import AbstractHiddenSignal, ImportanceWeighted, LogMeanSignal, OnlineEMResult, OnlineMultiSampleEM
from .sampling_classifier import MultiSampleEMClassifier, OnlineEMClassifier, ScoreFunctionClassifier
from .score_function import AbstractBaseline, LeaveOneOut, NoBaseline, RunningMean, ScoreFunction
from .surrogate import AbstractSurrogate, ArcTan, FastSigmoid, SigmoidDerivative, Triangle
