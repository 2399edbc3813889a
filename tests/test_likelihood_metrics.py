"""Bits per spike and the coincidence factor on cases with known values."""

import math

import numpy as np
import pytest

from spikesde._likelihood.glm import history_covariates
from spikesde._likelihood.metrics import (
    bin_counts,
    binned_poisson_log_likelihood,
    bits_per_spike,
    coincidence_factor,
    poisson_log_likelihood,
)


def refractory_train(rng, n=900, gap=0.005):
    return np.cumsum(gap + rng.exponential(0.006, n))


def test_gamma_of_a_train_with_itself_is_one():
    train = refractory_train(np.random.default_rng(0))
    assert coincidence_factor(train, train, duration=10.0) == pytest.approx(1.0, abs=1e-12)


def test_gamma_of_independent_poisson_trains_is_near_zero_at_low_rates():
    rng = np.random.default_rng(1)
    values = [coincidence_factor(np.sort(rng.uniform(0, 10, 100)), np.sort(rng.uniform(0, 10, 100)), duration=10.0)
              for _ in range(400)]
    # Kistler's chance level 2 nu delta N_data is that of pair counting; one-to-one matching falls
    # below it by about (2 nu delta)^2 / 2 of the data spikes (two model spikes in one window),
    # 0.0008 here at 10 Hz: the mean is 0 up to sampling error (sd ~0.1 per pair / 20).
    assert abs(np.mean(values)) < 0.015


def test_gamma_of_jittered_copy_is_between():
    rng = np.random.default_rng(2)
    train = refractory_train(rng, 500, 0.01)
    jittered = train + rng.uniform(-0.004, 0.004, train.size)
    # Half the spikes move by at most 2 ms: Gamma near (0.5 - chance) / (1 - chance).
    duration = train[-1] + 0.01
    chance = 2 * train.size / duration * 0.002
    assert coincidence_factor(jittered, train, duration=duration) == pytest.approx((0.5 - chance) / (1 - chance), abs=0.06)


def test_bits_per_spike_of_the_reference_is_zero_and_of_a_better_model_positive():
    n, duration, rate = 100, 2.0, 50.0
    reference = poisson_log_likelihood(n, duration, rate)
    assert bits_per_spike(reference, reference, n) == 0.0
    # A model that puts all its rate where the spikes are: rate 100 Hz over the 1 s that holds them.
    better = n * math.log(100.0) - 100.0
    assert bits_per_spike(better, reference, n) == pytest.approx(math.log2(2.0))


def test_binned_poisson_matches_formula():
    counts = np.array([0, 1, 2, 0])
    expected = np.array([0.5, 0.5, 1.0, 2.0])
    value = np.sum(counts * np.log(expected) - expected) - math.log(2)
    assert binned_poisson_log_likelihood(counts, expected) == pytest.approx(value)


def test_bins_are_half_open_and_traces_causal():
    counts = bin_counts([0.001, 0.0015, 0.003], 0.0, 0.004, 0.001)
    np.testing.assert_array_equal(counts, [0, 2, 0, 1])
    traces = history_covariates(np.array([1, 0, 0]), np.zeros((1, 0)), (0.001,), 0.001)
    np.testing.assert_allclose(traces[:, 0], [0.0, math.exp(-1.0), math.exp(-2.0)])


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="precision"):
        coincidence_factor([0.1], [0.1], duration=1.0, precision=0.6)
    with pytest.raises(ValueError, match="n_spikes"):
        bits_per_spike(0.0, 0.0, 0)
