"""Moment matching of spike times: the reference experiment's baseline loss and test metric."""

from typing import Literal

import equinox as eqx
import jax.numpy as jnp

from .base import AbstractSpikeTrainLoss, _check_batches
from .paths import first_spike_times


class FirstSpikeTimeLoss(AbstractSpikeTrainLoss):
    r"""Error between the average first ``num_spikes`` spike times of each neuron.

        L(X, Y) = mean_{k, j} | mean_i tau^X_{ikj} - mean_i tau^Y_{ikj} |^p,   p = 2 ("mse") or 1 ("mae"),

    where ``tau_{ikj}`` is the ``j``-th spike of neuron ``k`` in sample ``i``, and a spike that did not
    happen by ``t1`` counts as ``t1``. The moment-matching baseline of the reference experiment;
    with ``kind="mae"`` and ``num_spikes=3`` it is the reference experiment's test metric.

    Example:
        ```python
        loss = sd.FirstSpikeTimeLoss(num_spikes=2, t1=1.0)
        loss(jnp.array([[[0.2, 0.6]]]), jnp.array([[[0.3, jnp.inf]]]))   # missing spikes count as t1
        ```
    """

    num_spikes: int = eqx.field(static=True)
    t1: float = eqx.field(static=True)
    kind: Literal["mse", "mae"] = eqx.field(static=True, default="mse")

    def __check_init__(self):
        if self.kind not in ("mse", "mae"):
            raise ValueError(f"kind must be 'mse' or 'mae', got {self.kind!r}")

    def __call__(self, model_spike_times, data_spike_times):
        x, y = _check_batches(model_spike_times, data_spike_times)
        mean_x = jnp.mean(first_spike_times(x, self.num_spikes, self.t1), axis=0)
        mean_y = jnp.mean(first_spike_times(y, self.num_spikes, self.t1), axis=0)
        error = mean_x - mean_y
        return jnp.mean(error**2) if self.kind == "mse" else jnp.mean(jnp.abs(error))
