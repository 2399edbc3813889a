r"""Losses between two batches of spike trains: a model sample and the data.

Every loss is an :class:`equinox.Module` called as ``loss(model_spike_times, data_spike_times)``
on spike buffers of shape ``(samples, n_neurons, max_spikes)`` padded with ``+inf`` (what
``jax.vmap(spikesde.simulate)`` returns). The two batches may differ in size. Each loss is
differentiable in the model's spike times, and so, through :func:`spikesde.simulate`, in the
parameters of the model.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


class AbstractSpikeTrainLoss(eqx.Module):
    """A discrepancy between the distributions of two batches of spike trains.

    Example:
        ```python
        class MeanCountLoss(sd.AbstractSpikeTrainLoss):   # squared difference of the mean spike counts
            def __call__(self, x, y):
                return (jnp.isfinite(x).sum(-1).mean() - jnp.isfinite(y).sum(-1).mean()) ** 2
        MeanCountLoss()(jnp.array([[[0.2, 0.6]]]), jnp.array([[[0.3, jnp.inf]]]))   # 1.0
        ```
    """

    @abc.abstractmethod
    def __call__(
        self, model_spike_times: Float[ArrayLike, "b n k"], data_spike_times: Float[ArrayLike, "b2 n k"]
    ) -> Float[Array, ""]:
        """Return the loss (a scalar)."""

    def prepare(self, data_spike_times: Float[ArrayLike, "b2 n k"]) -> "AbstractSpikeTrainLoss":
        """A copy with whatever depends on the data alone computed once (a trainer calls it once per fit).

        ``loss.prepare(data)(model, data) == loss(model, data)``. The default returns ``self``.
        """
        return self


def _check_batches(x, y):
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.ndim != 3 or y.ndim != 3 or x.shape[1:] != y.shape[1:]:
        raise ValueError(
            "spike times must both have shape (samples, n_neurons, max_spikes) with matching n_neurons and "
            f"max_spikes, got {x.shape} and {y.shape}"
        )
    return x, y
