"""From configs to library objects: models, true models, learned paths, optimisers; run summaries."""

from pathlib import Path

import jax
import numpy as np
import optax
import pytest

import spikesde as sd
from spikesde.experiments import ConfigError, load_config
from spikesde._experiments.build import build_model, build_optimizer, check_learn, true_model
from spikesde._experiments.config import convert, load_raw, set_key
from spikesde._experiments.summary import summarize, summary_table

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def _config(name, *overrides):
    return load_config(CONFIGS / name, list(overrides))


def test_reference_model_and_truth():
    c = _config("slif_input_current.toml", "model.sigma_v=0.5")
    model = build_model(c.model)
    truth = true_model(c, model)
    assert isinstance(model, sd.SLIF) and model.n_neurons == 1
    assert float(model.input_current.value) == pytest.approx(0.56) and float(truth.input_current.value) == 1.5
    assert float(truth.sigma_v) == float(model.sigma_v) == 0.5  # shared: not named in [data.true]


def test_network_weights_true_by_seed_and_mask():
    c = _config("ssnn_weights_small.toml")
    model = build_model(c.model)
    truth = true_model(c, model)
    expected = sd.feedforward(model.neuron, [4, 16, 2], key=jax.random.key(0))
    np.testing.assert_array_equal(np.asarray(truth.weights), np.asarray(expected.weights))
    start = sd.feedforward(model.neuron, [4, 16, 2], key=jax.random.key(1))
    np.testing.assert_array_equal(np.asarray(model.weights), np.asarray(start.weights))
    np.testing.assert_array_equal(np.asarray(model.mask), sd.feedforward_mask([4, 16, 2]))
    assert np.asarray(model.neuron.input_current.value).tolist()[:5] == [1.5, 1.5, 1.5, 1.5, 0.0]


def test_network_from_weights_file_and_recurrent(tmp_path):
    raw = load_raw(CONFIGS / "ssnn_weights_small.toml")
    weights = np.arange(22 * 22, dtype=float).reshape(22, 22) / 1000
    np.save(tmp_path / "w.npy", weights)
    raw["model"].pop("layers")
    raw = set_key(raw, ["model", "weights_file"], str(tmp_path / "w.npy"))
    raw["data"]["true"] = {"weights": 0.1}
    c = convert(raw)
    np.testing.assert_allclose(np.asarray(build_model(c.model).weights), weights)
    assert float(np.asarray(true_model(c).weights).max()) == pytest.approx(0.1)
    np.save(tmp_path / "bad.npy", np.zeros((3, 3)))
    with pytest.raises(ConfigError, match=r"\(22, 22\) matrix") as info:
        build_model(convert(set_key(raw, ["model", "weights_file"], str(tmp_path / "bad.npy"))).model)
    assert info.value.path == "model.weights_file"
    raw["model"].pop("weights_file")
    raw["model"]["recurrent"] = {"p": 0.3}
    model = build_model(convert(raw).model)
    assert not np.asarray(model.mask).diagonal().any() and 0.1 < np.asarray(model.mask).mean() < 0.5


def test_bad_parameter_paths_are_named():
    c = _config("slif_input_current.toml", "data.true.tau_m=1.0")
    with pytest.raises(ConfigError, match="has no parameter 'tau_m'") as info:
        true_model(c)
    assert info.value.path == "data.true.tau_m"
    c = _config("slif_input_current.toml", "learn.input_current.value.init=[1.0, 2.0]")
    with pytest.raises(ConfigError, match="does not fit") as info:
        check_learn(c, build_model(c.model))
    assert info.value.path == 'learn."input_current.value".init'
    c = _config("slif_mu_v_reset.toml", "learn.mu_v.lower=13.0")
    with pytest.raises(ConfigError, match="lower bound") as info:
        check_learn(c, build_model(c.model))
    assert info.value.path == "learn.mu_v.lower"
    c = _config("ssnn_weights_small.toml", "data.true.weights={seed=0, x=1}")
    with pytest.raises(ConfigError, match="seed"):
        true_model(c)


def test_any_optax_optimizer_with_checked_options():
    c = _config("slif_input_current.toml", 'optimizer={name="optax", function="adamw", lr=0.01, options={weight_decay=0.1}}')
    opt = build_optimizer(c)
    params = {"x": np.ones(2)}
    updates, _ = opt.update({"x": np.ones(2)}, opt.init(params), params)
    reference, _ = optax.adamw(0.01, weight_decay=0.1).update({"x": np.ones(2)}, optax.adamw(0.01).init(params), params)
    np.testing.assert_allclose(updates["x"], reference["x"])
    c = _config("slif_input_current.toml", 'optimizer={name="optax", function="adamw", lr=0.01, options={decay=0.1}}')
    with pytest.raises(ConfigError, match="not an option of optax.adamw") as info:
        build_optimizer(c)
    assert info.value.path == "optimizer.options.decay"
    c = _config("slif_input_current.toml", 'optimizer={name="optax", function="adamm", lr=0.01}')
    with pytest.raises(ConfigError, match="no optimiser 'adamm'"):
        build_optimizer(c)


def test_exponential_schedule_reaches_final_lr():
    c = _config("slif_input_current_fast.toml")
    opt = build_optimizer(c)
    state = opt.init({"x": np.zeros(())})
    assert c.training.steps == 300
    # RMSprop's first step is lr * g / sqrt((1 - decay) g^2): the initial learning rate, scaled.
    updates, state = opt.update({"x": np.ones(())}, state)
    assert float(updates["x"]) == pytest.approx(-0.05 / np.sqrt(0.3), rel=1e-4)


def _records(values, steps):
    return [{"step": s, "values": {"c": v}, "test_mae": 0.1, "test_loss": 1.0, "seconds": 0.01} for s, v in zip(range(steps), values)]


def test_summary_with_and_without_truth():
    records = _records([0.5, 1.0, 1.46, 1.52, 1.50, 1.48], 6)
    known = summarize("a", {"n": 4}, records, steps=6, final_window=3, tolerance=0.05, truth={"c": 1.5}, masks={},
                      wall_seconds=1.0)  # fmt: skip
    assert known.estimate == {"c": pytest.approx(1.5)} and known.steps_to_tolerance == 2
    assert known.start_error == {"c": 1.0} and known.final_error["c"] == pytest.approx(0.0, abs=1e-12)
    table = summary_table([known])
    assert "c true" in table and "| 4 | 1.5000 | 1.5000 | 1.0000 -> 0.0000 |" in table
    unknown = summarize("a", {}, records, steps=6, final_window=3, tolerance=0.05, truth=None, masks={}, wall_seconds=None)
    table = summary_table([unknown])
    assert "true" not in table and "error" not in table and "tolerance" not in table


def test_array_errors_use_the_mask():
    mask = np.array([[False, True], [False, False]])
    truth = np.array([[0.0, 1.0], [0.0, 0.0]])
    records = [{"step": 0, "values": {"w": [[9.0, 0.0], [9.0, 9.0]]}}, {"step": 1, "values": {"w": [[9.0, 0.9], [9.0, 9.0]]}}]
    s = summarize("a", {}, records, steps=2, final_window=1, tolerance=0.05, truth={"w": truth}, masks={"w": mask},
                  wall_seconds=None)  # fmt: skip
    assert s.start_error == {"w": 1.0} and s.final_error["w"] == pytest.approx(0.1)


def test_full_scale_experiment_b_config():
    """configs/ssnn_weights.toml: start U(0, 1) (the reference's generator), truth U(0.5, 1.5) * 3 / fan-in,
    the reference run's test loss as an extra metric, its event bound, its two-stage learning rate."""
    from spikesde._experiments.build import build_loss, build_simulation, test_metrics  # noqa: PLC0415

    c = _config("ssnn_weights.toml")
    model = build_model(c.model)
    truth = true_model(c, model)
    mask = np.asarray(model.mask)
    expected = sd.feedforward(model.neuron, [4, 16, 2], key=jax.random.key(0))
    np.testing.assert_array_equal(np.asarray(truth.weights), np.asarray(expected.weights))
    start = sd.feedforward(model.neuron, [4, 16, 2], key=jax.random.key(1), weight_low=0.0, weight_high=1.0,
                           scale_by_fan_in=False)  # fmt: skip
    np.testing.assert_array_equal(np.asarray(model.weights), np.asarray(start.weights))
    layer1 = np.asarray(truth.weights)[:4][mask[:4]]
    assert 0.375 <= layer1.min() and layer1.max() <= 1.125  # U(0.5, 1.5) * 3/4
    error = np.mean(np.abs(np.asarray(model.weights) - np.asarray(truth.weights))[mask])
    assert 0.3 < error < 0.45  # the reference run starts at 0.38
    metric = test_metrics(c)["metric"]
    assert isinstance(metric, sd.ExpectedSignatureLoss)
    assert (metric.reduction, metric.count_scale, metric.taper, metric.max_events) == ("mean", 1.0, 0.0, 100)
    assert build_loss(c).count_scale == 0.25 and build_simulation(c).max_events == 100


def test_piecewise_schedule_and_its_checks():
    c = _config("slif_input_current.toml", 'optimizer={name="sgd", lr=0.1, schedule="piecewise", boundaries=[2, 3], values=[0.01, 0.5]}')
    opt = build_optimizer(c)
    state = opt.init({"x": np.zeros(())})
    steps = []
    for _ in range(4):
        updates, state = opt.update({"x": np.ones(())}, state)
        steps.append(float(updates["x"]))
    np.testing.assert_allclose(steps, [-0.1, -0.1, -0.01, -0.5], rtol=1e-6)
    for bad, path in [("boundaries=[2], values=[]", "optimizer.values"), ("boundaries=[3, 2], values=[1, 2]", "optimizer.boundaries"),
                      ("boundaries=[2], values=[-1.0]", "optimizer.values")]:  # fmt: skip
        with pytest.raises(ConfigError) as info:
            _config("slif_input_current.toml", f'optimizer={{name="sgd", lr=0.1, schedule="piecewise", {bad}}}')
        assert info.value.path == path
    with pytest.raises(ConfigError) as info:
        _config("slif_input_current.toml", 'optimizer={name="sgd", lr=0.1, boundaries=[2], values=[0.1]}')
    assert info.value.path == "optimizer.boundaries"


def test_truth_table_draw_keys_are_checked():
    c = _config("ssnn_weights.toml", "data.true.weights={seed=0, weight_low=true}")
    with pytest.raises(ConfigError, match="weight_low") as info:
        true_model(c)
    assert info.value.path == "data.true.weights"
