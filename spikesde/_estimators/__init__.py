"""Gradient estimators of the literature beside exact pathwise gradients: surrogate gradients,
score-function (likelihood-ratio) estimates, multi-sample generalised EM."""

from .bernoulli_snn import BernoulliSNN, random_bernoulli_snn
from .discrete_lif import DiscreteLIFNetwork, init_weights
from .multisample import MultiSampleEM
from .score_function import AbstractBaseline, LeaveOneOut, NoBaseline, RunningMean, ScoreFunction
from .surrogate import AbstractSurrogate, ArcTan, FastSigmoid, SigmoidDerivative, Triangle
