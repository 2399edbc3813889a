r"""The Yin-Yang classification data set (Kriener, Goeltz & Petrovici 2021), and its spike encoding.

Points ``(x, y)`` uniform in the disc of radius ``r_big`` centred at ``(r_big, r_big)`` belong to one
of three classes: the two dots (radius ``r_small``, centred at ``(r_big / 2, r_big)`` and
``(3 r_big / 2, r_big)``), yin, or yang. Classes are balanced by drawing points for the classes in
turn (rejection sampling). Features are ``(x, y, 1 - x, 1 - y)`` so that every input carries the
same total drive. A linear classifier reaches about 64%, a small ANN about 98.7%.

Time-to-first-spike encoding: feature ``f`` becomes one input spike at ``t_early + f (t_late - t_early)``
(10 and 40 ms in the reference setting), plus a bias channel that fires once at ``t_bias`` (20 ms).
"""

import dataclasses

import numpy as np

CLASS_NAMES = ("yin", "yang", "dot")


def yinyang_class(x: np.ndarray, y: np.ndarray, r_small: float = 0.1, r_big: float = 0.5) -> np.ndarray:
    """The class (0 yin, 1 yang, 2 dot) of points inside the big disc.

    Example:
        ```python
        import numpy as np
        sd.datasets.yinyang_class(np.array([0.5, 0.5]), np.array([0.75, 0.25]))   # [0, 1]: yin above the centre, yang below
        ```
    """
    d_right = np.hypot(x - 1.5 * r_big, y - r_big)
    d_left = np.hypot(x - 0.5 * r_big, y - r_big)
    yin = (d_right <= r_small) | ((d_left > r_small) & (d_left <= 0.5 * r_big)) | ((y > r_big) & (d_right > 0.5 * r_big))
    dots = (d_right < r_small) | (d_left < r_small)
    return np.where(dots, 2, np.where(yin, 0, 1))


@dataclasses.dataclass(frozen=True)
class YinYang:
    """A Yin-Yang sample: ``features (size, 4)`` and ``labels (size,)``.

    Example:
        ```python
        data = sd.datasets.yinyang(10, seed=0)
        data.features.shape, data.labels.shape, len(data)   # (10, 4), (10,), 10
        ```
    """

    features: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def yinyang(size: int, *, seed: int, r_small: float = 0.1, r_big: float = 0.5) -> YinYang:
    """``size`` points with balanced classes, reproducible from ``seed``.

    The conventional splits use 5000 / 1000 / 1000 points with distinct seeds (e.g. 42, 41, 40).

    Example:
        ```python
        data = sd.datasets.yinyang(100, seed=42)     # features (100, 4), balanced labels 0 / 1 / 2
        ```
    """
    if int(size) != size or size < 1:
        raise ValueError(f"size must be a positive integer, got {size}")
    if not 0 < r_small < r_big / 2:
        raise ValueError(f"need 0 < r_small < r_big / 2, got r_small={r_small}, r_big={r_big}")
    rng = np.random.default_rng(seed)
    goals = np.arange(size) % 3
    points = np.empty((size, 2))
    for index, goal in enumerate(goals):
        while True:
            x, y = rng.uniform(0, 2 * r_big, 2)
            if np.hypot(x - r_big, y - r_big) <= r_big and yinyang_class(x, y, r_small, r_big) == goal:
                points[index] = x, y
                break
    scaled = points / (2 * r_big)
    features = np.concatenate([scaled, 1 - scaled], axis=1)
    return YinYang(features=features, labels=goals.astype(np.int32))


def encode_first_spike_times(
    features: np.ndarray, *, t_early: float = 0.010, t_late: float = 0.040, t_bias: float | None = 0.020
) -> np.ndarray:
    """Input spike times ``(size, channels)``: one spike per feature at ``t_early + f (t_late - t_early)``,
    and a bias channel at ``t_bias`` (omitted when ``None``).

    Example:
        ```python
        times = sd.datasets.encode_first_spike_times(sd.datasets.yinyang(10, seed=0).features)   # (10, 5) in s
        ```
    """
    features = np.asarray(features, dtype=float)
    if features.ndim != 2:
        raise ValueError(f"features must have shape (size, n_features), got {features.shape}")
    if np.any(features < 0) or np.any(features > 1):
        raise ValueError("features must lie in [0, 1]")
    if not t_late > t_early:
        raise ValueError(f"t_late must exceed t_early, got {t_early}, {t_late}")
    times = t_early + features * (t_late - t_early)
    if t_bias is not None:
        times = np.concatenate([times, np.full((len(times), 1), t_bias)], axis=1)
    return times
