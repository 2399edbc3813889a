r"""The evaluation protocol, the same for every model of one recorded spike train.

Windows: training ``[0, 7)`` s, validation ``[7, 8)`` s, test ``[8, 10)`` s (half-open). A model is
fitted on training data, its structure chosen on validation data, and the test window is scored
once. Scores of a window ``[a, b)``, each given the recorded spikes before the bin or time scored:

* bits per spike at bin widths ``w`` (1 ms, 0.5 ms): Poisson counts in the bins ``[k w, (k+1) w)``
  (a spike on an edge counts in the later bin),
  ``(log L_model - log L_hom) / (n ln 2)``, ``L_hom`` a homogeneous Poisson process at the
  training rate (spikes in the training window over its length);
* bits per spike in continuous time, for models that have a continuous-time likelihood;
* Kistler's coincidence factor Gamma (one-to-one matching within ``+-precision``, rate-corrected)
  averaged over ``n_samples`` model samples started from the recorded history at ``a``.

A scored model provides ``expected_counts(spikes, bin_width, start, stop)`` and ``sample(spikes,
start, stop, n, key)``, and may provide ``continuous_log_likelihood(spikes, start, stop)``
(:class:`~spikesde._likelihood.slif_scoring.FittedSLIF`, the GLM baseline).
"""

import dataclasses
import math

import jax
import numpy as np

from .metrics import bin_counts, binned_poisson_log_likelihood, bits_per_spike, coincidence_factor, poisson_log_likelihood


@dataclasses.dataclass(frozen=True)
class Protocol:
    """Windows ``(start, stop)`` (s, half-open), bin widths (s), Gamma's precision (s), the number of
    model samples for Gamma and their seed."""

    train: tuple[float, float] = (0.0, 7.0)
    validation: tuple[float, float] = (7.0, 8.0)
    test: tuple[float, float] = (8.0, 10.0)
    bin_widths: tuple[float, ...] = (0.001, 0.0005)
    precision: float = 0.002
    n_samples: int = 100
    seed: int = 0

    def __post_init__(self):
        windows = (self.train, self.validation, self.test)
        for name, (a, b) in zip(("train", "validation", "test"), windows):
            if not 0 <= a < b:
                raise ValueError(f"{name}: need 0 <= start < stop, got ({a}, {b})")
        if not (self.train[1] <= self.validation[0] and self.validation[1] <= self.test[0]):
            raise ValueError(f"the windows must not overlap and come in order: {windows}")
        if not all(w > 0 for w in self.bin_widths) or self.precision <= 0 or self.n_samples < 1:
            raise ValueError("bin_widths and precision must be positive and n_samples at least 1")

    def window(self, name) -> tuple[float, float]:
        """The window called ``name`` (``"train"``, ``"validation"``, ``"test"``), or ``name`` itself
        if it is a ``(start, stop)`` pair."""
        if isinstance(name, (tuple, list)) and len(name) == 2 and 0 <= name[0] < name[1]:
            return float(name[0]), float(name[1])
        if name not in ("train", "validation", "test"):
            raise ValueError(f"window must be 'train', 'validation', 'test' or (start, stop), got {name!r}")
        return getattr(self, name)

    def training_rate(self, spikes) -> float:
        """Spikes in the training window over its length (the reference Poisson rate)."""
        return in_window(spikes, *self.train).size / (self.train[1] - self.train[0])


def in_window(spikes, start: float, stop: float) -> np.ndarray:
    """The spikes in ``[start, stop)``."""
    spikes = np.asarray(spikes, dtype=np.float64)
    return spikes[(spikes >= start) & (spikes < stop)]


def binned_bits(model, spikes, bin_width: float, start: float, stop: float, rate: float) -> float:
    """Bits per spike of ``model`` on the bins of ``[start, stop)`` against Poisson at ``rate``."""
    counts = bin_counts(spikes, start, stop, bin_width)
    if counts.sum() == 0:
        raise ValueError(f"no spikes in [{start}, {stop}): bits per spike are undefined")
    expected = np.asarray(model.expected_counts(spikes, bin_width, start, stop))
    reference = binned_poisson_log_likelihood(counts, np.full(counts.size, rate * bin_width))
    return bits_per_spike(binned_poisson_log_likelihood(counts, expected), reference, int(counts.sum()))


def mean_gamma(samples, data, start: float, stop: float, precision: float) -> tuple[float, float]:
    """Gamma of each sample against the data on ``[start, stop)``: mean and standard error."""
    data = in_window(data, start, stop)
    values = [coincidence_factor(in_window(s, start, stop), data, duration=stop - start, precision=precision) for s in samples]
    return float(np.mean(values)), float(np.std(values) / math.sqrt(len(values)))


def score(model, spikes, window="test", protocol: Protocol | None = None, *, samples: bool = True) -> dict:
    """Every score of the protocol for ``model`` on one window of the recorded ``spikes``.

    Arguments:
        model: a fitted model with ``expected_counts`` and ``sample`` (see the module docstring).
        spikes: the recorded spike times (s), the whole recording.
        window: ``"train"``, ``"validation"``, ``"test"`` or a ``(start, stop)`` pair (s).
        protocol: the :class:`Protocol` (default: the standard one).
        samples: also draw ``protocol.n_samples`` samples for Gamma.

    Returns ``{"bits_per_spike_1ms": ..., "bits_per_spike_0.5ms": ..., "bits_per_spike_continuous"
    (if the model has it), "gamma", "gamma_sem", "n_spikes", "window"}``.
    """
    protocol = Protocol() if protocol is None else protocol
    start, stop = protocol.window(window)
    rate = protocol.training_rate(spikes)
    n = int(in_window(spikes, start, stop).size)
    out = {"window": [start, stop], "n_spikes": n, "training_rate": rate}
    for width in protocol.bin_widths:
        out[f"bits_per_spike_{width * 1e3:g}ms"] = binned_bits(model, spikes, width, start, stop, rate)
    if hasattr(model, "continuous_log_likelihood"):
        reference = poisson_log_likelihood(n, stop - start, rate)
        out["bits_per_spike_continuous"] = bits_per_spike(model.continuous_log_likelihood(spikes, start, stop), reference, n)
    if samples:
        trains = model.sample(spikes, start, stop, protocol.n_samples, jax.random.key(protocol.seed))
        out["gamma"], out["gamma_sem"] = mean_gamma(trains, spikes, start, stop, protocol.precision)
        out["samples"] = trains
    return out
