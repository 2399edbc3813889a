r"""The continuous-time escape-noise SLIF as a model of the score-function estimator.

:class:`ScoreFunction` needs ``sample(inputs, key)`` and a differentiable ``log_prob(inputs,
spikes)``. Here a sample is the spike buffers of SLIF neurons or of a network of them from
:func:`spikesde.simulate` (each neuron's first ``max_spikes`` spikes, ``+inf`` padded) and
``log_prob`` their exact log-density under the core's own discretisation
(:func:`spikesde.buffer_log_likelihood`): with noise-free membranes the spike times are the only
randomness, and

    grad E[L] = E[(L(s) - b) grad log p_theta(s)]

estimates the same derivative as the pathwise gradient through :func:`spikesde.simulate`, from
spike times alone (no derivative of the spike times).

The clock offset ``alpha`` makes the estimator biased: a spike is impossible until the clock has
run ``alpha`` since the last one, and that edge of the support moves with ``theta`` while the
density there is ``lambda > 0``, so ``E[grad log p] != 0`` (the missing boundary term is
``L`` at the edge times the edge's motion). With ``alpha = 0`` it is unbiased.
"""

import warnings

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._core.network import Network, as_network
from .._core.simulate import simulate
from .._core.stepper import AbstractStepper
from .._likelihood.core_path import buffer_log_likelihood, check_noise_free
from .._models.slif import SLIF



def warn_if_alpha_biases(model: SLIF | Network, stacklevel: int = 2) -> None:
    """A RuntimeWarning when the clock offset ``alpha`` of ``model``'s SLIF neurons is positive (where
    it is known now): the score-function estimate is then biased (see the module docstring)."""
    alpha = as_network(model).neuron.alpha
    if not isinstance(alpha, jax.core.Tracer) and float(np.max(np.asarray(alpha))) != 0.0:
        warnings.warn(
            f"alpha={float(np.max(np.asarray(alpha))):.6g}: the score-function estimate of an SLIF with alpha > 0 is "
            "biased (the edge of the support of the spike times moves with the parameters); use alpha=0",
            RuntimeWarning,
            stacklevel=stacklevel + 1,
        )


class SLIFSpikeTrainModel(eqx.Module):
    """Noise-free SLIF neurons on ``[t0, t1]``, sampled by the event core, scored exactly.

    Arguments:
        model: :class:`spikesde.SLIF` neurons or a :class:`spikesde.Network` of them, with
            ``sigma_v = sigma_i = 0``; its inexact fields are the parameters the estimator
            differentiates.
        t0, t1, dt: the simulation window and step.
        max_spikes: the spike buffer length (the loss sees the first ``max_spikes`` spikes).
        stepper: the simulation's stepper (default :class:`spikesde.EulerMaruyama`).

    Example:
        ```python
        model = sd.estimators.SLIFSpikeTrainModel(sd.SLIF(input_current=1.5, alpha=0.0), t0=0.0, t1=1.0, dt=0.01, max_spikes=16)
        spikes = model.sample(None, jax.random.key(0))   # (1, 16)
        model.log_prob(None, spikes)                     # its exact log-density
        ```
    """

    model: SLIF | Network
    t0: float = eqx.field(static=True)
    t1: float = eqx.field(static=True)
    dt: float = eqx.field(static=True)
    max_spikes: int = eqx.field(static=True)
    stepper: AbstractStepper | None = None

    def __check_init__(self):
        check_noise_free(self.model)
        warn_if_alpha_biases(self.model, stacklevel=3)

    def sample(self, inputs, key: PRNGKeyArray) -> Float[Array, "n max_spikes"]:
        """One sample of the spike buffers (no gradient flows through it); ``inputs`` is unused (``None``)."""
        del inputs
        solution = simulate(
            jax.lax.stop_gradient(self.model), t0=self.t0, t1=self.t1, dt=self.dt, key=key,
            max_spikes=self.max_spikes, stepper=self.stepper, on_overflow="ignore",
        )  # fmt: skip
        return solution.spike_times

    def log_prob(self, inputs, spikes: Float[Array, "n max_spikes"]) -> Float[Array, ""]:
        """``log p_theta(spikes)``, differentiable in the model's parameters."""
        del inputs
        return buffer_log_likelihood(self.model, spikes, t0=self.t0, t1=self.t1, dt=self.dt, stepper=self.stepper)
