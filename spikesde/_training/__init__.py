"""Training: the general fitting layer (learned parameters, the training step, fit, checkpoints, trackers)."""

from .errors import CheckpointError, RunFolderError
from .estimator import AbstractGradientEstimator, MaximumLikelihood, PathwiseGradient, ScoreFunctionGradient
from .fit import FitResult, fit
from .learn import Learn
from .particle_estimator import ParticleLikelihood
from .simulation import Simulated, Simulation
from .tracker import JsonLinesTracker
from .trainer import Trainer, TrainState

__all__ = [
    "AbstractGradientEstimator",
    "PathwiseGradient",
    "MaximumLikelihood",
    "ParticleLikelihood",
    "ScoreFunctionGradient",
    "CheckpointError",
    "FitResult",
    "JsonLinesTracker",
    "Learn",
    "RunFolderError",
    "Simulated",
    "Simulation",
    "TrainState",
    "Trainer",
    "fit",
]
