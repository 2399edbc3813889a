"""The evaluation protocol: the binning convention, Kistler's Gamma, the GLM's convergence check,
the scoring function, and a selection that never reads the test window."""

import math
import types

import numpy as np
import pytest

from spikesde._likelihood.glm import GLMNotConverged, fit_glm, history_basis, history_covariates
from spikesde._likelihood.metrics import bin_counts, coincidence_factor, coincidences
from spikesde._likelihood.protocol import Protocol, score


def test_a_spike_on_a_bin_edge_counts_in_the_later_bin():
    np.testing.assert_array_equal(bin_counts([0.001, 0.0015, 0.003], 0.0, 0.004, 0.001), [0, 2, 0, 1])
    # Times on a 0.1 ms grid as floats (k * 1e-4 is not exact): every one on an edge of 1 ms and
    # 0.5 ms bins lands in the bin that starts there.
    k = np.arange(1, 100_000)
    times = k * 1e-4
    for width, per_bin in ((0.001, 10), (0.0005, 5)):
        counts = bin_counts(times, 0.0, 10.0, width)
        np.testing.assert_array_equal(counts[1:], per_bin)
        assert counts[0] == per_bin - 1  # no spike at t = 0
    with pytest.raises(ValueError, match="bin_width"):
        bin_counts([0.1], 0.0, 1.0, 0.3)


def test_kistler_gamma_matches_a_hand_computed_case():
    model, data = [0.1, 0.5, 0.5015], [0.1005, 0.5, 0.9]
    # One-to-one: 0.1005 <-> 0.1 and 0.5 <-> 0.5; 0.5015 is within 2 ms of 0.5 but that data spike
    # is taken (counting pairs would give 3).
    assert coincidences(model, data, 0.002) == 2
    nu, n = 3 / 1.0, 3
    gamma = (2 - 2 * nu * 0.002 * n) / (0.5 * (n + n)) / (1 - 2 * nu * 0.002)
    assert gamma == pytest.approx(1.964 / 2.964, rel=1e-12)
    assert coincidence_factor(model, data, duration=1.0, precision=0.002) == pytest.approx(gamma, rel=1e-12)
    assert coincidence_factor(data, data, duration=1.0) == pytest.approx(1.0)


def test_glm_reports_non_convergence_and_recovers_a_closed_form():
    rng = np.random.default_rng(1)
    x = (rng.uniform(size=4000) < 0.3).astype(float)[:, None]
    y = rng.poisson(np.where(x[:, 0] > 0, 0.4, 0.1))
    with pytest.raises(GLMNotConverged, match="did not converge in 1 Newton steps"):
        fit_glm(x, y, max_iter=1)
    state = fit_glm(x, y, max_iter=1, strict=False)
    assert not state.converged and state.state()["converged"] is False and state.decrement > 1e-10
    fit = fit_glm(x, y)
    # A binary covariate: the MLE is the mean count of each group.
    on, off = y[x[:, 0] > 0].mean(), y[x[:, 0] == 0].mean()
    eta = fit.log_rate(np.array([[0.0], [1.0]]))
    np.testing.assert_allclose(np.exp(eta), [off, on], rtol=1e-8)
    assert fit.converged and fit.iterations < 20


def test_history_covariates_are_causal():
    counts = np.zeros(20)
    counts[5] = 1
    h = history_covariates(counts, history_basis(3, 0.01, 0.001), (1.0,), 0.001)
    assert np.all(h[:6] == 0) and np.any(h[6] > 0)
    assert h[6, -1] == pytest.approx(math.exp(-0.001))


class _Homogeneous:
    """A Poisson model at a fixed rate: its bits per spike against itself are zero."""

    def __init__(self, rate):
        self.rate = rate

    def expected_counts(self, spikes, bin_width, start, stop):
        return np.full(int(round((stop - start) / bin_width)), self.rate * bin_width)

    def continuous_log_likelihood(self, spikes, start, stop):
        n = np.sum((np.asarray(spikes) >= start) & (np.asarray(spikes) < stop))
        return n * math.log(self.rate) - self.rate * (stop - start)

    def sample(self, spikes, start, stop, n, key):
        rng = np.random.default_rng(0)
        return [np.sort(rng.uniform(start, stop, rng.poisson(self.rate * (stop - start)))) for _ in range(n)]


def test_score_is_zero_bits_for_poisson_at_the_training_rate():
    rng = np.random.default_rng(0)
    spikes = np.sort(rng.uniform(0, 10, 900))
    protocol = Protocol(n_samples=20)
    rate = protocol.training_rate(spikes)
    assert rate == pytest.approx(np.sum(spikes < 7.0) / 7.0)
    result = score(_Homogeneous(rate), spikes, "test", protocol)
    for key in ("bits_per_spike_1ms", "bits_per_spike_0.5ms", "bits_per_spike_continuous"):
        assert result[key] == pytest.approx(0.0, abs=1e-12), key
    # Independent trains: one-to-one matching falls below Kistler's chance level 2 nu delta N_data
    # at 90 Hz (a data spike can take only one model spike), so Gamma is slightly negative.
    assert -0.3 < result["gamma"] < 0 and len(result["samples"]) == 20
    assert score(_Homogeneous(rate), spikes, (2.0, 3.0), protocol, samples=False)["window"] == [2.0, 3.0]
    with pytest.raises(ValueError, match="overlap"):
        Protocol(validation=(6.0, 8.0))


@pytest.mark.slow
def test_selection_never_reads_the_test_window(x64):
    """Poison the test window (its spikes and its stimulus): the selected SLIF, its per-width refit
    and the GLM, their parameters and every validation score are unchanged."""
    pytest.importorskip("nitime")
    from spikesde._experiments.grasshopper_glm import select_glm
    from spikesde._experiments.grasshopper_refit import refit_per_width
    from spikesde._experiments.grasshopper_select import select_slif
    from spikesde._io.grasshopper import read_grasshopper
    from spikesde._io.spike_trains import SpikeTrains

    trains = read_grasshopper(1)
    spikes = trains.times[0][0]
    rng = np.random.default_rng(0)
    poisoned_spikes = np.sort(np.concatenate([spikes[spikes < 8.0], rng.uniform(8.0, 10.0, 400)]))
    stimulus = trains.covariates["stimulus"].copy()
    stimulus[0, 8 * 20_000 :] = rng.uniform(0.02, 1.0, stimulus.shape[1] - 8 * 20_000)
    poisoned = SpikeTrains([[poisoned_spikes]], 0.0, trains.t1, covariates={**trains.covariates, "stimulus": stimulus})
    config = types.SimpleNamespace(dt=5e-4, n_basis=4, filter_duration=0.03, history_taus=(0.002, 0.01), transform="log_zscore",
                                   mu_v_grid=(100.0, 3200.0), beta=5.0, alpha=0.0, v_threshold=1.0, tau_s=1.0, v0=1.0,
                                   newton_steps=15, smoothness=0.0)  # fmt: skip
    protocol = Protocol(bin_widths=(0.001,))
    quiet = lambda _: None  # noqa: E731
    results = [select_slif(t, config, protocol, quiet) for t in (trains, poisoned)]
    assert results[0]["structure"] == results[1]["structure"] and results[0]["tau_slow"] == results[1]["tau_slow"]
    # Equal up to rounding: the stimulus is filtered by FFT over the whole recording, which mixes
    # the test window into earlier samples at the level of float64 round-off (~1e-16), no more.
    same = lambda a, b: np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-9, atol=1e-9)  # noqa: E731
    same([r["validation_log_likelihood"] for r in results[0]["table"]], [r["validation_log_likelihood"] for r in results[1]["table"]])
    assert [r["value"] for r in results[0]["table"]] == [r["value"] for r in results[1]["table"]]
    for key, value in results[0]["theta"].items():
        same(value, results[1]["theta"][key])
    # The per-width refit of the selected SLIF (grasshopper_refit) reads no test spike either.
    refits = [refit_per_width(r, protocol, config.newton_steps, quiet)[0.001] for r in results]
    assert refits[0]["choice"] == refits[1]["choice"]
    for key, value in refits[0]["refit"].items():
        same(value, refits[1]["refit"][key])
    same(list(refits[0]["validation_log_likelihood"].values()), list(refits[1]["validation_log_likelihood"].values()))
    glm = [select_glm(t, config, protocol, quiet) for t in (trains, poisoned)]
    strip = lambda settings: {w: {k: v for k, v in row.items() if not isinstance(v, float)} for w, row in settings.items()}  # noqa: E731
    assert strip(glm[0][1]) == strip(glm[1][1])
    same([r["validation_log_likelihood"] for r in glm[0][2]], [r["validation_log_likelihood"] for r in glm[1][2]])
    same(glm[0][0][0.001].coef, glm[1][0][0.001].coef)
