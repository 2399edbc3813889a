r"""How a training step estimates ``d/dtheta E[D(model samples at theta, data)]``: an option of
:class:`spikesde.Trainer` and :func:`spikesde.fit`.

:class:`PathwiseGradient` (the default) differentiates the samples themselves through
:func:`spikesde.simulate` with the noise held fixed. :class:`ScoreFunctionGradient` differentiates
only the log-density of the samples (a likelihood-ratio estimate): for a batch ``S = (s_1 .. s_M)``
of independent samples and any batch loss ``D``,

    grad E[D(S)] = E[ sum_m (D(S) - D(S without s_m)) grad log p_theta(s_m) ],

the leave-one-out batch loss being independent of ``s_m`` (so it adds no bias and removes much of
the variance). It needs ``log p_theta`` of spike buffers: noise-free SLIF neurons or networks
(:func:`spikesde.buffer_log_likelihood`), unbiased for ``alpha = 0`` only (see
:mod:`spikesde._estimators.slif_score`). :class:`MaximumLikelihood` changes the objective instead:
where that log-density exists it needs no sampled loss, and its minimiser is the efficient one.
"""

import abc
from typing import TYPE_CHECKING

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray, PyTree

from .._estimators.slif_score import warn_if_alpha_biases
from .._gradients.forward import forward_value_and_grad
from .._core.network import as_network
from .._likelihood.core_path import buffer_log_likelihood, check_noise_free
from .._likelihood.general import check_escape_neuron
from .._models.slif import SLIF

if TYPE_CHECKING:
    from .trainer import Trainer

Estimate = tuple[Float[Array, ""], PyTree, tuple[Float[Array, "b n k"], Bool[Array, " b"]]]


class AbstractGradientEstimator(eqx.Module):
    """A gradient estimator of a training step.

    Example:
        ```python
        isinstance(sd.PathwiseGradient(), sd.AbstractGradientEstimator)   # True; fit(..., estimator=...) takes any
        ```
    """

    def check(self, model, model_samples: int) -> None:
        """Raise a TypeError / ValueError if the estimator cannot serve ``model`` with
        ``model_samples`` samples per step (called once, by the trainer's constructor)."""

    @abc.abstractmethod
    def value_and_grad(self, trainer: "Trainer", params: PyTree, key: PRNGKeyArray, data: Float[Array, "b2 n k"]) -> Estimate:
        """``(loss, gradient with respect to params, (model spikes, overflow))`` from
        ``trainer.model_samples`` samples drawn with ``key``."""


class PathwiseGradient(AbstractGradientEstimator):
    """The exact pathwise gradient through :func:`spikesde.simulate` (forward or reverse mode as
    the trainer's ``gradient`` says).

    Example:
        ```python
        estimator = sd.PathwiseGradient()   # the default of fit and Trainer: jax.grad through simulate
        ```
    """

    def value_and_grad(self, trainer, params, key, data):
        def objective(p):
            spikes, overflow = trainer.simulation.sample(trainer.model_at(p), key, trainer.model_samples)
            return trainer.loss_value(spikes, data), (spikes, overflow)

        grad_fn = forward_value_and_grad if trainer.gradient_mode(params) == "forward" else jax.value_and_grad
        (loss, aux), grads = grad_fn(objective, has_aux=True)(params)
        return loss, grads, aux


class ScoreFunctionGradient(AbstractGradientEstimator):
    """The score-function (likelihood-ratio) estimate with leave-one-out batch-loss baselines (see
    the module docstring); the model must be noise-free :class:`spikesde.SLIF` neurons or a network of them.

    Arguments:
        leave_one_out: subtract ``D(S without s_m)`` from each sample's weight (needs at least two
            model samples); ``False``: weight every score by ``D(S)``.

    Example:
        ```python
        estimator = sd.ScoreFunctionGradient()   # noise-free SLIF neurons with alpha = 0: fit(..., estimator=estimator)
        ```
    """

    leave_one_out: bool = eqx.field(static=True, default=True)

    def check(self, model, model_samples):
        check_noise_free(model)
        warn_if_alpha_biases(model, stacklevel=3)
        if self.leave_one_out and model_samples < 2:
            raise ValueError(f"the leave-one-out score-function gradient needs model_samples >= 2, got {model_samples}")

    def value_and_grad(self, trainer, params, key, data):
        sim = trainer.simulation
        spikes, overflow = jax.lax.stop_gradient(sim.sample(trainer.model_at(params), key, trainer.model_samples))
        loss = trainer.loss_value(spikes, data)
        m = spikes.shape[0]
        if self.leave_one_out:
            j = jnp.arange(m - 1)
            others = j[None, :] + (j[None, :] >= jnp.arange(m)[:, None])  # row i: every index but i
            baselines = jax.vmap(lambda idx: trainer.loss_value(spikes[idx], data))(others)
        else:
            baselines = jnp.zeros(m, spikes.dtype)
        weights = jax.lax.stop_gradient(loss - baselines)

        def surrogate(p):
            model = trainer.model_at(p)
            one = lambda s: buffer_log_likelihood(model, s, t0=sim.t0, t1=sim.t1, dt=sim.dt, stepper=sim.stepper)  # noqa: E731
            log_p = jax.vmap(one)(spikes)
            return jnp.sum(weights * log_p)

        return loss, jax.grad(surrogate)(params), (spikes, overflow)


class MaximumLikelihood(AbstractGradientEstimator):
    r"""Maximum likelihood instead of a sampled loss: the objective is the log-likelihood of the
    training trains,

        log L(theta) = sum_{j=1}^{B} log p_theta(y_j).

    With :func:`spikesde.fit` (``fit(model, data, learn=..., simulation=..., key=...,
    estimator=MaximumLikelihood())``) it needs no ``loss``, ``optimizer`` or ``steps`` and draws no
    model sample unless a test metric asks for them: :func:`spikesde.fit_likelihood` maximises
    :func:`spikesde.log_likelihood` (any escape-noise neuron, on the grid ``dt``) by damped Newton
    steps on the exact Hessian until a step gains at most ``rtol (1 + |log L|)`` (the deterministic
    objective makes first-order optimisers stall or oscillate), and returns standard errors from
    the Hessian at the optimum. Its minimiser reaches the Cramer-Rao bound a sampled loss does not
    (``benchmarks/slif_identifiability.py``).

    Inside a :class:`spikesde.Trainer` (one optimiser step at a time) the gradient is that of
    ``-(1/B) log L`` under the event core's own discretisation (:func:`spikesde.buffer_log_likelihood`,
    noise-free SLIF neurons or networks of them), and the step still draws ``model_samples`` samples
    for the overflow and test metrics.

    Arguments:
        dt: the likelihood's grid step in :func:`spikesde.fit` (default: the simulation's ``dt``).
        max_steps: the most Newton steps (``fit``'s ``steps`` overrides it); rtol: the stopping rule.

    Example:
        ```python
        estimator = sd.MaximumLikelihood()   # -mean log p(data) of noise-free SLIF neurons: fit(..., estimator=estimator)
        ```
    """

    dt: float | None = eqx.field(static=True, default=None)
    max_steps: int = eqx.field(static=True, default=50)
    rtol: float = eqx.field(static=True, default=1e-12)

    def check(self, model, model_samples):
        check_escape_neuron(as_network(model).neuron)
        if not isinstance(as_network(model).neuron, SLIF):
            raise TypeError(f"a Trainer step by maximum likelihood uses the core's buffer density, SLIF only; got "
                            f"{type(as_network(model).neuron).__name__}: fit it with fit(..., estimator=MaximumLikelihood()) "
                            "or fit_likelihood, which take any escape-noise neuron")  # fmt: skip
        check_noise_free(model)

    def value_and_grad(self, trainer, params, key, data):
        sim = trainer.simulation

        def objective(p):
            model = trainer.model_at(p)
            one = lambda s: buffer_log_likelihood(model, s, t0=sim.t0, t1=sim.t1, dt=sim.dt, stepper=sim.stepper)  # noqa: E731
            return -jnp.mean(jax.vmap(one)(data))

        loss, grads = jax.value_and_grad(objective)(params)
        spikes, overflow = jax.lax.stop_gradient(sim.sample(trainer.model_at(params), key, trainer.model_samples))
        return loss, grads, (spikes, overflow)
