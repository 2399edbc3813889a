import tomllib
from pathlib import Path

import pytest

from spikesde import ConfigError, load_config
from spikesde._experiments.config import apply_overrides, config_from_dict, config_to_toml

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
REFERENCE = CONFIGS / "slif_input_current.toml"


def _raw(path=REFERENCE) -> dict:
    return tomllib.loads(path.read_text())


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_config_loads_and_round_trips(path):
    config = load_config(path)
    assert config_from_dict(tomllib.loads(config_to_toml(config))) == config


def test_reference_config_has_the_reference_settings():
    c = load_config(REFERENCE)
    assert (c.simulation.t0, c.simulation.t1, c.simulation.dt, c.simulation.max_spikes) == (0.0, 5.0, 0.01, 3)
    assert (c.model.mu_v, c.model.mu_i, c.model.v_reset, c.model.alpha, c.model.sigma_i) == (15.0, 0.0, 1.4, 0.03, 0.0)
    assert (c.model.beta, c.model.v_threshold, c.model.tau_s, c.model.v0, c.model.i0) == (5.0, 1.0, 1.0, 0.0, 0.0)
    assert c.current.kind == "constant" and c.current.true == {"value": 1.5} and c.current.init == {"value": 0.56}
    assert c.sweep.sigma_v == (0.25, 0.5) and c.sweep.sample_size == (16, 32, 64, 128)
    assert (c.loss.kind, c.loss.depth) == ("expected_signature", 3)
    o = c.optimizer
    assert (o.name, o.lr, o.decay, o.momentum, o.schedule) == ("rmsprop", 1e-3, 0.7, 0.3, "constant")
    assert c.training.steps == 1500 and c.training.final_window == 100
    assert c.training.model_samples == 0 and c.training.test_size == 0  # both equal to n: full batch


def _error(data) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    assert isinstance(info.value, ValueError)
    return info.value


def test_missing_key_is_named():
    data = _raw()
    del data["optimizer"]["lr"]
    assert _error(data).path == "optimizer.lr"
    data = _raw()
    del data["training"]
    assert _error(data).path == "training"
    assert "missing" in str(_error(data))


def test_wrong_type_is_named():
    data = _raw()
    data["training"]["steps"] = "many"
    error = _error(data)
    assert error.path == "training.steps" and "integer" in str(error) and "'many'" in str(error)
    data = _raw()
    data["sweep"]["sample_size"] = [16, 32.5]
    assert _error(data).path == "sweep.sample_size[1]"
    data = _raw()
    data["training"]["steps"] = True  # a boolean is not an integer
    assert _error(data).path == "training.steps"


def test_unknown_key_and_option_are_named():
    data = _raw()
    data["optimizer"]["learning_rate"] = 0.1
    error = _error(data)
    assert error.path == "optimizer.learning_rate" and "unknown key" in str(error)
    data = _raw()
    data["optimizer"]["name"] = "adagrad"
    error = _error(data)
    assert error.path == "optimizer.name" and "'rmsprop'" in str(error)
    data = _raw()
    data["optimizer"]["name"] = "adam"  # keeps decay and momentum, which Adam does not have
    error = _error(data)
    assert error.path == "optimizer.decay" and "adam" in str(error)


def test_current_fields_are_checked():
    data = _raw()
    data["current"]["init"] = {"amplitude": 0.1}
    assert _error(data).path == "current.init.amplitude"
    data = _raw()
    data["current"] = {"kind": "sinusoidal", "true": {"offset": 1.5, "amplitude": 0.4}, "init": {"amplitude": 0.0}}
    assert _error(data).path == "current.true.frequency"
    data = _raw()
    data["current"] = {"kind": "piecewise_constant", "true": {"breakpoints": [2.0], "values": [1.0, 2.0]}, "init": {"values": [1.0]}}
    assert _error(data).path == "current.init.values"
    data = _raw()
    data["current"] = {"kind": "piecewise_constant", "true": {"breakpoints": [7.0], "values": [1.0, 2.0]}, "init": {"values": [1.0, 1.0]}}
    assert _error(data).path == "current.true.breakpoints"


def test_value_checks_are_named():
    data = _raw()
    data["simulation"]["dt"] = -0.01
    assert _error(data).path == "simulation.dt"
    data = _raw()
    data["optimizer"]["schedule"] = "exponential"
    assert _error(data).path == "optimizer.final_lr"


def test_overrides_are_typed_and_checked():
    config = load_config(REFERENCE, ["optimizer.lr=1e-2", "sweep.sample_size=[8, 16]"])
    assert config.optimizer.lr == 0.01 and config.sweep.sample_size == (8, 16)
    # A bare word is read as a string.
    raw = apply_overrides(_raw(), ["optimizer.name=adam"])
    assert raw["optimizer"]["name"] == "adam"
    with pytest.raises(ConfigError) as info:
        load_config(REFERENCE, ["training.steps=1.5"])
    assert info.value.path == "training.steps"
    with pytest.raises(ConfigError) as info:
        load_config(REFERENCE, ["optimizer.lrate=1"])
    assert info.value.path == "optimizer.lrate"
    with pytest.raises(ConfigError) as info:
        load_config(REFERENCE, ["optimizer.lr=[1"])
    assert info.value.path == "optimizer.lr"
    with pytest.raises(ConfigError, match="key.path=value"):
        load_config(REFERENCE, ["optimizer.lr"])


def test_resolved_config_fills_defaults_and_drops_other_variants(tmp_path):
    config = load_config(CONFIGS / "slif_sinusoid.toml")
    text = config_to_toml(config)
    assert "decay" not in text  # an RMSprop option; this config uses Adam
    assert "b2 = 0.999" in text  # an Adam default, made explicit
    path = tmp_path / "resolved.toml"
    path.write_text(text)
    assert load_config(path) == config
