"""The figure of a sweep: the test metric and the learned values against the step (paper Figure 1).

Rows: the values of the first swept key (when two or more keys are swept); lines: the other swept
values. Columns: the test metric (log scale), then one panel per learned scalar (the truth dashed,
the tolerance band shaded) or, for a learned array with more than four values, its mean absolute
error against the truth. matplotlib is imported here only (``pip install spikesde[plot]``).
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._training.tracker import read_metrics
from . import schema
from .summary import RunSummary, error

_PALETTE = ["#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
_MAX_PANELS = 6


def _pyplot():
    try:
        import matplotlib  # noqa: PLC0415
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install spikesde[plot]") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def _panels(run: RunSummary) -> list[tuple[str, str, int | None]]:
    """(label, path, index) per panel: a scalar component, or (index None) an array's error."""
    panels = []
    for path, value in run.estimate.items():
        size = int(np.size(value))
        if size > 4 and run.truth is not None:
            panels.append((f"{path}: mean |error|", path, None))
        elif size == 1:
            panels.append((path, path, -1))
        elif size <= 4:
            panels += [(f"{path}[{i}]", path, i) for i in range(size)]
    return panels[:_MAX_PANELS]


def _centred_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average (the window shrinks at the ends), so curves do not lag the data."""
    half = window // 2
    if half < 1:
        return values
    sums = np.concatenate([[0.0], np.cumsum(values)])
    lo = np.clip(np.arange(len(values)) - half, 0, len(values))
    hi = np.clip(np.arange(len(values)) + half + 1, 0, len(values))
    return (sums[hi] - sums[lo]) / (hi - lo)


def _series(records, run: RunSummary, path: str, index: int | None, mask) -> np.ndarray:
    if index is None:
        return np.array([error(r["values"][path], run.truth[path], mask) for r in records])
    return np.array([np.ravel(r["values"][path])[max(index, 0)] for r in records])


def _rows(runs: Sequence[RunSummary]) -> list[tuple[str, list[RunSummary]]]:
    keys = list(runs[0].values)
    if len(keys) < 2:
        return [("", list(runs))]
    first = keys[0]
    labels = list(dict.fromkeys(_text(r.values[first]) for r in runs))
    return [(f"{first.replace(chr(34), '')} = {v}", [r for r in runs if _text(r.values[first]) == v]) for v in labels]


def _text(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _line_label(run: RunSummary, skip_first: bool) -> str:
    items = list(run.values.items())[1 if skip_first else 0 :]
    return ", ".join(f"{k.split('.')[-1].strip(chr(34))} = {_text(v)}" for k, v in items) or "run"


def plot_sweep(out_dir: str | Path, config: schema.Config, runs: Sequence[RunSummary], masks: dict | None = None,
               path: str | Path | None = None) -> Path:  # fmt: skip
    """Draw the sweep's figure (default ``out_dir/figure.png``) from each run's ``metrics.jsonl``.

    ``masks`` maps a learned path to the entries its error is taken over (a network's connections).
    """
    plt = _pyplot()
    out_dir = Path(out_dir)
    path = Path(path) if path is not None else out_dir / "figure.png"
    rows = _rows(runs)
    panels = _panels(runs[0])
    fig, axes = plt.subplots(len(rows), 1 + len(panels), figsize=(4.2 * (1 + len(panels)), 2.9 * len(rows) + 0.5),
                             squeeze=False, sharex=True)  # fmt: skip
    smooth = max(1, round(config.training.steps / 60))
    tol = config.training.tolerance
    masks = masks or {}
    for row, (title, members) in enumerate(rows):
        for colour, run in zip(_PALETTE * 4, members):
            records = read_metrics(out_dir / run.folder / "metrics.jsonl")
            if not records:
                continue
            steps = np.array([r["step"] for r in records])
            label = _line_label(run, bool(title))
            metric = "test_mae" if records[0].get("test_mae") is not None else "loss"
            values = np.array([r[metric] for r in records], dtype=float)
            axes[row, 0].plot(steps, values, color=colour, lw=0.5, alpha=0.35)
            axes[row, 0].plot(steps, _centred_mean(values, smooth), color=colour, lw=1.6, label=label)
            axes[row, 0].set_ylabel("test MAE, mean first spike times" if metric == "test_mae" else "training loss")
            for col, (name, p, index) in enumerate(panels, start=1):
                axes[row, col].plot(steps, _series(records, run, p, index, masks.get(p)), color=colour, lw=1.3, label=label)
        axes[row, 0].set_yscale("log")
        axes[row, 0].set_title(f"{title}: test metric" if title else "test metric")
        for col, (name, p, index) in enumerate(panels, start=1):
            ax = axes[row, col]
            ax.set_title(f"{title}: {name}" if title else name)
            truth = members[0].truth
            if truth is not None and index is not None:
                value = float(np.ravel(truth[p])[max(index, 0)])
                ax.axhspan(value - tol, value + tol, color="0.9", zorder=0)
                ax.axhline(value, color="0.3", ls="--", lw=1, label=f"true {value:g}")
            if index is None:
                ax.set_yscale("log")
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("training step")
    axes[0, 0].legend(fontsize=7)
    if panels:
        axes[0, -1].legend(fontsize=7)
    o = config.optimizer
    if o.schedule == "piecewise":
        schedule = " (then " + ", ".join(f"{v:g} from step {b}" for b, v in zip(o.boundaries, o.values)) + ")"
    else:
        schedule = f" ({o.schedule} to {o.final_lr:g})" if o.schedule != "constant" else ""
    loss = schema.tag(config.loss).replace("_", " ")
    fig.suptitle(f"{config.name}: {loss} loss, {schema.tag(o)} lr {o.lr:g}{schedule}", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
