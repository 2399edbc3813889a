"""Acceptance of the fitting layer from Python (issue 7, 2 (i), (ii)): slow; numbers in notes/fit.md.

The problems live in ``benchmarks/fit_acceptance.py``, which prints the table of the README.
"""

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "fit_acceptance.py"
_SPEC = importlib.util.spec_from_file_location("fit_acceptance", _PATH)
acceptance = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(acceptance)


@pytest.mark.slow
def test_network_weights_of_both_layers():
    result = acceptance.run_network()
    assert result["test_loss_end"] < result["test_loss_start"], result
    assert result["weight_error_end"] < result["weight_error_start"], result


@pytest.mark.slow
@pytest.mark.xfail(
    reason="not met: mu_v stays near 10.7 (true 15); the depth-3 expected-signature loss is flat along a ridge "
    "of (current, mu_v, v_reset) at 256 trains. Evidence in notes/fit.md",
    strict=False,
)
def test_mu_v_v_reset_and_current_together_within_five_percent():
    result = acceptance.run_slif()
    for path, error in result["relative_error"].items():
        assert error < 0.05, (path, result["estimate"])
