"""``make demo``: learn the input current of a stochastic LIF neuron from spike trains (small settings).

Runs ``configs/demo.toml`` (both noise levels, two sample sizes, 200 steps) into ``runs/demo`` and
copies its figure to ``docs/figures/demo_input_current.png``, the plot the README shows.

    python -m spikesde._demo [--config PATH] [--out DIR] [--figure PATH]
"""

import argparse
import shutil
import sys
import time
from pathlib import Path

from .config import load_config
from .._training.legacy_sweep import fit

ROOT = Path(__file__).resolve().parent.parent.parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spikesde._demo", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "demo.toml"))
    parser.add_argument("--out", default="runs/demo")
    parser.add_argument("--figure", default=str(ROOT / "docs" / "figures" / "demo_input_current.png"))
    args = parser.parse_args(argv)

    start = time.perf_counter()
    config = load_config(args.config)
    result = fit(config, args.out, overwrite=True)
    print((result.out_dir / "summary.md").read_text(), end="")
    figure = Path(args.figure)
    figure.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(result.figure, figure)
    print(f"figure: {figure}")
    print(f"run folder: {result.out_dir}  ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
