"""The event loop: no spurious coupling, the two event policies, forward mode, vmap, sizes, sharding."""

import math
import os
import subprocess
import sys
import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd

POLICIES = [sd.SequentialEvents(), sd.ParallelEvents()]


class ArrayBrownian(sd.AbstractBrownian):
    """Given increments: lets one neuron of a network and a one-neuron solve read the same noise."""

    values: jax.Array

    def increments(self, t0, dt, num_steps, shape, dtype):
        assert self.values.shape == (num_steps, *shape)
        return self.values.astype(dtype)


N, T1, DT, MAX_SPIKES = 4, 1.0, 0.01, 40
CURRENTS = np.array([1.2, 1.5, 1.8, 2.1])


def _uncoupled(currents, weights, policy, increments, clock_keys):
    neuron = sd.SLIF(len(currents), input_current=currents, sigma_v=0.5)
    # Weights given but structurally absent (mask false): no neuron receives a jump.
    model = sd.Network(neuron, weights, mask=jnp.zeros((len(currents),) * 2, bool))
    return sd.simulate(
        model, t0=0.0, t1=T1, dt=DT, key=jax.random.key(0), max_spikes=MAX_SPIKES, brownian=ArrayBrownian(increments),
        clock_keys=clock_keys, event_policy=policy,
    ).spike_times


_uncoupled_jit = eqx.filter_jit(_uncoupled)


@pytest.fixture(scope="module")
def noise():
    with jax.enable_x64(True):
        increments = math.sqrt(DT) * jax.random.normal(jax.random.key(1), (round(T1 / DT), 2, N), jnp.float64)
        return increments, sd.neuron_clock_keys(jax.random.key(2), N)


@pytest.mark.parametrize("policy", POLICIES, ids=["sequential", "parallel"])
def test_uncoupled_neurons_in_a_network_match_separate_solves(x64, noise, policy):
    increments, clock_keys = noise
    weights = jnp.zeros((N, N))
    together = _uncoupled_jit(CURRENTS, weights, policy, increments, clock_keys)
    assert int(np.isfinite(together).sum()) > 4 * N
    for k in range(N):
        alone = _uncoupled_jit(CURRENTS[k : k + 1], jnp.zeros((1, 1)), policy, increments[:, :, k : k + 1], clock_keys[k : k + 1])
        np.testing.assert_allclose(together[k], alone[0], rtol=1e-12, atol=0)


@pytest.mark.parametrize("policy", POLICIES, ids=["sequential", "parallel"])
def test_cross_derivatives_of_uncoupled_neurons_are_exactly_zero(x64, noise, policy):
    increments, clock_keys = noise

    def first_spikes(currents):
        times = _uncoupled(currents, jnp.zeros((N, N)), policy, increments, clock_keys)
        return times[:, :2]

    jacobian = np.asarray(jax.jacrev(first_spikes)(jnp.asarray(CURRENTS)))  # (N, 2, N)
    assert np.all(np.isfinite(jacobian))
    for k in range(N):
        others = np.delete(jacobian[k], k, axis=-1)
        np.testing.assert_array_equal(others, 0.0)
        assert np.all(np.abs(jacobian[k, :, k]) > 1e-3)


def _coupled_spike_times(params, policy, key, num=3):
    currents, weights = params
    network = sd.Network(sd.SLIF(3, input_current=currents, sigma_v=0.3), weights)
    solution = sd.simulate(network, t0=0.0, t1=1.0, dt=0.01, key=key, max_spikes=12, event_policy=policy, on_overflow="ignore")
    return solution.spike_times[:, :num]


_coupled_jit = jax.jit(_coupled_spike_times, static_argnums=1)
_COUPLED = (np.array([2.0, 2.4, 1.8]), np.array([[0.0, 0.6, -0.4], [0.5, 0.0, 0.7], [-0.3, 0.8, 0.0]]))


@pytest.mark.parametrize("policy", POLICIES, ids=["sequential", "parallel"])
def test_coupled_gradients_match_finite_differences(x64, policy):
    key = jax.random.key(5)
    params = tuple(jnp.asarray(p) for p in _COUPLED)
    times = np.asarray(_coupled_jit(params, policy, key))
    assert np.all(np.isfinite(times))
    loss = lambda p: jnp.sum(_coupled_spike_times(p, policy, key))  # noqa: E731
    grads = jax.grad(loss)(params)
    eps = 1e-6
    for which, index in ((0, (1,)), (1, (1, 2)), (1, (0, 1))):
        bump = [jnp.zeros_like(p) for p in params]
        bump[which] = bump[which].at[index].set(eps)
        plus = tuple(p + b for p, b in zip(params, bump))
        minus = tuple(p - b for p, b in zip(params, bump))
        fd = (np.sum(_coupled_jit(plus, policy, key)) - np.sum(_coupled_jit(minus, policy, key))) / (2 * eps)
        np.testing.assert_allclose(grads[which][index], fd, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("policy", POLICIES, ids=["sequential", "parallel"])
def test_forward_mode_agrees_with_reverse_mode(x64, policy):
    key = jax.random.key(5)
    currents, weights = (jnp.asarray(p) for p in _COUPLED)
    f = lambda c: _coupled_spike_times((c, weights), policy, key).ravel()  # noqa: E731
    np.testing.assert_allclose(jax.jacfwd(f)(currents), jax.jacrev(f)(currents), rtol=1e-9, atol=1e-12)


def test_parallel_events_converge_to_the_sequential_solution(x64):
    # Deterministic LIF (exact with ExponentialEuler): neuron 0 excites neuron 1; the parallel
    # policy delays the jump to the next grid point, an O(dt) error in neuron 1's spike.
    weights = jnp.zeros((2, 2)).at[0, 1].set(1.5)
    network = sd.Network(sd.LIF(2, input_current=jnp.asarray([3.0, 0.8]), tau_syn=0.5), weights)
    kwargs = dict(t0=0.0, t1=1.6, key=jax.random.key(0), max_spikes=4, stepper=sd.ExponentialEuler(), on_overflow="ignore")
    exact = sd.simulate(network, dt=0.1, **kwargs).spike_times[1, 0]
    errors = []
    for dt in (0.1, 0.01):
        parallel = sd.simulate(network, dt=dt, event_policy=sd.ParallelEvents(), **kwargs).spike_times[1, 0]
        errors.append(abs(float(parallel - exact)))
    assert np.isfinite(exact) and errors[0] > 0
    assert errors[1] < errors[0] / 5, errors


def test_vmap_over_samples_with_different_spike_counts(x64):
    model = sd.SLIF(2, input_current=jnp.asarray([1.5, 2.5]), sigma_v=0.8)
    kwargs = dict(t0=0.0, t1=1.0, dt=0.01, max_spikes=16, event_policy=sd.ParallelEvents())
    keys = jax.random.split(jax.random.key(3), 6)
    batch = jax.vmap(lambda key: sd.simulate(model, key=key, **kwargs))(keys)
    assert len(set(np.asarray(batch.spike_counts).sum(axis=1).tolist())) > 1
    for i in (0, 4):
        single = sd.simulate(model, key=keys[i], **kwargs)
        np.testing.assert_allclose(batch.spike_times[i], single.spike_times, rtol=1e-12)
        np.testing.assert_array_equal(batch.spike_counts[i], single.spike_counts)


def test_a_large_event_budget_costs_nothing_in_results():
    model = sd.SLIF(input_current=3.0)
    kwargs = dict(t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0))
    small = sd.simulate(model, max_spikes=40, **kwargs)
    huge = sd.simulate(model, max_spikes=100_000, **kwargs)
    assert int(small.spike_counts[0]) == int(huge.spike_counts[0]) > 5
    np.testing.assert_array_equal(small.spike_times[0], huge.spike_times[0, :40])


def test_a_solve_that_cannot_fit_in_memory_is_refused():
    with pytest.raises(ValueError, match="GiB"):
        sd.simulate(sd.SLIF(100), t0=0.0, t1=100.0, dt=1e-8, key=jax.random.key(0), max_spikes=4)
    with pytest.raises(ValueError, match="clock_keys"):
        sd.simulate(sd.SLIF(3), t0=0.0, t1=1.0, dt=0.1, key=jax.random.key(0), max_spikes=4, clock_keys=jax.random.split(jax.random.key(0), 2))


_SHARDED = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec
    import spikesde as sd
    jax.config.update("jax_enable_x64", True)
    assert len(jax.devices()) == 4, jax.devices()
    network = sd.recurrent(sd.SLIF(8, sigma_v=0.4, input_current=2.0), key=jax.random.key(1), connection_probability=0.3, weight_scale=0.5)
    keys = jax.random.split(jax.random.key(0), 8)
    run = jax.jit(jax.vmap(lambda key: sd.simulate(network, t0=0.0, t1=1.0, dt=0.01, key=key, max_spikes=32, on_overflow="ignore",
                                                   event_policy=sd.ParallelEvents(), dtype="float64").spike_times))
    mesh = Mesh(np.array(jax.devices()), ("samples",))
    sharded_keys = jax.device_put(keys, NamedSharding(mesh, PartitionSpec("samples")))
    sharded = run(sharded_keys)
    assert len(sharded.sharding.device_set) == 4
    single = run(jax.device_put(keys, jax.devices()[0]))
    # Same spikes; times equal up to rounding (each device compiles for its own batch: in float32 a
    # different fusion can move a near-threshold crossing by one rounding and flip a spike).
    np.testing.assert_array_equal(np.isfinite(np.asarray(sharded)), np.isfinite(np.asarray(single)))
    np.testing.assert_allclose(np.asarray(sharded), np.asarray(single), rtol=1e-12)
    print("OK", int(np.isfinite(np.asarray(single)).sum()))
    """
)


@pytest.mark.slow  # a fresh process compiles for 4 devices: about a minute
def test_samples_sharded_over_four_host_devices_match_one_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(sd.__file__))) + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run([sys.executable, "-c", _SHARDED], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("OK") and int(result.stdout.split()[1]) > 20


INPUT_TIMES = np.array([[0.123, 0.301, 0.555, 0.802, np.inf]])


def _with_inputs(currents, input_weights, input_mask, increments, clock_keys, policy=sd.SequentialEvents()):
    neuron = sd.SLIF(len(currents), input_current=currents, sigma_v=0.5)
    model = sd.Network(neuron, input_spike_times=INPUT_TIMES, input_weights=input_weights, input_mask=input_mask)
    return sd.simulate(
        model, t0=0.0, t1=T1, dt=DT, key=jax.random.key(0), max_spikes=MAX_SPIKES, brownian=ArrayBrownian(increments),
        clock_keys=clock_keys, event_policy=policy,
    ).spike_times


_with_inputs_jit = eqx.filter_jit(_with_inputs)


@pytest.mark.parametrize("policy", POLICIES, ids=["sequential", "parallel"])
def test_an_input_channel_moves_only_the_neurons_its_mask_reaches(x64, noise, policy):
    increments, clock_keys = noise
    weights = jnp.full((1, N), 0.7)
    mask = jnp.asarray([[True, False, False, False]])
    together = _with_inputs_jit(CURRENTS, weights, mask, increments, clock_keys, policy)
    alone0 = _with_inputs_jit(CURRENTS[:1], weights[:, :1], mask[:, :1], increments[:, :, :1], clock_keys[:1], policy)
    np.testing.assert_allclose(together[0], alone0[0], rtol=1e-12, atol=0)
    for k in range(1, N):
        alone = _uncoupled_jit(CURRENTS[k : k + 1], jnp.zeros((1, 1)), policy, increments[:, :, k : k + 1], clock_keys[k : k + 1])
        np.testing.assert_allclose(together[k], alone[0], rtol=1e-12, atol=0)

    def first_spikes(w):
        return _with_inputs(CURRENTS, w, mask, increments, clock_keys, policy)[:, :2]

    jacobian = np.asarray(jax.jacrev(first_spikes)(weights))  # (N, 2, 1, N)
    np.testing.assert_array_equal(jacobian[1:], 0.0)  # neither other neurons' times nor masked weights
    np.testing.assert_array_equal(jacobian[0, :, 0, 1:], 0.0)
    assert np.all(np.isfinite(jacobian)) and np.any(np.abs(jacobian[0, :, 0, 0]) > 1e-3)


def test_without_an_input_mask_every_neuron_splits_its_step_at_an_input_spike(x64, noise):
    # The mask is what removes the discretisation coupling: a zero weight alone does not.
    increments, clock_keys = noise
    weights = jnp.asarray([[0.7, 0.0, 0.0, 0.0]])
    unmasked = _with_inputs_jit(CURRENTS, weights, None, increments, clock_keys)
    masked = _with_inputs_jit(CURRENTS, weights, weights != 0, increments, clock_keys)
    np.testing.assert_allclose(unmasked[0], masked[0], rtol=1e-12, atol=0)
    assert np.max(np.abs(np.nan_to_num(unmasked[1:] - masked[1:], posinf=0.0))) > 1e-9


def test_an_input_mask_must_match_the_input_weights():
    neuron = sd.SLIF(2, input_current=1.5)
    with pytest.raises(ValueError, match=r"input_mask must have the shape of input_weights"):
        sd.Network(neuron, input_spike_times=INPUT_TIMES, input_weights=np.ones((1, 2)), input_mask=np.ones((2, 2), bool))
    with pytest.raises(ValueError, match=r"input_mask was given without input_spike_times"):
        sd.Network(neuron, input_mask=np.ones((1, 2), bool))
