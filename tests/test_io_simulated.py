"""simulate_spike_trains: trials of simulate as SpikeTrains, overflow named, never truncated."""

import jax
import numpy as np
import pytest

import spikesde as sd

MODEL = sd.LIF(2, input_current=[1.5, 3.0], sigma_v=0.3)
WINDOW = dict(t0=0.0, t1=2.0, dt=0.05)


def test_trials_match_single_simulations():
    key = jax.random.key(3)
    # In float64: the trials are one vmapped compilation and the reference another, and XLA may
    # fuse them differently (float32 spike times then differ in the last bit).
    with jax.enable_x64():
        trains = sd.simulate_spike_trains(
            MODEL, num_trials=3, key=key, max_spikes=8, covariates={"trial": np.arange(3)}, neuron_names=("slow", "fast"),
            dtype="float64", **WINDOW
        )
        # Reference: trial 1 simulated on its own, with the key simulate_spike_trains gives it.
        single = sd.simulate(MODEL, key=jax.random.split(key, 3)[1], max_spikes=8, dtype="float64", **WINDOW)
    assert (trains.n_trials, trains.n_neurons, trains.t0, trains.t1) == (3, 2, 0.0, 2.0)
    assert trains.neuron_names == ("slow", "fast") and trains.covariates["trial"].tolist() == [0, 1, 2]
    for k in range(2):
        want = np.asarray(single.spike_times[k], dtype=np.float64)
        want = want[np.isfinite(want)]
        assert trains.times[1][k].shape == want.shape
        np.testing.assert_allclose(trains.times[1][k], want, rtol=1e-12)
    # Noise differs between trials, and the faster neuron fires more often.
    assert not np.array_equal(trains.times[0][0], trains.times[2][0])
    counts = trains.spike_counts()
    assert (counts[:, 1] > counts[:, 0]).all() and counts.min() >= 1


def test_overflow_names_trial_and_neuron():
    with pytest.raises(ValueError, match=r"trial 0, neuron 1 fired \d+ times, more than max_spikes = 2"):
        sd.simulate_spike_trains(MODEL, num_trials=2, key=jax.random.key(0), max_spikes=2, **WINDOW)
    with pytest.raises(TypeError, match="on_overflow"):
        sd.simulate_spike_trains(MODEL, num_trials=2, key=jax.random.key(0), max_spikes=2, on_overflow="ignore", **WINDOW)
    with pytest.raises(ValueError, match="num_trials"):
        sd.simulate_spike_trains(MODEL, num_trials=0, key=jax.random.key(0), max_spikes=2, **WINDOW)
