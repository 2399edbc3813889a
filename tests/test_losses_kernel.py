"""MMD^2 and the kernel score on samples of a spiking neuron: calibrated, and minimised at the truth."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde
from spikesde.losses import KernelMMD, KernelScore, SignaturePDEKernel, TruncatedSignatureKernel
from spikesde.signatures import PDESolver

LIFT = dict(t0=0.0, t1=5.0, time_scale=0.2, count_scale=1 / 3, max_events=3)
KERNELS = {
    "pde": SignaturePDEKernel(**LIFT, solver=PDESolver(refinement=0)),
    "truncated": TruncatedSignatureKernel(**LIFT, depth=3),
}


def _sample(c, key, n):
    model = spikesde.SLIF(input_current=spikesde.ConstantCurrent(c), mu_v=15.0, mu_i=0.0, sigma_v=0.25, v_reset=1.4, alpha=0.03)
    solve = lambda k: spikesde.simulate(model, t0=0.0, t1=5.0, dt=0.01, key=k, max_spikes=3, on_overflow="ignore").spike_times  # noqa: E731
    return jax.vmap(solve)(jax.random.split(key, n))


_sample_jit = jax.jit(_sample, static_argnums=2)


def _mmd_and_standard_error(kernel, x, y):
    """Unbiased MMD^2 from its definition, and the standard error of the U-statistic with
    ``h_ij = k(x_i, x_j) + k(y_i, y_j) - k(x_i, y_j) - k(x_j, y_i)`` (equal sizes m): 2 sd_i(mean_j h_ij) / sqrt(m)."""
    kxx, kyy, kxy = (np.asarray(kernel.gram(a, b)) for a, b in ((x, x), (y, y), (x, y)))
    m = kxx.shape[0]
    off = ~np.eye(m, dtype=bool)
    mmd = kxx[off].mean() + kyy[off].mean() - 2 * kxy.mean()
    h = np.where(off, kxx + kyy - kxy - kxy.T, 0.0)
    row = h.sum(axis=1) / (m - 1)
    return float(mmd), float(2 * row.std() / np.sqrt(m))


@pytest.mark.slow  # statistical (issue 25: `make test` keeps the exact checks)
@pytest.mark.parametrize("name", list(KERNELS))
def test_mmd_is_zero_within_its_error_for_one_model_and_positive_for_two(x64, name):
    kernel = KERNELS[name]
    x, y, z = (_sample_jit(c, jax.random.key(k), 64) for c, k in ((1.5, 1), (1.5, 2), (1.2, 3)))
    same, same_error = _mmd_and_standard_error(kernel, x, y)
    np.testing.assert_allclose(float(KernelMMD(kernel)(x, y)), same, rtol=1e-8)
    assert abs(same) < 3 * same_error, (same, same_error)
    different, different_error = _mmd_and_standard_error(kernel, x, z)
    assert different > 5 * different_error, (different, different_error)


@pytest.mark.slow  # statistical (issue 25: `make test` keeps the exact checks)
@pytest.mark.parametrize("name", list(KERNELS))
def test_kernel_score_is_minimised_at_the_true_current(name):
    score = jax.jit(KernelScore(KERNELS[name]))
    data = _sample_jit(1.5, jax.random.key(10), 128)
    grid = [1.0, 1.25, 1.5, 1.75, 2.0]
    values = [float(score(_sample_jit(c, jax.random.key(11), 64), data)) for c in grid]
    assert int(np.argmin(values)) == 2, values


def test_kernel_losses_are_jit_vmap_and_grad_safe():
    kernel = KERNELS["pde"]
    data = _sample_jit(1.5, jax.random.key(20), 16)

    def objective(c, loss):
        return loss(_sample(c, jax.random.key(21), 16), data)

    for loss in (KernelMMD(kernel), KernelScore(kernel)):
        grads = jax.jit(jax.vmap(jax.grad(lambda c: objective(c, loss))))(jnp.array([1.2, 1.8]))
        assert np.all(np.isfinite(grads))
        assert grads[0] < 0 < grads[1]  # the loss falls towards the true current from both sides
