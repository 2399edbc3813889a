"""The GLM baseline of the grasshopper pipeline, under the same protocol as the SLIF.

One Poisson GLM per bin width (:mod:`spikesde._likelihood.glm`): the stimulus filtered by raised
cosines (read at each bin's centre), a raised-cosine spike-history filter over ``HISTORY_DURATION``
and optionally one slow exponential trace (adaptation). The stimulus representation, filter length,
slow time constant and ridge strength are chosen on the validation window from fits on the
training window; the test window is never read by the selection.
"""

import contextlib
import dataclasses
import itertools

import jax
import numpy as np

from .._likelihood.glm import GLMFit, fit_glm, history_basis, history_covariates, simulate_glm
from .._likelihood.metrics import bin_counts, binned_poisson_log_likelihood
from .grasshopper_select import feature_values, stimulus_current

# No zero: no spike follows another within 3 ms, so without a penalty the weight of the first history
# basis functions runs to minus infinity (no maximum-likelihood GLM). The grids reach two decades past
# the values validation chose on the recordings (ridge 0.01, slow trace 30 s), so a baseline chosen at
# the end of an earlier, shorter grid is not what the SLIF is compared with.
RIDGES = (1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
SLOW_TAUS = ((), (1.0,), (3.0,), (10.0,), (30.0,), (100.0,))
HISTORY_DURATION, N_HISTORY = 0.05, 8


@dataclasses.dataclass
class FittedGLM:
    """A GLM fit per bin width with its covariates' recipe; implements the protocol's model methods."""

    fits: dict
    current: object
    slow_taus: tuple
    duration: float
    settings: dict

    def design(self, spikes, width: float):
        """``(counts, covariates)`` over the bins of ``[0, duration)``."""
        counts = bin_counts(spikes, 0.0, self.duration, width)
        centres = (np.arange(counts.size) + 0.5) * width
        stimulus = np.asarray(feature_values(self.current, centres))
        history = history_covariates(counts, history_basis(N_HISTORY, HISTORY_DURATION, width), self.slow_taus, width)
        return counts, np.column_stack([stimulus, history])

    def expected_counts(self, spikes, bin_width: float, start: float, stop: float) -> np.ndarray:
        _, x = self.design(spikes, bin_width)
        rows = slice(int(round(start / bin_width)), int(round(stop / bin_width)))
        return np.exp(self.fits[bin_width].log_rate(x[rows]))

    def sample(self, spikes, start: float, stop: float, n: int, key) -> list:
        """Closed-loop samples at the finest bin width, from the recorded history at ``start``;
        ``c`` spikes of a bin are put at its centre."""
        width = min(self.fits)
        counts, x = self.design(spikes, width)
        first, last = int(round(start / width)), int(round(stop / width))
        n_stim = self.current.weights.shape[0]
        seed = int(jax.random.randint(key, (), 0, 2**31 - 1))
        sampled = simulate_glm(self.fits[width], x[first:last, :n_stim], history_basis(N_HISTORY, HISTORY_DURATION, width),
                               self.slow_taus, width, counts[:first], n, seed=seed)  # fmt: skip
        centres = start + (np.arange(last - first) + 0.5) * width
        return [np.repeat(centres, row) for row in sampled]


def one_blas_thread():
    """A context with one BLAS thread (``threadpoolctl``, where installed; otherwise no change). The
    GLM's matrix products are small (bins x ~30): with a second BLAS thread on a 2-core machine that
    is also running other work, they were measured 40x slower (79 s against 2 s for the selection)."""
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 (optional)
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def select_glm(trains, config, protocol, log=print) -> tuple[dict, dict, list]:
    """:func:`select_glm_unlimited` with one BLAS thread (:func:`one_blas_thread`)."""
    with one_blas_thread():
        return select_glm_unlimited(trains, config, protocol, log)


def select_glm_unlimited(trains, config, protocol, log=print) -> tuple[dict, dict, list]:
    """Per bin width, in turn (the others held): stimulus representation and filter length (no slow
    trace, ridge 1), the slow trace, the ridge; each fitted on training bins and scored on
    validation bins. Every fit is checked for convergence (:class:`~spikesde._likelihood.glm.
    GLMNotConverged` otherwise); a choice at the end of its candidates is reported (``on_edge``).
    Returns ``(fits, settings, table)`` keyed by bin width."""
    spikes = np.asarray(trains.times[0][0])
    end = protocol.validation[1]
    spikes = spikes[spikes < end]  # the selection never sees the test window
    d = config.filter_duration
    stimuli = list(itertools.product(("zscore", "log_zscore"), (round(d * 2 / 3, 6), d, round(d * 5 / 3, 6))))
    currents = {key: stimulus_current(trains, *key, config.n_basis, protocol.train[1])[1] for key in stimuli}
    table, fits, settings = [], {}, {}
    for width in protocol.bin_widths:
        train = slice(0, int(round(protocol.train[1] / width)))
        validation = slice(int(round(protocol.validation[0] / width)), int(round(end / width)))
        results = {}

        def trial(stimulus, slow, ridge):
            if (stimulus, slow, ridge) not in results:
                counts, x = FittedGLM({}, currents[stimulus], slow, end, {}).design(spikes, width)
                fit = fit_glm(x[train], counts[train], ridge=ridge)
                score = binned_poisson_log_likelihood(counts[validation], np.exp(fit.log_rate(x[validation])))
                table.append(dict(bin_width=width, transform=stimulus[0], filter_duration=stimulus[1], slow_taus=list(slow),
                                  ridge=ridge, validation_log_likelihood=score, iterations=fit.iterations))  # fmt: skip
                results[(stimulus, slow, ridge)] = (fit, score)
            return results[(stimulus, slow, ridge)][1]

        stimulus = max(stimuli, key=lambda s: trial(s, (), 1.0))
        slow = max(SLOW_TAUS, key=lambda t: trial(stimulus, t, 1.0))
        ridge = max(RIDGES, key=lambda r: trial(stimulus, slow, r))
        fit, score = results[(stimulus, slow, ridge)]
        on_edge = [name for name, value, options in (("filter_duration", stimulus[1], sorted(s[1] for s in stimuli)),
                   ("slow_taus", slow, SLOW_TAUS), ("ridge", ridge, RIDGES)) if value == options[-1] or (name == "ridge" and value == options[0])]  # fmt: skip
        fits[width] = fit
        settings[width] = dict(transform=stimulus[0], filter_duration=stimulus[1], slow_taus=list(slow), ridge=ridge,
                               validation_log_likelihood=score, on_edge=on_edge, **{k: v for k, v in fit.state().items() if k != "ridge"})  # fmt: skip
        log(f"GLM {width * 1e3:g} ms: {stimulus[0]}, filter {stimulus[1] * 1e3:g} ms, slow {list(slow)}, ridge {ridge:g} "
            f"({fit.iterations} Newton steps, decrement {fit.decrement:.1e})" + (f"; at the end of its candidates: {on_edge}" if on_edge else ""))  # fmt: skip
    return fits, settings, table


def glm_models(trains, fits, settings, config, protocol) -> dict:
    """One :class:`FittedGLM` per bin width (each with its own selected covariates); the finest
    one also samples."""
    models = {}
    for width, row in settings.items():
        basis, current = stimulus_current(trains, row["transform"], row["filter_duration"], config.n_basis, protocol.train[1])
        models[width] = FittedGLM({width: fits[width]}, current, tuple(row["slow_taus"]), trains.t1, {**row, "basis": basis})
    return models


class GLMBaseline:
    """The per-width GLMs as one model: bins of width ``w`` are scored by the GLM fitted at ``w``,
    samples come from the finest one."""

    def __init__(self, models: dict):
        self.models = models

    def expected_counts(self, spikes, bin_width, start, stop):
        if bin_width not in self.models:
            raise ValueError(f"no GLM was fitted at bin width {bin_width} (have {sorted(self.models)})")
        return self.models[bin_width].expected_counts(spikes, bin_width, start, stop)

    def sample(self, spikes, start, stop, n, key):
        return self.models[min(self.models)].sample(spikes, start, stop, n, key)

    def filters(self, width) -> tuple[np.ndarray, np.ndarray]:
        """``(stimulus filter on the stimulus' sampling grid, history filter on the lags of 1, 2, ...
        bins)`` of the GLM at ``width``, per unit of the raw covariates."""
        model = self.models[width]
        fit: GLMFit = model.fits[width]
        weights, n_stim = fit.weights(), model.current.weights.shape[0]
        history = history_basis(N_HISTORY, HISTORY_DURATION, width) @ weights[n_stim : n_stim + N_HISTORY]
        return model.settings["basis"] @ weights[:n_stim], history
