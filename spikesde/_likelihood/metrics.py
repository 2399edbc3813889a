"""Held-out metrics of spike-train models: bits per spike and the coincidence factor Gamma."""

import math

import numpy as np
from jaxtyping import ArrayLike


def poisson_log_likelihood(n_spikes: int, duration: float, rate: float) -> float:
    """Continuous-time log-likelihood of ``n_spikes`` in ``duration`` under a homogeneous Poisson
    process of ``rate``: ``n log(rate) - rate duration``."""
    if rate <= 0 or duration <= 0:
        raise ValueError(f"rate and duration must be positive, got rate={rate}, duration={duration}")
    return n_spikes * math.log(rate) - rate * duration


def binned_poisson_log_likelihood(counts: ArrayLike, expected: ArrayLike) -> float:
    """``sum_b counts_b log(expected_b) - expected_b - log(counts_b!)`` (Poisson counts per bin)."""
    from scipy.special import gammaln

    counts = np.asarray(counts, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if np.any(expected < 0):
        raise ValueError("expected counts must be non-negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = np.where(counts > 0, counts * np.log(expected), 0.0)
    return float(np.sum(log_term - expected - gammaln(counts + 1)))


def bits_per_spike(log_likelihood: float, reference_log_likelihood: float, n_spikes: int) -> float:
    """``(log L_model - log L_reference) / (n_spikes ln 2)``: information per spike gained over
    the reference (a homogeneous Poisson process at the training rate)."""
    if n_spikes <= 0:
        raise ValueError(f"n_spikes must be positive, got {n_spikes}")
    return (float(log_likelihood) - float(reference_log_likelihood)) / (n_spikes * math.log(2))


def coincidences(model: ArrayLike, data: ArrayLike, precision: float) -> int:
    """Number of (model spike, data spike) pairs closer than ``precision``. Counting pairs makes
    the chance level exactly ``2 nu precision N_data`` for a Poisson model train of rate ``nu``
    (a one-to-one matching would fall below it at high rates and bias Gamma negative)."""
    model = np.sort(np.asarray(model, dtype=np.float64))
    data = np.asarray(data, dtype=np.float64)
    upper = np.searchsorted(model, data + precision, side="right")
    lower = np.searchsorted(model, data - precision, side="left")
    return int(np.sum(upper - lower))


def coincidence_factor(model: ArrayLike, data: ArrayLike, *, duration: float, precision: float = 0.002) -> float:
    r"""Kistler et al. (1997) coincidence factor between a model spike train and the data:

        Gamma = (N_coinc - <N_coinc>) / (0.5 (N_data + N_model) (1 - 2 nu precision)),

    ``<N_coinc> = 2 nu precision N_data`` the coincidences expected by chance from a Poisson train
    of the model's rate ``nu = N_model / duration``. Gamma = 1 for identical trains whose
    intervals exceed ``2 precision``, 0 on average for independent ones. Average it over model samples.
    """
    model = np.asarray(model, dtype=np.float64)
    data = np.asarray(data, dtype=np.float64)
    if duration <= 0 or precision <= 0:
        raise ValueError(f"duration and precision must be positive, got {duration}, {precision}")
    n_model, n_data = model.size, data.size
    if n_model + n_data == 0:
        raise ValueError("both spike trains are empty")
    nu = n_model / duration
    expected = 2 * nu * precision * n_data
    norm = 1 - 2 * nu * precision
    if norm <= 0:
        raise ValueError(f"precision {precision} too wide for the model rate {nu}: 2 nu precision >= 1")
    return (coincidences(model, data, precision) - expected) / (0.5 * (n_data + n_model) * norm)
