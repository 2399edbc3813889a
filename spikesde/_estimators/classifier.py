r"""Spiking classifiers behind one interface, one per gradient estimator.

A classifier estimator is an option object: it builds its model, encodes features as the model's
input, gives a loss and a gradient estimate on a batch, and class probabilities for evaluation.
A training loop (``spikesde._experiments.yinyang``) needs nothing else, so exact pathwise gradients,
surrogate gradients, score-function estimates and multi-sample EM train the same way.

This module holds the interface and the two pathwise estimators (deterministic networks trained by
cross-entropy on logits); :mod:`.sampling_classifier` holds the two sampling estimators.
"""

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray, PyTree

from .discrete_lif import DiscreteLIFNetwork, init_weights
from .first_spike_lif import random_first_spike_network
from .surrogate import AbstractSurrogate, FastSigmoid


def _check_positive(owner: str, **values) -> None:
    for name, value in values.items():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{owner}: {name} must be positive and finite, got {value}")


class AbstractClassifierEstimator(eqx.Module):
    """A spiking classifier and the estimator of its training gradient.

    Spike times are in milliseconds; ``input_times`` are ``(size, channels)`` first-spike times.

    Example:
        ```python
        isinstance(sd.estimators.PathwiseClassifier(), sd.estimators.AbstractClassifierEstimator)   # True: recipes.yinyang.train
        ```
    """

    @abc.abstractmethod
    def init(self, n_in: int, n_out: int, key: PRNGKeyArray) -> PyTree:
        """A freshly initialised model."""

    @abc.abstractmethod
    def encode(self, input_times: np.ndarray) -> np.ndarray:
        """The model's input for each example (leading axis: examples)."""

    @abc.abstractmethod
    def loss_and_grad(self, model: PyTree, inputs: Array, labels: Int[Array, " B"], key: PRNGKeyArray) -> tuple[Float[Array, ""], PyTree]:
        """A batch loss to minimise and an estimate of its gradient (structure of the model's arrays)."""

    @abc.abstractmethod
    def probabilities(self, model: PyTree, inputs: Array, key: PRNGKeyArray) -> Float[Array, "B C"]:
        """Predicted class probabilities."""

    def predict(self, model: PyTree, inputs: Array, key: PRNGKeyArray) -> Int[Array, " B"]:
        """Predicted classes (default: the most probable)."""
        return jnp.argmax(self.probabilities(model, inputs, key), axis=-1)

    def extra_metrics(self, model: PyTree, inputs: Array, labels: Int[Array, " B"], key: PRNGKeyArray) -> dict[str, Float[Array, " B"]]:
        """Further per-example evaluation metrics (averaged by the caller); none by default."""
        return {}

    # Training schedules (the EM classifiers' K-curriculum): by default one estimator for every epoch.
    def for_epoch(self, epoch: int) -> "AbstractClassifierEstimator":
        """The estimator that trains epoch ``epoch`` (0-based); evaluation always uses ``self``."""
        return self

    def restarts_optimiser(self, epoch: int) -> bool:
        """Whether the training loop starts the optimiser afresh before epoch ``epoch``."""
        return False

    def check_epochs(self, epochs: int) -> None:
        """Raise ValueError if a run of ``epochs`` epochs does not fit the estimator's schedule."""


class _LogitClassifier(AbstractClassifierEstimator):
    """A deterministic network giving logits, trained by softmax cross-entropy (pathwise gradients)."""

    @abc.abstractmethod
    def logits(self, model: PyTree, inputs: Array) -> Float[Array, " C"]:
        """Logits of one example."""

    def _loss(self, model, inputs, labels):
        logits = jax.vmap(lambda x: self.logits(model, x))(inputs)
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))

    def loss_and_grad(self, model, inputs, labels, key):
        return eqx.filter_value_and_grad(self._loss)(model, inputs, labels)

    def probabilities(self, model, inputs, key):
        return jax.nn.softmax(jax.vmap(lambda x: self.logits(model, x))(inputs), axis=-1)


class PathwiseClassifier(_LogitClassifier):
    """Exact pathwise gradients through the first-spike times of a LIF network
    (:class:`FirstSpikeLIFNetwork`, ``tau_mem = 2 tau_syn``); logits are the output potentials' maxima.

    Arguments: ``hidden`` neurons, ``tau_syn`` (ms), ``threshold``, ``duration`` and ``dt`` of the
    readout grid (ms), initial ``hidden_mean`` / ``hidden_scale`` / ``output_scale``.

    Example:
        ```python
        classifier = sd.estimators.PathwiseClassifier(hidden=4)
        model = classifier.init(5, 3, jax.random.key(0))
        inputs = classifier.encode(sd.datasets.encode_first_spike_times(sd.datasets.yinyang(2, seed=0).features) * 1e3)
        loss, grads = classifier.loss_and_grad(model, inputs, jnp.array([0, 1]), jax.random.key(1))
        ```
    """

    hidden: int = eqx.field(static=True, default=120)
    tau_syn: float = eqx.field(static=True, default=5.0)
    threshold: float = eqx.field(static=True, default=1.0)
    duration: float = eqx.field(static=True, default=50.0)
    dt: float = eqx.field(static=True, default=0.5)
    hidden_mean: float = eqx.field(static=True, default=0.2)
    hidden_scale: float = eqx.field(static=True, default=1.0)
    output_scale: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        _check_positive("PathwiseClassifier", tau_syn=self.tau_syn, threshold=self.threshold, duration=self.duration, dt=self.dt)

    def init(self, n_in, n_out, key):
        grid = self.dt * np.arange(1, int(round(self.duration / self.dt)) + 1)
        return random_first_spike_network(
            n_in, self.hidden, n_out, key=key, tau_syn=self.tau_syn, readout_times=grid, threshold=self.threshold,
            hidden_mean=self.hidden_mean, hidden_scale=self.hidden_scale, output_scale=self.output_scale,
        )

    def encode(self, input_times):
        return np.asarray(input_times, np.float32)

    def logits(self, model, inputs):
        return model(inputs)


def bin_spike_times(input_times: np.ndarray, *, dt: float, steps: int) -> np.ndarray:
    """One-hot rasters ``(size, steps, channels)``: each spike in the bin ``round(t / dt)``.

    Example:
        ```python
        import numpy as np
        sd.estimators.bin_spike_times(np.array([[0.0, 2.0]]), dt=1.0, steps=3)   # (1, 3, 2): spikes at steps 0 and 2
        ```
    """
    input_times = np.asarray(input_times, float)
    index = np.clip(np.round(input_times / dt).astype(int), 0, steps - 1)
    rasters = np.zeros((len(input_times), steps, input_times.shape[1]), np.float32)
    rasters[np.arange(len(input_times))[:, None], index, np.arange(input_times.shape[1])[None]] = 1.0
    return rasters


class SurrogateClassifier(_LogitClassifier):
    """BPTT with a surrogate spike derivative through a :class:`DiscreteLIFNetwork`; logits are the
    maxima over time of the output layer's membrane potentials (the output layer's spikes are unused).

    Arguments: ``hidden`` neurons, ``dt``/``duration``/``tau_mem``/``tau_syn`` (ms), ``threshold``,
    ``surrogate``, ``init_scale`` of the weights.

    Example:
        ```python
        classifier = sd.estimators.SurrogateClassifier(hidden=20, surrogate=sd.estimators.FastSigmoid(10.0))
        model = classifier.init(5, 3, jax.random.key(0))
        ```
    """

    hidden: int = eqx.field(static=True, default=120)
    dt: float = eqx.field(static=True, default=0.5)
    duration: float = eqx.field(static=True, default=50.0)
    tau_mem: float = eqx.field(static=True, default=20.0)
    tau_syn: float = eqx.field(static=True, default=5.0)
    threshold: float = eqx.field(static=True, default=1.0)
    surrogate: AbstractSurrogate = eqx.field(static=True, default=FastSigmoid(10.0))
    init_scale: float = eqx.field(static=True, default=0.3)

    def __check_init__(self):
        _check_positive("SurrogateClassifier", dt=self.dt, duration=self.duration, init_scale=self.init_scale)

    @property
    def steps(self) -> int:
        return int(round(self.duration / self.dt))

    def init(self, n_in, n_out, key):
        weights = init_weights([n_in, self.hidden, n_out], key=key, scale=self.init_scale)
        return DiscreteLIFNetwork(
            weights, dt=self.dt, tau_mem=self.tau_mem, tau_syn=self.tau_syn, threshold=self.threshold, surrogate=self.surrogate
        )

    def encode(self, input_times):
        return bin_spike_times(input_times, dt=self.dt, steps=self.steps)

    def logits(self, model, inputs):
        _, potentials = model(inputs)
        return jnp.max(potentials[-1], axis=0)
