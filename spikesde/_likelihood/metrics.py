"""Held-out metrics of spike-train models: bits per spike, binned counts and Kistler's coincidence factor."""

import math

import numpy as np
from jaxtyping import ArrayLike

# Spike times are recorded on a grid (0.1 ms for the locust receptor), so many sit on a bin edge up to
# rounding: a spike within this fraction of a bin below an edge is put in the bin that starts there.
EDGE_TOLERANCE = 1e-6


def bin_index(spike_times: ArrayLike, t0: float, bin_width: float) -> np.ndarray:
    """The bin ``k`` of every spike for the half-open bins ``[t0 + k w, t0 + (k+1) w)``: a spike on
    an edge counts in the later bin (the usual convention, that of GLM software)."""
    if not bin_width > 0:
        raise ValueError(f"bin_width must be positive, got {bin_width}")
    position = (np.asarray(spike_times, dtype=np.float64) - t0) / bin_width
    return np.floor(position + EDGE_TOLERANCE).astype(np.int64)


def bin_counts(spike_times: ArrayLike, t0: float, t1: float, bin_width: float) -> np.ndarray:
    """Spike counts in the half-open bins ``[t0 + k w, t0 + (k+1) w)`` covering ``[t0, t1)``.

    >>> bin_counts([0.001, 0.0015, 0.003], 0.0, 0.004, 0.001).tolist()
    [0, 2, 0, 1]
    """
    n_bins = int(round((t1 - t0) / bin_width))
    if not math.isclose(n_bins * bin_width, t1 - t0, rel_tol=1e-9):
        raise ValueError(f"bin_width {bin_width} does not divide the window [{t0}, {t1})")
    index = bin_index(spike_times, t0, bin_width)
    return np.bincount(index[(index >= 0) & (index < n_bins)], minlength=n_bins)


def grid_nodes_at(times: ArrayLike, at: ArrayLike, bin_width: float) -> np.ndarray:
    """Indices into the grid ``times`` of the bin edges ``at`` (grid points; a tolerance of
    ``1e-9 bin_width`` absorbs the rounding of ``k * bin_width``)."""
    return np.searchsorted(np.asarray(times), np.asarray(at) - 1e-9 * bin_width)


def poisson_log_likelihood(n_spikes: int, duration: float, rate: float) -> float:
    """Continuous-time log-likelihood of ``n_spikes`` in ``duration`` under a homogeneous Poisson
    process of ``rate``: ``n log(rate) - rate duration``.

    Example:
        ```python
        sd.likelihood.poisson_log_likelihood(n_spikes=12, duration=2.0, rate=6.0)   # 12 ln 6 - 12
        ```
    """
    if rate <= 0 or duration <= 0:
        raise ValueError(f"rate and duration must be positive, got rate={rate}, duration={duration}")
    return n_spikes * math.log(rate) - rate * duration


def binned_poisson_log_likelihood(counts: ArrayLike, expected: ArrayLike) -> float:
    """``sum_b counts_b log(expected_b) - expected_b - log(counts_b!)`` (Poisson counts per bin)."""
    from scipy.special import gammaln

    counts = np.asarray(counts, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if counts.shape != expected.shape:
        raise ValueError(f"counts {counts.shape} and expected {expected.shape} differ in shape")
    if np.any(expected < 0) or not np.all(np.isfinite(expected)):
        raise ValueError("expected counts must be finite and non-negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = np.where(counts > 0, counts * np.log(expected), 0.0)
    return float(np.sum(log_term - expected - gammaln(counts + 1)))


def bits_per_spike(log_likelihood: float, reference_log_likelihood: float, n_spikes: int) -> float:
    """``(log L_model - log L_reference) / (n_spikes ln 2)``: information per spike gained over
    the reference (a homogeneous Poisson process at the training rate).

    Example:
        ```python
        sd.likelihood.bits_per_spike(-40.0, reference_log_likelihood=-52.0, n_spikes=12)   # 12 / (12 ln 2) = 1.44
        ```
    """
    if n_spikes <= 0:
        raise ValueError(f"n_spikes must be positive, got {n_spikes}")
    return (float(log_likelihood) - float(reference_log_likelihood)) / (n_spikes * math.log(2))


def coincidences(model: ArrayLike, data: ArrayLike, precision: float) -> int:
    """The number of one-to-one matches of model and data spikes within ``+-precision``: each spike
    is matched at most once. Greedy in time order (every data spike takes the earliest free model
    spike in its window) gives a maximum matching, since all windows have the same width.

    >>> coincidences([0.0, 0.001, 0.01], [0.0005], 0.002)
    1
    """
    model = np.sort(np.asarray(model, dtype=np.float64).ravel())
    data = np.sort(np.asarray(data, dtype=np.float64).ravel())
    matched, j = 0, 0
    for t in data:
        while j < model.size and model[j] < t - precision:
            j += 1
        if j < model.size and model[j] <= t + precision:
            matched += 1
            j += 1
    return matched


def coincidence_factor(model: ArrayLike, data: ArrayLike, *, duration: float, precision: float = 0.002) -> float:
    r"""Kistler et al. (1997) coincidence factor between a model spike train and the data:

        Gamma = (N_coinc - 2 nu precision N_data) / (0.5 (N_data + N_model) (1 - 2 nu precision)),

    ``N_coinc`` the one-to-one matches within ``+-precision`` (:func:`coincidences`), ``nu =
    N_model / duration`` the model's rate. Gamma = 1 for identical trains; the subtracted term is
    Kistler's chance level (a Poisson train of rate ``nu``). Average it over model samples.

    >>> round(coincidence_factor([0.1, 0.5], [0.1005, 0.9], duration=1.0, precision=0.002), 3)
    0.496

    Example:
        ```python
        data = jnp.array([0.10, 0.35, 0.80])
        sd.likelihood.coincidence_factor(data + 0.001, data, duration=1.0, precision=0.002)   # close to 1
        ```
    """
    model = np.asarray(model, dtype=np.float64)
    data = np.asarray(data, dtype=np.float64)
    if duration <= 0 or precision <= 0:
        raise ValueError(f"duration and precision must be positive, got {duration}, {precision}")
    n_model, n_data = model.size, data.size
    if n_model + n_data == 0:
        raise ValueError("both spike trains are empty")
    nu = n_model / duration
    norm = 1 - 2 * nu * precision
    if norm <= 0:
        raise ValueError(f"precision {precision} too wide for the model rate {nu}: 2 nu precision >= 1")
    return (coincidences(model, data, precision) - 2 * nu * precision * n_data) / (0.5 * (n_data + n_model) * norm)
