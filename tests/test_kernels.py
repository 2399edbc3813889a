"""The PDE signature kernel: truncated-signature series, refinement, gradients, pySigLib."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import signax

from spikesde.losses import LinearKernel, RBFKernel
from spikesde.signatures import PDESolver, PySigLibSolver, signature_kernel, signature_kernel_gram

try:
    import pysiglib  # noqa: F401

    HAVE_PYSIGLIB = True
except ImportError:  # pragma: no cover
    HAVE_PYSIGLIB = False


def _paths(seed, shape, scale=0.4):
    return jnp.asarray(np.random.default_rng(seed).normal(size=shape) * scale)


def _series(x, y, depth=12):
    sx, sy = signax.signature(x, depth, flatten=False), signax.signature(y, depth, flatten=False)
    return 1 + sum(float(jnp.sum(p * q)) for p, q in zip(sx, sy))


def test_pde_kernel_equals_signature_series_and_refinement_converges(x64):
    x, y = _paths(0, (4, 3)), _paths(1, (3, 3))
    exact = _series(x, y)
    errors = [abs(float(signature_kernel(x, y, refinement=r)) - exact) for r in range(0, 6)]
    assert errors[-1] < 1e-4 * abs(exact)
    # Refinement converges: the error falls at every level, by more than 100x from L = 1 to 5.
    assert np.all(np.diff(errors) < 0), errors
    assert errors[-1] < errors[1] / 100, errors


def test_gram_matches_pairwise_kernels(x64):
    xs, ys = _paths(2, (3, 5, 2)), _paths(3, (2, 4, 2))
    for static in (LinearKernel(), RBFKernel(sigma=0.7)):
        solver = PDESolver(refinement=1, static_kernel=static)
        gram = signature_kernel_gram(xs, ys, solver)
        pairwise = [[signature_kernel(a, b, 1, static) for b in ys] for a in xs]
        np.testing.assert_allclose(gram, np.array(pairwise), rtol=1e-12)
    chunked = signature_kernel_gram(xs, ys, PDESolver(refinement=1, pair_chunk=4))
    np.testing.assert_allclose(chunked, signature_kernel_gram(xs, ys, PDESolver(refinement=1)), rtol=1e-12)


@pytest.mark.parametrize("static", [LinearKernel(), RBFKernel(sigma=0.8)], ids=["linear", "rbf"])
def test_pde_kernel_gradient_matches_finite_differences(x64, static):
    xs, ys = _paths(4, (2, 5, 3)), _paths(5, (3, 4, 3))
    weights = jnp.asarray(np.random.default_rng(6).normal(size=(2, 3)))
    solver = PDESolver(refinement=1, static_kernel=static)
    f = jax.jit(lambda a, b: jnp.sum(weights * signature_kernel_gram(a, b, solver)))
    gx, gy = jax.grad(f, argnums=(0, 1))(xs, ys)
    eps = 1e-6
    rng = np.random.default_rng(7)
    for _ in range(6):
        index = tuple(rng.integers(0, s) for s in xs.shape)
        bump = jnp.zeros_like(xs).at[index].set(eps)
        np.testing.assert_allclose(gx[index], (f(xs + bump, ys) - f(xs - bump, ys)) / (2 * eps), rtol=1e-6, atol=1e-9)
        index = tuple(rng.integers(0, s) for s in ys.shape)
        bump = jnp.zeros_like(ys).at[index].set(eps)
        np.testing.assert_allclose(gy[index], (f(xs, ys + bump) - f(xs, ys - bump)) / (2 * eps), rtol=1e-6, atol=1e-9)


@pytest.mark.skipif(not HAVE_PYSIGLIB, reason="pysiglib not installed")
@pytest.mark.parametrize("static", [LinearKernel(), LinearKernel(scale=0.5), RBFKernel(sigma=0.8)], ids=["linear", "scaled", "rbf"])
def test_pysiglib_backend_agrees(x64, static):
    xs, ys = _paths(8, (3, 6, 3)), _paths(9, (4, 5, 3))
    ours = signature_kernel_gram(xs, ys, PDESolver(refinement=1, static_kernel=static))
    theirs = signature_kernel_gram(xs, ys, PySigLibSolver(refinement=1, static_kernel=static, n_jobs=1))
    np.testing.assert_allclose(theirs, ours, rtol=1e-9)
    g_ours = jax.grad(lambda a: jnp.sum(signature_kernel_gram(a, ys, PDESolver(1, static))))(xs)
    g_theirs = jax.grad(lambda a: jnp.sum(signature_kernel_gram(a, ys, PySigLibSolver(1, static, n_jobs=1))))(xs)
    np.testing.assert_allclose(g_theirs, g_ours, rtol=1e-7, atol=1e-10)


def _reference_gram(xs, ys, refinement, static):
    """The second-order scheme cell by cell in numpy: no wavefront, no layout, no blocks."""
    delta = np.asarray(static.increments(xs, ys))  # (bx, m, n, by)
    split = 2**refinement
    out = np.empty((xs.shape[0], ys.shape[0]))
    for a in range(xs.shape[0]):
        for b in range(ys.shape[0]):
            d = np.repeat(np.repeat(delta[a, :, :, b], split, 0), split, 1) / split**2
            k = np.ones((d.shape[0] + 1, d.shape[1] + 1))
            for i in range(1, k.shape[0]):
                for j in range(1, k.shape[1]):
                    e = d[i - 1, j - 1]
                    grow, shrink = 1 + e / 2 + e * e / 12, 1 - e * e / 12
                    k[i, j] = (k[i - 1, j] + k[i, j - 1]) * grow - k[i - 1, j - 1] * shrink
            out[a, b] = k[-1, -1]
    return out


@pytest.mark.parametrize(
    "lengths, static, refinement",
    [
        ((8, 3), LinearKernel(scale=0.7), 1),
        ((3, 8), RBFKernel(sigma=0.6), 0),
        ((6, 2), RBFKernel(sigma=0.6), 1),
        ((5, 5), LinearKernel(), 0),
    ],
    ids=["rows-wrap-twice", "transposed", "one-column", "square"],
)
def test_wavefront_layout_and_blocks_equal_the_cellwise_scheme(x64, lengths, static, refinement):
    """Every grid shape the strided-diagonal layout treats differently, in one block and in padded blocks."""
    xs, ys = _paths(10, (3, lengths[0], 2)), _paths(11, (2, lengths[1], 2))
    expected = _reference_gram(xs, ys, refinement, static)
    for chunk in (None, 2):  # 2 pairs: blocks of one row of 2 (or 3) pairs, the last block padded
        solver = PDESolver(refinement=refinement, static_kernel=static, pair_chunk=chunk)
        np.testing.assert_allclose(signature_kernel_gram(xs, ys, solver), expected, rtol=1e-12)


def test_blocked_gradient_equals_one_block(x64):
    xs, ys = _paths(12, (5, 6, 2)), _paths(13, (3, 4, 2))
    weights = jnp.asarray(np.random.default_rng(14).normal(size=(5, 3)))

    def grads(chunk):
        solver = PDESolver(1, RBFKernel(0.7), pair_chunk=chunk)
        f = lambda a, b: jnp.sum(weights * signature_kernel_gram(a, b, solver))  # noqa: E731
        return jax.grad(f, argnums=(0, 1))(xs, ys)

    for one, blocked in zip(grads(None), grads(6)):  # 6 pairs: two rows a block, five rows padded to six
        np.testing.assert_allclose(blocked, one, rtol=1e-12, atol=1e-15)


def test_pde_solver_rejects_bad_options_and_paths():
    with pytest.raises(ValueError, match="pair_chunk"):
        PDESolver(pair_chunk=0)
    with pytest.raises(ValueError, match="at least two points"):
        signature_kernel_gram(jnp.zeros((2, 4, 2)), jnp.zeros((2, 1, 2)))
