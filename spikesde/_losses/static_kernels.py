r"""Static kernels ``kappa`` lifted to the increment grid of two paths.

The signature kernel with static kernel ``kappa`` solves the Goursat PDE with
``Delta_ij = kappa(x_{i+1}, y_{j+1}) - kappa(x_{i+1}, y_j) - kappa(x_i, y_{j+1}) + kappa(x_i, y_j)``;
for the linear kernel this is ``<dx_i, dy_j>``.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float


class AbstractStaticKernel(eqx.Module):
    """A static kernel on path values; ``increments(xs, ys)`` is its grid ``Delta`` for all pairs."""

    @abc.abstractmethod
    def increments(
        self, xs: Float[Array, "bx length_x d"], ys: Float[Array, "by length_y d"]
    ) -> Float[Array, "length_x-1 length_y-1 bx by"]:
        """``Delta[i, j, a, b]`` for paths ``xs[a]`` and ``ys[b]`` (pairs last: the solver's layout)."""


class LinearKernel(AbstractStaticKernel):
    """``kappa(x, y) = scale <x, y>``: ``Delta_ij = scale <dx_i, dy_j>`` (the plain signature kernel)."""

    scale: float = eqx.field(static=True, default=1.0)

    def increments(self, xs, ys):
        dx, dy = jnp.diff(xs, axis=1), jnp.diff(ys, axis=1)
        return self.scale * jnp.einsum("aid,bjd->ijab", dx, dy)


class RBFKernel(AbstractStaticKernel):
    """``kappa(x, y) = exp(-|x - y|^2 / (2 sigma^2))``."""

    sigma: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        if not self.sigma > 0:
            raise ValueError(f"sigma must be positive, got {self.sigma}")

    def increments(self, xs, ys):
        squared = (
            jnp.sum(xs**2, -1).T[:, None, :, None]
            + jnp.sum(ys**2, -1).T[None, :, None, :]
            - 2 * jnp.einsum("aid,bjd->ijab", xs, ys)
        )
        k = jnp.exp(-jnp.maximum(squared, 0.0) / (2 * self.sigma**2))
        return k[1:, 1:] - k[1:, :-1] - k[:-1, 1:] + k[:-1, :-1]
