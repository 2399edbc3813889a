"""The nitime grasshopper recording as SpikeTrains, and its configuration (configs/grasshopper.toml)."""

from pathlib import Path

import numpy as np
import pytest

from spikesde._experiments.config import ConfigError, expand_sweep, load_config, to_builtins
from spikesde._experiments.grasshopper import GrasshopperConfig
from spikesde._experiments.likelihood_run import settings_from_config
from spikesde._experiments.sweep import plan
from spikesde._io.spike_trains import SpikeTrains

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "grasshopper.toml"


def test_recording_one_reads_as_published():
    pytest.importorskip("nitime")
    from spikesde._io.grasshopper import read_grasshopper, stimulus_of

    trains = read_grasshopper(1)
    assert isinstance(trains, SpikeTrains)
    assert (trains.n_trials, trains.n_neurons, trains.t0) == (1, 1, 0.0)
    assert trains.t1 == pytest.approx(10.0)
    spikes = trains.times[0][0]
    assert spikes.size == 929
    stimulus, dt = stimulus_of(trains)
    assert dt == pytest.approx(5e-5) and stimulus.shape == (200_000,)
    assert trains.covariates["stimulus"].shape == (1, 200_000)
    assert trains.covariates["intensity_db"][0] == pytest.approx(76.4286)
    assert 0.0158 < stimulus.min() and stimulus.max() <= 1.0
    # Rate 127 Hz in the first second, ~78-88 Hz later (adaptation).
    assert np.sum(spikes < 1.0) == 127
    # The covariate follows the trial through the container's operations.
    assert trains.restrict(0.0, 8.0).covariates["stimulus"].shape == (1, 200_000)
    with pytest.raises(ValueError, match="recording"):
        read_grasshopper(3)
    with pytest.raises(ValueError, match="stimulus"):
        stimulus_of(SpikeTrains([[spikes]], 0.0, 10.0))


def test_config_file_is_the_experiment_defaults():
    """configs/grasshopper.toml and ``python -m spikesde._experiments.grasshopper`` run the same fit."""
    assert settings_from_config(load_config(CONFIG)) == GrasshopperConfig()


@pytest.mark.parametrize(
    "override, key",
    [
        ("model.sigma_v=0.1", "model.sigma_v"),
        ('loss={kind="signature_mmd"}', "model.input_current.kind"),
        ('optimizer={name="adam", lr=0.1}', "optimizer.name"),
        ("data.recording=3", "data.recording"),
        ("loss.level=1.5", "loss.level"),
        ('learn={v_reset={}}', "learn"),
        ('learn."mu_v"={init=300.0}', 'learn."mu_v"'),
        ("model.input_current.n_basis=0", "model.input_current.n_basis"),
    ],
)
def test_config_errors_name_the_key(override, key):
    with pytest.raises(ConfigError) as error:
        config = load_config(CONFIG, [override])
        if override.startswith("loss="):  # a trainer loss builds the model: the stimulus filter refuses
            plan(expand_sweep(to_builtins(config)), Path("unused"))
        settings_from_config(config)
    assert error.value.path == key, str(error.value)
