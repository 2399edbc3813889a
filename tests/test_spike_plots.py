"""Rasters, PSTHs and spike-count distributions side by side (spikesde._experiments.spike_plots)."""

import numpy as np
import pytest

import spikesde as sd
from spikesde._experiments.spike_plots import psth, spike_counts

INF = np.inf


def _trains():
    # 2 trials, 3 neurons, 3 slots: counts per trial (all neurons) 4 and 2
    return np.array([
        [[0.1, 0.6, INF], [0.2, INF, INF], [0.9, INF, INF]],
        [[0.3, INF, INF], [INF, INF, INF], [0.7, INF, INF]],
    ])  # fmt: skip


def test_counts_and_psth_against_hand_counts():
    counts = spike_counts(_trains(), {"first two": [0, 1], "last": [2]})
    np.testing.assert_array_equal(counts["first two"], [3, 1])
    np.testing.assert_array_equal(counts["last"], [1, 1])
    centres, rate = psth(_trains(), [0, 1], t0=0.0, t1=1.0, bins=2)
    np.testing.assert_allclose(centres, [0.25, 0.75])
    # first half: 0.1, 0.2, 0.3 -> 3 spikes / (2 trials * 2 neurons * 0.5); second half: 0.6 -> 1 spike
    np.testing.assert_allclose(rate, [1.5, 0.5])


def test_figure_has_one_raster_per_set_and_a_column_per_group():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    fig = sd.experiments.plot_spike_statistics({"data": _trains(), "model": _trains()[::-1]}, t0=0.0, t1=1.0,
                                   groups={"a": [0, 1], "b": [2], "c": [0, 1, 2]}, bins=4)  # fmt: skip
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2 + 3 + 3  # two rasters, three PSTHs, three count histograms
    assert [ax.get_title() for ax in visible[:2]] == ["data: trial 0", "model: trial 0"]
    assert len(visible[0].collections[0].get_segments()) + len(visible[0].collections[1].get_segments()) == 3
    plt.close(fig)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="at least one"):
        sd.experiments.plot_spike_statistics({}, t0=0.0, t1=1.0)
    with pytest.raises(ValueError, match=r"samples\['x'\]"):
        sd.experiments.plot_spike_statistics({"x": np.zeros((2, 3))}, t0=0.0, t1=1.0)
