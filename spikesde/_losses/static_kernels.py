r"""Static kernels ``kappa`` lifted to the increment grid of two paths.

The signature kernel with static kernel ``kappa`` solves the Goursat PDE with
``Delta_ij = kappa(x_{i+1}, y_{j+1}) - kappa(x_{i+1}, y_j) - kappa(x_i, y_{j+1}) + kappa(x_i, y_j)``;
for the linear kernel this is ``<dx_i, dy_j>``. Dyadic refinement of order ``L`` splits every cell
into ``2^L x 2^L`` cells of ``Delta_ij / 4^L``.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .goursat import grid_shape


def _outer(xs, ys):
    """``<xs[a, i], ys[b, j]>`` as ``(bx, i, j, by)``: one matrix product, already in the solver's layout."""
    return jnp.tensordot(xs, jnp.swapaxes(ys, 0, 1), axes=((2,), (2,)))


class AbstractStaticKernel(eqx.Module):
    """A static kernel on path values; ``increments(xs, ys)`` is its grid ``Delta`` for all pairs.

    Example:
        ```python
        isinstance(sd.losses.RBFKernel(), sd.losses.AbstractStaticKernel)   # True: PDESolver(static_kernel=...)
        ```
    """

    @abc.abstractmethod
    def increments(
        self, xs: Float[Array, "bx length_x d"], ys: Float[Array, "by length_y d"]
    ) -> Float[Array, "bx length_x-1 length_y-1 by"]:
        """``Delta[a, i, j, b]`` for paths ``xs[a]``, ``ys[b]`` (pairs outermost and innermost: the solver's layout)."""

    def grid(self, xs, ys, refinement: int) -> Float[Array, "bx rows cols by"]:
        """``Delta`` refined ``2^refinement`` times per axis, zero-padded as :func:`grid_shape` says.

        One fused pass over the refined grid (repeat, scale and pad are elementwise in the output).
        """
        delta = self.increments(xs, ys)
        bx, m, n, by = delta.shape
        split = 2**refinement
        if refinement:
            refined = jnp.broadcast_to(delta[:, :, None, :, None, :], (bx, m, split, n, split, by))
            delta = refined.reshape(bx, m * split, n * split, by) / (split * split)
        rows, cols = grid_shape(m * split, n * split)
        return jnp.pad(delta, ((0, 0), (0, rows - m * split), (0, cols - n * split), (0, 0)))


class LinearKernel(AbstractStaticKernel):
    """``kappa(x, y) = scale <x, y>``: ``Delta_ij = scale <dx_i, dy_j>`` (the plain signature kernel).

    Example:
        ```python
        solver = sd.signatures.PDESolver(static_kernel=sd.losses.LinearKernel(scale=2.0))   # the plain signature kernel, scaled
        ```
    """

    scale: float = eqx.field(static=True, default=1.0)

    def increments(self, xs, ys):
        return self.scale * _outer(jnp.diff(xs, axis=1), jnp.diff(ys, axis=1))

    def grid(self, xs, ys, refinement):
        # Refining Delta = refining the increments (each split into 2^L equal parts, exact in binary);
        # zero increments pad the grid, so the matrix product writes the padded layout directly.
        split = 2**refinement
        dx = jnp.repeat(jnp.diff(xs, axis=1), split, axis=1) * (self.scale / split)
        dy = jnp.repeat(jnp.diff(ys, axis=1), split, axis=1) / split
        rows, cols = grid_shape(dx.shape[1], dy.shape[1])
        dx = jnp.pad(dx, ((0, 0), (0, rows - dx.shape[1]), (0, 0)))
        dy = jnp.pad(dy, ((0, 0), (0, cols - dy.shape[1]), (0, 0)))
        return _outer(dx, dy)


class RBFKernel(AbstractStaticKernel):
    """``kappa(x, y) = exp(-|x - y|^2 / (2 sigma^2))``.

    Example:
        ```python
        kernel = sd.losses.RBFKernel(sigma=0.5)
        solver = sd.signatures.PDESolver(refinement=1, static_kernel=kernel)
        ```
    """

    sigma: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        if not self.sigma > 0:
            raise ValueError(f"sigma must be positive, got {self.sigma}")

    def increments(self, xs, ys):
        squared = jnp.sum(xs**2, -1)[:, :, None, None] + jnp.sum(ys**2, -1).T[None, None] - 2 * _outer(xs, ys)
        k = jnp.exp(-jnp.maximum(squared, 0.0) / (2 * self.sigma**2))
        return k[:, 1:, 1:] - k[:, 1:, :-1] - k[:, :-1, 1:] + k[:, :-1, :-1]
