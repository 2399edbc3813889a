r"""Classifiers of Bernoulli GLM spiking networks trained by sampling estimators.

The model is a :class:`BernoulliSNN` of ``hidden + C`` neurons on a grid of ``steps`` bins of ``dt``
ms; the last ``C`` neurons are the outputs. Input spikes at ``t_m`` enter as exponentially decaying
traces ``exp(-(t - t_m) / tau_in)`` for ``t >= t_m`` sampled on the grid, so off-grid spike times
keep their information.

* :class:`ScoreFunctionClassifier`: the loss of a sampled raster is the cross-entropy of the output
  spike counts (as logits) with the label; its gradient is estimated by :class:`ScoreFunction`.
* :class:`MultiSampleEMClassifier` (Jang & Simeone 2021): the output neurons are visible and, during
  training, clamped to the label's target raster (the class's neuron fires in every bin from
  ``target_start`` on, the others are silent); ``K`` compartments sample the hidden neurons and
  :class:`MultiSampleEM` estimates ``grad log p(x)``. Prediction by the output spike counts of free
  runs; class probabilities ``softmax_c log p_K(x_c)`` from the ``K``-sample likelihood of each
  class's target raster.
* :class:`OnlineEMClassifier`: the same network, target rasters and evaluation, with the gradient of
  each example estimated by the online three-factor rule (:class:`OnlineMultiSampleEM`: eligibility
  traces, discounted importance weights, updates every ``update_every`` bins) with the weights held
  fixed inside an example; the batch's accumulated updates go to the optimiser.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .bernoulli_snn import random_bernoulli_snn
from .classifier import AbstractClassifierEstimator, _check_positive
from .compartment_schedule import CompartmentSchedule
from .multisample import MultiSampleEM
from .online_em import AbstractHiddenSignal, ImportanceWeighted, OnlineMultiSampleEM
from .score_function import AbstractBaseline, LeaveOneOut, ScoreFunction


def count_cross_entropy(counts: Float[Array, " C"], label: Int[Array, ""]) -> Float[Array, ""]:
    """Softmax cross-entropy of the output spike counts taken as logits."""
    return optax.softmax_cross_entropy_with_integer_labels(counts, label)


def count_margin(counts: Float[Array, " C"], label: Int[Array, ""]) -> Float[Array, ""]:
    """``mean_{c != y} n_c - n_y``: the label's neuron should fire more than the others on average.

    Unlike the cross-entropy, silencing every output neuron is not a stationary point."""
    others = (jnp.sum(counts) - counts[label]) / (counts.shape[0] - 1)
    return others - counts[label]


def _batch_mean(tree):
    return jax.tree_util.tree_map(lambda leaf: jnp.mean(leaf, axis=0), tree)


class _BernoulliClassifier(AbstractClassifierEstimator):
    hidden: int = eqx.field(static=True, default=60)
    dt: float = eqx.field(static=True, default=2.5)
    duration: float = eqx.field(static=True, default=50.0)
    tau_in: float = eqx.field(static=True, default=10.0)
    init_scale: float = eqx.field(static=True, default=1.0)
    bias: float = eqx.field(static=True, default=-2.0)
    trace_decay: float = eqx.field(static=True, default=0.6)
    eval_samples: int = eqx.field(static=True, default=10)
    n_out: int = eqx.field(static=True, default=3)

    def __check_init__(self):
        _check_positive(type(self).__name__, dt=self.dt, duration=self.duration, tau_in=self.tau_in)

    @property
    def steps(self) -> int:
        return int(round(self.duration / self.dt))

    def init(self, n_in, n_out, key):
        if n_out != self.n_out:
            raise ValueError(f"{type(self).__name__} was built for n_out={self.n_out} classes, got n_out={n_out}")
        return random_bernoulli_snn(
            n_in, self.hidden + n_out, key=key, scale=self.init_scale, bias=self.bias, trace_decay=self.trace_decay
        )

    def encode(self, input_times):
        grid = self.dt * np.arange(self.steps)
        lag = grid[None, :, None] - np.asarray(input_times, float)[:, None, :]
        return np.where(lag >= 0, np.exp(-np.maximum(lag, 0) / self.tau_in), 0.0).astype(np.float32)

    def output_counts(self, model, inputs: Float[Array, "B T m"], key: PRNGKeyArray) -> Float[Array, "B S C"]:
        """Output spike counts of ``eval_samples`` free runs per example."""
        keys = jax.random.split(key, (inputs.shape[0], self.eval_samples))
        rasters = jax.vmap(lambda x, ks: jax.vmap(lambda k: model.sample(x, k))(ks))(inputs, keys)
        return jnp.sum(rasters[..., -self.n_out :], axis=-2)


class ScoreFunctionClassifier(_BernoulliClassifier):
    """Score-function gradients of ``E[loss(output counts, label)]`` with ``num_samples`` rasters per
    example and a ``baseline``; probabilities ``softmax(mean counts)`` over ``eval_samples`` runs.

    Example:
        ```python
        classifier = sd.estimators.ScoreFunctionClassifier(num_samples=8)
        model = classifier.init(5, 3, jax.random.key(0))
        ```
    """

    num_samples: int = eqx.field(static=True, default=8)
    baseline: AbstractBaseline = LeaveOneOut()
    loss: Callable[[Array, Array], Array] = eqx.field(static=True, default=count_cross_entropy)

    def loss_and_grad(self, model, inputs, labels, key):
        estimator = ScoreFunction(self.num_samples, self.baseline)

        def one(x, y, k):
            def loss(raster):
                return self.loss(jnp.sum(raster[:, -self.n_out :], axis=0), y)

            value, grad, _ = estimator.value_and_grad(loss, model, x, k)
            return value, grad

        values, grads = eqx.filter_vmap(one)(inputs, labels, jax.random.split(key, labels.shape[0]))
        return jnp.mean(values), _batch_mean(grads)

    def probabilities(self, model, inputs, key):
        counts = self.output_counts(model, inputs, key)
        return jax.nn.softmax(jnp.mean(counts, axis=1), axis=-1)


class MultiSampleEMClassifier(_BernoulliClassifier):
    """Generalised EM with ``num_compartments`` hidden samples (training and evaluation); ``schedule``
    (:class:`CompartmentSchedule`) sets ``K`` per training epoch (the K-curriculum; default: ``K`` always).

    Example:
        ```python
        classifier = sd.estimators.MultiSampleEMClassifier(num_compartments=5,
                                                           schedule=sd.estimators.CompartmentSchedule(1, 3))
        ```
    """

    num_compartments: int = eqx.field(static=True, default=5)
    target_start: float = eqx.field(static=True, default=15.0)
    output_feedback: bool = eqx.field(static=True, default=True)
    schedule: CompartmentSchedule = CompartmentSchedule()

    def for_epoch(self, epoch):
        return self.schedule.at(self, epoch)

    def restarts_optimiser(self, epoch):
        return self.schedule.restarts(epoch)

    def check_epochs(self, epochs):
        self.schedule.check_epochs(epochs)

    def init(self, n_in, n_out, key):
        """With ``output_feedback=False`` the output-to-hidden weights start at 0 and are never trained
        (the clamped target raster then cannot drive the hidden neurons, as in the authors' code)."""
        model = super().init(n_in, n_out, key)
        return model if self.output_feedback else self._cut_feedback(model)

    def _cut_feedback(self, tree):
        """``tree`` (model or gradient) with the output-to-hidden recurrent block set to 0."""
        if self.output_feedback:
            return tree
        block = (jnp.arange(self.hidden + self.n_out)[:, None] >= self.hidden) & (jnp.arange(self.hidden + self.n_out) < self.hidden)
        return eqx.tree_at(lambda t: t.recurrent_weights, tree, jnp.where(block, 0.0, tree.recurrent_weights))

    def target(self, label: Int[Array, ""]) -> Float[Array, "T n"]:
        """The clamped raster of ``label``: its output neuron fires in every bin from ``target_start``."""
        late = (self.dt * jnp.arange(self.steps) >= self.target_start)[:, None]
        n = self.hidden + self.n_out
        return jnp.where(late & (jnp.arange(n) == self.hidden + label), 1.0, 0.0)

    @property
    def visible(self):
        return jnp.arange(self.hidden + self.n_out) >= self.hidden

    def loss_and_grad(self, model, inputs, labels, key):
        em = MultiSampleEM(self.num_compartments)

        def one(x, y, k):
            bound, grad, _ = em.value_and_grad(model, x, self.target(y), self.visible, k)
            return -bound, jax.tree_util.tree_map(jnp.negative, grad)

        values, grads = eqx.filter_vmap(one)(inputs, labels, jax.random.split(key, labels.shape[0]))
        return jnp.mean(values), self._cut_feedback(_batch_mean(grads))

    def log_likelihoods(self, model, inputs: Float[Array, "B T m"], key: PRNGKeyArray) -> Float[Array, "B C"]:
        """``log p_K(x_c)``: the ``K``-compartment estimate of each class's target-raster likelihood."""
        em = MultiSampleEM(self.num_compartments)
        targets = jax.vmap(self.target)(jnp.arange(self.n_out))

        def one(x, k):
            return jax.vmap(lambda t: em.log_likelihood(model, x, t, self.visible, k))(targets)

        return jax.vmap(one)(inputs, jax.random.split(key, inputs.shape[0]))

    def probabilities(self, model, inputs, key):
        return jax.nn.softmax(self.log_likelihoods(model, inputs, key), axis=-1)

    def extra_metrics(self, model, inputs, labels, key):
        """``em_log_likelihood``: ``log p_K(x_y)`` of the label's target raster."""
        log_likelihoods = self.log_likelihoods(model, inputs, key)
        return {"em_log_likelihood": jnp.take_along_axis(log_likelihoods, labels[:, None], axis=1)[:, 0]}

    def predict(self, model, inputs, key) -> Int[Array, " B"]:
        """Classes by the output spike counts, summed over ``eval_samples`` free runs."""
        return jnp.argmax(jnp.sum(self.output_counts(model, inputs, key), axis=1), axis=-1)


class OnlineEMClassifier(MultiSampleEMClassifier):
    """:class:`MultiSampleEMClassifier` trained by the online rule: per example, the sum of the
    online updates ``Delta[t]`` (``OnlineMultiSampleEM`` with ``eligibility_decay``, ``likelihood_decay``,
    ``update_every``, ``hidden_signal``) at fixed weights; loss ``-L[T]``.

    Example:
        ```python
        classifier = sd.estimators.OnlineEMClassifier(num_compartments=5, eligibility_decay=0.9)
        model = classifier.init(5, 3, jax.random.key(0))
        ```
    """

    eligibility_decay: float = eqx.field(static=True, default=1.0)
    likelihood_decay: float = eqx.field(static=True, default=1.0)
    update_every: int | None = eqx.field(static=True, default=None)
    hidden_signal: AbstractHiddenSignal = ImportanceWeighted()

    @property
    def online(self) -> OnlineMultiSampleEM:
        return OnlineMultiSampleEM(
            self.num_compartments, self.eligibility_decay, self.likelihood_decay, self.update_every, self.hidden_signal
        )

    def loss_and_grad(self, model, inputs, labels, key):
        online = self.online

        def one(x, y, k):
            result = online.run(model, x, self.target(y), self.visible, k)
            return -result.bound, jax.tree_util.tree_map(jnp.negative, result.update)

        values, grads = eqx.filter_vmap(one)(inputs, labels, jax.random.split(key, labels.shape[0]))
        return jnp.mean(values), self._cut_feedback(_batch_mean(grads))
