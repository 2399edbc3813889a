"""log_likelihood of coupled networks (issue 23): spikes of one neuron jump the synaptic current of
the others; against the event core's own density (the former path), central differences, and the
uncoupled population."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd
from spikesde._likelihood.core_path import buffer_log_likelihood  # the former path, without its deprecation warning

T1, DT = 0.2, 1e-4
WEIGHTS = [[0.0, 1.5], [-1.0, 0.0]]
LOG_L = eqx.filter_jit(sd.likelihood.log_likelihood)


def network(c=1.8, mu_i=40.0, weights=WEIGHTS):
    neuron = sd.SLIF(2, c, mu_v=30.0, mu_i=mu_i, alpha=0.0, beta=4.0, v_threshold=1.0, tau_s=0.05, reset_rule=sd.SetReset(0.0))
    return sd.Network(neuron, weights=jnp.asarray(weights))


# Two neurons' spikes: network() simulated once (ExponentialEuler, dt = 1e-4, key 2), rounded to 10 us.
INF = np.inf
SPIKES = np.asarray([[0.04474, 0.1118, 0.19899, INF, INF, INF, INF], [0.03212, 0.05066, 0.08267, 0.11681, 0.13682, 0.16934, 0.19593]])


def _trains(spikes=SPIKES, dt=DT):
    trains = sd.SpikeTrains([[list(row[np.isfinite(row)]) for row in spikes]], 0.0, T1)
    return sd.likelihood.TrialGrid.from_spike_trains(trains, dt)


def test_without_coupling_it_is_the_population(x64):
    uncoupled = float(LOG_L(network().neuron, _trains()))
    assert float(LOG_L(network(weights=np.zeros((2, 2))), _trains())) == pytest.approx(uncoupled, rel=1e-12)
    assert abs(float(LOG_L(network(), _trains())) - uncoupled) > 0.1


@pytest.mark.slow
def test_network_likelihood_agrees_with_the_core_density(x64):
    # the former path: the density of the event core's own discretisation (first order in dt), an independent code
    buffers = jnp.asarray(np.pad(SPIKES, ((0, 0), (0, 1)), constant_values=INF))  # not full: every spike is in it
    old = float(buffer_log_likelihood(network(), buffers, t0=0.0, t1=T1, dt=DT, stepper=sd.ExponentialEuler()))
    assert float(LOG_L(network(), _trains())) == pytest.approx(old, rel=1e-3)


def test_network_likelihood_gradients_match_central_differences(x64):
    trains = _trains(dt=1e-3)

    def log_l(th):
        return LOG_L(network(th[0], th[1], jnp.asarray([[0.0, th[2]], [th[3], 0.0]])), trains)

    theta = jnp.asarray([1.8, 40.0, 1.5, -1.0])
    gradient = np.asarray(jax.jit(jax.grad(log_l))(theta))
    assert np.all(np.isfinite(gradient)) and np.all(gradient[2:] != 0)
    for k in range(theta.size):
        step = 1e-6 * max(1.0, abs(float(theta[k])))
        e = jnp.zeros_like(theta).at[k].set(step)
        central = (float(log_l(theta + e)) - float(log_l(theta - e))) / (2 * step)
        assert gradient[k] == pytest.approx(central, rel=1e-6, abs=1e-7), k


def test_network_input_spikes_are_refused_by_name():
    model = sd.Network(sd.SLIF(1, 1.5), input_spike_times=jnp.asarray([[0.1]]), input_weights=jnp.asarray([[1.0]]))
    with pytest.raises(ValueError, match="input_spike_times"):
        sd.likelihood.log_likelihood(model, sd.likelihood.EventGrid.from_spike_times([0.2], 0.0, 1.0, 1e-3))
