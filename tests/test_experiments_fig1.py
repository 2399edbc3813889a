"""Acceptance 1 of issue 7: the Figure-1 configs reproduce their README numbers through the new layer."""

from pathlib import Path

import pytest

from spikesde._experiments.config import load_raw
from spikesde._experiments.sweep import run_sweep

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, steps_before",
    [("slif_input_current_fast.toml", {0.25: 21, 0.5: 21}), ("slif_input_current.toml", {0.25: 634, 0.5: 635})],
)
def test_figure_1_at_128_samples(tmp_path, name, steps_before):
    raw = load_raw(CONFIGS / name, ["sweep.data.num_samples=[128]"])
    result = run_sweep(raw, tmp_path / "run", progress=False, plot=False)
    assert len(result.runs) == 2
    for run in result.runs:
        sigma = run.values["model.sigma_v"]
        assert abs(run.estimate["input_current.value"] - 1.5) < 0.01, run
        assert abs(run.steps_to_tolerance - steps_before[sigma]) <= 0.2 * steps_before[sigma], run
