import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd
from spikesde._estimators.first_spike_lif import FirstSpikeLIFNetwork, lif_first_spike_times, psp_kernel

TAU = 2.5
# Off-grid input spike times (the event core's grid is 0.5), unsorted, one absent.
INPUT_TIMES = np.array([3.3, 1.7, 6.1, 4.45, np.inf])


def _weights(n):
    rng = np.random.default_rng(0)
    return rng.normal(0.6, 0.5, (len(INPUT_TIMES), n))


def test_kernel_peak():
    # K peaks at s = 2 tau ln 2 with value tau / 2.
    s = 2 * TAU * np.log(2)
    np.testing.assert_allclose(psp_kernel(s, TAU), TAU / 2, rtol=1e-6)
    assert float(psp_kernel(-1.0, TAU)) == 0.0 and float(psp_kernel(-jnp.inf, TAU)) == 0.0


def test_single_input_closed_form(x64):
    # One input of weight w at 0: V = 2 tau w (x - x^2) = theta, x = (1 + sqrt(1 - 2 theta / (tau w))) / 2.
    w, theta = 0.9, 1.0
    x = (1 + np.sqrt(1 - 2 * theta / (TAU * w))) / 2
    t = lif_first_spike_times(jnp.array([0.0]), jnp.array([[w], [0.3]])[:1], tau=TAU, threshold=theta)
    np.testing.assert_allclose(t, [-2 * TAU * np.log(x)], rtol=1e-12)
    # Peak tau w / 2 below threshold: no spike.
    assert np.isinf(lif_first_spike_times(jnp.array([0.0]), jnp.array([[0.7]]), tau=TAU, threshold=1.0)).all()


def test_matches_the_event_core_values_and_gradients(x64):
    """Spike times and their weight gradients equal the exact-stepper event core's (tau_mem = 2 tau_syn)."""
    n = 5
    weights = jnp.asarray(_weights(n))
    finite = INPUT_TIMES[np.isfinite(INPUT_TIMES)]
    neuron = sd.LIF(n, input_current=0.0, tau_mem=2 * TAU, tau_syn=TAU, threshold=1.0)
    probe = jnp.arange(1.0, n + 1)

    def core(w):
        net = sd.Network(neuron, None, None, jnp.asarray(finite)[:, None], w[: len(finite)])
        sol = sd.simulate(net, t0=0.0, t1=20.0, dt=0.5, key=jax.random.key(0), max_spikes=30, stepper=sd.ExponentialEuler())
        return sol.spike_times[:, 0]

    def closed(w):
        return lif_first_spike_times(INPUT_TIMES, w, tau=TAU, threshold=1.0)

    t_core, t_closed = core(weights), closed(weights)
    assert np.isfinite(t_closed).sum() >= 3
    np.testing.assert_allclose(t_closed, t_core, rtol=1e-9)

    def summed(f):
        return lambda w: jnp.sum(jnp.where(jnp.isfinite(f(w)), f(w), 0.0) * probe)

    np.testing.assert_allclose(jax.grad(summed(closed))(weights)[: len(finite)], jax.grad(summed(core))(weights)[: len(finite)], atol=1e-9)


def test_classifier_gradient_matches_finite_differences(x64):
    """d loss / d weights of the whole classifier (spike times + readout max) against central differences."""
    rng = np.random.default_rng(1)
    model = FirstSpikeLIFNetwork(
        hidden_weights=jnp.asarray(rng.normal(0.6, 0.5, (5, 4))),
        output_weights=jnp.asarray(rng.normal(0.0, 1.0, (4, 3))),
        tau_syn=TAU,
        threshold=1.0,
        readout_times=jnp.linspace(0.1, 15.0, 60),
    )

    def loss(m):
        logits = m(INPUT_TIMES)
        return jax.nn.logsumexp(logits) - logits[1]

    grads = eqx.filter_grad(loss)(model)
    assert np.isfinite(model.hidden_spike_times(INPUT_TIMES)).sum() >= 2
    eps = 1e-6
    for name in ("hidden_weights", "output_weights"):
        value = np.asarray(getattr(model, name))
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = [value.copy(), value.copy()]
            shifted[0][index] += eps
            shifted[1][index] -= eps
            up, down = (loss(eqx.tree_at(lambda m: getattr(m, name), model, jnp.asarray(v))) for v in shifted)
            numeric[index] = (up - down) / (2 * eps)
        np.testing.assert_allclose(np.asarray(getattr(grads, name)), numeric, atol=1e-6, rtol=1e-5)
    assert np.abs(np.asarray(grads.hidden_weights)).max() > 1e-3  # the spike-time path carries gradient


def test_bad_arguments():
    with pytest.raises(ValueError, match="tau_syn must be positive"):
        FirstSpikeLIFNetwork(jnp.ones((2, 3)), jnp.ones((3, 1)), tau_syn=-1.0, readout_times=jnp.ones(3))
    with pytest.raises(ValueError, match="output_weights has 2 inputs"):
        FirstSpikeLIFNetwork(jnp.ones((2, 3)), jnp.ones((2, 1)), tau_syn=1.0, readout_times=jnp.ones(3))
