"""The outcome of one run of a sweep, from its metrics records, and the Markdown table of a sweep.

The final estimate of a learned parameter is the mean of its values over the last
``training.final_window`` steps. When the data were simulated the truth is known and each
parameter gets an error: the largest absolute error for up to four values, the mean absolute error
over the learned entries (masked-in weights) for more; the table then has truth and error columns.
Data read from a file have no truth, and the table no such columns.
"""

import math
from collections.abc import Mapping, Sequence

import msgspec
import numpy as np

_FEW = 4  # up to this many values a parameter is shown value by value


class RunSummary(msgspec.Struct):
    """One run: swept values, final estimates (and truth and errors when known), test metrics, timings."""

    folder: str
    values: dict
    steps: int
    estimate: dict
    truth: dict | None
    start_error: dict | None
    final_error: dict | None
    test_mae: float | None
    test_loss: float | None
    steps_to_tolerance: int | None
    seconds_per_step: float | None
    wall_seconds: float | None


def error(value, truth, mask=None) -> float:
    """Largest absolute error (few values) or mean absolute error over ``mask`` (many)."""
    diff = np.abs(np.asarray(value, float) - np.asarray(truth, float))
    if mask is not None:
        diff = diff[np.asarray(mask, bool)]
    return float(np.max(diff)) if diff.size <= _FEW else float(np.mean(diff))


def _mean(records: Sequence[Mapping], key: str) -> float | None:
    values = [r[key] for r in records if r.get(key) is not None]
    return float(np.mean(values)) if values else None


def summarize(folder: str, values: dict, records: Sequence[Mapping], *, steps: int, final_window: int,
              tolerance: float, truth: Mapping | None, masks: Mapping, wall_seconds: float | None) -> RunSummary:  # fmt: skip
    """The :class:`RunSummary` of one run's metrics records (one per step, with ``values`` by path)."""
    window = [r for r in records if r["step"] >= steps - final_window] or list(records[-1:])
    paths = list(records[0]["values"]) if records else []
    estimate = {p: np.mean([np.asarray(r["values"][p], float) for r in window], axis=0).tolist() for p in paths}
    start_error = final_error = reached = None
    if truth is not None and records:
        start_error = {p: error(records[0]["values"][p], truth[p], masks.get(p)) for p in paths}
        final_error = {p: error(estimate[p], truth[p], masks.get(p)) for p in paths}
        if all(np.size(truth[p]) <= _FEW for p in paths):
            within = (r["step"] for r in records if all(error(r["values"][p], truth[p]) < tolerance for p in paths))
            reached = next(within, None)
    timed = [r["seconds"] for r in records[1:] if r.get("seconds") is not None]
    return RunSummary(
        folder=folder, values=values, steps=steps, estimate=estimate,
        truth=None if truth is None else {p: np.asarray(truth[p], float).tolist() for p in paths},
        start_error=start_error, final_error=final_error, test_mae=_mean(window, "test_mae"),
        test_loss=_mean(window, "test_loss"), steps_to_tolerance=reached,
        seconds_per_step=float(np.median(timed)) if timed else None, wall_seconds=wall_seconds,
    )  # fmt: skip


def _number(value) -> str:
    array = np.asarray(value, float)
    if array.size == 1:
        return f"{float(array.ravel()[0]):.4f}"
    if array.size <= _FEW:
        return "[" + ", ".join(f"{v:.4f}" for v in array.ravel()) + "]"
    return f"mean {float(np.mean(array)):.4f} ({array.size} values)"


def _optional(value, fmt: str = ".4f") -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def summary_table(runs: Sequence[RunSummary]) -> str:
    """A Markdown table: swept values, estimates (truth, error from start to end when known), test metrics, timings."""
    if not runs:
        return "(no runs)\n"
    keys = list(runs[0].values)
    paths = list(runs[0].estimate)
    known = runs[0].truth is not None
    head = [*(k.replace('"', "") for k in keys)]
    for p in paths:
        head += [f"{p} estimate", f"{p} true", f"{p} error (start -> end)"] if known else [f"{p} estimate"]
    head += ["test MAE", "test loss", "steps to tolerance" if known else None, "s / step", "wall s"]
    head = [h for h in head if h is not None]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        row = [_text(r.values[k]) for k in keys]
        for p in paths:
            row.append(_number(r.estimate[p]))
            if known:
                row += [_number(r.truth[p]), f"{r.start_error[p]:.4f} -> {r.final_error[p]:.4f}"]
        row += [_optional(r.test_mae), _optional(r.test_loss, ".4g")]
        if known:
            row.append("never" if r.steps_to_tolerance is None else str(r.steps_to_tolerance))
        row += [_optional(r.seconds_per_step), _optional(r.wall_seconds, ".1f")]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _text(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
