"""The nitime grasshopper recording loader and the experiment's config."""

from pathlib import Path

import numpy as np
import pytest

from spikesde._experiments.grasshopper import GrasshopperConfig


def test_recording_one_reads_as_published():
    pytest.importorskip("nitime")
    from spikesde._io.grasshopper import read_grasshopper

    recording = read_grasshopper(1)
    assert recording.spike_times.size == 929
    assert recording.dt == pytest.approx(5e-5)
    assert recording.duration == pytest.approx(10.0)
    assert recording.intensity_db == pytest.approx(76.4286)
    assert 0.0158 < recording.stimulus.min() and recording.stimulus.max() <= 1.0
    # Rate 127 Hz in the first second, ~78-88 Hz later (adaptation).
    assert np.sum(recording.spike_times < 1.0) == 127
    with pytest.raises(ValueError, match="recording"):
        read_grasshopper(3)


def test_config_file_round_trip_and_unknown_key(tmp_path):
    config = GrasshopperConfig.from_toml(Path(__file__).resolve().parent.parent / "configs" / "grasshopper" / "recording1.toml")
    assert config.train_end == 8.0
    bad = tmp_path / "bad.toml"
    bad.write_text("[grasshopper]\nnot_a_key = 1\n")
    with pytest.raises(ValueError, match="not_a_key"):
        GrasshopperConfig.from_toml(bad)
