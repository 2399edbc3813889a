"""The PDE signature kernel: truncated-signature series, refinement, gradients, pySigLib."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import signax

from spikesde import LinearKernel, PDESolver, PySigLibSolver, RBFKernel, signature_kernel, signature_kernel_gram

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
