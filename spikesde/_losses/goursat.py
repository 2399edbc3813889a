r"""The Goursat PDE of the signature kernel, solved on anti-diagonal wavefronts, with an adjoint VJP.

``K`` on the (refined) grid of two paths' increments obeys the second-order scheme

    K_{I,J} = (K_{I-1,J} + K_{I,J-1}) A(D_{IJ}) - K_{I-1,J-1} B(D_{IJ}),
    A(D) = 1 + D/2 + D^2/12,   B(D) = 1 - D^2/12,

``K_{0,.} = K_{.,0} = 1``, for ``1 <= I <= m``, ``1 <= J <= n``. Cells on one anti-diagonal ``s = I + J``
depend only on the two diagonals before, so a sweep over ``s`` updates a whole diagonal (and every
pair of a batch) in one vectorised step: ``m + n - 1`` sequential steps instead of ``m n``.

Layout, chosen so that nothing is ever skewed or transposed: the grid ``D[a, i, j, b]`` (``D_{IJ}`` at
``i = I - 1``, ``j = J - 1``, pairs ``(a, b)``) is stored row-major with ``n + 1`` columns (the last is
padding) and ``t n`` rows, ``t = ceil(m / n)`` (rows past ``m`` are padding). Reading that buffer as
rows of width ``n`` instead, cell ``(i, s - 2 - i)`` sits at flat offset ``i n + (s - 2)``: row
``i + (s - 2) // n``, column ``(s - 2) % n``. So diagonal ``s`` of every pair is one strided slice of
the buffer, taken inside the sweep. Entries of that slice outside the grid (``J < 1`` or ``J > n``)
alias other cells; they are masked (``K = 1`` off the grid, adjoint ``0``).

The VJP runs the adjoint of the same recursion backwards over the diagonals,

    G_{I,J} = G_{I+1,J} A_{I+1,J} + G_{I,J+1} A_{I,J+1} - G_{I+1,J+1} B_{I+1,J+1},   G_{m,n} = 1,

and ``dK_{m,n}/dD_{IJ} = G_{IJ} ((K_{I-1,J} + K_{I,J-1}) A'(D_{IJ}) - K_{I-1,J-1} B'(D_{IJ}))``. The forward
pass keeps only the paths. The backward pass, block by block, recomputes the block's grid, sweeps
forward once keeping each diagonal of ``K`` (stacked: ``m`` numbers per diagonal, contiguous writes
and reads), then sweeps the adjoint backwards reading them and writing ``dK/dD`` into the grid's
layout (no intermediate of a step is stored), and pulls that back through the static kernel.

Why blocks: on CPU a fresh buffer of the whole Gram's grid (tens of MB) costs more in page faults and
cache misses than the sweep itself; one row of the Gram at a time keeps the grid, ``K`` and ``dK/dD``
of a block (about 1 MB each for 32 paths of length 100) in cache and reuses them.
"""

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


def grid_shape(m: int, n: int) -> tuple[int, int]:
    """Rows and columns of the padded grid buffer for an ``m x n`` cell grid (see the module docstring)."""
    return -(-m // n) * n, n + 1


def _checked(grid, m, n, by):
    """``grid``, if a static kernel's ``grid`` returned the layout :func:`grid_shape` says (a trace-time check)."""
    rows, cols = grid_shape(m, n)
    if grid.ndim != 4 or grid.shape[1:] != (rows, cols, by):
        expected = f"(bx, {rows}, {cols}, {by})"
        raise ValueError(f"the static kernel's grid must have shape {expected} for {m} x {n} cells, got {grid.shape}")
    return grid


def _view(grid, n):
    """The buffer read as rows of width ``n`` (a free reshape: ``t n (n + 1) = t (n + 1) n``)."""
    bx, rows, cols, by = grid.shape
    return grid.reshape(bx, rows * cols // n, n, by)


def _offsets(s, n):
    """Where diagonal(s) ``s`` start in the buffer read as rows of width ``n``: ``(row, column)``."""
    u = s - 2
    return u // n, u % n


def _diagonal(view, offset, m):
    """Entries ``(i, s - 2 - i)``, ``i < m``, of every pair: ``(bx, m, by)``; off-grid ones alias."""
    block = jax.lax.dynamic_slice(view, (0, *offset, 0), (view.shape[0], m, 1, view.shape[3]))
    return block[:, :, 0, :]


def _write(view, offset, values, inside):
    """Writes ``values`` (``(bx, m, by)``) at the on-grid entries of a diagonal, leaving the aliased ones."""
    merged = jnp.where(inside, values, _diagonal(view, offset, values.shape[1]))
    return jax.lax.dynamic_update_slice(view, merged[:, :, None, :], (0, *offset, 0))


def _inside(s, m, n):
    """Mask of on-grid cells ``1 <= J = s - I <= n`` of diagonal ``s``, as ``(1, m, 1)``."""
    i = jax.lax.broadcasted_iota(jnp.int32, (1, m, 1), 1)
    return (i >= s - n - 1) & (i <= s - 2)


def _shift_down(diagonal, fill):
    """``out[:, i] = diagonal[:, i - 1]`` (``fill`` at ``i = 0``)."""
    return jnp.concatenate([jnp.full_like(diagonal[:, :1], fill), diagonal[:, :-1]], axis=1)


def _shift_up(diagonal):
    """``out[:, i] = diagonal[:, i + 1]`` (zero at the end)."""
    return jnp.concatenate([diagonal[:, 1:], jnp.zeros_like(diagonal[:, :1])], axis=1)


def _sweep(grid, m, n, keep):
    """Forward wavefront: ``K_{m,n}`` of every pair, and when ``keep`` every diagonal (``[s - 2]``: diagonal ``s``)."""
    view = _view(grid, n)
    ones = jnp.ones((grid.shape[0], m, grid.shape[3]), grid.dtype)

    def step(carry, inputs):
        previous, before = carry  # diagonals s - 1 and s - 2
        s, offset = inputs
        d = _diagonal(view, offset, m)
        d2 = d * d / 12
        value = (_shift_down(previous, 1.0) + previous) * (1 + d / 2 + d2) - _shift_down(before, 1.0) * (1 - d2)
        current = jnp.where(_inside(s, m, n), value, 1.0)
        return (current, previous), (current if keep else None)

    s = jnp.arange(2, m + n + 1)
    (last, _), diagonals = jax.lax.scan(step, (ones, ones), (s, _offsets(s, n)))
    return last[:, m - 1], diagonals


def _adjoint(grid, diagonals, cotangent, m, n):
    """``dK_{m,n}/dD`` in the grid's layout, from the diagonals of ``K`` kept by :func:`_sweep` and the cotangent."""
    view = _view(grid, n)
    zeros = jnp.zeros((grid.shape[0], m, grid.shape[3]), grid.dtype)
    corner = (jax.lax.broadcasted_iota(jnp.int32, (1, m, 1), 1) == m - 1) * cotangent[:, None, :]

    def known(s):  # K on diagonal s, one off the grid (and on diagonals 0, 1)
        kept = jax.lax.dynamic_index_in_dim(diagonals, jnp.maximum(s - 2, 0), keepdims=False)
        return jnp.where(_inside(s, m, n), kept, 1.0)

    def step(carry, inputs):
        ga, gb, gb_later, grads = carry  # G A(D) on diagonal s + 1, G B(D) on s + 1 and s + 2
        s, here = inputs
        # G_{I+1,J} A_{I+1,J}, G_{I,J+1} A_{I,J+1}: indices i + 1 and i of s + 1; G_{I+1,J+1} B: index i + 1 of s + 2
        inside = _inside(s, m, n)
        adjoint = jnp.where(inside, _shift_up(ga) + ga - _shift_up(gb_later), 0.0) + jnp.where(s == m + n, corner, 0.0)
        d = _diagonal(view, here, m)
        k_before, k_earlier = known(s - 1), known(s - 2)
        local = (_shift_down(k_before, 1.0) + k_before) * (0.5 + d / 6) + _shift_down(k_earlier, 1.0) * d / 6
        grads = _write(grads, here, adjoint * local, inside)
        d2 = d * d / 12
        return (adjoint * (1 + d / 2 + d2), adjoint * (1 - d2), gb, grads), None

    s = jnp.arange(m + n, 1, -1)
    (*_, grads), _ = jax.lax.scan(step, (zeros, zeros, zeros, jnp.zeros_like(view)), (s, _offsets(s, n)))
    return grads.reshape(grid.shape)


def _blocks(values, rows, fill):
    """``values`` split into blocks of ``rows`` along the first axis, the last padded with ``fill``."""
    count = -(-values.shape[0] // rows)
    pad = jnp.broadcast_to(fill, (count * rows - values.shape[0], *values.shape[1:]))
    return jnp.concatenate([values, pad.astype(values.dtype)]).reshape(count, rows, *values.shape[1:])


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 3, 4, 5))
def goursat_gram(
    grid: Callable, xs: Float[Array, "bx length_x d"], ys: Float[Array, "by length_y d"], m: int, n: int, rows: int
) -> Float[Array, "bx by"]:
    """``K_{m,n}`` for every pair ``(xs[a], ys[b])``, whose grid ``D`` is ``grid(xs[block], ys)``.

    ``grid`` returns the padded layout of :func:`grid_shape` for an ``m x n`` cell grid. Blocks of
    ``rows`` paths of ``xs`` are solved one after another (``lax.map``): the memory touched is one
    block's and is reused. The gradient (adjoint recursion, then the VJP of ``grid``) is computed
    block by block too, recomputing each block's grid and forward sweep: the forward pass keeps only
    ``xs`` and ``ys``.
    """
    blocks = _blocks(xs, rows, xs[-1:])  # copies of a real path: finite, discarded
    out = jax.lax.map(lambda xb: _sweep(_checked(grid(xb, ys), m, n, ys.shape[0]), m, n, keep=False)[0], blocks)
    return out.reshape(-1, ys.shape[0])[: xs.shape[0]]


def _gram_forward(grid, xs, ys, m, n, rows):
    return goursat_gram(grid, xs, ys, m, n, rows), (xs, ys)


def _gram_backward(grid, m, n, rows, residuals, cotangent):
    xs, ys = residuals

    def step(dys, inputs):
        xb, cb = inputs
        d, vjp = jax.vjp(grid, xb, ys)
        _, diagonals = _sweep(d, m, n, keep=True)
        dxb, dyb = vjp(_adjoint(d, diagonals, cb, m, n))
        return dys + dyb, dxb

    inputs = (_blocks(xs, rows, xs[-1:]), _blocks(cotangent, rows, 0.0))
    dys, dxs = jax.lax.scan(step, jnp.zeros_like(ys), inputs)
    return dxs.reshape(-1, *xs.shape[1:])[: xs.shape[0]], dys


goursat_gram.defvjp(_gram_forward, _gram_backward)
