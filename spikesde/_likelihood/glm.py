"""The baseline: a Poisson GLM with stimulus filter and spike history, fitted with nemos.

``log rate_b = intercept + w . features(t_b) + a . traces(t_b)``, the same raised-cosine stimulus
basis and exponential spike-history traces as the SLIF, binned at ``bin_width``; bins are
right-closed, ``(t_b, t_b + bin_width]``, and the features are read at the bin's left edge, so the
history uses only spikes up to ``t_b``. nemos (``pip install spikesde[glm]``) does the fitting.
"""

import dataclasses

import numpy as np

from .metrics import binned_poisson_log_likelihood


def bin_counts(spike_times, t0: float, t1: float, bin_width: float) -> np.ndarray:
    """Spike counts in the right-closed bins ``(t0 + b w, t0 + (b+1) w]``."""
    n_bins = int(round((t1 - t0) / bin_width))
    index = np.ceil((np.asarray(spike_times) - t0) / bin_width - 1e-9).astype(int) - 1
    return np.bincount(index[(index >= 0) & (index < n_bins)], minlength=n_bins)


def binned_traces(counts: np.ndarray, bin_width: float, taus) -> np.ndarray:
    """``sum_{spikes <= t_b} exp(-(t_b - t_s)/tau)`` at each bin's left edge, spikes counted at
    their bin's right edge."""
    out = np.zeros((counts.size, len(taus)))
    for j, tau in enumerate(taus):
        decay = np.exp(-bin_width / tau)
        trace = 0.0
        for b in range(counts.size):
            out[b, j] = trace
            trace = trace * decay + counts[b]
    return out


@dataclasses.dataclass
class GLMFit:
    intercept: float
    stimulus_weights: np.ndarray
    history_weights: np.ndarray
    bin_width: float

    def rate(self, features: np.ndarray, traces: np.ndarray) -> np.ndarray:
        """Expected counts per bin."""
        return np.exp(self.intercept + features @ self.stimulus_weights + traces @ self.history_weights)


def fit_glm(features, counts, traces, bin_width: float, *, max_iter: int = 2000) -> GLMFit:
    """Fit the Poisson GLM (unregularised, LBFGS) with nemos."""
    try:
        import nemos
    except ImportError as error:
        raise ImportError("the GLM baseline needs nemos: pip install spikesde[glm]") from error
    design = np.column_stack([features, traces])
    model = nemos.glm.GLM(solver_name="LBFGS", solver_kwargs=dict(maxiter=max_iter, tol=1e-10))
    model.fit(design, np.asarray(counts, dtype=np.float64))
    coef = np.asarray(model.coef_)
    k = features.shape[1]
    return GLMFit(float(np.asarray(model.intercept_).ravel()[0]), coef[:k], coef[k:], bin_width)


def glm_log_likelihood(fit: GLMFit, features, counts, traces) -> float:
    return binned_poisson_log_likelihood(counts, fit.rate(features, traces))


def simulate_glm(fit: GLMFit, features, taus, n_trials: int, seed: int = 0) -> np.ndarray:
    """Sample ``n_trials`` count sequences from the fitted GLM, its history driven by its own
    samples (closed loop). Returns ``(n_trials, bins)`` counts."""
    rng = np.random.default_rng(seed)
    decay = np.exp(-fit.bin_width / np.asarray(taus))
    drive = fit.intercept + features @ fit.stimulus_weights
    traces = np.zeros((n_trials, len(taus)))
    out = np.zeros((n_trials, features.shape[0]), dtype=np.int64)
    for b in range(features.shape[0]):
        rate = np.exp(np.minimum(drive[b] + traces @ fit.history_weights, 20.0))
        out[:, b] = rng.poisson(rate)
        traces = traces * decay + out[:, b, None]
    return out
