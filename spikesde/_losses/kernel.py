r"""The signature kernel of piecewise-linear paths: Gram matrices by the Goursat PDE.

``k(x, y) = sum_m <S^m(x), S^m(y)>`` (with a static kernel ``kappa``: the signature kernel of the
paths lifted into ``kappa``'s feature space). Values grow like ``exp(|x|_1 |y|_1)``: scale paths to
1-variation of order one.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .goursat import goursat_corner
from .static_kernels import AbstractStaticKernel, LinearKernel


class AbstractKernelSolver(eqx.Module):
    """How the Gram matrix of signature kernels is computed."""

    @abc.abstractmethod
    def gram(
        self, xs: Float[Array, "bx length_x d"], ys: Float[Array, "by length_y d"]
    ) -> Float[Array, "bx by"]:
        """``K[a, b] = k(xs[a], ys[b])``, differentiable in both batches."""


class PDESolver(AbstractKernelSolver):
    """Second-order Goursat scheme on wavefronts (:func:`goursat_corner`), all pairs at once.

    ``refinement``: dyadic order ``L`` (each cell split into ``2^L x 2^L``); ``static_kernel``: the
    static kernel (default linear); ``pair_chunk``: solve the pairs in chunks of this size to bound
    memory (the backward pass holds one number per refined cell and pair of a chunk).
    """

    refinement: int = eqx.field(static=True, default=0)
    static_kernel: AbstractStaticKernel = LinearKernel()
    pair_chunk: int | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        if self.refinement < 0:
            raise ValueError(f"refinement must be non-negative, got {self.refinement}")

    def gram(self, xs, ys):
        bx, by = xs.shape[0], ys.shape[0]
        delta = self.static_kernel.increments(xs, ys).reshape(xs.shape[1] - 1, ys.shape[1] - 1, bx * by)
        if self.pair_chunk is None or self.pair_chunk >= bx * by:
            return goursat_corner(delta, self.refinement).reshape(bx, by)
        chunks = [
            goursat_corner(delta[..., i : i + self.pair_chunk], self.refinement) for i in range(0, bx * by, self.pair_chunk)
        ]
        return jnp.concatenate(chunks).reshape(bx, by)


class PySigLibSolver(AbstractKernelSolver):
    """pySigLib's C++ finite-difference solver through ``jax.ffi`` (``pip install spikesde[pysiglib]``).

    Same scheme and dyadic refinement as :class:`PDESolver`; linear or RBF static kernel.
    ``n_jobs``: threads (-1: all).
    """

    refinement: int = eqx.field(static=True, default=0)
    static_kernel: AbstractStaticKernel = LinearKernel()
    n_jobs: int = eqx.field(static=True, default=-1)

    def gram(self, xs, ys):
        try:
            from pysiglib import jax_api
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("PySigLibSolver needs pysiglib: pip install spikesde[pysiglib]") from error
        from .static_kernels import RBFKernel

        if isinstance(self.static_kernel, RBFKernel):
            static = jax_api.RBFKernel(2 * self.static_kernel.sigma**2)
        elif isinstance(self.static_kernel, LinearKernel) and self.static_kernel.scale == 1.0:
            static = None
        elif isinstance(self.static_kernel, LinearKernel):
            static = jax_api.ScaledLinearKernel(self.static_kernel.scale**0.5)
        else:
            raise TypeError(f"PySigLibSolver supports LinearKernel and RBFKernel, got {type(self.static_kernel).__name__}")
        return jax_api.sig_kernel_gram(xs, ys, dyadic_order=self.refinement, static_kernel=static, n_jobs=self.n_jobs)


def signature_kernel(
    x: Float[Array, "length_x d"],
    y: Float[Array, "length_y d"],
    refinement: int = 2,
    static_kernel: AbstractStaticKernel = LinearKernel(),
) -> Float[Array, ""]:
    r"""The (untruncated) signature kernel ``k(x, y)`` of two piecewise-linear paths.

    Solves ``d^2 K / ds dt = <x'(s), y'(t)> K``, ``K(0, .) = K(., 0) = 1`` with the second-order scheme
    ``K_{i+1,j+1} = (K_{i+1,j} + K_{i,j+1}) (1 + D/2 + D^2/12) - K_{i,j} (1 - D^2/12)``,
    ``D = Delta_ij / 4^L`` on the grid of increments refined ``2^L`` times (``L = refinement``).
    """
    return PDESolver(refinement, static_kernel).gram(x[None], y[None])[0, 0]


def signature_kernel_gram(
    xs: Float[Array, "bx length_x d"],
    ys: Float[Array, "by length_y d"],
    solver: AbstractKernelSolver = PDESolver(),
) -> Float[Array, "bx by"]:
    """The Gram matrix ``k(xs[a], ys[b])`` by ``solver`` (default: :class:`PDESolver`, no refinement)."""
    return solver.gram(jnp.asarray(xs), jnp.asarray(ys))
