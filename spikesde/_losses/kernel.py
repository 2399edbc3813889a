r"""The signature kernel of piecewise-linear paths: Gram matrices by the Goursat PDE.

``k(x, y) = sum_m <S^m(x), S^m(y)>`` (with a static kernel ``kappa``: the signature kernel of the
paths lifted into ``kappa``'s feature space). Values grow like ``exp(|x|_1 |y|_1)``: scale paths to
1-variation of order one.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .goursat import goursat_gram, grid_shape
from .static_kernels import AbstractStaticKernel, LinearKernel


class AbstractKernelSolver(eqx.Module):
    """How the Gram matrix of signature kernels is computed.

    Example:
        ```python
        isinstance(sd.signatures.PDESolver(), sd.signatures.AbstractKernelSolver)   # True; solver=... of the kernels
        ```
    """

    @abc.abstractmethod
    def gram(
        self, xs: Float[Array, "bx length_x d"], ys: Float[Array, "by length_y d"]
    ) -> Float[Array, "bx by"]:
        """``K[a, b] = k(xs[a], ys[b])``, differentiable in both batches."""


class PDESolver(AbstractKernelSolver):
    """Second-order Goursat scheme on wavefronts (:func:`goursat_gram`), a block of pairs at once.

    ``refinement``: dyadic order ``L`` (each cell split into ``2^L x 2^L``, default 2); ``static_kernel``: the
    static kernel (default linear); ``pair_chunk``: pairs solved together, in blocks of whole rows of
    the Gram matrix (``None``: as many rows as keep a block's grid near ``block_bytes``). The blocks
    run one after another in a ``lax.map``, each rematerialised in the backward pass, so the memory a
    solve touches (the grid, and ``K`` and ``dK/dD`` per cell when differentiated) is one block's, and
    is reused: fresh large buffers cost page faults and cache misses that outweigh the sweep itself.

    Accuracy (``benchmarks/kernel_accuracy.py``, float64, relative to refinement 7, on Marcus lifts
    scaled as the guides recommend): the error falls about 4 times per order; its largest value over
    the three settings measured is 7.5e-3 at ``L = 0``, 2.0e-3 at ``L = 1``, 5.3e-4 at ``L = 2`` (the
    default) and 1.4e-4 at ``L = 3``, at a cost of ``4^L`` times that of ``L = 0``.

    For example, ``sd.signature_kernel_gram(xs, ys, sd.PDESolver(refinement=3))`` for a tighter kernel.

    Example:
        ```python
        solver = sd.signatures.PDESolver(refinement=1, static_kernel=sd.losses.RBFKernel(sigma=0.5))
        loss = sd.SignatureKernelMMD(t0=0.0, t1=1.0, solver=solver)
        ```
    """

    refinement: int = eqx.field(static=True, default=2)
    static_kernel: AbstractStaticKernel = LinearKernel()
    pair_chunk: int | None = eqx.field(static=True, default=None)
    block_bytes: int = eqx.field(static=True, default=2**21)

    def __check_init__(self):
        if self.refinement < 0:
            raise ValueError(f"refinement must be non-negative, got {self.refinement}")
        if self.pair_chunk is not None and self.pair_chunk < 1:
            raise ValueError(f"pair_chunk must be positive, got {self.pair_chunk}")

    def _rows(self, xs, ys, m, n):
        by = ys.shape[0]
        if self.pair_chunk is not None:
            return max(1, self.pair_chunk // by)
        rows, cols = grid_shape(m, n)
        return max(1, self.block_bytes // (by * rows * cols * xs.dtype.itemsize))

    def gram(self, xs, ys):
        if xs.shape[1] < ys.shape[1]:
            # The grid buffer pads the rows to a multiple of the columns: keep the longer path on the rows.
            return self.gram(ys, xs).T
        if ys.shape[1] < 2:
            raise ValueError(f"paths need at least two points, got lengths {xs.shape[1]} and {ys.shape[1]}")
        split = 2**self.refinement
        m, n = (xs.shape[1] - 1) * split, (ys.shape[1] - 1) * split

        grid = _RefinedGrid(self.static_kernel, self.refinement)
        return goursat_gram(grid, xs, ys, m, n, min(xs.shape[0], self._rows(xs, ys, m, n)))


class _RefinedGrid(eqx.Module):
    """``static_kernel.grid(xs, ys, refinement)`` as a hashable callable (a static argument of the VJP)."""

    static_kernel: AbstractStaticKernel = eqx.field(static=True)
    refinement: int = eqx.field(static=True)

    def __call__(self, xs, ys):
        return self.static_kernel.grid(xs, ys, self.refinement)


class PySigLibSolver(AbstractKernelSolver):
    """pySigLib's C++ finite-difference solver through ``jax.ffi`` (``pip install spikesde[pysiglib]``).

    Same scheme, dyadic refinement (default 2) and accuracy as :class:`PDESolver`; linear or RBF
    static kernel. ``n_jobs``: threads (-1: all).

    Example:
        ```python
        solver = sd.signatures.PySigLibSolver(refinement=2)   # needs `pip install spikesde[pysiglib]` to run
        loss = sd.SignatureKernelMMD(t0=0.0, t1=1.0, solver=solver)
        ```
    """

    refinement: int = eqx.field(static=True, default=2)
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
    ``D = Delta_ij / 4^L`` on the grid of increments refined ``2^L`` times (``L = refinement``,
    default 2: relative error below about 5e-4 on scaled spike-train lifts, see :class:`PDESolver`).

    Example:
        ```python
        x = jnp.array([[0.0, 0.0], [0.5, 1.0], [1.0, 1.0]])
        sd.signatures.signature_kernel(x, x, refinement=1)   # <S(x), S(x)>
        ```
    """
    return PDESolver(refinement, static_kernel).gram(x[None], y[None])[0, 0]


def signature_kernel_gram(
    xs: Float[Array, "bx length_x d"],
    ys: Float[Array, "by length_y d"],
    solver: AbstractKernelSolver = PDESolver(),
) -> Float[Array, "bx by"]:
    """The Gram matrix ``k(xs[a], ys[b])`` by ``solver`` (default: :class:`PDESolver` with its default
    refinement 2, relative error below about 5e-4 on scaled spike-train lifts).

    Example:
        ```python
        paths = sd.signatures.marcus_lift(jnp.array([[[0.2, 0.7]], [[0.4, jnp.inf]]]), t0=0.0, t1=1.0)
        gram = sd.signatures.signature_kernel_gram(paths, paths, sd.signatures.PDESolver(refinement=1))   # (2, 2)
        ```
    """
    return solver.gram(jnp.asarray(xs), jnp.asarray(ys))
