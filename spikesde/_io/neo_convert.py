r"""Conversion between :class:`SpikeTrains` and Neo objects, and Neo's MATLAB file format.

The mapping: one ``neo.Segment`` per trial (``name="trial i"``, ``index=i``), holding one
``neo.SpikeTrain`` per neuron, in neuron order, in seconds with ``t_start = t0`` and
``t_stop = t1``; the neuron name (if any) is the SpikeTrain's ``name``; the covariate ``NAME`` of
the trial is the Segment annotation ``covariate_NAME`` (its per-trial value), with its per-trial
shape in ``covariate_shape_NAME`` (MATLAB files squeeze singleton axes).

Files: ``.mat`` through ``neo.io.NeoMatlabIO`` (needs only scipy, reads with
``scipy.io.loadmat``: no pickles, so safe for untrusted files). Neo's NIX format needs the
``nixio`` package and ``neo.io.PickleIO`` can run code from a file, so neither is used here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .spike_trains import SpikeTrains, seconds_per

_COVARIATE = "covariate_"
_SHAPE = "covariate_shape_"


def _neo():
    try:
        import neo
        import quantities
    except ImportError:
        raise ImportError("Neo conversion needs neo: pip install spikesde[neo]") from None
    return neo, quantities


def to_neo(trains: SpikeTrains) -> list:
    """One ``neo.Segment`` per trial, one ``neo.SpikeTrain`` (seconds) per neuron.

    Example:
        ```python
        segments = sd.io.to_neo(sd.SpikeTrains([[[0.1, 0.7]]], t0=0.0, t1=1.0))   # one neo.Segment per trial
        back = sd.io.from_neo(segments)
        ```
    """
    neo, pq = _neo()
    segments = []
    for i, trial in enumerate(trains.times):
        segment = neo.Segment(name=f"trial {i}", index=i)
        for name, value in trains.covariates.items():
            segment.annotations[_COVARIATE + name] = value[i]
            segment.annotations[_SHAPE + name] = np.array(value.shape[1:], dtype=np.int64)
        for k, train in enumerate(trial):
            name = None if trains.neuron_names is None else trains.neuron_names[k]
            segment.spiketrains.append(neo.SpikeTrain(train * pq.s, t_start=trains.t0 * pq.s, t_stop=trains.t1 * pq.s, name=name))
        segments.append(segment)
    return segments


def from_neo(segments_or_block, *, units: str | None = None) -> SpikeTrains:
    """Spike trains from a ``neo.Block``, a ``neo.Segment`` or a sequence of Segments.

    Each Segment is a trial and its SpikeTrains, in order, the neurons. When all trains share
    ``t_start`` and ``t_stop`` they are the window; trials at different times but of one duration
    are put on their own clock (window ``[0, duration]``). Covariates come from ``covariate_*``
    Segment annotations, neuron names from the SpikeTrain names when every train has one.

    Neo's SpikeTrains carry their unit, by which they are converted to seconds; ``units`` (``"s"``,
    ``"ms"``, ``"us"``), if given, is the unit the caller expects: a train in another unit raises
    naming the trial, neuron and both units (rather than a silent second reading).

    Example:
        ```python
        segments = sd.io.to_neo(sd.SpikeTrains([[[0.1, 0.7]]], t0=0.0, t1=1.0))
        trains = sd.io.from_neo(segments)   # also a neo.Block or a neo.Segment
        ```
    """
    neo, pq = _neo()
    expected = None if units is None else seconds_per(units)
    if isinstance(segments_or_block, neo.Block):
        segments = list(segments_or_block.segments)
    elif isinstance(segments_or_block, neo.Segment):
        segments = [segments_or_block]
    else:
        segments = list(segments_or_block)
    if not segments:
        raise ValueError("from_neo: zero trials (no Segments)")
    if expected is not None:
        _check_units(segments, units, expected, pq)
    bounds = np.array([_bounds(segment, i, pq) for i, segment in enumerate(segments)])
    t0, t1, shifts = _common_window(bounds)
    times = [
        [st.rescale(pq.s).magnitude.astype(np.float64) - shift for st in segment.spiketrains]
        for segment, shift in zip(segments, shifts)
    ]
    return SpikeTrains(times, t0, t1, covariates=_covariates(segments), neuron_names=_names(segments))


def _check_units(segments, units: str, expected: float, pq) -> None:
    for i, segment in enumerate(segments):
        for k, train in enumerate(segment.spiketrains):
            if not np.isclose(float(train.units.rescale(pq.s).magnitude), expected, rtol=1e-12, atol=0.0):
                raise ValueError(f"trial {i}, neuron {k}: the Neo SpikeTrain is in {train.units.dimensionality.string}, not units={units!r}")


def _bounds(segment, i: int, pq) -> tuple[float, float]:
    trains = segment.spiketrains
    if not trains:
        raise ValueError(f"trial {i}: Segment {segment.name!r} has no SpikeTrains")
    starts = {float(st.t_start.rescale(pq.s).magnitude) for st in trains}
    stops = {float(st.t_stop.rescale(pq.s).magnitude) for st in trains}
    if len(starts) > 1 or len(stops) > 1:
        raise ValueError(
            f"trial {i}: the SpikeTrains of Segment {segment.name!r} differ in t_start {sorted(starts)} or t_stop {sorted(stops)}"
        )
    return starts.pop(), stops.pop()


def _common_window(bounds: np.ndarray) -> tuple[float, float, np.ndarray]:
    """The window and each trial's shift onto it."""
    if (bounds == bounds[0]).all():
        return float(bounds[0, 0]), float(bounds[0, 1]), np.zeros(len(bounds))
    durations = bounds[:, 1] - bounds[:, 0]
    bad = np.flatnonzero(np.abs(durations - durations[0]) > 1e-9 * max(1.0, float(np.abs(bounds).max())))
    if bad.size:
        i = bad[0]
        raise ValueError(f"trial {i} spans {bounds[i].tolist()} s, {durations[i]} s long, but trial 0 is {durations[0]} s long")
    return 0.0, float(durations.max()), bounds[:, 0]


def _covariates(segments) -> dict[str, np.ndarray]:
    names = [key[len(_COVARIATE) :] for key in segments[0].annotations if key.startswith(_COVARIATE) and not key.startswith(_SHAPE)]
    covariates = {}
    for name in names:
        values = []
        for i, segment in enumerate(segments):
            if _COVARIATE + name not in segment.annotations:
                raise ValueError(f"trial {i}: Segment {segment.name!r} lacks the annotation {_COVARIATE + name!r} of trial 0")
            value = np.asarray(segment.annotations[_COVARIATE + name])
            if _SHAPE + name in segment.annotations:
                value = value.reshape(np.atleast_1d(segment.annotations[_SHAPE + name]).astype(int))
            values.append(value)
        if len({v.shape for v in values}) > 1:
            raise ValueError(f"covariate {name!r} has different shapes in different trials: {[v.shape for v in values]}")
        covariates[name] = np.stack(values)
    return covariates


def _names(segments) -> tuple[str, ...] | None:
    names = [tuple(st.name for st in segment.spiketrains) for segment in segments]
    if any(name is None for name in names[0]) or len(set(names[0])) != len(names[0]):
        return None
    for i, trial in enumerate(names):
        if len(trial) == len(names[0]) and trial != names[0]:
            k = next(k for k, (a, b) in enumerate(zip(trial, names[0])) if a != b)
            raise ValueError(f"trial {i}, neuron {k}: SpikeTrain name {trial[k]!r} differs from trial 0's {names[0][k]!r}")
    return tuple(str(name) for name in names[0])


def save_neo_mat(trains: SpikeTrains, path: Path) -> None:
    """Write ``trains`` as a Neo Block to a MATLAB file (``neo.io.NeoMatlabIO``)."""
    neo, _ = _neo()
    block = neo.Block(name="spikesde spike trains")
    block.segments.extend(to_neo(trains))
    neo.io.NeoMatlabIO(str(path)).write_block(block)


def load_neo_mat(path: Path, *, units: str | None = None) -> SpikeTrains:
    """Read a Neo MATLAB file (``neo.io.NeoMatlabIO``) as spike trains; ``units`` as for :func:`from_neo`
    (the file's trains carry their unit; another expected unit raises)."""
    neo, _ = _neo()
    path = Path(path)
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: empty file (0 bytes)")
    try:
        block = neo.io.NeoMatlabIO(str(path)).read_block()
    except Exception as error:  # scipy and neo raise many kinds for a file of another format
        raise ValueError(f"{path}: not a Neo MATLAB file ({type(error).__name__}: {error})") from None
    try:
        return from_neo(block, units=units)
    except (ValueError, TypeError) as error:
        raise type(error)(f"{path}: {error}") from None
