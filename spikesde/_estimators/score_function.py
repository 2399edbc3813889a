r"""The score-function (likelihood-ratio, REINFORCE) gradient estimator, with baselines.

For spike trains ``s ~ p_theta`` and a loss ``L(s)`` that does not depend on ``theta`` directly,

    grad E[L] = E[(L(s) - b) grad log p_theta(s)]

for any baseline ``b`` independent of ``s`` (``E[grad log p] = 0``). With ``M`` samples the estimate
averages ``M`` such terms: unbiased, with variance ``O(1/M)`` that a good baseline reduces. It needs
only ``log p_theta(s)`` with ``s`` held fixed, so it works where the spike count is discontinuous in
``theta`` (Poisson / Bernoulli neurons) and pathwise derivatives do not exist.

A model used with it provides ``sample(inputs, key)`` (no gradient) and ``log_prob(inputs, spikes)``
(differentiable in the model's parameters), as :class:`BernoulliSNN` does.
"""

import abc
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray, PyTree


class AbstractBaseline(eqx.Module):
    """A control variate ``b_m`` for each of ``M`` losses, independent of sample ``m``.

    Example:
        ```python
        isinstance(sd.estimators.LeaveOneOut(), sd.estimators.AbstractBaseline)   # True: ScoreFunction(baseline=...)
        ```
    """

    def init(self) -> PyTree:
        """The baseline's state before the first estimate."""
        return None

    @abc.abstractmethod
    def __call__(self, losses: Float[Array, " M"], state: PyTree) -> tuple[Float[Array, " M"], PyTree]:
        """The baselines of the current losses and the updated state."""


class NoBaseline(AbstractBaseline):
    """``b = 0``.

    Example:
        ```python
        estimator = sd.estimators.ScoreFunction(num_samples=8, baseline=sd.estimators.NoBaseline())
        ```
    """

    def __call__(self, losses, state):
        return jnp.zeros_like(losses), state


class LeaveOneOut(AbstractBaseline):
    """``b_m = mean_{m' != m} L_{m'}``: independent of sample ``m``, so the estimate stays unbiased.

    Example:
        ```python
        baseline = sd.estimators.LeaveOneOut()
        baseline(jnp.array([1.0, 2.0, 3.0]), baseline.init())[0]   # [2.5, 2.0, 1.5]
        ```
    """

    def __call__(self, losses, state):
        m = losses.shape[0]
        if m < 2:
            raise ValueError("the leave-one-out baseline needs at least two samples (num_samples >= 2)")
        return (jnp.sum(losses) - losses) / (m - 1), state


class RunningMean(AbstractBaseline):
    """An exponential moving average of past losses (``decay`` per estimate); 0 before the first.

    It depends on earlier estimates only, so the current estimate stays unbiased.

    Example:
        ```python
        baseline = sd.estimators.RunningMean(decay=0.9)
        b, state = baseline(jnp.array([1.0, 3.0]), baseline.init())   # 0 before the first estimate
        ```
    """

    decay: float = eqx.field(static=True, default=0.9)

    def __check_init__(self):
        if not 0 <= self.decay < 1:
            raise ValueError(f"decay must lie in [0, 1), got {self.decay}")

    def init(self):
        return (jnp.zeros(()), jnp.zeros((), bool))

    def __call__(self, losses, state):
        mean, seen = state
        baseline = jnp.where(seen, mean, 0.0)
        batch = jnp.mean(jax.lax.stop_gradient(losses))
        updated = jnp.where(seen, self.decay * mean + (1 - self.decay) * batch, batch)
        return jnp.broadcast_to(baseline, losses.shape), (updated, jnp.ones((), bool))


class ScoreFunction(eqx.Module):
    """The score-function estimator of ``grad E[loss(s)]`` from ``num_samples`` samples.

    Arguments:
        num_samples: samples ``M`` per estimate.
        baseline: the control variate (default :class:`LeaveOneOut`).

    Example:
        ```python
        estimator = sd.estimators.ScoreFunction(num_samples=8, baseline=sd.estimators.RunningMean(0.9))
        ```
    """

    num_samples: int = eqx.field(static=True)
    baseline: AbstractBaseline = LeaveOneOut()

    def __check_init__(self):
        if int(self.num_samples) != self.num_samples or self.num_samples < 1:
            raise ValueError(f"num_samples must be a positive integer, got {self.num_samples}")

    def value_and_grad(
        self,
        loss: Callable[[Array], Float[Array, ""]],
        model: eqx.Module,
        inputs: Array,
        key: PRNGKeyArray,
        state: PyTree = None,
    ) -> tuple[Float[Array, ""], PyTree, PyTree]:
        """``(mean loss, gradient estimate, baseline state)``; the gradient has the structure of
        ``eqx.filter(model, eqx.is_inexact_array)``. Pass the returned state to the next call."""
        state = self.baseline.init() if state is None else state
        keys = jax.random.split(key, self.num_samples)
        samples = jax.vmap(lambda k: model.sample(inputs, k))(keys)
        losses = jax.vmap(loss)(samples)
        baselines, state = self.baseline(losses, state)
        advantages = jax.lax.stop_gradient(losses - baselines)

        @eqx.filter_grad
        def surrogate(m):
            log_p = jax.vmap(lambda s: m.log_prob(inputs, s))(samples)
            return jnp.mean(advantages * log_p)

        return jnp.mean(losses), surrogate(model), state
