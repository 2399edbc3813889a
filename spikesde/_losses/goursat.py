r"""The Goursat PDE of the signature kernel, solved on anti-diagonal wavefronts, with an adjoint VJP.

``K`` on the grid of the two paths' (refined) increments obeys the second-order scheme

    K_{i,j} = (K_{i-1,j} + K_{i,j-1}) A(D_{ij}) - K_{i-1,j-1} B(D_{ij}),
    A(D) = 1 + D/2 + D^2/12,   B(D) = 1 - D^2/12,

``K_{0,.} = K_{.,0} = 1``, with ``D_{ij} = Delta_{(i-1) >> L, (j-1) >> L} / 4^L`` (dyadic refinement of
order ``L``: every cell of the increment grid ``Delta`` split into ``2^L x 2^L``). Cells on one
anti-diagonal ``s = i + j`` depend only on the two diagonals before, so a sweep over ``s`` updates a
whole diagonal (and every pair of a batch) in one vectorised step: ``m + n`` sequential steps instead
of ``m n``.

The VJP runs the adjoint of the same recursion backwards over the diagonals,

    G_{i,j} = G_{i+1,j} A_{i+1,j} + G_{i,j+1} A_{i,j+1} - G_{i+1,j+1} B_{i+1,j+1},   G_{m,n} = 1,

and ``dK_{m,n}/dD_{ij} = G_{ij} ((K_{i-1,j} + K_{i,j-1}) A'(D_{ij}) - K_{i-1,j-1} B'(D_{ij}))``. The forward
pass keeps nothing but its inputs; the backward pass recomputes the forward diagonals once (one number
per cell, instead of every intermediate that reverse-mode through a scan would store).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


def _skew(delta, refinement):
    """``D`` on every diagonal: ``out[s - 1, i, p]`` is cell ``(i, s - i)`` of pair ``p`` (zero off the interior).

    Row ``i`` of the (padded) grid is shifted by ``i`` with a pad-flatten-reshape: block copies of
    the pairs axis (last), no gather.
    """
    rows, cols, pairs = delta.shape
    split = 2**refinement
    m, n = rows * split, cols * split
    d = delta / (split * split)
    if refinement:
        d = jnp.repeat(jnp.repeat(d, split, axis=0), split, axis=1)
    grid = jnp.pad(d, ((1, 0), (1, 0), (0, 0)))  # (m + 1, n + 1, pairs); zero on the boundary
    width = m + n + 2
    skewed = jnp.pad(grid, ((0, 0), (0, m + 1), (0, 0))).reshape(-1, pairs)[: (m + 1) * (width - 1)]
    skewed = skewed.reshape(m + 1, width - 1, pairs)[:, 1:]  # columns s = 1 .. m + n
    i = np.arange(m + 1)[None, :]
    j = np.arange(1, m + n + 1)[:, None] - i
    interior = (i >= 1) & (j >= 1) & (j <= n)
    return jnp.swapaxes(skewed, 0, 1), jnp.asarray(interior)


def _unskew(diagonals, m, n):
    """Inverse of :func:`_skew`'s layout: ``(m + n, m + 1, pairs)`` diagonals to ``(m, n, pairs)`` cells."""
    pairs = diagonals.shape[-1]
    width = m + n + 2
    skewed = jnp.pad(jnp.swapaxes(diagonals, 0, 1), ((0, 0), (1, 0), (0, 0))).reshape(-1, pairs)
    flat = jnp.pad(skewed, ((0, (m + 1) * width - skewed.shape[0]), (0, 0)))
    return flat.reshape(m + 1, width, pairs)[1:, 1 : n + 1]


def _shift_down(diagonal, fill):
    """``out[i] = diagonal[i - 1]`` (``fill`` at ``i = 0``)."""
    return jnp.concatenate([jnp.full_like(diagonal[:1], fill), diagonal[:-1]], axis=0)


def _shift_up(diagonal):
    """``out[i] = diagonal[i + 1]`` (zero at the end)."""
    return jnp.concatenate([diagonal[1:], jnp.zeros_like(diagonal[:1])], axis=0)


def _sweep(skewed, interior, keep):
    """Forward wavefront: the last diagonal, and every diagonal when ``keep``."""
    _, rows, pairs = skewed.shape
    ones = jnp.ones((rows, pairs), skewed.dtype)

    def step(carry, inputs):
        previous, before = carry  # diagonals s - 1 and s - 2
        d, inside = inputs
        d2 = d * d / 12
        value = (_shift_down(previous, 1.0) + previous) * (1 + d / 2 + d2) - _shift_down(before, 1.0) * (1 - d2)
        current = jnp.where(inside[:, None], value, 1.0)
        return (current, previous), (current if keep else None)

    (last, _), diagonals = jax.lax.scan(step, (ones, ones), (skewed, interior))
    return last, diagonals


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def goursat_corner(delta: Float[Array, "rows cols pairs"], refinement: int) -> Float[Array, " pairs"]:
    """``K`` at the far corner for each pair's increment grid ``Delta`` (pairs last: the signature kernel)."""
    last, _ = _sweep(*_skew(delta, refinement), keep=False)
    return last[-1]


def _forward(delta, refinement):
    return goursat_corner(delta, refinement), delta


def _backward(refinement, delta, cotangent):
    rows, cols, pairs = delta.shape
    split = 2**refinement
    m, n = rows * split, cols * split
    skewed, interior = _skew(delta, refinement)
    _, diagonals = _sweep(skewed, interior, keep=True)  # diagonals[s - 1] is diagonal s
    ones = jnp.ones((1, m + 1, pairs), delta.dtype)
    k1s = jnp.concatenate([ones, diagonals[:-1]], axis=0)  # diagonal s - 1, for s = 1 .. m + n
    k2s = jnp.concatenate([ones, ones, diagonals[:-2]], axis=0)  # diagonal s - 2
    zeros = jnp.zeros((m + 1, pairs), delta.dtype)
    corner = zeros.at[m].set(cotangent)

    def step(carry, inputs):
        later, latest, d_right, d_diag = carry  # adjoints and D on diagonals s + 1, s + 2
        d_here, inside, k1, k2, last = inputs
        a_right = 1 + d_right / 2 + d_right**2 / 12  # cells (i, j + 1), at index i of diagonal s + 1
        a_down = _shift_up(a_right)  # cells (i + 1, j), at index i + 1
        b_diag = _shift_up(1 - d_diag**2 / 12)  # cells (i + 1, j + 1), at index i + 1 of diagonal s + 2
        propagated = _shift_up(later) * a_down + later * a_right - _shift_up(latest) * b_diag
        adjoint = jnp.where(last, corner, jnp.where(inside[:, None], propagated, 0.0))
        local = (_shift_down(k1, 1.0) + k1) * (0.5 + d_here / 6) + _shift_down(k2, 1.0) * d_here / 6
        return (adjoint, later, d_here, d_right), jnp.where(inside[:, None], adjoint * local, 0.0)

    last = jnp.arange(m + n, 0, -1) == m + n
    inputs = (skewed[::-1], interior[::-1], k1s[::-1], k2s[::-1], last)
    _, grads = jax.lax.scan(step, (zeros, zeros, zeros, zeros), inputs)
    cells = _unskew(grads[::-1], m, n)  # grads[::-1][s - 1]: diagonal s
    cells = cells.reshape(rows, split, cols, split, pairs).sum(axis=(1, 3))
    return (cells / (split * split),)


goursat_corner.defvjp(_forward, _backward)
