"""The per-width refit of the grasshopper SLIF (``grasshopper_refit``): its binned likelihood is the
protocol's score, the refit reads no spike of the validation or test window, and the choice between
refit and exact-time fit is made on the validation window. The tests that fit share one compiled
fit (about 15 s of compilation) and are slow; the bookkeeping is checked fast."""

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikesde._experiments.grasshopper import slif_model
from spikesde._experiments.grasshopper_refit import binned_data, refit_per_width
from spikesde._experiments.grasshopper_select import SLIFSelection, Structure
from spikesde._io.spike_trains import SpikeTrains
from spikesde._likelihood.binned_fit import BinnedData, edge_moved
from spikesde._likelihood.metrics import bin_counts, binned_poisson_log_likelihood
from spikesde._likelihood.protocol import Protocol
from spikesde._likelihood.slif_scoring import PerWidthSLIF

STIM_DT, DURATION, WIDTH = 5e-5, 4.0, 0.001
PROTOCOL = Protocol(train=(0.0, 2.5), validation=(2.5, 3.25), test=(3.25, DURATION), bin_widths=(WIDTH,))
CONFIG = types.SimpleNamespace(dt=5e-4, n_basis=4, filter_duration=0.03, history_taus=(0.002, 0.01), transform="log_zscore",
                               mu_v_grid=(100.0, 3200.0), beta=5.0, alpha=0.0, v_threshold=1.0, tau_s=1.0, v0=1.0,
                               newton_steps=15, smoothness=0.0)  # fmt: skip
STRUCTURE = Structure("log_zscore", 0.03, (0.002, 0.01), 0.0)


def stimulus_and_spikes(seed=0):
    """A positive stimulus and spikes driven by its log 5 ms earlier (rate ~60 Hz, dead time 3 ms,
    times on a 0.1 ms grid, so some sit on a bin edge and some inside)."""
    rng = np.random.default_rng(seed)
    log_stimulus = 0.5 * np.convolve(rng.normal(size=int(round(DURATION / STIM_DT))), np.ones(100) / 10, mode="same")
    drive = np.concatenate([np.zeros(10), log_stimulus[::10][:-10]])
    p = -np.expm1(-60 * np.exp(2.0 * (drive - drive.mean()) / drive.std()) * 5e-4)
    spikes, last = [], -1.0
    for k in np.flatnonzero(rng.uniform(size=p.size) < p):
        if k > 0 and k * 5e-4 - last > 3e-3:
            spikes.append(round(k * 5e-4 + 1e-4 * rng.integers(0, 5), 4))
            last = spikes[-1]
    return np.exp(log_stimulus), np.asarray(spikes)


def poisoned(spikes, window, seed):
    """The same number of spikes in ``window``, at fresh random times on the 0.1 ms grid (one per
    3 ms slot: no two in one bin), the others unchanged: the binned data keep their shapes."""
    a, b = window
    inside = (spikes >= a) & (spikes < b)
    rng = np.random.default_rng(seed)
    slots = np.sort(rng.choice(int((b - a) / 3e-3) - 1, size=int(inside.sum()), replace=False))
    return np.sort(np.concatenate([spikes[~inside], np.round(a + 3e-3 * slots + 1e-4 * rng.integers(0, 10, slots.size), 4)]))


def trains_of(stimulus, spikes):
    return SpikeTrains([[spikes]], 0.0, DURATION, covariates={"stimulus": stimulus[None], "stimulus_dt": np.array([STIM_DT])})


def selected(stimulus, spikes, theta=None):
    sel = SLIFSelection(trains_of(stimulus, spikes), CONFIG, PROTOCOL)
    theta = {**sel.initial_theta(STRUCTURE), "log_mu_v": jnp.log(400.0)} if theta is None else theta
    return dict(selection=sel, structure=STRUCTURE, tau_slow=1.0, theta=theta)


@pytest.fixture(scope="module")
def recording():
    """The recording, its selection and its refit at 1 ms from a flat start (one compiled fit for
    every test: the poisoned recordings keep the shapes)."""
    with jax.enable_x64(True):
        stimulus, spikes = stimulus_and_spikes()
        clean = selected(stimulus, spikes)
        return stimulus, spikes, clean, refit_per_width(clean, PROTOCOL, CONFIG.newton_steps, log=lambda _: None)[WIDTH]


def test_binned_data_moves_spikes_to_the_right_edge_and_reads_nothing_after_the_end():
    """A spike on an edge moves one bin on; the occupied bins, their edges on the grid, their counts
    and the weights of a window; spikes at or after ``end`` are dropped."""
    np.testing.assert_allclose(edge_moved([0.0, 0.0004, 0.001, 0.00199], 0.001), [0.001, 0.001, 0.002, 0.002])
    spikes = [0.0003, 0.001, 0.0052, 0.0079, 0.008, 0.0095]
    data = BinnedData.build(spikes, 0.002, 0.008, 0.0005, lambda grid: types.SimpleNamespace(grid=grid))
    times = np.asarray(data.design.grid.times)
    np.testing.assert_allclose(times, 0.0005 * np.arange(17))  # edge-moved spikes are grid nodes
    np.testing.assert_array_equal(np.asarray(data.design.grid.counts)[[4, 12, 16]], [2, 1, 1])
    assert int(np.sum(np.asarray(data.design.grid.counts))) == 4
    np.testing.assert_array_equal(data.bins, [0, 2, 3])
    np.testing.assert_array_equal(data.counts, [2, 1, 1])
    np.testing.assert_allclose(times[np.asarray(data.edges)], [[0.0, 0.002], [0.004, 0.006], [0.006, 0.008]])
    bins, steps = data.window(0.002, 0.006)
    np.testing.assert_array_equal(bins, [0, 1, 0])
    np.testing.assert_array_equal(np.flatnonzero(np.asarray(steps)), np.arange(4, 12))
    with pytest.raises(ValueError, match="bin_width"):
        BinnedData.build(spikes, 0.0015, 0.008, 0.001, lambda grid: grid)


def test_per_width_model_scores_each_width_by_its_own_fit():
    """Binned scores come from the model fitted at that width (the exact-time one elsewhere and with
    ``exact_history``); continuous scores and samples from the exact-time fit."""

    class Constant:
        def __init__(self, value):
            self.value = value

        def expected_counts(self, spikes, bin_width, start, stop, exact_history=False):
            return np.full(round((stop - start) / bin_width), self.value)

        def continuous_log_likelihood(self, spikes, start, stop):
            return self.value

        def sample(self, spikes, start, stop, n, key):
            return [np.array([self.value])] * n

    model = PerWidthSLIF(Constant(1.0), {0.001: Constant(2.0)})
    assert model.expected_counts([], 0.001, 0.0, 0.004).tolist() == [2.0] * 4
    assert model.expected_counts([], 0.0005, 0.0, 0.001).tolist() == [1.0] * 2
    assert model.expected_counts([], 0.001, 0.0, 0.002, exact_history=True).tolist() == [1.0] * 2
    assert model.continuous_log_likelihood([], 0.0, 1.0) == 1.0 and model.sample([], 0.0, 1.0, 2, None)[1].tolist() == [1.0]


@pytest.mark.slow
def test_the_binned_likelihood_is_the_protocols(recording, x64):
    """The binned log-likelihood of a window equals the protocol's: Poisson counts against the
    scored model's expected counts."""
    stimulus, spikes, clean, result = recording
    data = binned_data(clean, WIDTH)
    model = slif_model({**clean, "theta": result["theta"]}, DURATION, CONFIG.dt)
    for window in (PROTOCOL.train, PROTOCOL.validation, (1.0, 1.5)):
        expected = model.expected_counts(spikes, WIDTH, *window)
        reference = binned_poisson_log_likelihood(bin_counts(spikes, *window, WIDTH), expected)
        assert float(data.log_likelihood(result["theta"], data.window(*window))) == pytest.approx(reference, rel=1e-10)
        np.testing.assert_allclose(data.expected(result["theta"], *window), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.slow
def test_the_refit_reads_no_validation_or_test_spike(recording, x64):
    """Poison the validation window's spikes, then the test window's spikes and stimulus: the refit
    parameters are unchanged; the validation scores change only with the validation spikes."""
    stimulus, spikes, clean, result = recording
    stimulus_test = stimulus.copy()
    stimulus_test[int(PROTOCOL.test[0] / STIM_DT) :] = np.random.default_rng(3).uniform(0.5, 2.0, stimulus.size - int(PROTOCOL.test[0] / STIM_DT))
    cases = {"validation": (stimulus, poisoned(spikes, PROTOCOL.validation, 1)),
             "test": (stimulus_test, poisoned(spikes, PROTOCOL.test, 2))}  # fmt: skip
    quiet = lambda _: None  # noqa: E731
    for name, (s, t) in cases.items():
        assert not np.array_equal(t, spikes)
        other = refit_per_width(selected(s, t), PROTOCOL, CONFIG.newton_steps, log=quiet)[WIDTH]
        for key, value in result["refit"].items():
            np.testing.assert_allclose(np.asarray(other["refit"][key]), np.asarray(value), rtol=1e-9, atol=1e-9, err_msg=f"{name}: {key}")
        same = np.allclose(list(other["validation_log_likelihood"].values()), list(result["validation_log_likelihood"].values()), rtol=1e-9)
        assert same == (name == "test"), name


@pytest.mark.slow
def test_refit_or_exact_is_chosen_on_validation(recording, x64):
    """The choice is the better of the two validation scores, each the protocol's own; an exact-time
    fit that predicts validation better than a refit (here: a refit on a training window whose
    spikes are noise) is kept, and then scores every bin width."""
    stimulus, spikes, clean, result = recording
    counts = bin_counts(spikes, *PROTOCOL.validation, WIDTH)
    for name, theta in (("exact", clean["theta"]), ("refit", None)):
        theta = result["theta"] if theta is None else theta
        model = slif_model({**clean, "theta": theta}, DURATION, CONFIG.dt)
        expected = model.expected_counts(spikes, WIDTH, *PROTOCOL.validation)
        score = binned_poisson_log_likelihood(counts, expected)
        assert result["validation_log_likelihood"][name] == pytest.approx(score, rel=1e-10), name
    scores = result["validation_log_likelihood"]
    assert result["choice"] == max(scores, key=scores.get) == "refit"
    # Start from the clean refit; a refit on noise in the training window loses on validation.
    noisy = selected(stimulus, poisoned(spikes, PROTOCOL.train, 4), theta=result["theta"])
    per_width = refit_per_width(noisy, PROTOCOL, CONFIG.newton_steps, log=lambda _: None)
    row = per_width[WIDTH]
    assert row["validation_log_likelihood"]["refit"] < row["validation_log_likelihood"]["exact"]
    assert row["train_log_likelihood"]["refit"] > row["train_log_likelihood"]["exact"]
    assert row["choice"] == "exact" and row["theta"] is result["theta"]
    model = slif_model(noisy, DURATION, CONFIG.dt, per_width)
    assert model.binned[WIDTH] is model.exact
