"""Readers and writers of spike trains: npz, NWB, Neo; round trips and every bad-file error."""

import importlib

import numpy as np
import pytest

from spikesde import SpikeTrains, load_spike_trains, save_spike_trains
from spikesde.io import from_neo, to_neo


@pytest.fixture(scope="module")
def trains():
    rng = np.random.default_rng(7)
    times = [[np.sort(rng.uniform(-0.5, 1.5, size=rng.integers(0, 8))) for _ in range(3)] for _ in range(4)]
    times[0][0] = np.array([-0.5, 0.1, 1.5])  # both window edges
    times[3][2] = np.array([])
    covariates = {
        "stimulus": rng.normal(size=(4, 6)),
        "amplitude": np.array([0.5, 1.0, 1.5, 2.0]),
        "condition": np.array([1, 2, 1, 2]),
        "image": rng.normal(size=(4, 2, 3)),
    }
    return SpikeTrains(times, -0.5, 1.5, covariates=covariates, neuron_names=("n0", "n1", "n2"))


def assert_same(got: SpikeTrains, want: SpikeTrains, atol=0.0):
    assert (got.t0, got.t1) == (want.t0, want.t1)
    assert got.neuron_names == want.neuron_names
    assert set(got.covariates) == set(want.covariates)
    for name, value in want.covariates.items():
        np.testing.assert_array_equal(got.covariates[name], value)
        assert got.covariates[name].dtype.kind == value.dtype.kind
    np.testing.assert_array_equal(got.spike_counts(), want.spike_counts())
    for trial_got, trial_want in zip(got.times, want.times):
        for a, b in zip(trial_got, trial_want):
            np.testing.assert_allclose(a, b, rtol=0, atol=atol)


# -- round trips --------------------------------------------------------------------------------


def test_npz_round_trip_is_bit_identical(trains, tmp_path):
    path = save_spike_trains(trains, tmp_path / "data.npz")
    assert load_spike_trains(path) == trains
    unnamed = SpikeTrains(trains.times, trains.t0, trains.t1)
    assert load_spike_trains(save_spike_trains(unnamed, tmp_path / "plain.npz")) == unnamed


def test_nwb_round_trip_is_bit_identical(trains, tmp_path):
    path = save_spike_trains(trains, tmp_path / "data.nwb")
    assert load_spike_trains(path) == trains


def test_nwb_session_clock_as_other_tools_see_it(trains, tmp_path, monkeypatch):
    """spike_times are on the session clock; without the exact column a time comes back within
    half an ulp of its session time."""
    import pynwb

    path = save_spike_trains(trains, tmp_path / "data.nwb")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        stride = 4.0  # the smallest power of two >= 1.5 * (t1 - t0) = 3 s
        np.testing.assert_array_equal(nwb.trials["start_time"].data[:], -0.5 + stride * np.arange(4))
        np.testing.assert_array_equal(nwb.trials["stop_time"].data[:], 1.5 + stride * np.arange(4))
        session = np.asarray(nwb.units["spike_times"][1])
    want = np.concatenate([trains.times[i][1] + stride * i for i in range(4)])
    np.testing.assert_array_equal(session, want)
    # Read as a tool that knows nothing of the exact column does: within half an ulp.
    monkeypatch.setattr(importlib.import_module("spikesde._io.nwb"), "_EXACT", "no_such_column")
    got = load_spike_trains(path)
    assert_same(got, trains, atol=0.5 * np.spacing(trains.t1 + 3 * stride))


def test_neo_in_memory_round_trip(trains):
    segments = to_neo(trains)
    assert len(segments) == 4 and len(segments[1].spiketrains) == 3
    st = segments[1].spiketrains[2]
    assert str(st.units.dimensionality) == "s" and float(st.t_start) == -0.5 and float(st.t_stop) == 1.5 and st.name == "n2"
    assert from_neo(segments) == trains
    import neo

    block = neo.Block()
    block.segments.extend(to_neo(trains))
    assert from_neo(block) == trains


def test_neo_mat_file_round_trip(trains, tmp_path):
    path = save_spike_trains(trains, tmp_path / "data.mat")
    assert load_spike_trains(path) == trains


def test_from_neo_converts_units_and_puts_trials_on_their_own_clock():
    import neo
    import quantities as pq

    segments = []
    for i, start in enumerate([10.0, 20.0]):
        segment = neo.Segment(name=f"rec {i}")
        segment.spiketrains.append(neo.SpikeTrain([start * 1000 + 250.0] * pq.ms, t_start=start * pq.s, t_stop=(start + 2) * pq.s))
        segments.append(segment)
    got = from_neo(segments)
    assert (got.t0, got.t1) == (0.0, 2.0) and got.neuron_names is None
    assert [trial[0].tolist() for trial in got.times] == [[0.25], [0.25]]


def test_foreign_nwb_units_with_trials_table(tmp_path):
    """An NWB file written with pynwb directly: units on the session clock, a trials table."""
    import datetime

    import pynwb

    nwb = pynwb.NWBFile(session_description="foreign", identifier="x", session_start_time=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    nwb.add_trial_column("contrast", "stimulus contrast")
    nwb.add_trial_column("label", "condition label")
    nwb.add_trial(start_time=1.0, stop_time=3.0, contrast=0.25, label="left")
    nwb.add_trial(start_time=5.0, stop_time=7.0, contrast=0.75, label="right")
    nwb.add_unit(spike_times=[0.5, 1.25, 2.5, 4.0, 5.0, 6.75, 8.0])  # 0.5, 4.0, 8.0 lie outside the trials
    nwb.add_unit(spike_times=[3.0, 5.5])
    path = tmp_path / "foreign.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    got = load_spike_trains(path)
    assert (got.n_trials, got.n_neurons, got.t0, got.t1) == (2, 2, 0.0, 2.0)
    assert [[t.tolist() for t in trial] for trial in got.times] == [[[0.25, 1.5], [2.0]], [[0.0, 1.75], [0.5]]]
    np.testing.assert_array_equal(got.covariates["contrast"], [0.25, 0.75])
    assert got.covariates["label"].tolist() == ["left", "right"]


def test_foreign_nwb_units_with_obs_intervals_and_unequal_trials(tmp_path):
    import datetime

    import pynwb

    nwb = pynwb.NWBFile(session_description="foreign", identifier="y", session_start_time=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    intervals = [[0.0, 1.0], [2.0, 3.5]]
    nwb.add_unit(spike_times=[0.5, 2.25, 3.25], obs_intervals=intervals)
    nwb.add_unit(spike_times=[1.0], obs_intervals=intervals)
    path = tmp_path / "obs.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    with pytest.raises(ValueError, match=r"obs.nwb: trial 1 spans \[0.0, 1.5\] on its own clock but trial 0 spans \[0.0, 1.0\].*window="):
        load_spike_trains(path)
    got = load_spike_trains(path, window=(0.0, 1.0))
    assert [[t.tolist() for t in trial] for trial in got.times] == [[[0.5], [1.0]], [[0.25], []]]


# -- bad files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".npz", ".nwb", ".mat"])
def test_empty_file(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=rf"empty{suffix}: empty file \(0 bytes\)"):
        load_spike_trains(path)


@pytest.mark.parametrize(("suffix", "message"), [(".npz", "not a spikesde .npz"), (".nwb", "not an NWB file"), (".mat", "not a Neo MATLAB file")])
def test_file_of_another_format(tmp_path, suffix, message):
    path = tmp_path / f"text{suffix}"
    path.write_text("this is not a data file\n")
    with pytest.raises(ValueError, match=rf"text{suffix}: {message}"):
        load_spike_trains(path)


def test_foreign_npz_names_missing_keys(tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, spikes=np.zeros(3))
    with pytest.raises(ValueError, match=r"foreign.npz: not a spikesde spike-train file: missing key\(s\) \['format', 'version', 't0'"):
        load_spike_trains(path)


def test_broken_npz_names_the_problem(trains, tmp_path):
    path = save_spike_trains(trains, tmp_path / "good.npz")
    with np.load(path) as archive:
        data = dict(archive)
    for key, value, message in [
        ("offsets", data["offsets"][:-1], "key 'offsets' does not index"),
        ("format", np.array("something else"), "key 'format' is"),
        ("times", data["times"][::-1].copy(), r"trial \d+, neuron \d+: spike times are not sorted"),
    ]:
        np.savez(tmp_path / "bad.npz", **{**data, key: value})
        with pytest.raises(ValueError, match=rf"bad.npz: {message}"):
            load_spike_trains(tmp_path / "bad.npz")


def test_bad_data_in_files_names_trial_and_neuron(tmp_path):
    import neo
    import quantities as pq

    segments = [neo.Segment(), neo.Segment()]
    segments[0].spiketrains.append(neo.SpikeTrain([0.1, 0.2] * pq.s, t_stop=1 * pq.s))
    segments[1].spiketrains.append(neo.SpikeTrain([0.3, 0.2] * pq.s, t_stop=1 * pq.s))
    with pytest.raises(ValueError, match="trial 1, neuron 0: spike times are not sorted"):
        from_neo(segments)
    segments[1].spiketrains[0] = neo.SpikeTrain([0.2] * pq.s, t_stop=1 * pq.s)
    segments[1].spiketrains.append(neo.SpikeTrain([0.2] * pq.s, t_stop=1 * pq.s))
    with pytest.raises(ValueError, match="trial 1 has 2 neurons, but trial 0 has 1"):
        from_neo(segments)
    with pytest.raises(ValueError, match="zero trials"):
        from_neo([])


def test_nwb_without_units(tmp_path):
    import datetime

    import pynwb

    nwb = pynwb.NWBFile(session_description="none", identifier="z", session_start_time=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    nwb.add_trial(start_time=0.0, stop_time=1.0)
    with pynwb.NWBHDF5IO(str(tmp_path / "nounits.nwb"), "w") as io:
        io.write(nwb)
    with pytest.raises(ValueError, match=r"nounits.nwb: no units"):
        load_spike_trains(tmp_path / "nounits.nwb")


def test_suffix_and_options(trains, tmp_path):
    with pytest.raises(ValueError, match=r"cannot tell the format from the suffix '.txt'"):
        save_spike_trains(trains, tmp_path / "data.txt")
    path = save_spike_trains(trains, tmp_path / "data.bin", format="npz")
    assert load_spike_trains(path, format="npz") == trains
    with pytest.raises(ValueError, match="unknown spike-train format 'csv'"):
        load_spike_trains(path, format="csv")
    with pytest.raises(TypeError, match=r"the npz reader does not take option\(s\) \['window'\]"):
        load_spike_trains(path, format="npz", window=(0, 1))
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load_spike_trains(tmp_path / "missing.npz")


def test_reserved_nwb_covariate_names(tmp_path):
    bad = SpikeTrains([[[0.1]]], 0.0, 1.0, covariates={"start_time": np.zeros(1)})
    with pytest.raises(ValueError, match=r"covariate name\(s\) \['start_time'\] are reserved"):
        save_spike_trains(bad, tmp_path / "bad.nwb")


def test_hdf5_file_that_is_not_nwb(tmp_path):
    import h5py

    with h5py.File(tmp_path / "plain.nwb", "w") as file:
        file["x"] = np.arange(3)
    with pytest.raises(ValueError, match=r"plain.nwb: not (an|a readable) NWB file"):
        load_spike_trains(tmp_path / "plain.nwb")


def test_npz_with_zero_trials(tmp_path):
    arrays = dict(format="spikesde.spike_trains", version=1, t0=0.0, t1=1.0, shape=[0, 3], offsets=[0], times=np.zeros(0))
    np.savez(tmp_path / "none.npz", **arrays)
    with pytest.raises(ValueError, match="none.npz: times: zero trials"):
        load_spike_trains(tmp_path / "none.npz")


@pytest.mark.parametrize(("module", "suffix", "extra"), [("pynwb", ".nwb", "nwb"), ("neo", ".mat", "neo")])
def test_missing_optional_dependency_names_the_extra(trains, tmp_path, monkeypatch, module, suffix, extra):
    import sys

    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(ImportError, match=rf"pip install spikesde\[{extra}\]"):
        save_spike_trains(trains, tmp_path / f"data{suffix}")
    if extra == "neo":
        with pytest.raises(ImportError, match=r"pip install spikesde\[neo\]"):
            to_neo(trains)


def test_nwb_with_edited_spike_times_is_refused(trains, tmp_path):
    import h5py

    path = save_spike_trains(trains, tmp_path / "edited.nwb")
    with h5py.File(path, "r+") as file:
        file["units/spike_times"][3] += 1e-3
    with pytest.raises(ValueError, match=r"edited.nwb: unit \d: trial_spike_times .* disagrees with spike_times"):
        load_spike_trains(path)


def test_foreign_nwb_with_unsorted_spikes_names_trial_and_neuron(tmp_path):
    import datetime

    import pynwb

    nwb = pynwb.NWBFile(session_description="foreign", identifier="u", session_start_time=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    nwb.add_trial(start_time=0.0, stop_time=1.0)
    nwb.add_trial(start_time=2.0, stop_time=3.0)
    nwb.add_unit(spike_times=[0.5, 2.5])
    nwb.add_unit(spike_times=[0.25, 2.75, 2.5])
    with pynwb.NWBHDF5IO(str(tmp_path / "unsorted.nwb"), "w") as io:
        io.write(nwb)
    with pytest.raises(ValueError, match=r"unsorted.nwb: trial 1, neuron 1: spike times are not sorted \(spike 0 at 0.75 > spike 1 at 0.5\)"):
        load_spike_trains(tmp_path / "unsorted.nwb")


# -- units= on the loaders ----------------------------------------------------------------------


def _nest_like_npz(path, units=None):
    """An .npz in spikesde's layout as another tool writes it: times in ms (NEST's unit), and a
    ``units`` key only if asked."""
    arrays = {"format": np.array("spikesde.spike_trains"), "version": np.array(1), "t0": np.array(0.0), "t1": np.array(1000.0),
              "shape": np.array([2, 1]), "offsets": np.array([0, 2, 3]), "times": np.array([12.5, 300.0, 999.0])}
    if units is not None:
        arrays["units"] = np.array(units)
    np.savez(path, **arrays)
    return path


def test_npz_units_read_a_file_in_milliseconds(tmp_path):
    got = load_spike_trains(_nest_like_npz(tmp_path / "nest.npz"), units="ms")
    assert (got.t0, got.t1) == (0.0, 1.0)
    np.testing.assert_allclose(got.times[0][0], [0.0125, 0.3], rtol=1e-15)
    np.testing.assert_allclose(got.times[1][0], [0.999], rtol=1e-15)
    assert load_spike_trains(tmp_path / "nest.npz").t1 == 1000.0  # a file that records no unit is in seconds by default


def test_npz_records_its_unit_and_refuses_a_conflicting_one(trains, tmp_path):
    path = save_spike_trains(trains, tmp_path / "data.npz")
    assert str(np.load(path)["units"]) == "s"
    assert load_spike_trains(path, units="s") == trains
    with pytest.raises(ValueError, match=r"data.npz: the file records its times in 's', but units='ms' was given"):
        load_spike_trains(path, units="ms")
    declared = load_spike_trains(_nest_like_npz(tmp_path / "declared.npz", units="ms"))  # the file's own unit
    np.testing.assert_allclose(declared.times[0][0], [0.0125, 0.3], rtol=1e-15)
    with pytest.raises(ValueError, match="units must be one of"):
        load_spike_trains(path, units="minutes")


def test_nwb_is_seconds_by_specification(trains, tmp_path):
    path = save_spike_trains(trains, tmp_path / "data.nwb")
    assert load_spike_trains(path, units="s") == trains
    with pytest.raises(ValueError, match="units='ms' conflicts with NWB, which stores spike times in seconds by specification"):
        load_spike_trains(path, units="ms")


def test_neo_units_must_match_the_trains_own(trains, tmp_path):
    path = save_spike_trains(trains, tmp_path / "data.mat")
    assert load_spike_trains(path, units="s") == trains
    with pytest.raises(ValueError, match=r"data.mat: trial 0, neuron 0: the Neo SpikeTrain is in s, not units='ms'"):
        load_spike_trains(path, units="ms")
    import neo
    import quantities as pq

    segment = neo.Segment()
    segment.spiketrains.append(neo.SpikeTrain([250.0] * pq.ms, t_start=0 * pq.ms, t_stop=2000 * pq.ms))
    assert from_neo([segment], units="ms").times[0][0].tolist() == [0.25]
    with pytest.raises(ValueError, match="trial 0, neuron 0: the Neo SpikeTrain is in ms, not units='s'"):
        from_neo([segment], units="s")
