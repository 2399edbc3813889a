"""The lag-statistic loss: values by hand, one law against two, gradients through the simulator, configs."""

import math
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde
from spikesde import LagStatisticLoss

INF = np.inf
CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def _alpha(lag, tau):
    return lag / tau * math.exp(1 - lag / tau) if lag > 0 else 0.0


def test_statistics_and_loss_against_a_hand_computation():
    # Three neurons, window [0.1, 1.1], taper 0.2 (a spike at 1.0 weighs (1.1 - 1.0) / 0.2 = 0.5),
    # connections 0 -> 1 and 2 -> 1, tau 0.1 only.
    x = jnp.array([[[0.2, 1.0, INF], [0.3, 0.5, INF], [0.45, INF, INF]]])
    mask = np.zeros((3, 3), bool)
    mask[0, 1] = mask[2, 1] = True
    loss = LagStatisticLoss(0.1, 1.1, taus=(0.1,), taper=0.2, connections=mask)
    tau = 0.1
    counts = [1.5, 2.0, 1.0]
    moments = [0.1 + 0.5 * 0.9, 0.2 + 0.4, 0.35]
    # pair (0, 1): target spikes 0.3, 0.5 after source 0.2 (weight 1), before source 1.0 (weight 0.5)
    after_01 = _alpha(0.1, tau) + _alpha(0.3, tau)
    before_01 = 0.5 * (_alpha(0.7, tau) + _alpha(0.5, tau))
    # pair (2, 1): source 0.45; target 0.5 after it, 0.3 before it
    after_21, before_21 = _alpha(0.05, tau), _alpha(0.15, tau)
    expected = np.array([*counts, *moments, after_01, after_21, before_01, before_21])
    np.testing.assert_allclose(jax.jit(loss.statistics)(x)[0], expected, rtol=1e-6)
    # The loss: squared distance of the batch means (here: x against a batch of two trains).
    y = jnp.concatenate([x, jnp.full_like(x, INF)])  # the second train has no spikes: statistics 0
    np.testing.assert_allclose(float(eqx.filter_jit(loss)(x, y)), np.sum((expected / 2) ** 2), rtol=1e-6)
    # Whitened: each difference divided by the data's standard deviation, expected / 2 here.
    white = LagStatisticLoss(0.1, 1.1, taus=(0.1,), taper=0.2, connections=mask, whiten=True)
    np.testing.assert_allclose(float(eqx.filter_jit(white)(x, y)), expected.size, rtol=1e-6)
    # prepare: the data's moments once; the copy ignores its second argument's values.
    prepared = white.prepare(y)
    np.testing.assert_allclose(float(eqx.filter_jit(prepared)(x, jnp.zeros_like(y))), expected.size, rtol=1e-6)
    # connections=None: every pair i < j, both orders.
    # Full whitening: the Mahalanobis distance under the data's covariance shrunk towards its diagonal.
    full = LagStatisticLoss(0.1, 1.1, taus=(0.1,), taper=0.2, connections=mask, whiten="full", shrinkage=0.3)
    phi_y = np.stack([expected, np.zeros_like(expected)])
    covariance = np.cov(phi_y.T, bias=True)
    shrunk = 0.7 * covariance + 0.3 * np.diag(np.diag(covariance))
    d = expected / 2
    np.testing.assert_allclose(float(eqx.filter_jit(full)(x, y)), d @ np.linalg.solve(shrunk, d), rtol=1e-4)
    every = jax.jit(LagStatisticLoss(0.1, 1.1, taus=(0.1,), taper=0.2).statistics)(x)[0]
    assert every.shape == (3 + 3 + 2 * 3,)
    np.testing.assert_allclose(every[6], after_01, rtol=1e-6)  # pair (0, 1), 1 after 0
    np.testing.assert_allclose(every[11], after_21, rtol=1e-6)  # pair (1, 2), 1 before 2


def _triggered_trains(rng, n, lag):
    """Neuron 0 Poisson (rate 4 on [0, 1]); each of its spikes makes neuron 1 fire ``lag`` (+-0.02)
    later with probability 0.7; neuron 2 Poisson (rate 3), independent."""
    k = 12
    t0 = np.sort(np.where(rng.random((n, k)) < 4 / k, rng.random((n, k)), INF), axis=-1)
    t1 = np.where(rng.random((n, k)) < 0.7, t0 + lag + 0.02 * rng.standard_normal((n, k)), INF)
    t1 = np.sort(np.where(t1 < 1.0, t1, INF), axis=-1)
    t2 = np.sort(np.where(rng.random((n, k)) < 3 / k, rng.random((n, k)), INF), axis=-1)
    return np.stack([t0, t1, t2], axis=1)


def test_two_samples_of_one_law_agree_within_their_standard_error_and_two_laws_do_not():
    rng = np.random.default_rng(0)
    loss = LagStatisticLoss(0.0, 1.0, taus=(0.05, 0.15), taper=0.1)
    m = 2000
    x, y, z = (_triggered_trains(rng, m, lag) for lag in (0.05, 0.05, 0.15))
    phi = {name: np.asarray(jax.jit(loss.statistics)(s), dtype=float) for name, s in (("x", x), ("y", y), ("z", z))}

    def zscores(a, b):
        return (a.mean(0) - b.mean(0)) / np.sqrt(a.var(0) / len(a) + b.var(0) / len(b))

    same, different = zscores(phi["x"], phi["y"]), zscores(phi["x"], phi["z"])
    assert np.all(np.abs(same) < 4.0), same
    assert np.sum(same**2) < same.size + 5 * np.sqrt(2 * same.size)  # chi-square with that many degrees
    assert np.max(np.abs(different)) > 8, different
    # The whitened V-statistic: expectation (number of statistics) * (1/m + 1/m) for one law (each term
    # is a squared z-score, correlated with the others), far above it for two.
    bound = same.size + 5 * np.sqrt(2 * same.size)
    for whiten in ("diagonal", "full"):
        white = eqx.filter_jit(LagStatisticLoss(0.0, 1.0, taus=(0.05, 0.15), taper=0.1, whiten=whiten))
        assert float(white(x, y)) / (2 / m) < bound
        assert float(white(x, z)) / (2 / m) > 3 * bound


def _loss_of_weights(w, data, key):
    """Whitened lag loss of 6 samples (fixed noise) of a 2 -> 2 SLIF network with input weights ``w``."""
    neuron = spikesde.SLIF(4, input_current=jnp.array([1.6, 1.4, 0.0, 0.0]), mu_v=6.0, mu_i=5.0, sigma_v=0.25,
                           sigma_i=0.25, v_reset=1.2, v0=1.1, i0=0.6, alpha=0.03)  # fmt: skip
    network = spikesde.feedforward(neuron, [2, 2], key=jax.random.key(0))
    network = eqx.tree_at(lambda n: n.weights, network, jnp.zeros((4, 4)).at[:2, 2:].set(w.reshape(2, 2)))
    solve = lambda k: spikesde.simulate(network, t0=0.0, t1=1.5, dt=0.01, key=k, max_spikes=16).spike_times  # noqa: E731
    spikes = jax.vmap(solve)(jax.random.split(key, 6))
    mask = np.zeros((4, 4), bool)
    mask[:2, 2:] = True  # the connections must be concrete: they fix the statistics' shape
    loss = LagStatisticLoss(0.0, 1.5, taus=(0.05, 0.15), taper=0.1, connections=mask, whiten=True)
    return loss(spikes, data), spikes


@pytest.mark.slow  # ~15 s, most of it compiling the simulator in float64
def test_gradient_through_the_simulator_matches_central_differences(x64):
    key = jax.random.key(3)
    w = jnp.array([1.2, 0.5, 0.7, 1.4])
    _, data = _loss_of_weights(jnp.array([1.0, 1.0, 1.0, 1.0]), jnp.full((8, 4, 16), INF), jax.random.key(11))
    f = jax.jit(lambda w: _loss_of_weights(w, data, key)[0])
    (value, spikes), grad = jax.jit(jax.value_and_grad(lambda w: _loss_of_weights(w, data, key), has_aux=True))(w)
    counts = np.sum(np.isfinite(np.asarray(spikes)), axis=-1)
    assert counts.sum(-1).min() >= 8 and counts.min() >= 1 and counts.max() < 16, counts  # several spikes, none lost
    h = 1e-6
    for i in range(4):
        e = jnp.zeros(4).at[i].set(h)
        fd = (f(w + e) - f(w - e)) / (2 * h)
        np.testing.assert_allclose(float(grad[i]), float(fd), rtol=1e-5, atol=1e-8)
    assert np.all(np.abs(np.asarray(grad)) > 1e-3) and np.isfinite(float(value))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="taus"):
        LagStatisticLoss(0.0, 1.0, taus=(0.1, -0.1))
    with pytest.raises(ValueError, match="whiten"):
        LagStatisticLoss(0.0, 1.0, whiten="yes")
    with pytest.raises(ValueError, match="shrinkage"):
        LagStatisticLoss(0.0, 1.0, whiten="full", shrinkage=0.0)
    with pytest.raises(ValueError, match="taper"):
        LagStatisticLoss(0.0, 1.0, taper=-0.1)
    with pytest.raises(ValueError, match="t1"):
        LagStatisticLoss(1.0, 1.0)
    with pytest.raises(ValueError, match="connections"):
        LagStatisticLoss(0.0, 1.0, connections=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="connections"):
        LagStatisticLoss(0.0, 1.0, connections=np.eye(5, dtype=bool))(jnp.ones((2, 3, 4)), jnp.ones((2, 3, 4)))


def test_config_kind_lag_statistics_builds_the_loss_on_the_networks_connections():
    from spikesde.experiments import ConfigError, load_config
    from spikesde._experiments.build import build_loss

    config = load_config(CONFIGS / "ssnn_weights_lag.toml")
    loss = build_loss(config)
    assert isinstance(loss, LagStatisticLoss) and loss.whiten == "full" and loss.shrinkage == 0.1 and loss.taus == (0.05, 0.15)
    assert len(loss.sources) == 4 * 16 + 16 * 2 and all(s < t for s, t in zip(loss.sources, loss.targets))
    everything = build_loss(load_config(CONFIGS / "ssnn_weights_lag.toml", ['loss.pairs="all"']))
    assert everything.sources is None
    with pytest.raises(ConfigError, match="taus"):
        load_config(CONFIGS / "ssnn_weights_lag.toml", ["loss.taus=[0.0]"])
    single = load_config(CONFIGS / "slif_mu_v_reset.toml", ['loss={kind="lag_statistics"}'])
    with pytest.raises(ConfigError, match="loss.pairs"):
        build_loss(single)
