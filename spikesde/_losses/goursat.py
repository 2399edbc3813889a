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
from jaxtyping import Array, Float


def _coefficients(delta, s, refinement):
    """``D`` on diagonal ``s`` (indexed by the row ``i = 0..m``), and where the cell is interior."""
    pairs, rows, cols = delta.shape
    split = 2**refinement
    m, n = rows * split, cols * split
    i = jnp.arange(m + 1)
    j = s - i
    interior = (i >= 1) & (j >= 1) & (j <= n)
    flat = ((jnp.clip(i, 1, m) - 1) // split) * cols + (jnp.clip(j, 1, n) - 1) // split
    d = jnp.take(delta.reshape(pairs, rows * cols), flat, axis=1) / (split * split)
    return jnp.where(interior, d, 0.0), interior


def _shift_down(diagonal, fill):
    """``out[i] = diagonal[i - 1]`` (``fill`` at ``i = 0``)."""
    return jnp.concatenate([jnp.full_like(diagonal[:, :1], fill), diagonal[:, :-1]], axis=1)


def _shift_up(diagonal):
    """``out[i] = diagonal[i + 1]`` (zero at the end)."""
    return jnp.concatenate([diagonal[:, 1:], jnp.zeros_like(diagonal[:, :1])], axis=1)


def _sweep(delta, refinement, keep):
    """Forward wavefront: the corner values, and every diagonal when ``keep``."""
    pairs, rows, cols = delta.shape
    m, n = rows * 2**refinement, cols * 2**refinement
    ones = jnp.ones((pairs, m + 1), delta.dtype)

    def step(carry, s):
        previous, before = carry  # diagonals s - 1 and s - 2
        d, interior = _coefficients(delta, s, refinement)
        value = (_shift_down(previous, 1.0) + previous) * (1 + d / 2 + d * d / 12) - _shift_down(before, 1.0) * (
            1 - d * d / 12
        )
        current = jnp.where(interior, value, 1.0)
        return (current, previous), (current if keep else None)

    (last, _), diagonals = jax.lax.scan(step, (ones, ones), jnp.arange(1, m + n + 1))
    return last[:, m], diagonals


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def goursat_corner(delta: Float[Array, "pairs rows cols"], refinement: int) -> Float[Array, " pairs"]:
    """``K`` at the far corner for each pair's increment grid ``Delta`` (the signature kernel)."""
    return _sweep(delta, refinement, keep=False)[0]


def _forward(delta, refinement):
    return goursat_corner(delta, refinement), delta


def _backward(refinement, delta, cotangent):
    pairs, rows, cols = delta.shape
    split = 2**refinement
    m, n = rows * split, cols * split
    _, diagonals = _sweep(delta, refinement, keep=True)  # diagonals[s - 1] is diagonal s
    ones = jnp.ones((1, pairs, m + 1), delta.dtype)
    diagonals = jnp.concatenate([ones, diagonals], axis=0)  # now indexed by s = 0 .. m + n
    zeros = jnp.zeros((pairs, m + 1), delta.dtype)
    corner = zeros.at[:, m].set(cotangent)

    def step(carry, s):
        later, latest = carry  # adjoints on diagonals s + 1, s + 2
        d_here, interior = _coefficients(delta, s, refinement)
        d_right, _ = _coefficients(delta, s + 1, refinement)  # cells (i, j + 1) at index i
        d_diag, _ = _coefficients(delta, s + 2, refinement)  # cells (i + 1, j + 1) at index i + 1
        a_right = 1 + d_right / 2 + d_right**2 / 12
        a_down = _shift_up(a_right)  # cell (i + 1, j) sits at index i + 1 of diagonal s + 1
        b_diag = _shift_up(1 - d_diag**2 / 12)
        propagated = _shift_up(later) * a_down + later * a_right - _shift_up(latest) * b_diag
        adjoint = jnp.where(s == m + n, corner, jnp.where(interior, propagated, 0.0))
        k1, k2 = diagonals[s - 1], diagonals[jnp.maximum(s - 2, 0)]
        local = (_shift_down(k1, 1.0) + k1) * (0.5 + d_here / 6) + _shift_down(k2, 1.0) * d_here / 6
        return (adjoint, later), jnp.where(interior, adjoint * local, 0.0)

    _, grads = jax.lax.scan(step, (zeros, zeros), jnp.arange(m + n, 0, -1))
    grads = grads[::-1]  # grads[s - 1]: diagonal s
    i = jnp.arange(1, m + 1)[:, None]
    j = jnp.arange(1, n + 1)[None, :]
    cells = grads[i + j - 1, :, i]  # (m, n, pairs)
    cells = jnp.moveaxis(cells, -1, 0).reshape(pairs, rows, split, cols, split).sum(axis=(2, 4))
    return (cells / (split * split),)


goursat_corner.defvjp(_forward, _backward)
