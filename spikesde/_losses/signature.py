"""Truncated expected signatures of Marcus-lifted spike trains, and the loss built on them."""

from typing import Literal

import equinox as eqx
import jax.numpy as jnp
import signax
from jaxtyping import Array, Float

from .base import AbstractSpikeTrainLoss, _check_batches
from .paths import marcus_lift
from .spike_signature import spike_train_signature


def expected_signature(paths: Float[Array, "*batch length d"], depth: int) -> Float[Array, " features"]:
    r"""The empirical expected signature ``mean_i S_N(x_i)``, truncated at ``depth``, flattened by level.

    Example:
        ```python
        path = sd.signatures.marcus_lift(jnp.array([[[0.2, 0.7]], [[0.4, jnp.inf]]]), t0=0.0, t1=1.0)
        mean_sig = sd.signatures.expected_signature(path, depth=2)   # the mean over the 2 paths
        ```
    """
    paths = paths.reshape(-1, *paths.shape[-2:])
    return jnp.mean(signax.signature(paths, depth), axis=0)


class ExpectedSignatureLoss(AbstractSpikeTrainLoss):
    r"""Squared distance of truncated expected signatures of the Marcus-lifted spike trains.

        L(X, Y) = || mean_i S_N(x_i) - mean_j S_N(y_j) ||^2      (``reduction="sum"``)

    with ``S_N`` the signature truncated at depth ``N`` (levels ``1..N``; level 0 is 1 for every
    path). This is the squared MMD of the truncated-signature feature map, a biased V-statistic,
    computed in ``O(B L d^N)`` rather than ``O(B^2 L^2)``. ``reduction="mean"`` divides by the
    number of signature terms (``d + d^2 + ... + d^N``), as the reference runs did; it rescales the
    gradient only, which the normalised optimisers (RMSprop, Adam) ignore. ``taper`` (see
    :func:`spikesde.marcus_lift`) makes the loss continuous when a spike enters the window at ``t1``;
    use it when spikes reach ``t1`` (long spike trains), where pathwise gradients are otherwise biased.

    The signatures come from the lift's one-axis segments (:func:`spikesde.spike_train_signature`), at
    a cost linear in the stored spikes; ``max_events`` (the simulator's bound on spikes per solve)
    limits the time-ordered part to that many events. ``loss.prepare(data)`` (also
    ``with_target``) returns a copy holding the data's expected signature, computed once; calls of the
    copy then ignore their second argument's values (only its shape is checked).

    Example:
        ```python
        loss = sd.ExpectedSignatureLoss(t0=0.0, t1=1.0, depth=2)
        x = jnp.array([[[0.2, 0.6]], [[0.3, jnp.inf]]])   # 2 trains of 1 neuron, +inf padded
        loss(x, x[::-1]), loss(x, x + 0.05)   # 0.0, a small positive number
        ```
    """

    t0: float = eqx.field(static=True)
    t1: float = eqx.field(static=True)
    depth: int = eqx.field(static=True, default=3)
    time_scale: float = eqx.field(static=True, default=1.0)
    count_scale: float = eqx.field(static=True, default=1.0)
    reduction: Literal["sum", "mean"] = eqx.field(static=True, default="sum")
    taper: float = eqx.field(static=True, default=0.0)
    max_events: int | None = eqx.field(static=True, default=None)
    target: Float[Array, " features"] | None = None

    def __check_init__(self):
        if self.depth < 1:
            raise ValueError(f"depth must be at least 1, got {self.depth}")
        if self.reduction not in ("sum", "mean"):
            raise ValueError(f"reduction must be 'sum' or 'mean', got {self.reduction!r}")

    def lift(self, spike_times):
        return marcus_lift(
            spike_times, t0=self.t0, t1=self.t1, time_scale=self.time_scale, count_scale=self.count_scale,
            taper=self.taper,
        )

    def signature(self, spike_times) -> Float[Array, " features"]:
        """The expected depth-``depth`` signature of a batch of spike trains under this loss's lift."""
        return spike_train_signature(
            spike_times, t0=self.t0, t1=self.t1, depth=self.depth, time_scale=self.time_scale,
            count_scale=self.count_scale, taper=self.taper, max_events=self.max_events, mean=True,
        )

    def with_target(self, data_spike_times) -> "ExpectedSignatureLoss":
        """A copy that holds the data's expected signature (computed once, here)."""
        return self.with_expected_signature(self.signature(jnp.asarray(data_spike_times)))

    def with_expected_signature(self, target: Float[Array, " features"]) -> "ExpectedSignatureLoss":
        """A copy that holds ``target`` as the data's expected signature (e.g. the mean of per-sample
        signatures over a minibatch: the expected signature is linear in the samples)."""
        return eqx.tree_at(lambda loss: loss.target, self, target, is_leaf=lambda x: x is None)

    def sample_signatures(self, spike_times) -> Float[Array, "*batch features"]:
        """Per-sample signatures under this loss's lift (cache them once to draw minibatch targets)."""
        return spike_train_signature(
            spike_times, t0=self.t0, t1=self.t1, depth=self.depth, time_scale=self.time_scale,
            count_scale=self.count_scale, taper=self.taper, max_events=self.max_events,
        )

    def prepare(self, data_spike_times) -> "ExpectedSignatureLoss":
        return self.with_target(data_spike_times)

    def __call__(self, model_spike_times, data_spike_times):
        x, y = _check_batches(model_spike_times, data_spike_times)
        target = self.signature(y) if self.target is None else self.target
        squares = (self.signature(x) - target) ** 2
        return jnp.sum(squares) if self.reduction == "sum" else jnp.mean(squares)
