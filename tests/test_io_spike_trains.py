"""The SpikeTrains container: validation, buffers, subsets."""

import numpy as np
import pytest

from spikesde import SpikeTrains


def example(n_trials=3):
    rng = np.random.default_rng(1)
    times = [[np.sort(rng.uniform(0.0, 2.0, size=rng.integers(0, 6))) for _ in range(2)] for _ in range(n_trials)]
    times[0][1] = np.array([0.0, 2.0])  # spikes on both window edges are inside
    covariates = {"stimulus": rng.normal(size=(n_trials, 5)), "label": np.arange(n_trials)}
    return SpikeTrains(times, 0.0, 2.0, covariates=covariates, neuron_names=("a", "b"))


def test_fields_are_converted_and_read_only():
    trains = SpikeTrains([[[0.1, 0.2], []]], 0, 1)
    assert trains.n_trials == 1 and trains.n_neurons == 2
    assert trains.times[0][0].dtype == np.float64 and trains.times[0][1].shape == (0,)
    assert isinstance(trains.t0, float) and trains.covariates == {}
    with pytest.raises(ValueError):
        trains.times[0][0][0] = 5.0
    np.testing.assert_array_equal(trains.spike_counts(), [[2, 0]])
    assert trains.max_count() == 2


def test_buffers_round_trip():
    trains = example()
    buffers = trains.to_buffers()
    assert buffers.shape == (3, 2, trains.max_count())
    counts = np.isfinite(buffers).sum(-1)
    np.testing.assert_array_equal(counts, trains.spike_counts())
    again = SpikeTrains.from_buffers(buffers, 0.0, 2.0, covariates=trains.covariates, neuron_names=("a", "b"))
    assert again == trains
    wide = trains.to_buffers(max_spikes=9, dtype=np.float32)
    assert wide.shape == (3, 2, 9) and wide.dtype == np.float32 and np.isinf(wide[..., -1]).all()


def test_buffers_with_no_spikes_have_one_slot():
    trains = SpikeTrains([[[], []]], 0.0, 1.0)
    assert trains.to_buffers().shape == (1, 2, 1)
    assert SpikeTrains.from_buffers(np.full((2, 4), np.inf), 0.0, 1.0, layout="neurons").spike_counts().tolist() == [[0, 0]]


def test_buffer_overflow_names_the_train():
    trains = SpikeTrains([[[0.1], [0.1, 0.2, 0.3]]], 0.0, 1.0)
    with pytest.raises(ValueError, match=r"trial 0, neuron 1 has 3 spikes, more than max_spikes = 2"):
        trains.to_buffers(max_spikes=2)
    with pytest.raises(ValueError, match="positive integer"):
        trains.to_buffers(max_spikes=0)


def test_from_buffers_rejects_spikes_after_padding():
    buffers = np.array([[[0.1, np.inf, 0.3]]])
    with pytest.raises(ValueError, match=r"trial 0, neuron 0: a finite spike time follows \+inf padding"):
        SpikeTrains.from_buffers(buffers, 0.0, 1.0)


@pytest.mark.parametrize(
    ("times", "t0", "t1", "message"),
    [
        ([[[0.1], [0.5, 0.2]]], 0, 1, r"trial 0, neuron 1: spike times are not sorted \(spike 0 at 0.5 > spike 1 at 0.2\)"),
        ([[[0.1]], [[0.1, np.nan]]], 0, 1, r"trial 1, neuron 0: spike 1 is nan"),
        ([[[np.inf]]], 0, 1, r"trial 0, neuron 0: spike 0 is inf"),
        ([[[0.1]], [[1.5]]], 0, 1, r"trial 1, neuron 0: spike 0 at 1.5 is outside the window \[t0, t1\] = \[0.0, 1.0\]"),
        ([[[-0.1]]], 0, 1, r"trial 0, neuron 0: spike 0 at -0.1 is outside"),
        ([[[0.1], [0.2]], [[0.1]]], 0, 1, r"trial 1 has 1 neurons, but trial 0 has 2"),
        ([], 0, 1, r"zero trials"),
        ([[]], 0, 1, r"zero neurons"),
        ([[[0.1]]], 1, 1, r"t1 = 1.0 must be greater than t0 = 1.0"),
        ([[[0.1]]], 0, np.inf, r"must be finite"),
        ([[[[0.1]]]], 0, 1, r"trial 0, neuron 0: spike times must be a 1-D sequence"),
    ],
)
def test_bad_times(times, t0, t1, message):
    with pytest.raises(ValueError, match=message):
        SpikeTrains(times, t0, t1)


def test_bad_covariates_and_names():
    times = [[[0.1]], [[0.2]]]
    with pytest.raises(ValueError, match=r"covariate 'stimulus' has shape \(3,\); its leading axis must be the 2 trials"):
        SpikeTrains(times, 0, 1, covariates={"stimulus": np.zeros(3)})
    with pytest.raises(ValueError, match=r"covariate 'c' has shape \(\)"):
        SpikeTrains(times, 0, 1, covariates={"c": 1.0})
    with pytest.raises(ValueError, match="neuron_names has 2 names for 1 neurons"):
        SpikeTrains(times, 0, 1, neuron_names=("a", "b"))
    with pytest.raises(TypeError, match="padded"):
        SpikeTrains(np.zeros((2, 1, 3)), 0, 1)


def test_select_split_restrict():
    trains = example(n_trials=5)
    picked = trains.select([3, 1])
    assert picked.n_trials == 2 and np.array_equal(picked.times[0][0], trains.times[3][0])
    np.testing.assert_array_equal(picked.covariates["label"], [3, 1])
    assert trains.select(2).n_trials == 1

    train, test = trains.split(0.4, seed=3)
    assert (train.n_trials, test.n_trials) == (3, 2)
    labels = sorted(train.covariates["label"].tolist() + test.covariates["label"].tolist())
    assert labels == [0, 1, 2, 3, 4]
    assert trains.split(0.4, seed=3)[1] == test  # deterministic in the seed
    train, test = trains.split(test_trials=[0, 4])
    assert test.covariates["label"].tolist() == [0, 4] and train.covariates["label"].tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="exactly one"):
        trains.split()

    cut = trains.restrict(0.5, 1.5)
    assert (cut.t0, cut.t1) == (0.5, 1.5)
    for trial, original in zip(cut.times, trains.times):
        for train, full in zip(trial, original):
            np.testing.assert_array_equal(train, full[(full >= 0.5) & (full <= 1.5)])
    assert np.array_equal(cut.covariates["stimulus"], trains.covariates["stimulus"])
    with pytest.raises(ValueError, match="not inside the window"):
        trains.restrict(-1.0, 1.0)


def test_equality_sees_single_bits():
    trains = example()
    times = [list(trial) for trial in trains.times]
    times[2][0] = np.nextafter(times[2][0], np.inf) if times[2][0].size else np.array([1.0])
    other = SpikeTrains(times, 0.0, 2.0, covariates=trains.covariates, neuron_names=("a", "b"))
    assert other != trains
    assert example() == trains


def test_float32_buffers_snap_rounding_onto_the_window_only():
    t1 = 0.1  # float32(0.1) = 0.10000000149 > 0.1
    buffers = np.array([[[0.05, t1]]], dtype=np.float32)
    trains = SpikeTrains.from_buffers(buffers, 0.0, t1)
    assert trains.times[0][0].tolist() == [float(np.float32(0.05)), t1]
    with pytest.raises(ValueError, match="trial 0, neuron 0: spike 1 at 0.10000000149011612 is outside"):
        SpikeTrains.from_buffers(buffers.astype(np.float64), 0.0, t1)  # float64 buffers are taken as exact
    with pytest.raises(ValueError, match="trial 0, neuron 0: spike 0 at 0.10.* is outside"):
        SpikeTrains.from_buffers(np.array([[[0.1001]]], dtype=np.float32), 0.0, t1)


def test_the_vectorised_check_names_the_one_bad_train():
    rng = np.random.default_rng(5)
    times = [[np.sort(rng.uniform(0, 1, 4)) for _ in range(5)] for _ in range(6)]
    SpikeTrains(times, 0.0, 1.0)  # trains that fall between each other are fine
    for i, k in [(0, 0), (3, 2), (5, 4)]:
        bad = [list(trial) for trial in times]
        bad[i][k] = bad[i][k][::-1].copy()
        with pytest.raises(ValueError, match=rf"^trial {i}, neuron {k}: spike times are not sorted"):
            SpikeTrains(bad, 0.0, 1.0)


def test_units_are_converted_to_seconds():
    trains = SpikeTrains([[[12.5, 300.0]]], 0.0, 1000.0, units="ms")
    assert (trains.t0, trains.t1) == (0.0, 1.0)
    np.testing.assert_allclose(trains.times[0][0], [0.0125, 0.3])
    from_buffers = SpikeTrains.from_buffers(np.array([[[12.5, 300.0, np.inf]]]), 0.0, 1000.0, units="ms")
    assert from_buffers == trains
    assert SpikeTrains([[[12.5, 300.0]]], 0.0, 1000.0).converted("ms") == trains
    with pytest.raises(ValueError, match="units must be one of"):
        SpikeTrains([[[0.1]]], 0.0, 1.0, units="minutes")


def test_two_dimensional_buffers_need_a_layout():
    buffers = np.array([[0.1, 0.2, np.inf], [0.3, np.inf, np.inf], [0.5, 0.6, 0.7]])
    with pytest.raises(ValueError, match="2-D: pass layout='neurons'"):
        SpikeTrains.from_buffers(buffers, 0.0, 1.0)
    assert SpikeTrains.from_buffers(buffers, 0.0, 1.0, layout="trials").spike_counts().tolist() == [[2], [1], [3]]
    assert SpikeTrains.from_buffers(buffers, 0.0, 1.0, layout="neurons").spike_counts().tolist() == [[2, 1, 3]]
