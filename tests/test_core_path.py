"""The spike-buffer log-likelihood along the event core's own path (``sd.likelihood.buffer_log_likelihood``):
it must reproduce the core's clocks exactly, for one neuron and for networks with input spikes."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd
from spikesde._core.clocks import clock_draws, neuron_clock_keys
from spikesde._likelihood.core_path import _along_path, _nodes, _receivers

T1, DT = 2.0, 0.01


def _network(alpha=0.03, input_mask=None):
    # 2 -> 2 feed-forward, a self-connection on neuron 3, and one input channel with three spikes.
    cell = sd.SLIF(4, input_current=jnp.array([1.5, 1.3, 0.2, 0.4]), mu_v=6.0, mu_i=5.0, v_reset=1.2, v0=0.5, alpha=alpha)
    mask = np.zeros((4, 4), bool)
    mask[:2, 2:] = True
    mask[3, 3] = True
    weights = jnp.where(mask, 0.8, 0.0).at[3, 3].set(-0.3)
    return sd.Network(cell, weights, mask, input_spike_times=jnp.array([[0.3, 0.7, 1.51]]), input_weights=jnp.array([[0.0, 0.5, 0.6, 0.0]]),
                      input_mask=input_mask)  # fmt: skip


@eqx.filter_jit
def _clock_steps(network, spikes, stepper):
    receivers = _receivers(network)
    times, counts, jumps, grid_index = jax.vmap(lambda k: _nodes(network, receivers, spikes, k, 0.0, T1, DT))(jnp.arange(network.n_neurons))
    return counts, _along_path(network.neuron, stepper, times, counts, jumps, DT * grid_index)[1]


def _clock_runs(network, spikes, stepper):
    counts, step_integral = _clock_steps(network, spikes, stepper)
    runs = []
    for k in range(network.n_neurons):
        cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(step_integral[k]))])
        runs.append(np.diff(np.concatenate([[0.0], cumulative[np.flatnonzero(np.asarray(counts[k]))]])))
    return runs


@pytest.mark.parametrize(
    ("model", "stepper"),
    [("single", sd.EulerMaruyama()), ("network", sd.ExponentialEuler()), ("input_mask", sd.EulerMaruyama())],
)
def test_path_reproduces_the_core_clocks(x64, model, stepper):
    # Along the reconstructed path each neuron's clock runs exactly its draw E_j + alpha between spikes.
    # With an input mask, a masked-out input weight (0.6 to neuron 2 here) is no connection: no jump, no split.
    network = {
        "single": lambda: sd.Network(sd.SLIF(input_current=1.3, alpha=0.03)),
        "network": _network,
        "input_mask": lambda: _network(input_mask=jnp.array([[False, True, False, False]])),
    }[model]()
    key = jax.random.key(3)
    spikes = sd.simulate(network, t0=0.0, t1=T1, dt=DT, key=key, max_spikes=12, stepper=stepper).spike_times
    clock_keys = neuron_clock_keys(jax.random.split(key)[1], network.n_neurons)
    runs = _clock_runs(network, spikes, stepper)
    assert sum(len(r) for r in runs) == int(np.isfinite(np.asarray(spikes)).sum()) >= 4
    for k, run in enumerate(runs):
        draws = [float(clock_draws(clock_keys[k : k + 1], j, jnp.float64)[0]) for j in range(len(run))]
        np.testing.assert_allclose(run, np.asarray(draws) + 0.03, rtol=1e-10, atol=1e-12, err_msg=f"neuron {k}")


def test_log_likelihood_gradients_match_finite_differences(x64):
    network = _network()
    spikes = sd.simulate(network, t0=0.0, t1=T1, dt=DT, key=jax.random.key(4), max_spikes=12).spike_times
    log_p = jax.jit(lambda net: sd.likelihood.buffer_log_likelihood(net, spikes, t0=0.0, t1=T1, dt=DT))
    grads = eqx.filter_grad(log_p)(network)
    for name, where, index in (("weights", lambda n: n.weights, (1, 2)), ("weights", lambda n: n.weights, (3, 3)),
                               ("input_weights", lambda n: n.input_weights, (0, 2)), ("mu_v", lambda n: n.neuron.mu_v, ())):  # fmt: skip
        value = where(network)

        def shifted(eps):
            return log_p(eqx.tree_at(where, network, value.at[index].add(eps)))

        central = (shifted(1e-6) - shifted(-1e-6)) / 2e-6
        np.testing.assert_allclose(where(grads)[index], central, rtol=1e-5, err_msg=f"{name}{index}")


def test_full_buffer_of_a_projecting_neuron_is_refused(x64):
    network = _network(alpha=0.0)
    log_p = jax.jit(lambda s: sd.likelihood.buffer_log_likelihood(network, s, t0=0.0, t1=T1, dt=DT))
    spikes = jnp.full((4, 2), jnp.inf).at[0].set(jnp.array([0.5, 0.9]))  # neuron 0 projects to 2 and 3
    with pytest.raises(Exception, match="full spike buffer"):
        log_p(spikes).block_until_ready()
    # A full buffer of an output neuron ends only its own window: finite.
    assert np.isfinite(float(log_p(jnp.full((4, 2), jnp.inf).at[2].set(jnp.array([0.5, 0.9])))))
