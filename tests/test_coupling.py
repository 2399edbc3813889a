"""Fixed fan-in coupling: the same network as its dense matrix, exact gradients, no n x n arrays.

The solves compile for several seconds each, so the comparisons through ``simulate`` with
gradients are marked slow; the fast tests check the coupling's pieces against the dense matrix
(values and derivatives), one forward solve against its dense twin, the jaxpr and the errors.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd
from spikesde._training.learn import fill, initial_params, prepare

POLICIES = [sd.SequentialEvents(), sd.ParallelEvents()]
IDS = ["sequential", "parallel"]
N, K, T1, DT, MAX_SPIKES = 8, 3, 1.0, 0.01, 24


def _fan_in_network(weight_scale=1.5):
    # Noisy SLIF neurons (membrane noise on), different currents, 3 random inputs each.
    neuron = sd.SLIF(N, input_current=jnp.linspace(1.6, 2.4, N), sigma_v=0.4)
    return sd.fixed_fan_in(neuron, key=jax.random.key(3), fan_in=K, weight_scale=weight_scale)


def _dense_twin(network):
    """The same network with an ``n x n`` weight matrix and mask."""
    return sd.Network(network.neuron, network.coupling(), network.receivers())


def _spike_times(network, key, policy):
    solution = sd.simulate(network, t0=0.0, t1=T1, dt=DT, key=key, max_spikes=MAX_SPIKES, event_policy=policy, on_overflow="ignore")
    return solution.spike_times


def _loss(network, key, policy):
    times = _spike_times(network, key, policy)
    return jnp.sum(jnp.where(jnp.isfinite(times), times, 0.0))


def _set_fan_in(network, weights):
    return eqx.tree_at(lambda m: m.fan_in.weights, network, weights)


def _set_dense(network, weights):
    return sd.Network(network.neuron, weights, network.mask)


@pytest.mark.slow  # 8 solves compiled: about a minute per policy
@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_fan_in_equals_its_dense_twin_in_spikes_gradients_and_jvp(x64, policy):
    sparse = _fan_in_network()
    dense = _dense_twin(sparse)
    sources = np.asarray(sparse.fan_in.sources)
    posts = np.broadcast_to(np.arange(N)[:, None], sources.shape)
    keys = jax.random.split(jax.random.key(0), 2)

    def value_and_grads(network, setter, weights):
        f = jax.value_and_grad(lambda w, key: _loss(setter(network, w), key, policy))
        return jax.jit(jax.vmap(f, in_axes=(None, 0)))(weights, keys)

    times_sparse = jax.vmap(lambda k: _spike_times(sparse, k, policy))(keys)
    times_dense = jax.vmap(lambda k: _spike_times(dense, k, policy))(keys)
    assert np.isfinite(np.asarray(times_sparse)).sum(axis=(1, 2)).min() > 3 * N  # several spikes each
    np.testing.assert_allclose(times_sparse, times_dense, rtol=1e-12, atol=0)

    value_s, grad_s = value_and_grads(sparse, _set_fan_in, sparse.fan_in.weights)
    value_d, grad_d = value_and_grads(dense, _set_dense, dense.weights)
    np.testing.assert_allclose(value_s, value_d, rtol=1e-12)
    grad_d = np.asarray(grad_d)[:, sources, posts]  # the dense gradient at each fan-in weight
    assert np.abs(grad_d).max() > 1e-3
    np.testing.assert_allclose(grad_s, grad_d, rtol=1e-10, atol=1e-13)

    direction = jax.random.normal(jax.random.key(7), sources.shape)
    dense_direction = _set_fan_in(sparse, direction).coupling()
    jvp = lambda network, setter, w, dw: jax.jvp(lambda v: _loss(setter(network, v), keys[0], policy), (w,), (dw,))[1]  # noqa: E731
    np.testing.assert_allclose(
        jvp(sparse, _set_fan_in, sparse.fan_in.weights, direction), jvp(dense, _set_dense, dense.weights, dense_direction), rtol=1e-10
    )


@pytest.mark.slow  # 30 s per policy
@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_fan_in_gradient_matches_central_finite_differences(x64, policy):
    network = _fan_in_network()
    key = jax.random.key(1)
    loss = jax.jit(lambda w: _loss(_set_fan_in(network, w), key, policy))
    weights = network.fan_in.weights
    assert np.isfinite(np.asarray(_spike_times(network, key, policy))).sum() > 3 * N
    grad = np.asarray(jax.grad(loss)(weights))
    eps = 1e-6
    for index in ((0, 0), (3, 1), (N - 1, K - 1)):
        bump = jnp.zeros_like(weights).at[index].set(eps)
        fd = (float(loss(weights + bump)) - float(loss(weights - bump))) / (2 * eps)
        np.testing.assert_allclose(grad[index], fd, rtol=1e-5, atol=1e-8)
    assert np.abs(grad).max() > 1e-3


@pytest.mark.slow  # 10 s per policy
@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_a_neuron_nobody_listens_to_has_zero_cross_derivatives(x64, policy):
    # Neuron 0 is among no neuron's sources: the other neurons' spikes do not depend on it at all.
    sources = np.array([[1, 2], [2, 3], [1, 3], [1, 2]])
    weights = np.array([[0.8, -0.5], [0.6, 0.7], [-0.4, 0.9], [0.5, 0.5]])
    key = jax.random.key(4)

    def first_spikes(mu_v):
        neuron = sd.SLIF(4, input_current=jnp.asarray([2.2, 1.8, 2.0, 1.9]), mu_v=mu_v, sigma_v=0.4)
        network = sd.Network(neuron, fan_in=sd.FanInCoupling(sources, weights))
        return _spike_times(network, key, policy)[:, :3]

    jacobian = np.asarray(jax.jacrev(first_spikes)(jnp.full(4, 10.0)))  # (4, 3, 4)
    assert np.all(np.isfinite(jacobian)) and np.abs(jacobian[0, :, 0]).min() > 1e-4
    np.testing.assert_array_equal(jacobian[1:, :, 0], 0.0)


def test_reverse_mode_holds_no_n_by_n_array():
    n = 97  # a size no other array of the solve has
    neuron = sd.SLIF(n, input_current=2.0, sigma_v=0.3)
    sparse = sd.fixed_fan_in(neuron, key=jax.random.key(0), fan_in=4)
    dense = _dense_twin(sparse)

    def square_arrays(network, setter, weights, policy=sd.ParallelEvents()):
        f = jax.grad(lambda w: _loss(setter(network, w), jax.random.key(1), policy))
        return f"f32[{n},{n}]" in str(jax.make_jaxpr(f)(weights))

    assert not square_arrays(sparse, _set_fan_in, sparse.fan_in.weights)
    assert not square_arrays(sparse, _set_fan_in, sparse.fan_in.weights, sd.SequentialEvents())
    assert square_arrays(dense, _set_dense, dense.weights)  # the check can fail


def test_fan_in_weights_are_learned_by_path(x64):
    network = _fan_in_network()
    fire = jnp.arange(N) % 3 == 0
    jumps = lambda net: jnp.sum(jnp.sin(net.synapses().jumps(fire)))  # noqa: E731
    model, specs = prepare(network, ["fan_in.weights"])
    grad = jax.grad(lambda params: jumps(fill(model, specs, params)))(initial_params(model, specs))["fan_in.weights"]
    direct = jax.grad(lambda w: jumps(_set_fan_in(network, w)))(network.fan_in.weights)
    assert np.abs(np.asarray(direct)).max() > 1e-3
    np.testing.assert_allclose(grad, direct, rtol=1e-12)


def test_fan_in_pieces_equal_the_dense_matrix_in_value_and_derivatives(x64):
    sparse = _fan_in_network().fan_in
    matrix, receivers = sparse.dense(), sparse.dense_receivers()
    dense = sd.DenseCoupling(matrix, receivers)
    sources = np.asarray(sparse.sources)
    posts = np.broadcast_to(np.arange(N)[:, None], sources.shape)
    np.testing.assert_array_equal(np.asarray(matrix)[sources, posts], sparse.weights)
    assert int(np.count_nonzero(np.asarray(receivers))) == N * K
    fire = jnp.arange(N) % 3 != 1
    np.testing.assert_allclose(sparse.jumps(fire), dense.jumps(fire), rtol=1e-14, atol=1e-15)
    # Sources known when the coupling is built: rows from the fan-out table; traced: the gather.
    traced = jax.jit(lambda s, w, k: (sd.FanInCoupling(s, w).row(k), sd.FanInCoupling(s, w).reaches(k)))
    assert sparse.targets is not None and sparse.targets.shape[1] < N
    for k in range(N):
        np.testing.assert_array_equal(sparse.row(k), dense.row(k))  # one nonzero term per entry: exact
        np.testing.assert_array_equal(sparse.reaches(k), dense.reaches(k))
        row, reaches = traced(sparse.sources, sparse.weights, k)
        np.testing.assert_array_equal(row, dense.row(k))
        np.testing.assert_array_equal(reaches, dense.reaches(k))

    def loss(jumps):
        return lambda w: jnp.sum(jnp.sin(jumps(w)) + jumps(w) ** 3)

    on_sparse = lambda w: sd.FanInCoupling(sources, w).jumps(fire)  # noqa: E731
    on_dense = lambda w: sd.DenseCoupling(_set_fan_in(_fan_in_network(), w).coupling(), receivers).jumps(fire)  # noqa: E731
    w, v = sparse.weights, jax.random.normal(jax.random.key(1), sparse.weights.shape)
    np.testing.assert_allclose(jax.grad(loss(on_sparse))(w), jax.grad(loss(on_dense))(w), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(jax.jvp(on_sparse, (w,), (v,))[1], jax.jvp(on_dense, (w,), (v,))[1], rtol=1e-13, atol=1e-15)
    hvp = lambda f: jax.jvp(jax.grad(loss(f)), (w,), (v,))[1]  # noqa: E731
    np.testing.assert_allclose(hvp(on_sparse), hvp(on_dense), rtol=1e-12, atol=1e-14)
    row_grad = lambda f: jax.grad(lambda w: jnp.sum(jnp.cos(f(w))))(w)  # noqa: E731
    np.testing.assert_allclose(
        row_grad(lambda w: sd.FanInCoupling(sources, w).row(2)), row_grad(lambda w: _set_fan_in(_fan_in_network(), w).coupling()[2]), rtol=1e-14
    )


def test_fan_in_solve_equals_its_dense_twin(x64):
    sparse = _fan_in_network()
    times = [np.asarray(_spike_times(net, jax.random.key(0), sd.ParallelEvents())) for net in (sparse, _dense_twin(sparse))]
    assert np.isfinite(times[0]).sum() > 3 * N
    np.testing.assert_allclose(times[0], times[1], rtol=1e-12, atol=0)


def test_bad_fan_in_input_is_refused_by_name():
    ok_sources, ok_weights = np.array([[1, 2], [0, 2], [0, 1]]), np.ones((3, 2))
    cases = [
        (np.array([1, 2, 0]), np.ones(3), r"sources must have shape \(n_neurons, fan_in\)"),
        (ok_sources, np.ones((3, 3)), r"weights must have the shape of sources, \(3, 2\)"),
        (np.array([[1, 3], [0, 2], [0, 1]]), ok_weights, r"sources must lie in \[0, n_neurons\) = \[0, 3\), got 3"),
        (np.array([[1, -1], [0, 2], [0, 1]]), ok_weights, r"sources must lie in .*, got -1"),
        (np.array([[1, 1], [0, 2], [0, 1]]), ok_weights, "lists neuron 1 twice among the inputs of neuron 0"),
        (ok_sources.astype(float), ok_weights, "sources must be integers"),
        (ok_sources, np.array([[1.0, np.inf], [1.0, 1.0], [1.0, 1.0]]), r"FanInCoupling.weights must be finite"),
        (ok_sources, np.array([[1.0, np.nan], [1.0, 1.0], [1.0, 1.0]]), r"FanInCoupling.weights contains NaN"),
    ]
    for sources, weights, message in cases:
        with pytest.raises(ValueError, match=message):
            sd.FanInCoupling(sources, weights)
    coupling = sd.FanInCoupling(ok_sources, ok_weights)
    with pytest.raises(ValueError, match="fan_in has 3 neurons"):
        sd.Network(sd.SLIF(4), fan_in=coupling)
    with pytest.raises(ValueError, match="either weights .and mask. or fan_in"):
        sd.Network(sd.SLIF(3), np.zeros((3, 3)), fan_in=coupling)
    with pytest.raises(ValueError, match="fan_in must be a FanInCoupling"):
        sd.Network(sd.SLIF(3), fan_in=np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"fan_in must be an integer in \[1, 2\]"):
        sd.fixed_fan_in(sd.SLIF(3), key=jax.random.key(0), fan_in=3)


def test_fixed_fan_in_draws_distinct_other_sources():
    network = sd.fixed_fan_in(sd.SLIF(200), key=jax.random.key(0), fan_in=20, weight_scale=2.0)
    sources = np.asarray(network.fan_in.sources)
    assert sources.shape == (200, 20) and not (sources == np.arange(200)[:, None]).any()
    assert all(len(set(row)) == 20 for row in sources.tolist())
    counts = np.bincount(sources.ravel(), minlength=200)  # out-degrees: Binomial-like around 20
    assert 14 < counts.mean() < 26 and counts.min() > 0
    np.testing.assert_allclose(np.std(np.asarray(network.fan_in.weights)), 2.0 / np.sqrt(20), rtol=0.1)
    dense = np.asarray(network.coupling())
    assert (np.asarray(network.receivers()).sum(axis=0) == 20).all() and np.count_nonzero(dense) == 200 * 20
