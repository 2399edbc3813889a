"""Stimulus-driven input currents and after-spike currents."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd
from spikesde._models.stimulus import AfterSpikeCurrent, StimulusCurrent, filter_stimulus, raised_cosine_basis


def test_raised_cosine_basis_is_normalised_and_log_spaced():
    basis = raised_cosine_basis(6, 0.03, 1e-4)
    assert basis.shape == (300, 6)
    np.testing.assert_allclose(basis.sum(axis=0), 1.0)
    peaks = np.argmax(basis, axis=0) * 1e-4
    assert peaks[0] == 0.0 and np.all(np.diff(peaks) > 0)
    # Equal spacing in log(lag + stretch): the peak gaps grow geometrically.
    gaps = np.diff(np.log(peaks + 0.002))
    np.testing.assert_allclose(gaps, gaps.mean(), rtol=0.05)
    assert basis[-1, -1] < 1e-3 * basis[:, -1].max()  # the last bump ends at the duration


def test_filter_stimulus_is_a_causal_convolution():
    rng = np.random.default_rng(0)
    stimulus, basis = rng.normal(size=200), rng.uniform(size=(7, 2))
    expected = np.stack([np.convolve(stimulus, basis[:, j])[:200] for j in range(2)], axis=1)
    np.testing.assert_allclose(filter_stimulus(stimulus, basis), expected, atol=1e-10)


def test_stimulus_current_interpolates_and_is_linear_in_the_weights(x64):
    features = np.array([[0.0, 1.0], [1.0, 3.0], [4.0, 5.0]])
    current = StimulusCurrent(features, 0.5, weights=[2.0, -1.0], bias=0.25)
    assert float(current(0.5)) == pytest.approx(0.25 + 2.0 - 3.0)
    assert float(current(0.75)) == pytest.approx(0.25 + 2 * 2.5 - 4.0)
    assert float(current(10.0)) == pytest.approx(0.25 + 8.0 - 5.0)
    grads = jax.grad(lambda c: c(0.75))(current)
    np.testing.assert_allclose(grads.weights, [2.5, 4.0])
    assert float(grads.bias) == 1.0
    assert float(jnp.abs(grads.features).sum()) == 0.0  # data, not a parameter


def test_stimulus_current_drives_simulate():
    features = np.linspace(0, 1, 101)[:, None]
    neuron = sd.SLIF(input_current=StimulusCurrent(features, 0.05, weights=[1.0], bias=1.0))
    solution = sd.simulate(neuron, t0=0.0, t1=5.0, dt=0.01, key=jax.random.key(0), max_spikes=64)
    assert int(solution.spike_counts.sum()) > 0


def test_after_spike_kernel_and_errors():
    history = AfterSpikeCurrent([0.01, 1.0], [-1.0, 0.5])
    np.testing.assert_allclose(history.kernel(jnp.array([0.0, 0.01])), [-0.5, -np.exp(-1) + 0.5 * np.exp(-0.01)], rtol=1e-6)
    with pytest.raises(ValueError, match="taus"):
        AfterSpikeCurrent([0.0])
    with pytest.raises(ValueError, match="weights"):
        StimulusCurrent(np.zeros((3, 2)), 0.1, weights=[1.0])
