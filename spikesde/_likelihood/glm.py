r"""The baseline: a Poisson GLM with a stimulus filter and a spike-history filter, both on
raised-cosine bases, fitted by Newton's method with a ridge penalty.

On half-open bins ``[k w, (k+1) w)`` the count ``y_k`` is Poisson with mean ``exp(eta_k)``,

    eta_k = b + w_s . s_k + w_h . H_k,

``s_k`` the basis-filtered stimulus at the bin's centre, ``H_k`` the spike counts of the bins before
``k`` filtered by raised cosines on a log-lag axis (plus optional exponential traces of seconds for
slow adaptation). Covariates are standardised on the fitting window; the penalty ``ridge / 2
||w||^2`` leaves the intercept free. The objective is strictly concave, so damped Newton converges
quadratically; the fit checks its own state (the Newton decrement ``g^T (-H)^{-1} g``) and raises
:class:`GLMNotConverged` (or reports it, ``strict=False``) when it has not fallen below ``tol``.
"""

import dataclasses

import numpy as np
from jaxtyping import ArrayLike
from scipy.signal import lfilter

from .._models.stimulus import raised_cosine_basis


class GLMNotConverged(RuntimeError):
    """The GLM's Newton iterations stopped before the decrement fell below the tolerance."""


def history_basis(n_basis: int, duration: float, bin_width: float) -> np.ndarray:
    """Raised cosines (log lag axis) over the lags ``1 .. duration / bin_width`` bins, ``(lags, n)``:
    row ``m`` weights the count ``m + 1`` bins back (the current bin is never history)."""
    return raised_cosine_basis(n_basis, duration, bin_width, stretch=2 * bin_width)


def history_covariates(counts: ArrayLike, basis: np.ndarray, slow_taus=(), bin_width: float = 1.0) -> np.ndarray:
    """``H[k] = sum_m basis[m] counts[k - 1 - m]`` (columns of ``basis``), then one column per
    ``slow_taus`` entry: ``sum_{j < k} exp(-(k - j) w / tau) counts[j]``. Causal: ``H[k]`` uses
    bins before ``k`` only."""
    counts = np.asarray(counts, dtype=np.float64)
    previous = np.concatenate([[0.0], counts[:-1]])
    columns = [lfilter(basis[:, j], [1.0], previous) for j in range(basis.shape[1])]
    for tau in slow_taus:
        decay = np.exp(-bin_width / tau)
        columns.append(lfilter([decay], [1.0, -decay], previous))
    return np.column_stack(columns) if columns else np.zeros((counts.size, 0))


@dataclasses.dataclass
class GLMFit:
    """A fitted GLM on standardised covariates: ``eta = intercept + ((X - mean) / scale) @ coef``."""

    intercept: float
    coef: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    ridge: float
    iterations: int
    decrement: float
    converged: bool

    def log_rate(self, design: np.ndarray) -> np.ndarray:
        """``eta`` per bin (log expected count) for raw covariates ``design``."""
        return self.intercept + ((design - self.mean) / self.scale) @ self.coef

    def weights(self) -> np.ndarray:
        """The coefficients of the raw (unstandardised) covariates."""
        return self.coef / self.scale

    def state(self) -> dict:
        return {"converged": self.converged, "iterations": self.iterations, "newton_decrement": self.decrement,
                "ridge": self.ridge}  # fmt: skip


def fit_glm(design: ArrayLike, counts: ArrayLike, *, ridge: float = 0.0, max_iter: int = 100, tol: float = 1e-10,
            strict: bool = True) -> GLMFit:  # fmt: skip
    """Maximise ``sum_k y_k eta_k - exp(eta_k) - ridge/2 ||coef||^2`` by damped Newton.

    Arguments:
        design: ``(bins, p)`` raw covariates; counts: ``(bins,)`` spike counts.
        ridge: the penalty on the standardised coefficients (not on the intercept).
        max_iter, tol: stop when the Newton decrement ``g^T (-H)^{-1} g < tol``.
        strict: raise :class:`GLMNotConverged` if not converged (else return with ``converged=False``).

    >>> rng = np.random.default_rng(0); x = rng.normal(size=(5000, 1))
    >>> fit = fit_glm(x, rng.poisson(np.exp(-1 + 0.5 * x[:, 0])))
    >>> fit.converged, round(float(fit.weights()[0]), 1)
    (True, 0.5)
    """
    x = np.asarray(design, dtype=np.float64)
    y = np.asarray(counts, dtype=np.float64)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"design must be (bins, p) and counts (bins,), got {x.shape} and {y.shape}")
    if ridge < 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"ridge must be >= 0 and the design finite, got ridge={ridge}")
    if y.sum() == 0:
        raise ValueError("counts: no spikes in the fitting window")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    z = np.column_stack([np.ones(len(y)), (x - mean) / scale])
    penalty = np.full(z.shape[1], float(ridge))
    penalty[0] = 0.0
    beta = np.zeros(z.shape[1])
    beta[0] = np.log(y.mean())

    def objective(b):
        eta = z @ b
        return y @ eta - np.sum(np.exp(eta)) - 0.5 * np.sum(penalty * b**2)

    value, decrement, iterations = objective(beta), np.inf, 0
    for iterations in range(1, max_iter + 1):
        rate = np.exp(z @ beta)
        gradient = z.T @ (y - rate) - penalty * beta
        hessian = (z * rate[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        decrement = float(gradient @ step)
        if decrement < tol:
            break
        size = 1.0
        while objective(beta + size * step) < value - 1e-12 * abs(value) and size > 1e-8:
            size /= 2  # damping: a full step from far away can overshoot the exponential
        beta = beta + size * step
        value = objective(beta)
    converged = bool(decrement < tol)
    fit = GLMFit(float(beta[0]), beta[1:], mean, scale, float(ridge), iterations, decrement, converged)
    if strict and not converged:
        raise GLMNotConverged(f"the GLM (ridge {ridge}) did not converge in {max_iter} Newton steps: "
                              f"decrement {decrement:.3g} > tol {tol:g}")  # fmt: skip
    return fit


def simulate_glm(fit: GLMFit, stimulus_design: np.ndarray, basis: np.ndarray, slow_taus, bin_width: float,
                 past_counts: np.ndarray, n_trials: int, seed: int = 0) -> np.ndarray:  # fmt: skip
    """Closed-loop samples of ``n_trials`` count sequences over the bins of ``stimulus_design``
    (its stimulus columns), the history started from the recorded ``past_counts`` (the bins before
    the first one) and then driven by each sample's own counts. Returns ``(n_trials, bins)``."""
    rng = np.random.default_rng(seed)
    weights = fit.weights()
    n_stim = stimulus_design.shape[1]
    drive = fit.intercept - fit.mean @ weights + stimulus_design @ weights[:n_stim]
    w_hist, w_slow = weights[n_stim : n_stim + basis.shape[1]], weights[n_stim + basis.shape[1] :]
    lags = basis.shape[0]
    past = np.asarray(past_counts, dtype=np.float64)
    recent = np.tile(np.concatenate([np.zeros(max(lags - past.size, 0)), past[-lags:]])[::-1], (n_trials, 1))
    decay = np.exp(-bin_width / np.asarray(slow_taus, dtype=np.float64))
    slow = np.tile(history_covariates(np.append(past, 0.0), np.zeros((1, 0)), slow_taus, bin_width)[-1], (n_trials, 1))
    out = np.zeros((n_trials, stimulus_design.shape[0]), dtype=np.int64)
    kernel = basis @ w_hist  # kernel[m]: the weight of the count m + 1 bins back
    for k in range(out.shape[1]):
        eta = drive[k] + recent @ kernel + slow @ w_slow
        out[:, k] = rng.poisson(np.exp(np.minimum(eta, 20.0)))
        recent = np.concatenate([out[:, k, None], recent[:, :-1]], axis=1)
        slow = slow * decay + out[:, k, None]
    return out
