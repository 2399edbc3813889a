"""Trajectories of a `spikesde fit configs/ssnn_weights.toml` run: test losses and weight errors by step.

Reads ``<run folder>/metrics.jsonl`` of each run of the sweep and prints, every ``--every`` steps:
the reference run's test loss (``test_metric``: depth-3 expected-signature MSE of the unscaled lift,
mean over its terms), our training loss on the test set (``test_loss``), the mean absolute weight
error over the 96 connections, its two layers, and the error of each target neuron's mean input
weight (what the spike trains pin down when the inputs fire nearly together). Writes the table as
JSON to ``benchmarks/results/ssnn_weights_report.json``.

Run: python benchmarks/ssnn_weights_report.py [runs/ssnn_weights] [--every 100]
"""

import argparse
import json
import pathlib

import numpy as np

from spikesde import load_config
from spikesde._experiments.build import build_model, true_model


def errors(weights, truth, mask):
    diff = (np.asarray(weights) - truth) * mask
    sums = np.abs(diff.sum(axis=0))[4:] / mask.sum(axis=0)[4:]
    return dict(weight_error=float(np.abs(diff)[mask].mean()), layer1=float(np.abs(diff[:4]).sum() / 64),
                layer2=float(np.abs(diff[4:20]).sum() / 32), mean_input_hidden=float(sums[:16].mean()),
                mean_input_output=float(sums[16:].mean()))  # fmt: skip


def draw_figure(config, metrics: pathlib.Path, path: str, trials: int = 256):
    """Rasters, PSTHs and count distributions of the data, the start and the fitted model (mean of the last
    ``training.final_window`` recorded steps) of one run, with the library's ``run_models``."""
    import jax  # noqa: PLC0415
    from spikesde import plot_spike_statistics, run_models  # noqa: PLC0415
    from spikesde._experiments.config import expand_sweep, to_builtins  # noqa: PLC0415
    from spikesde._experiments.summary import summarize  # noqa: PLC0415

    records = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    run = next(r for r in expand_sweep(to_builtins(config)) if r.folder == metrics.parent.name)
    summary = summarize(run.folder, run.values, records, steps=len(records), final_window=config.training.final_window,
                        tolerance=0.0, truth=None, masks={}, wall_seconds=None)  # fmt: skip
    models = run_models(config, summary)
    keys = jax.random.split(jax.random.key(2024), 3)
    labels = {"data (true network)": models.truth, "start": models.start, f"after {len(records)} steps": models.fitted}
    samples = {label: np.asarray(models.simulation.sample(m, k, trials)[0]) for (label, m), k in zip(labels.items(), keys)}
    layers = {"input (4)": range(0, 4), "hidden (16)": range(4, 20), "output (2)": range(20, 22)}
    figure = plot_spike_statistics(samples, t0=config.simulation.t0, t1=config.simulation.t1, groups=layers)
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    print(f"figure: {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", nargs="?", default="runs/ssnn_weights")
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--out", default="benchmarks/results/ssnn_weights_report.json")
    parser.add_argument("--figure", default=None, help="also draw data / start / fitted statistics of the first run here")
    args = parser.parse_args()
    folder = pathlib.Path(args.folder)
    config = load_config(folder / "config.toml")
    truth_model = true_model(config, build_model(config.model))
    truth, mask = np.asarray(truth_model.weights), np.asarray(truth_model.mask)
    table = {}
    for metrics in sorted(folder.glob("*/metrics.jsonl")):
        records = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
        rows = []
        for r in records:
            if r["step"] % args.every == 0 or r is records[-1]:
                rows.append(dict(step=r["step"], test_metric=r.get("test_metric"), test_loss=r.get("test_loss"),
                                 seconds=r.get("seconds"), **errors(r["values"]["weights"], truth, mask)))  # fmt: skip
        table[metrics.parent.name] = rows
        print(f"\n{metrics.parent.name} ({len(records)} steps recorded)")
        print("| step | reference test loss | our test loss | mean abs weight error | layer 1 | layer 2 | mean-input error (hidden, output) |")
        print("|---|---|---|---|---|---|---|")
        for row in rows:
            print(f"| {row['step']} | {row['test_metric']:.2f} | {row['test_loss']:.3f} | {row['weight_error']:.3f} | "
                  f"{row['layer1']:.3f} | {row['layer2']:.3f} | {row['mean_input_hidden']:.3f}, {row['mean_input_output']:.3f} |")
    if args.figure:
        draw_figure(config, sorted(folder.glob("*/metrics.jsonl"))[0], args.figure)
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(table, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
