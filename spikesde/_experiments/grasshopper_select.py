"""Model selection of the stimulus-driven SLIF on training and validation data only.

Discrete choices (stimulus representation, filter length, after-spike basis, smoothness prior of
the filter) are chosen by the validation log-likelihood of fits on the training window; the
continuous ones (``mu_v`` and the slow adaptation's time constant ``tau_slow``; their amplitudes and
every linear parameter are Newton-fitted) by the training likelihood, each profiled in log space
without a grid (:func:`~spikesde._likelihood.stimulus_fit.maximise_1d`). The order: profile
``mu_v`` and ``tau_slow`` on the starting structure, choose each discrete setting in turn (the
others held), then profile ``tau_slow`` and ``mu_v`` again. No data of the test window is read:
the spikes after the validation window and the stimulus after it never enter a fit or a score.
"""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from .._io.grasshopper import stimulus_of
from .._likelihood.design import StimulusDesign
from .._likelihood.grid import EventGrid
from .._likelihood.slif_scoring import half_open_weights
from .._likelihood.stimulus_fit import fit_at_mu, maximise_1d, profile_fit
from .._models.slif import SLIF
from .._models.stimulus import StimulusCurrent, filter_stimulus, raised_cosine_basis

TRANSFORMS = ("zscore", "log_zscore")
SMOOTHNESS = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1)
# The smoothness prior is chosen by parsimony: the strongest whose validation log-likelihood is within
# this many nats of the best (a smoother filter unless the data clearly ask for a rougher one).
SMOOTHNESS_TOLERANCE = 1.0
TAU_SLOW_BOUNDS = (0.05, 100.0)  # s: from after-spike time scales up to ten recordings' length


@dataclasses.dataclass(frozen=True)
class Structure:
    """The discrete choices: stimulus transform, filter length (s), fast after-spike time constants
    (s) and the smoothness prior's strength on the filter weights."""

    transform: str
    filter_duration: float
    fast_taus: tuple[float, ...]
    smoothness: float


def candidates(config) -> dict:
    """The candidate values of every discrete choice; the configuration's value is the first of each."""
    first = lambda value, others: (value,) + tuple(v for v in others if v != value)  # noqa: E731
    d = config.filter_duration
    fast = tuple(t for t in config.history_taus if t < TAU_SLOW_BOUNDS[0]) or (0.002, 0.005, 0.02)
    return {
        "transform": first(config.transform, TRANSFORMS),
        "filter_duration": first(d, (round(d * 2 / 3, 6), round(d * 5 / 3, 6))),
        "fast_taus": first(fast, (tuple(t / 2 for t in fast), tuple(t * 2 for t in fast))),
        "smoothness": first(float(config.smoothness), SMOOTHNESS),
    }


def transformed(stimulus, dt, transform: str, train_end: float) -> np.ndarray:
    """The stimulus after ``transform`` (``log_zscore``: log then z-score; ``zscore``; ``none``), the
    mean and sd taken on ``[0, train_end)`` only."""
    if transform not in ("log_zscore", "zscore", "none"):
        raise ValueError(f"transform must be 'log_zscore', 'zscore' or 'none', got {transform!r}")
    values = np.log(stimulus) if transform == "log_zscore" else np.asarray(stimulus, dtype=np.float64)
    if transform == "none":
        return values
    train = values[: int(round(train_end / dt))]
    return (values - train.mean()) / train.std()


def stimulus_current(trains, transform, duration, n_basis, train_end):
    """``(basis, StimulusCurrent)`` of the recording's stimulus for one representation and length."""
    stimulus, dt = stimulus_of(trains)
    basis = raised_cosine_basis(n_basis, duration, dt)
    return basis, StimulusCurrent(filter_stimulus(transformed(stimulus, dt, transform, train_end), basis), dt)


@jax.jit
def _traces(times, counts, taus):
    """History traces (the spike at a node included) at the nodes, for an array of time constants."""
    steps = jnp.diff(times)

    def one(tau):
        decay = jnp.exp(-steps / tau)
        return jax.lax.associative_scan(lambda a, b: (a[0] * b[0], b[0] * a[1] + b[1]), (decay, counts[1:].astype(times.dtype)))[1]

    inner = jax.vmap(one, out_axes=1)(taus)
    return jnp.concatenate([jnp.broadcast_to(counts[0].astype(times.dtype), (1, taus.size)), inner])


@jax.jit
def feature_values(current, times):
    """The filtered stimulus of ``current`` at ``times`` (one compiled program per shape)."""
    return current.feature_values(times)


_validation_ll = jax.jit(lambda design, theta, weights: design.log_likelihood(theta, *weights))


class SLIFSelection:
    """The data of the selection: the grid of the recorded spikes before the test window, the
    template neuron and the training and validation weights."""

    def __init__(self, trains, config, protocol):
        spikes = np.asarray(trains.times[0][0])
        self.end = protocol.validation[1]  # nothing at or after it is ever read
        self.trains, self.config, self.protocol = trains, config, protocol
        self.grid = EventGrid.from_spike_times(spikes[spikes < self.end], 0.0, self.end, config.dt)
        self.train = half_open_weights(self.grid, *protocol.train)
        self.validation = half_open_weights(self.grid, *protocol.validation)
        self.rate = float(np.sum(np.asarray(self.train[0]) * np.asarray(self.grid.counts))) / (protocol.train[1] - protocol.train[0])
        self._currents = {}

    def current(self, structure: Structure):
        key = (structure.transform, structure.filter_duration)
        if key not in self._currents:
            self._currents[key] = stimulus_current(self.trains, *key, self.config.n_basis, self.protocol.train[1])
        return self._currents[key]

    def design(self, structure: Structure, tau_slow: float, grid: EventGrid | None = None) -> StimulusDesign:
        """The design of ``structure`` on ``grid`` (default: the recorded spikes before the test window)."""
        _, current = self.current(structure)
        grid = self.grid if grid is None else grid
        c = self.config
        template = SLIF(input_current=current, alpha=c.alpha, beta=c.beta, v_threshold=c.v_threshold, tau_s=c.tau_s, v0=c.v0)
        taus = jnp.asarray(structure.fast_taus + (tau_slow,))
        traces = _traces(grid.times, grid.counts, taus)[:-1]
        return StimulusDesign(grid, feature_values(current, grid.times[:-1]), traces, template)

    def initial_theta(self, structure: Structure) -> dict:
        c = self.config
        return dict(bias=jnp.asarray(c.v_threshold + math.log(self.rate * c.tau_s) / c.beta),
                    weights=jnp.zeros(c.n_basis), amplitudes=jnp.zeros(len(structure.fast_taus) + 1),
                    v_reset=jnp.asarray(0.5), log_mu_v=jnp.asarray(math.log(math.sqrt(c.mu_v_grid[0] * c.mu_v_grid[-1]))))  # fmt: skip

    def fit(self, structure, tau_slow, theta):
        """The linear parameters at ``theta``'s ``mu_v``: ``(theta, validation log-likelihood)``."""
        design = self.design(structure, tau_slow)
        theta, _ = fit_at_mu(design, theta, *self.train, n_iter=self.config.newton_steps, smoothness=structure.smoothness)
        return theta, float(_validation_ll(design, theta, self.validation))

    def profile_mu(self, structure, tau_slow, theta, tol=0.02):
        design = self.design(structure, tau_slow)
        return profile_fit(design, theta, self.train, n_iter=self.config.newton_steps, smoothness=structure.smoothness, tol=tol)

    def profile_tau(self, structure, tau_slow, theta, tol=0.05):
        """``tau_slow`` maximising the training likelihood at ``theta``'s ``mu_v``."""
        fits = {}

        def value(log_tau):
            fits[log_tau] = fit_at_mu(self.design(structure, math.exp(log_tau)), theta, *self.train,
                                      n_iter=self.config.newton_steps, smoothness=structure.smoothness)  # fmt: skip
            return float(fits[log_tau][1])

        bounds = [math.log(b) for b in TAU_SLOW_BOUNDS]
        best, _, on_bound = maximise_1d(value, math.log(tau_slow), step=0.7, lower=bounds[0], upper=bounds[1], tol=tol)
        return math.exp(best), fits[best][0], on_bound


def select_slif(trains, config, protocol, log=print) -> dict:
    """Choose the SLIF's structure and fit it (see the module docstring). Returns ``structure``,
    ``tau_slow``, ``theta`` (fitted on the training window), the validation log-likelihood of every
    candidate tried, the parameters that ended on a search bound, and the selection object."""
    sel = SLIFSelection(trains, config, protocol)
    options = candidates(config)
    structure = Structure(*(values[0] for values in options.values()))
    tau_slow = 1.0
    # Coarse first profiles: they only place the discrete choices near the optimum.
    theta, _, _ = sel.profile_mu(structure, tau_slow, sel.initial_theta(structure), tol=0.15)
    tau_slow, theta, _ = sel.profile_tau(structure, tau_slow, theta, tol=0.3)
    log(f"start: mu_v {math.exp(float(theta['log_mu_v'])):.0f}/s, tau_slow {tau_slow:.2f} s")
    table = []
    for name, values in options.items():
        scores = {}
        for value in values:
            trial = dataclasses.replace(structure, **{name: value})
            fitted, scores[value] = sel.fit(trial, tau_slow, theta)
            table.append({"choice": name, "value": value, "validation_log_likelihood": scores[value]})
        choice = max(scores, key=scores.get)
        if name == "smoothness":
            choice = max(v for v in scores if scores[v] >= scores[choice] - SMOOTHNESS_TOLERANCE)
        structure = dataclasses.replace(structure, **{name: choice})
        theta = sel.fit(structure, tau_slow, theta)[0]
        log(f"selected {name} = {choice} (validation log-likelihood {scores[choice]:.2f}; best {max(scores.values()):.2f})")
    tau_slow, theta, tau_on_bound = sel.profile_tau(structure, tau_slow, theta)
    theta, train_ll, mu_on_bound = sel.profile_mu(structure, tau_slow, theta)
    on_bound = [n for n, b in (("tau_slow", tau_on_bound), ("mu_v", mu_on_bound)) if b]
    validation_ll = float(_validation_ll(sel.design(structure, tau_slow), theta, sel.validation))
    log(f"fitted: mu_v {math.exp(float(theta['log_mu_v'])):.0f}/s, tau_slow {tau_slow:.2f} s"
        + (f"; on a search bound: {on_bound}" if on_bound else ""))  # fmt: skip
    return dict(structure=structure, tau_slow=tau_slow, theta=theta, train_log_likelihood=float(train_ll),
                validation_log_likelihood=validation_ll, table=table, on_bound=on_bound, selection=sel)  # fmt: skip
