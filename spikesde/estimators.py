"""Gradient estimators of the literature beside exact pathwise gradients, and spiking classifiers
trained with each of them.

Naming scheme, one method name per estimator with a suffix for its role:

- the bare method name is the estimator itself, on samples you provide: [`ScoreFunction`][spikesde.estimators.ScoreFunction],
  [`MultiSampleEM`][spikesde.estimators.MultiSampleEM], [`OnlineMultiSampleEM`][spikesde.estimators.OnlineMultiSampleEM];
- `<Method>Classifier` is a spiking classifier trained with it, behind one interface
  ([`AbstractClassifierEstimator`][spikesde.estimators.AbstractClassifierEstimator]): `PathwiseClassifier`,
  `SurrogateClassifier`, `ScoreFunctionClassifier`, `MultiSampleEMClassifier`, `OnlineEMClassifier`;
- `<Method>Gradient` is the option of [`spikesde.Trainer`][spikesde.Trainer] and [`spikesde.fit`][spikesde.fit]
  (top level: [`spikesde.PathwiseGradient`][spikesde.PathwiseGradient], [`spikesde.ScoreFunctionGradient`][spikesde.ScoreFunctionGradient]);
- surrogate derivatives (`FastSigmoid`, `ArcTan`, `Triangle`, `SigmoidDerivative`) are
  [`AbstractSurrogate`][spikesde.estimators.AbstractSurrogate]s, passed as `SurrogateClassifier(surrogate=...)`.

Example:
    ```python
    import jax
    import spikesde as sd

    classifier = sd.estimators.PathwiseClassifier(hidden=120)
    model = classifier.init(5, 3, jax.random.key(0))
    ```
"""

from ._estimators import (
    AbstractBaseline,
    AbstractClassifierEstimator,
    AbstractHiddenSignal,
    AbstractSurrogate,
    ArcTan,
    BernoulliSNN,
    CompartmentSchedule,
    DiscreteLIFNetwork,
    FastSigmoid,
    FirstSpikeLIFNetwork,
    ImportanceWeighted,
    LeaveOneOut,
    LogMeanSignal,
    MultiSampleEM,
    MultiSampleEMClassifier,
    NoBaseline,
    OnlineEMClassifier,
    OnlineEMResult,
    OnlineMultiSampleEM,
    PathwiseClassifier,
    RunningMean,
    ScoreFunction,
    ScoreFunctionClassifier,
    SigmoidDerivative,
    SurrogateClassifier,
    Triangle,
    bin_spike_times,
    classification_metrics,
    expected_calibration_error,
    lif_first_spike_times,
)
from ._estimators.slif_score import SLIFSpikeTrainModel

__all__ = [
    "AbstractBaseline",
    "AbstractClassifierEstimator",
    "AbstractHiddenSignal",
    "AbstractSurrogate",
    "ArcTan",
    "BernoulliSNN",
    "CompartmentSchedule",
    "DiscreteLIFNetwork",
    "FastSigmoid",
    "FirstSpikeLIFNetwork",
    "ImportanceWeighted",
    "LeaveOneOut",
    "LogMeanSignal",
    "MultiSampleEM",
    "MultiSampleEMClassifier",
    "NoBaseline",
    "OnlineEMClassifier",
    "OnlineEMResult",
    "OnlineMultiSampleEM",
    "PathwiseClassifier",
    "RunningMean",
    "SLIFSpikeTrainModel",
    "ScoreFunction",
    "ScoreFunctionClassifier",
    "SigmoidDerivative",
    "SurrogateClassifier",
    "Triangle",
    "bin_spike_times",
    "classification_metrics",
    "expected_calibration_error",
    "lif_first_spike_times",
]
