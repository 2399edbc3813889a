"""The configuration schema: every shipped config loads, errors name the key path in one line."""

import tomllib
from pathlib import Path

import pytest

from spikesde.experiments import ConfigError, load_config
from spikesde._experiments import schema
from spikesde._experiments.config import (
    apply_overrides,
    config_to_toml,
    convert,
    expand_sweep,
    load_raw,
    read_toml,
    split_key,
)

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
REFERENCE = CONFIGS / "slif_input_current.toml"


def _raw(path=REFERENCE) -> dict:
    return tomllib.loads(path.read_text())


def _error(data) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        expand_sweep(data)  # the file, then every run of its sweep
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)  # one line
    return info.value


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_config_loads_round_trips_and_expands(path):
    config = load_config(path)
    assert convert(tomllib.loads(config_to_toml(config))) == config
    runs = expand_sweep(load_raw(path))
    assert len(runs) == max(1, __import__("math").prod(len(v) for v in config.sweep.values()))


def test_reference_config_has_the_reference_settings():
    c = load_config(REFERENCE)
    assert (c.simulation.t0, c.simulation.t1, c.simulation.dt, c.simulation.max_spikes) == (0.0, 5.0, 0.01, 3)
    assert c.simulation.keep_first
    m = c.model
    assert isinstance(m, schema.SLIFModel) and m.n_neurons == 1
    assert (m.mu_v, m.mu_i, m.v_reset, m.alpha, m.sigma_i, m.beta, m.v_threshold) == (15.0, 0.0, 1.4, 0.03, 0.0, 5.0, 1.0)
    assert c.data.true == {"input_current.value": 1.5} and c.learn["input_current.value"].init == 0.56
    assert c.sweep == {"model.sigma_v": [0.25, 0.5], "data.num_samples": [16, 32, 64, 128]}
    assert isinstance(c.loss, schema.ExpectedSignature) and (c.loss.depth, c.loss.reduction) == (3, "mean")
    o = c.optimizer
    assert isinstance(o, schema.RMSprop) and (o.lr, o.decay, o.momentum, o.schedule) == (1e-3, 0.7, 0.3, "constant")
    assert c.training.steps == 1500 and c.training.final_window == 100 and c.training.model_samples == 0


def test_sweep_sets_model_and_truth_and_names_folders():
    runs = expand_sweep(_raw())
    assert [r.folder for r in runs][:2] == ["sigma_v=0.25/num_samples=16", "sigma_v=0.25/num_samples=32"]
    last = runs[-1].config
    assert last.model.sigma_v == 0.5 and last.data.num_samples == 128 and last.sweep == {}
    assert "sigma_v" not in last.data.true  # the noise of the truth is the model's


def test_missing_and_unknown_keys_are_named():
    data = _raw()
    del data["optimizer"]["lr"]
    error = _error(data)
    assert error.path == "optimizer.lr" and "missing" in str(error)
    data = _raw()
    del data["training"]
    assert _error(data).path == "training"
    data = _raw()
    data["optimizer"]["learning_rate"] = 0.1
    error = _error(data)
    assert error.path == "optimizer.learning_rate" and "unknown key" in str(error)
    data = _raw()
    data["optimizer"]["name"] = "adam"  # keeps decay and momentum, which Adam does not have
    error = _error(data)
    assert error.path == "optimizer.decay" and "optimizer.name = 'adam'" in str(error)


def test_wrong_types_and_variants_are_named():
    data = _raw()
    data["training"]["steps"] = "many"
    error = _error(data)
    assert error.path == "training.steps" and "int" in str(error) and "'many'" in str(error)
    data = _raw()
    data["sweep"]["data.num_samples"] = [16, 32.5]
    error = _error(data)
    assert error.path == 'sweep."data.num_samples"' and "data.num_samples: expected int" in str(error)
    assert "sweep run sigma_v=0.25/num_samples=32.5" in str(error)
    data = _raw()
    data["training"]["steps"] = True  # a boolean is not an integer
    assert _error(data).path == "training.steps"
    data = _raw()
    data["optimizer"]["name"] = "adagrad"
    error = _error(data)
    assert error.path == "optimizer.name" and "'rmsprop'" in str(error) and "'optax'" in str(error)
    data = _raw()
    data["model"]["input_current"] = {"kind": "sinusoidal", "offset": 1.5}
    assert _error(data).path == "model.input_current.amplitude"
    data = _raw()
    data["learn"]["input_current.value"] = {"init": 0.5, "start": 1}
    assert _error(data).path == 'learn."input_current.value".start'
    data = _raw()
    data["model"]["mu_v"] = float("nan")
    assert _error(data).path == "model.mu_v"


def test_value_checks_are_named():
    for section, key, value in [("simulation", "dt", -0.01), ("simulation", "dt", 0.03), ("optimizer", "schedule", "cosine"),
                                ("training", "model_samples", 1), ("data", "num_samples", 1)]:  # fmt: skip
        data = _raw()
        data[section][key] = value
        path = "optimizer.final_lr" if key == "schedule" else f"{section}.{key}"
        assert _error(data).path == path, (section, key, value)
    data = _raw()
    data["simulation"]["dt"] = 0.03
    assert "does not divide" in str(_error(data))
    data = _raw()
    data["learn"] = {}
    assert _error(data).path == "learn"
    data = _raw(CONFIGS / "ssnn_weights_small.toml")
    data["model"]["layers"] = [4, 16, 3]
    assert _error(data).path == "model.layers"


def test_overrides_are_typed_and_checked():
    config = load_config(REFERENCE, ["optimizer.lr=1e-2", "sweep.data.num_samples=[8, 16]", 'sweep."model.sigma_v"=[0.1]'])
    assert config.optimizer.lr == 0.01 and config.sweep == {"model.sigma_v": [0.1], "data.num_samples": [8, 16]}
    assert load_config(REFERENCE, ["learn.input_current.value.init=0.7"]).learn["input_current.value"].init == 0.7
    assert load_config(REFERENCE, ["data.true.input_current.value=2.0"]).data.true == {"input_current.value": 2.0}
    assert apply_overrides(_raw(), ["optimizer.name=adam"])["optimizer"]["name"] == "adam"  # a bare word
    for override, path in [("training.steps=1.5", "training.steps"), ("optimizer.lrate=1", "optimizer.lrate"),
                           ("optimizer.lr=[1", "optimizer.lr"), ("optimizer.lr", "--set"),
                           ("training.steps.x=1", "training.steps")]:  # fmt: skip
        with pytest.raises(ConfigError) as info:
            load_config(REFERENCE, [override])
        assert info.value.path == path, override
    assert split_key('a."b.c".d') == ["a", "b.c", "d"]


def test_unreadable_files_are_named(tmp_path):
    latin = tmp_path / "latin.toml"
    latin.write_bytes("name = 'caf\xe9'".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8") as info:
        read_toml(latin)
    assert info.value.path == str(latin)
    broken = tmp_path / "broken.toml"
    broken.write_text("[model\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_toml(broken)
    with pytest.raises(ConfigError, match="cannot read"):
        read_toml(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="is a folder"):
        read_toml(tmp_path)


def test_file_paths_are_relative_to_the_config(tmp_path):
    text = REFERENCE.read_text().replace('source = "simulate"\nnum_samples = 128       # swept below; the test set has as many fresh samples (test_size = 0)\nseed = 567\ntrue = { "input_current.value" = 1.5 }',
                                         'source = "file"\npath = "trains.npz"')  # fmt: skip
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "c.toml"
    path.write_text(text.replace('"data.num_samples" = [16, 32, 64, 128]', ""))
    config = load_config(path)
    assert isinstance(config.data, schema.FileData) and config.data.path == str(tmp_path / "sub" / "trains.npz")


def test_resolved_config_fills_defaults(tmp_path):
    config = load_config(CONFIGS / "slif_sinusoid.toml")
    text = config_to_toml(config)
    assert "decay" not in text and "b2 = 0.999" in text  # Adam's defaults made explicit, no RMSprop option
    path = tmp_path / "resolved.toml"
    path.write_text(text)
    assert load_config(path) == config


def test_a_sweep_value_that_is_not_a_list_is_named_with_its_key():
    data = _raw()
    data["sweep"] = {"model.sigma_v": 0.3, "data.num_samples": [8]}
    error = _error(data)
    assert error.path == 'sweep."model.sigma_v"' and "must be a list of the values to sweep (e.g. [0.3]), got 0.3" in str(error)
    data["sweep"] = {"seed": "abc"}
    assert _error(data).path == "sweep.seed" and "got 'abc'" in str(_error(data))
