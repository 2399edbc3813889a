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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", nargs="?", default="runs/ssnn_weights")
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--out", default="benchmarks/results/ssnn_weights_report.json")
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
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(table, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
