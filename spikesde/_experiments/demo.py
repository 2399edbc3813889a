"""``make demo``: learn the input current of a stochastic LIF neuron from spike trains (small settings).

Runs ``configs/demo.toml`` (both noise levels, four sample sizes, 200 steps) into ``runs/demo``
(replacing an earlier demo there) and writes nothing else: the figure is ``runs/demo/figure.png``.

    python -m spikesde._experiments.demo [--config PATH] [--out DIR]
"""

import argparse
import sys
import time
from pathlib import Path

from .cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent.parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spikesde._experiments.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "demo.toml"))
    parser.add_argument("--out", default="runs/demo")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    replace = ["--overwrite"] if (Path(args.out) / "sweep.json").is_file() else []
    status = cli_main(["fit", args.config, "--out", args.out, *replace])
    print(f"({time.perf_counter() - start:.0f} s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
