"""The ``spikesde score`` subcommand's arguments and entry (JAX is imported only when it runs)."""


def add_score_parser(commands) -> None:
    """Register ``spikesde score RUN [--split NAME | --window START STOP] [--no-gamma]``."""
    command = commands.add_parser("score", help="score a grasshopper run's models under the protocol on any window",
                                  description="Rebuild the fitted SLIF and GLM of a run folder and print the protocol's scores.")  # fmt: skip
    command.add_argument("run", help="run folder of 'spikesde fit configs/grasshopper.toml'")
    command.add_argument("--split", default="test", choices=("train", "validation", "test"), help="a protocol window (default test)")
    command.add_argument("--window", nargs=2, type=float, metavar=("START", "STOP"), help="any window [START, STOP) s instead")
    command.add_argument("--no-gamma", action="store_true", help="skip the model samples (bits per spike only)")


def score_command(args) -> int:
    """Print the protocol's scores of the run's models as a table."""
    import jax  # noqa: PLC0415

    from .score import score_run  # noqa: PLC0415

    jax.config.update("jax_enable_x64", True)  # the fit ran in float64
    window = tuple(args.window) if args.window else args.split
    scores = score_run(args.run, window, samples=not args.no_gamma)
    keys = sorted({k for d in scores.values() for k in d if k.startswith(("bits", "gamma"))})
    print("| model | " + " | ".join(keys) + " |\n|" + "---|" * (len(keys) + 1))
    for name, d in scores.items():
        print(f"| {name} | " + " | ".join(f"{d[k]:.3f}" if k in d else "-" for k in keys) + " |")
    first = next(iter(scores.values()))
    print(f"window {first['window']} s, {first['n_spikes']} spikes, reference Poisson at {first['training_rate']:.2f} Hz")
    return 0
