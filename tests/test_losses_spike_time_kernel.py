"""The Gaussian kernel on first spike intervals and its MMD: value by hand, unbiasedness, gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde
from spikesde import SpikeTimeMMD
from spikesde.losses import KernelMMD, SpikeTimeKernel

INF = np.inf


def test_features_are_intervals_or_times_with_missing_spikes_at_t1():
    x = jnp.array([[[0.5, 1.25, INF]], [[3.0, INF, INF]]])
    kernel = SpikeTimeKernel(num_spikes=3, t0=0.25, t1=4.0, time_unit=0.5)
    np.testing.assert_allclose(kernel.features(x), [[0.5, 1.5, 5.5], [5.5, 2.0, 0.0]])
    times = SpikeTimeKernel(num_spikes=2, t0=0.25, t1=4.0, intervals=False)
    np.testing.assert_allclose(times.features(x), [[0.25, 1.0], [2.75, 3.75]])


def test_mmd_against_a_hand_computation():
    # One neuron, K = 2, t0 = 0, t1 = 2, intervals, bandwidths (1, 2):
    # model x: (0.5, 1.0) -> f = (0.5, 0.5); (1.0, inf) -> f = (1.0, 1.0)
    # data  y: (0.5, 1.5) -> f = (0.5, 1.0); (inf, inf) -> f = (2.0, 0.0)
    x = jnp.array([[[0.5, 1.0]], [[1.0, INF]]])
    y = jnp.array([[[0.5, 1.5]], [[INF, INF]]])
    fx = np.array([[0.5, 0.5], [1.0, 1.0]])
    fy = np.array([[0.5, 1.0], [2.0, 0.0]])

    def k(a, b):
        d2 = np.sum((a - b) ** 2)
        return (np.exp(-d2 / 2) + np.exp(-d2 / 8)) / 2

    expected = k(fx[0], fx[1]) + k(fy[0], fy[1]) - 2 * np.mean([k(a, b) for a in fx for b in fy])
    loss = SpikeTimeMMD(num_spikes=2, t0=0.0, t1=2.0, bandwidths=(1.0, 2.0))
    np.testing.assert_allclose(float(loss(x, y)), expected, rtol=1e-6)
    assert isinstance(loss, KernelMMD)
    # marginal=True: the mean over the two coordinates of the one-dimensional MMD^2s.
    per_coordinate = [
        k(fx[0, i], fx[1, i]) + k(fy[0, i], fy[1, i]) - 2 * np.mean([k(a, b) for a in fx[:, i] for b in fy[:, i]])
        for i in range(2)
    ]
    marginal = SpikeTimeMMD(num_spikes=2, t0=0.0, t1=2.0, bandwidths=(1.0, 2.0), marginal=True)
    np.testing.assert_allclose(float(marginal(x, y)), np.mean(per_coordinate), rtol=1e-6)


@pytest.mark.slow  # statistical (issue 25: `make test` keeps the exact checks)
def test_mmd_is_unbiased_for_one_law_and_positive_for_two():
    # Renewal trains with gamma intervals: the unbiased MMD^2 averages to zero over draws of one
    # law (the V-statistic would not), and is clearly positive between laws differing only in shape.
    rng = np.random.default_rng(0)

    def trains(shape, n):
        return np.cumsum(rng.gamma(shape, 0.2 / shape, size=(n, 1, 8)), axis=-1)

    loss = jax.jit(SpikeTimeMMD(num_spikes=8, t0=0.0, t1=10.0, bandwidths=(0.5, 1.0), time_unit=0.1))
    same = np.array([float(loss(trains(4.0, 32), trains(4.0, 32))) for _ in range(200)])
    assert abs(same.mean()) < 3 * same.std() / np.sqrt(same.size), (same.mean(), same.std())
    different = np.array([float(loss(trains(4.0, 32), trains(8.0, 32))) for _ in range(20)])
    assert different.mean() > 10 * same.std() / np.sqrt(same.size) and np.mean(different > 0) > 0.9


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="bandwidths"):
        SpikeTimeKernel(num_spikes=2, t0=0.0, t1=1.0, bandwidths=(1.0, -1.0))
    with pytest.raises(ValueError, match="num_spikes"):
        SpikeTimeKernel(num_spikes=0, t0=0.0, t1=1.0)
    with pytest.raises(ValueError, match="time_unit"):
        SpikeTimeKernel(num_spikes=2, t0=0.0, t1=1.0, time_unit=0.0)
    with pytest.raises(ValueError, match="t1"):
        SpikeTimeKernel(num_spikes=2, t0=1.0, t1=1.0)
    with pytest.raises(ValueError, match="num_spikes"):
        SpikeTimeMMD(num_spikes=4, t0=0.0, t1=1.0)(jnp.ones((2, 1, 3)), jnp.ones((2, 1, 3)))


def _loss_of_parameters(theta, data, key, marginal):
    """MMD of 6 noisy SLIF trains (fixed noise) against data, as a function of (c, mu_v, v_reset)."""
    model = spikesde.SLIF(1, theta[0], mu_v=theta[1], v_reset=theta[2], sigma_v=0.25, alpha=0.03)
    solve = lambda k: spikesde.simulate(model, t0=0.0, t1=2.0, dt=0.01, key=k, max_spikes=12).spike_times  # noqa: E731
    spikes = jax.vmap(solve)(jax.random.split(key, 6))
    return SpikeTimeMMD(num_spikes=6, t0=0.0, t1=2.0, bandwidths=(0.5, 2.0), time_unit=0.1, marginal=marginal)(spikes, data)


@pytest.mark.parametrize("marginal", [False, True])
def test_gradient_through_the_simulator_matches_central_differences(x64, marginal):
    data = jnp.array([[[0.2, 0.45, 0.6, 0.9, 1.1, 1.5] + [INF] * 6]] * 2) + jnp.array([0.0, 0.03])[:, None, None]
    key = jax.random.key(7)
    theta = jnp.array([1.5, 15.0, 1.4])
    value, grad = jax.jit(jax.value_and_grad(_loss_of_parameters), static_argnums=3)(theta, data, key, marginal)
    f = jax.jit(_loss_of_parameters, static_argnums=3)
    h = 1e-5
    for i in range(3):
        e = jnp.zeros(3).at[i].set(h * theta[i])
        fd = (f(theta + e, data, key, marginal) - f(theta - e, data, key, marginal)) / (2 * h * theta[i])
        np.testing.assert_allclose(float(grad[i]), float(fd), rtol=1e-5, atol=1e-9)
    assert np.all(np.abs(np.asarray(grad)) > 0) and np.isfinite(float(value))


def test_config_kind_spike_time_mmd_builds_the_loss_and_names_bad_keys():
    from pathlib import Path

    from spikesde.experiments import ConfigError, load_config
    from spikesde._experiments.build import build_loss

    path = Path(__file__).resolve().parent.parent / "configs" / "slif_mu_v_reset.toml"
    overrides = ['loss={kind="spike_time_mmd", num_spikes=4, bandwidths=[1.0, 3.0], time_unit=0.1, intervals=false, marginal=true}']
    loss = build_loss(load_config(path, overrides))
    assert isinstance(loss, SpikeTimeMMD)
    k = loss.kernel
    assert (k.num_spikes, k.bandwidths, k.time_unit, k.intervals, k.marginal, k.t0) == (4, (1.0, 3.0), 0.1, False, True, 0.0)
    with pytest.raises(ConfigError, match="bandwidths"):
        load_config(path, ['loss={kind="spike_time_mmd", bandwidths=[1.0, 0.0]}'])
    with pytest.raises(ConfigError, match="num_spikes"):
        load_config(path, ['loss={kind="spike_time_mmd", num_spikes=1000}'])
