"""The ``spikesde`` command line.

    spikesde fit CONFIG [--out DIR] [--resume | --overwrite] [--set key.path=value ...] [--quiet]
    spikesde simulate CONFIG --out FILE [--set key.path=value ...] [--overwrite]
    spikesde score RUN [--split train|validation|test | --window START STOP] [--no-gamma]

Every error a user can cause (a bad key or value, an unreadable config, a folder or file that
cannot be used, a checkpoint that does not belong to the run) prints one line naming the key, file
or conflict and exits with status 2, without a traceback, leaving no half-made folder.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import ConfigError, load_raw
from .score_cli import add_score_parser, score_command

EXIT_USAGE = 2


def _add_common(command: argparse.ArgumentParser) -> None:
    command.add_argument("config", help="TOML configuration, e.g. configs/slif_input_current.toml")
    command.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a configuration value in TOML syntax (--set optimizer.lr=1e-2 "
        "--set sweep.data.num_samples=[16,128]); repeatable",
    )  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spikesde", description="Stochastic spiking neural networks as event SDEs.")
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser(
        "fit", help="fit a model to spike trains (every run of the config's [sweep])",
        description="Run the experiment of a TOML configuration and write its folder (config, metrics, checkpoints, "
        "summary, figure).",
    )  # fmt: skip
    _add_common(fit)
    fit.add_argument("--out", metavar="DIR", help="output folder (default: runs/<name from the config>)")
    mode = fit.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue the runs in the folder from their checkpoints")
    mode.add_argument("--overwrite", action="store_true", help="replace the run in the folder (only files it wrote)")
    fit.add_argument("--quiet", action="store_true", help="no progress bars")
    simulate = commands.add_parser(
        "simulate", help="write spike trains of the config's true model to a file (.npz, .nwb, .mat)",
        description="Draw data.num_samples spike trains from the true model ([model] with [data.true]) with "
        "data.seed, on the [simulation] window, and write them; 'spikesde fit' reads them back with "
        "data.source = \"file\".",
    )  # fmt: skip
    _add_common(simulate)
    simulate.add_argument("--out", metavar="FILE", required=True, help="spike-train file to write (.npz, .nwb, .mat)")
    simulate.add_argument("--overwrite", action="store_true", help="replace an existing file")
    add_score_parser(commands)
    return parser


def _fit(args) -> int:
    raw = load_raw(args.config, args.overrides)
    from .sweep import run_sweep  # noqa: PLC0415 (JAX is imported only once the file reads as TOML)

    result = run_sweep(raw, args.out, resume=args.resume, overwrite=args.overwrite, progress=not args.quiet)
    print((result.out_dir / "summary.md").read_text(), end="")
    print(f"run folder: {result.out_dir}")
    if result.figure is not None:
        print(f"figure: {result.figure}")
    return 0


def _simulate(args) -> int:
    raw = load_raw(args.config, args.overrides)
    from .simulate import simulate_to_file  # noqa: PLC0415

    path, trains = simulate_to_file(raw, Path(args.out), overwrite=args.overwrite)
    print(f"wrote {trains.n_trials} trials x {trains.n_neurons} neurons on [{trains.t0:g}, {trains.t1:g}] to {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spikesde`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    from .._training.errors import CheckpointError, RunFolderError  # noqa: PLC0415

    try:
        if args.command == "score":
            return score_command(args)
        return _fit(args) if args.command == "fit" else _simulate(args)
    except (ConfigError, RunFolderError, CheckpointError) as error:
        print(f"spikesde {args.command}: error: {error}", file=sys.stderr)
    except OSError as error:  # a file system refusal while writing: name the file
        where = error.filename or ""
        print(f"spikesde {args.command}: error: {where}: {error.strerror or error}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"spikesde {args.command}: interrupted; continue with --resume", file=sys.stderr)
        return 130
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
