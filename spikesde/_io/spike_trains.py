"""The observed-data container: spike trains of several trials and neurons on one time window."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

__all__ = ["SpikeTrains"]

#: Seconds per unit of the time units spike trains may be given in (``units=``).
UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def seconds_per(units: str) -> float:
    """The length of one ``units`` in seconds (a ValueError naming ``units`` otherwise)."""
    if units not in UNITS:
        raise ValueError(f"units must be one of {sorted(UNITS)} (the unit of the spike times, t0 and t1), got {units!r}")
    return UNITS[units]


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _as_train(times, trial: int, neuron: int) -> np.ndarray:
    """One neuron's spike times as a read-only float64 vector (a copy)."""
    where = f"trial {trial}, neuron {neuron}"
    if np.ndim(times) > 1:
        raise ValueError(f"{where}: spike times must be a 1-D sequence, got shape {np.shape(times)}")
    try:
        return _frozen(np.array(times, dtype=np.float64).reshape(-1))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where}: spike times are not numbers ({error})") from None


def _check_train(train: np.ndarray, where: str, t0: float, t1: float) -> None:
    """Raise naming ``where`` if ``train`` is not finite, sorted and inside ``[t0, t1]``."""
    bad = np.flatnonzero(~np.isfinite(train))
    if bad.size:
        raise ValueError(f"{where}: spike {bad[0]} is {train[bad[0]]} (times must be finite)")
    down = np.flatnonzero(np.diff(train) < 0)
    if down.size:
        k = down[0]
        first, second = float(train[k]), float(train[k + 1])
        raise ValueError(f"{where}: spike times are not sorted (spike {k} at {first!r} > spike {k + 1} at {second!r})")
    outside = np.flatnonzero((train < t0) | (train > t1))
    if outside.size:
        k = outside[0]
        raise ValueError(f"{where}: spike {k} at {float(train[k])!r} is outside the window [t0, t1] = [{t0!r}, {t1!r}]")


def _check_all(trains: list[tuple[np.ndarray, ...]], t0: float, t1: float) -> None:
    """One vectorised pass over every spike; only on failure find and name the first bad train."""
    flat = [train for trial in trains for train in trial]
    times = np.concatenate(flat)
    ends = np.cumsum([train.size for train in flat])
    falls = np.diff(times) < 0
    falls[ends[:-1][(ends[:-1] > 0) & (ends[:-1] < times.size)] - 1] = False  # across two trains
    if np.isfinite(times).all() and not falls.any() and ((times >= t0) & (times <= t1)).all():
        return
    for i, trial in enumerate(trains):
        for k, train in enumerate(trial):
            _check_train(train, f"trial {i}, neuron {k}", t0, t1)


def _check_times(times, t0: float, t1: float) -> tuple[tuple[np.ndarray, ...], ...]:
    if isinstance(times, np.ndarray) and times.dtype != object:
        raise TypeError(
            "times must be nested sequences times[trial][neuron]; for a padded (trials, neurons, k) array use SpikeTrains.from_buffers"
        )
    trials = list(times)
    if not trials:
        raise ValueError("times: zero trials (spike trains need at least one trial)")
    checked = []
    n_neurons = None
    for i, trial in enumerate(trials):
        if isinstance(trial, np.ndarray) and trial.dtype != object and trial.ndim == 1:
            raise ValueError(f"trial {i}: expected a sequence of per-neuron spike-time arrays, got a flat array")
        trial = list(trial)
        if n_neurons is None:
            n_neurons = len(trial)
            if n_neurons == 0:
                raise ValueError("trial 0 has zero neurons")
        elif len(trial) != n_neurons:
            raise ValueError(f"trial {i} has {len(trial)} neurons, but trial 0 has {n_neurons}")
        checked.append(tuple(_as_train(train, i, k) for k, train in enumerate(trial)))
    _check_all(checked, t0, t1)
    return tuple(checked)


def _check_window(t0, t1) -> tuple[float, float]:
    t0, t1 = float(t0), float(t1)
    if not (np.isfinite(t0) and np.isfinite(t1)):
        raise ValueError(f"the window [t0, t1] = [{t0}, {t1}] must be finite")
    if not t1 > t0:
        raise ValueError(f"t1 = {t1} must be greater than t0 = {t0}")
    return t0, t1


def _check_covariates(covariates, n_trials: int) -> dict[str, np.ndarray]:
    if covariates is None:
        return {}
    if not isinstance(covariates, Mapping):
        raise TypeError(f"covariates must be a mapping name -> array, got {type(covariates).__name__}")
    checked = {}
    for name, value in covariates.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"covariate names must be non-empty strings, got {name!r}")
        value = np.array(value)
        if value.dtype == object:
            raise TypeError(f"covariate {name!r}: ragged or object data cannot be stored; give an array with leading axis trials")
        if value.ndim == 0 or value.shape[0] != n_trials:
            raise ValueError(f"covariate {name!r} has shape {value.shape}; its leading axis must be the {n_trials} trials")
        checked[name] = _frozen(value)
    return checked


def _check_names(names, n_neurons: int) -> tuple[str, ...] | None:
    if names is None:
        return None
    names = tuple(names)
    if len(names) != n_neurons:
        raise ValueError(f"neuron_names has {len(names)} names for {n_neurons} neurons")
    for k, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f"neuron_names[{k}] = {name!r} is not a string")
    if len(set(names)) != n_neurons:
        raise ValueError(f"neuron_names are not unique: {names}")
    return names


def _snap_rounding(buffers, t0: float, t1: float) -> np.ndarray:
    """float64 buffers, spikes rounded past the window by a coarser dtype put on its edge."""
    buffers = np.asarray(buffers)
    if not np.issubdtype(buffers.dtype, np.floating) or buffers.dtype.itemsize >= 8:
        return np.asarray(buffers, dtype=np.float64)
    tolerance = 4 * float(np.finfo(buffers.dtype).eps) * max(abs(t0), abs(t1), 1.0)
    buffers = buffers.astype(np.float64)
    near = np.isfinite(buffers) & (buffers >= t0 - tolerance) & (buffers <= t1 + tolerance)
    return np.where(near, np.clip(buffers, t0, t1), buffers)


@dataclasses.dataclass(frozen=True, eq=False)
class SpikeTrains:
    """Observed spike trains: trials x neurons, ragged sorted times in ``[t0, t1]``.

    Host-side data (numpy), not a pytree: convert to the padded arrays the simulator and the losses
    use with :meth:`to_buffers`, and back with :meth:`from_buffers`. Every trial shares the window
    ``[t0, t1]`` (the trial's own clock) and the same neurons.

    Fields:
        times: ``times[trial][neuron]``, the sorted float64 spike times (read-only arrays).
        t0, t1: the observation window, ``t0 < t1``; every spike lies in it.
        covariates: per-trial covariates, each an array whose leading axis is the trials
            (e.g. ``"stimulus"``: the input current of each trial).
        neuron_names: optional unique names of the neurons.
        units: the unit of ``times``, ``t0`` and ``t1`` as given (``"s"``, ``"ms"``, ``"us"``;
            NEST writes ms); they are stored in seconds.

    Bad data raises ``ValueError`` naming the trial, the neuron and the problem (unsorted, NaN or
    inf, outside the window, a trial with another number of neurons, zero trials, ``t1 <= t0``,
    covariates with the wrong leading length).

    Example:
        ```python
        trains = sd.SpikeTrains([[[0.1, 0.7], []], [[0.4], [0.2, 0.9]]], t0=0.0, t1=1.0)   # 2 trials, 2 neurons
        trains.to_buffers().shape                                                          # (2, 2, 2), +inf padded
        ```
    """

    times: tuple[tuple[np.ndarray, ...], ...]
    t0: float
    t1: float
    covariates: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    neuron_names: tuple[str, ...] | None = None
    units: dataclasses.InitVar[str] = "s"

    def __post_init__(self, units: str = "s"):
        scale = seconds_per(units)
        t0, t1 = _check_window(self.t0, self.t1)
        times = _check_times(self.times, t0, t1)
        if scale != 1.0:
            t0, t1 = t0 * scale, t1 * scale
            times = tuple(tuple(_frozen(train * scale) for train in trial) for trial in times)
        object.__setattr__(self, "t0", t0)
        object.__setattr__(self, "t1", t1)
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "covariates", _check_covariates(self.covariates, len(times)))
        object.__setattr__(self, "neuron_names", _check_names(self.neuron_names, len(times[0])))

    # -- shape and counts -------------------------------------------------------------------------

    @property
    def n_trials(self) -> int:
        return len(self.times)

    @property
    def n_neurons(self) -> int:
        return len(self.times[0])

    @property
    def duration(self) -> float:
        return self.t1 - self.t0

    def spike_counts(self) -> np.ndarray:
        """``(trials, neurons)`` int array: the number of spikes of each train."""
        return np.array([[len(train) for train in trial] for trial in self.times], dtype=np.int64)

    def max_count(self) -> int:
        """The largest number of spikes of any one train (0 if there are no spikes)."""
        return int(self.spike_counts().max())

    def __eq__(self, other) -> bool:
        """Equal window, names, covariates and bit-identical spike times."""
        if not isinstance(other, SpikeTrains):
            return NotImplemented
        if (self.t0, self.t1, self.neuron_names) != (other.t0, other.t1, other.neuron_names):
            return False
        if self.spike_counts().shape != other.spike_counts().shape or set(self.covariates) != set(other.covariates):
            return False
        same_times = all(np.array_equal(a, b) for ta, tb in zip(self.times, other.times) for a, b in zip(ta, tb))
        same_covariates = all(np.array_equal(v, other.covariates[k]) for k, v in self.covariates.items())
        return same_times and same_covariates

    def __repr__(self) -> str:
        covariates = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self.covariates.items())
        return (
            f"SpikeTrains(n_trials={self.n_trials}, n_neurons={self.n_neurons}, window=[{self.t0}, {self.t1}], "
            f"spikes={int(self.spike_counts().sum())}, covariates=[{covariates}])"
        )

    # -- padded buffers ---------------------------------------------------------------------------

    @classmethod
    def from_buffers(
        cls, buffers, t0: float, t1: float, covariates=None, neuron_names=None, *, layout: str | None = None, units: str = "s"
    ) -> SpikeTrains:
        """Spike trains from a ``(trials, neurons, k)`` buffer padded with ``+inf``.

        The finite entries of each row are its spikes, the ``+inf`` entries padding (as in
        :attr:`spikesde.Solution.spike_times`). A 2-D buffer needs ``layout``: ``"neurons"`` (one
        trial, ``(neurons, k)``) or ``"trials"`` (one neuron, ``(trials, k)``); without it a
        ValueError (the two readings differ). NaN, ``-inf`` and padding followed by a finite time
        are errors naming the trial and neuron. ``units``: as for the constructor.

        Buffers of a floating dtype coarser than float64 (a float32 solve) cannot hold ``t0`` and
        ``t1`` exactly: their spikes within ``4 eps max(|t0|, |t1|, 1)`` (``eps`` of that dtype)
        outside the window are put on its edge; anything further out is an error.
        """
        buffers = _snap_rounding(buffers, float(t0), float(t1))
        if buffers.ndim == 2:
            if layout not in ("neurons", "trials"):
                raise ValueError(f"buffers of shape {buffers.shape} are 2-D: pass layout='neurons' (one trial, (neurons, k)) "
                                 f"or layout='trials' (one neuron, (trials, k)), got layout={layout!r}")  # fmt: skip
            buffers = buffers[None] if layout == "neurons" else buffers[:, None]
        if buffers.ndim != 3:
            raise ValueError(f"buffers must have shape (trials, neurons, max_spikes), got {buffers.shape}")
        times = []
        for i, trial in enumerate(buffers):
            row = []
            for k, buffer in enumerate(trial):
                padding = buffer == np.inf
                stored = int(np.argmax(padding)) if padding.any() else buffer.shape[0]
                if padding[stored:].size and not padding[stored:].all():
                    raise ValueError(f"trial {i}, neuron {k}: a finite spike time follows +inf padding at slot {stored}")
                row.append(buffer[:stored])
            times.append(row)
        return cls(times, t0, t1, covariates={} if covariates is None else covariates, neuron_names=neuron_names, units=units)

    def to_buffers(self, max_spikes: int | None = None, dtype=np.float64) -> np.ndarray:
        """The ``(trials, neurons, max_spikes)`` array of spike times padded with ``+inf``.

        Arguments:
            max_spikes: buffer length; default :meth:`max_count` (at least 1). A train with more
                spikes is an error naming it (never silently truncated).
            dtype: floating dtype of the result (float32 rounds the times).
        """
        counts = self.spike_counts()
        if max_spikes is None:
            max_spikes = max(1, int(counts.max()))
        if isinstance(max_spikes, bool) or int(max_spikes) != max_spikes or max_spikes < 1:
            raise ValueError(f"max_spikes must be a positive integer, got {max_spikes!r}")
        max_spikes = int(max_spikes)
        if (counts > max_spikes).any():
            i, k = np.argwhere(counts > max_spikes)[0]
            raise ValueError(
                f"trial {i}, neuron {k} has {counts[i, k]} spikes, more than max_spikes = {max_spikes} "
                f"(largest count: {counts.max()}); raise max_spikes"
            )
        if not np.issubdtype(np.dtype(dtype), np.floating):
            raise TypeError(f"dtype must be a floating dtype, got {dtype}")
        out = np.full((self.n_trials, self.n_neurons, max_spikes), np.inf, dtype=dtype)
        for i, trial in enumerate(self.times):
            for k, train in enumerate(trial):
                out[i, k, : len(train)] = train
        return out

    def converted(self, units: str) -> SpikeTrains:
        """These trains read as being in ``units`` (e.g. ms from a loader of NEST output), in seconds."""
        return SpikeTrains(self.times, self.t0, self.t1, covariates=self.covariates, neuron_names=self.neuron_names, units=units)

    # -- subsets ----------------------------------------------------------------------------------

    def select(self, trials) -> SpikeTrains:
        """The trials at the given indices (ints, a slice or a boolean mask), covariates with them."""
        index = np.atleast_1d(np.arange(self.n_trials)[trials])
        if index.size == 0:
            raise ValueError("select: no trials selected")
        covariates = {k: v[index] for k, v in self.covariates.items()}
        times = [self.times[i] for i in index]
        return SpikeTrains(times, self.t0, self.t1, covariates=covariates, neuron_names=self.neuron_names)

    def split(self, test_fraction: float | None = None, *, test_trials=None, seed: int = 0) -> tuple[SpikeTrains, SpikeTrains]:
        """Split the trials into ``(train, test)``.

        Arguments:
            test_fraction: the fraction of trials (rounded, at least one, at most all but one)
                drawn at random with ``seed`` for the test set.
            test_trials: explicit test-trial indices instead (exclusive with ``test_fraction``).
            seed: seed of the random draw.
        """
        if (test_fraction is None) == (test_trials is None):
            raise ValueError("split: give exactly one of test_fraction and test_trials")
        if self.n_trials < 2:
            raise ValueError(f"split: needs at least 2 trials, have {self.n_trials}")
        if test_trials is not None:
            test = np.unique(np.arange(self.n_trials)[np.asarray(test_trials)])
        else:
            if not 0 < test_fraction < 1:
                raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
            n_test = min(max(1, round(test_fraction * self.n_trials)), self.n_trials - 1)
            test = np.sort(np.random.default_rng(seed).permutation(self.n_trials)[:n_test])
        train = np.setdiff1d(np.arange(self.n_trials), test)
        if test.size == 0 or train.size == 0:
            raise ValueError(f"split: test trials {test.tolist()} leave an empty train or test set")
        return self.select(train), self.select(test)

    def restrict(self, t0: float, t1: float) -> SpikeTrains:
        """The spikes inside ``[t0, t1]`` (a sub-window of this one), covariates kept."""
        t0, t1 = _check_window(t0, t1)
        if t0 < self.t0 or t1 > self.t1:
            raise ValueError(f"restrict: [{t0}, {t1}] is not inside the window [{self.t0}, {self.t1}]")
        times = [[train[(train >= t0) & (train <= t1)] for train in trial] for trial in self.times]
        return SpikeTrains(times, t0, t1, covariates=self.covariates, neuron_names=self.neuron_names)
