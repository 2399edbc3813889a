"""The ``spikesde`` command line.

    spikesde fit CONFIG [--out DIR] [--resume | --overwrite] [--set key.path=value ...] [--quiet]
"""

import argparse
import sys
from collections.abc import Sequence

from .config import ConfigError, load_config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spikesde", description="Stochastic spiking neural networks as event SDEs.")
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser(
        "fit",
        help="fit the input current of SLIF neurons to spike trains (a sweep over noise levels and sample sizes)",
        description="Run the experiment of a TOML configuration and write a run folder (config, metrics, "
        "checkpoints, final parameters, summary, figure).",
    )
    fit.add_argument("config", help="TOML configuration, e.g. configs/slif_input_current.toml")
    fit.add_argument("--out", metavar="DIR", help="run folder (default: runs/<name from the config>)")
    mode = fit.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue the run in the folder from its checkpoints")
    mode.add_argument("--overwrite", action="store_true", help="replace a run already in the folder")
    fit.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a configuration value, in TOML syntax (e.g. --set optimizer.lr=1e-2 "
        "--set sweep.sample_size=[16,128]); repeatable",
    )
    fit.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spikesde`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "fit":
        try:
            config = load_config(args.config, args.overrides)
        except (ConfigError, OSError) as error:
            print(f"spikesde fit: configuration error: {error}", file=sys.stderr)
            return 2
        from .._training.legacy_sweep import fit  # noqa: PLC0415 (JAX is imported only once the config is valid)

        try:
            result = fit(config, args.out, resume=args.resume, overwrite=args.overwrite, progress=not args.quiet)
        except (FileExistsError, ConfigError) as error:
            print(f"spikesde fit: {error}", file=sys.stderr)
            return 2
        print((result.out_dir / "summary.md").read_text(), end="")
        print(f"run folder: {result.out_dir}")
        print(f"figure: {result.figure}")
        return 0
    return 1  # pragma: no cover (argparse rejects unknown commands)


if __name__ == "__main__":
    sys.exit(main())
