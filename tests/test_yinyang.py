import numpy as np
import pytest

from spikesde._datasets import encode_first_spike_times, yinyang, yinyang_class


def test_known_points():
    x = np.array([0.25, 0.75, 0.5, 0.5, 0.25 + 0.15])
    y = np.array([0.5, 0.5, 0.9, 0.1, 0.5])
    np.testing.assert_array_equal(yinyang_class(x, y), [2, 2, 0, 1, 0])


def test_balanced_reproducible_inside_the_disc():
    data = yinyang(300, seed=42)
    assert np.bincount(data.labels).tolist() == [100, 100, 100]
    xy = data.features[:, :2]
    assert np.all(np.hypot(xy[:, 0] - 0.5, xy[:, 1] - 0.5) <= 0.5)
    np.testing.assert_allclose(data.features[:, 2:], 1 - xy)
    np.testing.assert_array_equal(yinyang_class(xy[:, 0], xy[:, 1]), data.labels)
    again = yinyang(300, seed=42)
    np.testing.assert_array_equal(again.features, data.features)
    assert not np.array_equal(yinyang(300, seed=41).features, data.features)


def test_encoding():
    times = encode_first_spike_times(np.array([[0.0, 1.0, 0.5, 0.25]]))
    np.testing.assert_allclose(times, [[0.010, 0.040, 0.025, 0.0175, 0.020]])
    with pytest.raises(ValueError, match=r"features must lie in \[0, 1\]"):
        encode_first_spike_times(np.array([[1.5]]))
    with pytest.raises(ValueError, match="size must be a positive integer"):
        yinyang(0, seed=1)
