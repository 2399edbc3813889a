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
    """A static kernel on path values; ``increments(x, y)`` is its grid ``Delta`` for batches of paths."""

    @abc.abstractmethod
    def increments(
        self, x: Float[Array, "*batch length_x d"], y: Float[Array, "*batch length_y d"]
    ) -> Float[Array, "*batch length_x-1 length_y-1"]:
        """``Delta`` for paired (broadcast) batches of paths."""


class LinearKernel(AbstractStaticKernel):
    """``kappa(x, y) = scale <x, y>``: ``Delta_ij = scale <dx_i, dy_j>`` (the plain signature kernel)."""

    scale: float = eqx.field(static=True, default=1.0)

    def increments(self, x, y):
        dx, dy = jnp.diff(x, axis=-2), jnp.diff(y, axis=-2)
        return self.scale * jnp.einsum("...id,...jd->...ij", dx, dy)


class RBFKernel(AbstractStaticKernel):
    """``kappa(x, y) = exp(-|x - y|^2 / (2 sigma^2))``."""

    sigma: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        if not self.sigma > 0:
            raise ValueError(f"sigma must be positive, got {self.sigma}")

    def increments(self, x, y):
        squared = (
            jnp.sum(x**2, -1)[..., :, None] + jnp.sum(y**2, -1)[..., None, :] - 2 * jnp.einsum("...id,...jd->...ij", x, y)
        )
        k = jnp.exp(-jnp.maximum(squared, 0.0) / (2 * self.sigma**2))
        return k[..., 1:, 1:] - k[..., 1:, :-1] - k[..., :-1, 1:] + k[..., :-1, :-1]
