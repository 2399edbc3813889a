"""Figures of a training run folder: the test metric and the estimates against the step (paper Figure 1)."""

import json
from pathlib import Path

import numpy as np

from .config import Config


def run_dir_name(sigma_v: float, sample_size: int) -> str:
    """Folder of one run of a sweep, relative to the run folder."""
    return f"sigma_v={sigma_v:g}/n={sample_size}"


def _records(path: Path) -> list[dict]:
    records = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return records


def _components(config: Config) -> list[tuple[str, int | None]]:
    """Every learned scalar: (field, index or None for a scalar field)."""
    out = []
    for name, value in config.current.init.items():
        if isinstance(value, tuple):
            out += [(name, i) for i in range(len(value))]
        else:
            out.append((name, None))
    return out


def _label(config: Config, name: str, index: int | None) -> str:
    """A reader's name for a learned scalar: c, c on [t_a, t_b), amplitude, ..."""
    if config.current.kind == "constant":
        return "c"
    if config.current.kind == "piecewise_constant" and name == "values" and index is not None:
        edges = [config.simulation.t0, *config.current.true["breakpoints"], config.simulation.t1]
        return f"c on [{edges[index]:g}, {edges[index + 1]:g})"
    return name if index is None else f"{name}[{index}]"


def _centred_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average (the window shrinks at the ends), so curves do not lag the raw data."""
    half = window // 2
    if half < 1:
        return values
    sums = np.concatenate([[0.0], np.cumsum(values)])
    lo = np.clip(np.arange(len(values)) - half, 0, len(values))
    hi = np.clip(np.arange(len(values)) + half + 1, 0, len(values))
    return (sums[hi] - sums[lo]) / (hi - lo)


def plot_sweep(out_dir: str | Path, config: Config, path: str | Path | None = None, smooth: int | None = None) -> Path:
    """Plot every run of a sweep: one row per noise level; the test MAE of the average first spike
    times (log scale; thin: per step, thick: centred moving average over ``smooth`` steps, default
    1/60 of the run) and one panel per learned scalar (true value dashed, the tolerance band shaded,
    an inset zoomed on the truth); one line per sample size.
    """
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    out_dir = Path(out_dir)
    path = Path(path) if path is not None else out_dir / "figure.png"
    sigmas, sizes = config.sweep.sigma_v, config.sweep.sample_size
    components = _components(config)
    n_cols = 1 + len(components)
    fig, axes = plt.subplots(
        len(sigmas), n_cols, figsize=(4.2 * n_cols, 2.9 * len(sigmas) + 0.4), squeeze=False, sharex=True
    )
    palette = ["#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    colours = [palette[i % len(palette)] for i in range(len(sizes))]
    k = config.simulation.max_spikes
    smooth = smooth if smooth is not None else max(1, round(config.training.steps / 60))
    tol = config.training.tolerance
    insets = {}
    late_error = {}
    truths = {
        col: config.current.true[name] if index is None else config.current.true[name][index]
        for col, (name, index) in enumerate(components, start=1)
    }
    for row, sigma in enumerate(sigmas):
        for colour, n in zip(colours, sizes):
            records = [r for r in _records(out_dir / run_dir_name(sigma, n) / "metrics.jsonl") if r.get("test_mae") is not None]
            if not records:
                continue
            steps = np.array([r["step"] for r in records])
            mae = np.array([r["test_mae"] for r in records])
            ax = axes[row, 0]
            ax.plot(steps, mae, color=colour, lw=0.5, alpha=0.35)
            ax.plot(steps, _centred_mean(mae, smooth), color=colour, lw=1.6, label=f"n = {n}")
            for col, (name, index) in enumerate(components, start=1):
                values = np.array([r["params"][name] if index is None else r["params"][name][index] for r in records])
                axes[row, col].plot(steps, values, color=colour, lw=1.3, label=f"n = {n}")
                if (row, col) not in insets:
                    insets[row, col] = axes[row, col].inset_axes([0.42, 0.1, 0.54, 0.45])
                late = steps >= steps[-1] * 0.4
                insets[row, col].plot(steps[late], values[late], color=colour, lw=1.0)
                late_error[row, col] = max(late_error.get((row, col), 0.0), float(np.max(np.abs(values[late] - truths[col]))))
        axes[row, 0].set_yscale("log")
        axes[row, 0].set_ylabel(f"test MAE, mean first {k} spike times")
        axes[row, 0].set_title(f"$\\sigma_V = {sigma:g}$: test error")
        for col, (name, index) in enumerate(components, start=1):
            truth = config.current.true[name]
            truth = truth if index is None else truth[index]
            ax = axes[row, col]
            ax.axhspan(truth - tol, truth + tol, color="0.9", zorder=0)
            ax.axhline(truth, color="0.3", ls="--", lw=1, label=f"true {truth:g}")
            if (row, col) in insets:
                inset = insets[row, col]
                inset.axhline(truth, color="0.3", ls="--", lw=1)
                inset.axhspan(truth - tol / 5, truth + tol / 5, color="0.9", zorder=0)
                half = min(2 * tol, max(tol / 2, 1.15 * late_error.get((row, col), 0.0)))
                inset.set_ylim(truth - half, truth + half)
                inset.tick_params(labelsize=7)
                inset.set_title(f"zoom on the last 60% (band: true $\\pm$ {tol / 5:g})", fontsize=7)
            label = _label(config, name, index)
            ax.set_ylabel(f"estimate of {label}")
            ax.set_title(f"$\\sigma_V = {sigma:g}$: {label}")
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("training step")
    axes[0, 0].legend(title="sample size", fontsize=8, title_fontsize=8)
    axes[0, -1].legend(handles=[h for h in axes[0, -1].get_lines() if h.get_label().startswith("true")], fontsize=8, loc="upper left")
    o = config.optimizer
    fig.suptitle(
        f"{config.name}: {config.loss.kind.replace('_', ' ')} loss, {o.name} lr {o.lr:g}"
        + (f" ({o.schedule} to {o.final_lr:g})" if o.schedule != "constant" else ""),
        fontsize=11,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
