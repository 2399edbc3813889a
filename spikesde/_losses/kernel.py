"""The signature kernel (Goursat PDE) and the unbiased MMD built on it."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .base import AbstractSpikeTrainLoss, _check_batches
from .paths import marcus_lift


def signature_kernel(
    x: Float[Array, "length_x d"], y: Float[Array, "length_y d"], refinement: int = 2
) -> Float[Array, ""]:
    r"""The (untruncated) signature kernel ``k(x, y) = sum_m <S^m(x), S^m(y)>`` of two piecewise-linear paths.

    Solves the Goursat problem ``d^2 K / ds dt = <x'(s), y'(t)> K``, ``K(0, .) = K(., 0) = 1`` with the
    second-order scheme

        K_{i+1,j+1} = (K_{i+1,j} + K_{i,j+1}) (1 + D/2 + D^2/12) - K_{i,j} (1 - D^2/12),

    ``D = <dx_i, dy_j> / 4^L`` on the grid of the paths' increments, each cell split into
    ``2^L x 2^L`` (dyadic refinement of order ``L = refinement``). Values grow like
    ``exp(|x|_1 |y|_1)``: scale the paths to 1-variation of order one.
    """
    dx = jnp.diff(x, axis=0)
    dy = jnp.diff(y, axis=0)
    split = 2**refinement
    increments = (dx @ dy.T) / (split * split)
    increments = jnp.repeat(jnp.repeat(increments, split, axis=0), split, axis=1)
    quadratic = increments**2 / 12

    def row(previous, coefficients):
        increment, square = coefficients

        def cell(left, inputs):
            below_left, below, d, d2 = inputs
            value = (left + below) * (1 + d / 2 + d2) - below_left * (1 - d2)
            return value, value

        _, new = jax.lax.scan(cell, jnp.ones((), previous.dtype), (previous[:-1], previous[1:], increment, square))
        new = jnp.concatenate([jnp.ones((1,), previous.dtype), new])
        return new, None

    first = jnp.ones(increments.shape[1] + 1, increments.dtype)
    last, _ = jax.lax.scan(row, first, (increments, quadratic))
    return last[-1]


def _gram(xs, ys, refinement):
    kernel = jax.vmap(jax.vmap(lambda a, b: signature_kernel(a, b, refinement), (None, 0)), (0, None))
    return kernel(xs, ys)


def _off_diagonal_mean(gram):
    m = gram.shape[0]
    return (jnp.sum(gram) - jnp.sum(jnp.diagonal(gram))) / (m * (m - 1))


class SignatureKernelMMD(AbstractSpikeTrainLoss):
    r"""Unbiased squared MMD with the signature kernel of the (scaled) Marcus-lifted spike trains.

        MMD^2 = mean_{i != i'} k(x_i, x_i') + mean_{j != j'} k(y_j, y_j') - 2 mean_{i, j} k(x_i, y_j).

    Time augmentation makes the signature kernel characteristic, so this is a strictly proper
    discrepancy between spike-train laws. It costs ``O(B^2 L^2 4^refinement)``: use it for small
    batches and short trains. Scale the paths (``time_scale``, ``count_scale``) so that their
    1-variation is of order one; kernel values grow like ``exp(|x|_1 |y|_1)``.
    """

    t0: float = eqx.field(static=True)
    t1: float = eqx.field(static=True)
    time_scale: float = eqx.field(static=True, default=1.0)
    count_scale: float = eqx.field(static=True, default=1.0)
    refinement: int = eqx.field(static=True, default=1)
    taper: float = eqx.field(static=True, default=0.0)

    def __call__(self, model_spike_times, data_spike_times):
        x, y = _check_batches(model_spike_times, data_spike_times)
        if x.shape[0] < 2 or y.shape[0] < 2:
            raise ValueError("the unbiased MMD needs at least two samples in each batch")
        px, py = (
            marcus_lift(
                s, t0=self.t0, t1=self.t1, time_scale=self.time_scale, count_scale=self.count_scale, taper=self.taper
            )
            for s in (x, y)
        )
        return (
            _off_diagonal_mean(_gram(px, px, self.refinement))
            + _off_diagonal_mean(_gram(py, py, self.refinement))
            - 2 * jnp.mean(_gram(px, py, self.refinement))
        )
