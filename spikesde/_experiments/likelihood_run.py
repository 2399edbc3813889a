"""``spikesde fit`` of a configuration with ``loss.kind = "exact_likelihood"``: the maximum-likelihood
fit of a noise-free SLIF driven by a recorded stimulus (``model.input_current.kind =
"stimulus_filter"``), on ``data.source = "grasshopper"`` (the nitime recording).

The configuration maps onto :class:`~.grasshopper.GrasshopperConfig`: ``[simulation] dt`` is the
likelihood and sampling grid, ``[training] steps`` the Newton steps per profile point, ``[training]
seed`` the seed of the bootstrap and of the model samples. The run folder holds ``config.toml``,
``results.json`` (everything), ``summary.json`` (the scores), ``summary.md`` (their table) and
``grasshopper.png``.
"""

import json
from pathlib import Path

import jax

from .._training.errors import RunFolderError
from . import schema
from .config import ConfigError, config_to_toml

LEARNED = {"input_current.bias", "input_current.weights", "history.amplitudes", "v_reset", "mu_v"}
RESULT_FILES = ("config.toml", "results.json", "summary.json", "summary.md", "grasshopper.png")


def _check(config: schema.Config) -> None:
    """Every section fits a likelihood fit; errors name the key."""
    model, data, s = config.model, config.data, config.simulation
    if not isinstance(config.loss, schema.ExactLikelihood):
        raise ConfigError("loss.kind", f"expected 'exact_likelihood', got {schema.tag(config.loss)!r}")
    if not isinstance(model, schema.SLIFModel) or model.n_neurons != 1:
        raise ConfigError("model.kind", "exact_likelihood fits one SLIF neuron (kind = 'slif', n_neurons = 1)")
    for name in ("sigma_v", "sigma_i"):
        if getattr(model, name) != 0:
            raise ConfigError(f"model.{name}", "the exact likelihood needs a noise-free membrane (0); with membrane noise "
                              "use a simulation-based loss")  # fmt: skip
    if not isinstance(model.input_current, schema.StimulusFilter):
        raise ConfigError("model.input_current.kind", "exact_likelihood needs kind = 'stimulus_filter'")
    if not isinstance(data, schema.GrasshopperData):
        raise ConfigError("data.source", "exact_likelihood reads data.source = 'grasshopper'")
    if not isinstance(config.optimizer, schema.Newton):
        raise ConfigError("optimizer.name", "exact_likelihood is fitted by Newton steps: name = 'newton'")
    if (s.t0, s.t1) != (0.0, 10.0):
        raise ConfigError("simulation.t1", f"the recording is [0, 10] s; got [{s.t0}, {s.t1}]")
    learned = LEARNED - ({"history.amplitudes"} if not model.input_current.history_taus else set())
    if set(config.learn) != learned:
        raise ConfigError("learn", f"exact_likelihood learns exactly {sorted(learned)}, got {sorted(config.learn)}")
    for path, entry in config.learn.items():
        if (entry.init, entry.lower, entry.upper) != (None, None, None):
            raise ConfigError(f'learn."{path}"', "init and bounds are not used by exact_likelihood (leave the table empty)")
    if config.sweep:
        raise ConfigError("sweep", "exact_likelihood runs one fit; remove [sweep]")


def settings_from_config(config: schema.Config):
    """The :class:`~.grasshopper.GrasshopperConfig` of a checked configuration."""
    from .grasshopper import GrasshopperConfig  # noqa: PLC0415

    _check(config)
    m, current, loss = config.model, config.model.input_current, config.loss
    scalar = lambda name: float(getattr(m, name)[0] if isinstance(getattr(m, name), list) else getattr(m, name))  # noqa: E731
    return GrasshopperConfig(
        recording=config.data.recording, train_end=config.data.train_end, dt=config.simulation.dt,
        n_basis=current.n_basis, filter_duration=current.filter_duration, history_taus=tuple(current.history_taus),
        transform=current.transform, mu_v_grid=tuple(loss.mu_v_grid), beta=scalar("beta"), alpha=scalar("alpha"),
        v_threshold=scalar("v_threshold"), tau_s=scalar("tau_s"), v0=scalar("v0"), golden_steps=loss.golden_steps,
        newton_steps=config.training.steps, n_boot=loss.n_boot, n_blocks=loss.n_blocks, bootstrap_steps=loss.bootstrap_steps, level=loss.level,
        n_samples=loss.n_samples, bin_widths=tuple(loss.bin_widths), precision=loss.precision, glm=loss.glm,
        noise_sigmas=tuple(loss.noise_sigma_v), noise_shifts=tuple(loss.noise_bias_shift), noise_samples=loss.noise_samples,
        noise_window=loss.noise_window, seed=config.training.seed,
    )  # fmt: skip


def _check_folder(out_dir: Path, *, resume: bool, overwrite: bool) -> None:
    if resume:
        raise RunFolderError(out_dir, "a likelihood fit has no checkpoints to resume; use --overwrite to run it again")
    if out_dir.exists() and not out_dir.is_dir():
        raise RunFolderError(out_dir, "is a file, not a folder; choose a folder for the run")
    contents = {p.name for p in out_dir.iterdir()} if out_dir.is_dir() else set()
    if contents and "results.json" not in contents:
        raise RunFolderError(out_dir, "is not empty and is not a likelihood run folder; choose an empty or new folder "
                             "(nothing was changed)")  # fmt: skip
    if contents and not overwrite:
        raise RunFolderError(out_dir, "already holds a run; pass --overwrite to replace it, or choose another folder with --out")


def run_likelihood_fit(config: schema.Config, out_dir: Path, *, resume: bool = False, overwrite: bool = False,
                       plot: bool = True):  # fmt: skip
    """Run the fit of ``config`` into ``out_dir``; returns ``(out_dir, figure or None)``."""
    from .grasshopper import results_table, run  # noqa: PLC0415

    settings = settings_from_config(config)
    out_dir = Path(out_dir)
    _check_folder(out_dir, resume=resume, overwrite=overwrite)
    jax.config.update("jax_enable_x64", True)  # Newton steps on ~10^5 nodes need float64
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in RESULT_FILES:
        (out_dir / name).unlink(missing_ok=True)
    (out_dir / "config.toml").write_text(config_to_toml(config), encoding="utf-8")
    results = run(settings, out_dir, plot=plot)
    seconds = f"\nfit, intervals, GLM, samples: {results['seconds']:.1f} s wall, {results['cpu_seconds']:.1f} s CPU\n"
    (out_dir / "summary.md").write_text(results_table(results) + seconds, encoding="utf-8")
    summary = {name: results[name] for name in ("slif", "glm", "slif_noise", "n_train_spikes", "n_test_spikes") if name in results}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return out_dir, (out_dir / "grasshopper.png" if plot else None)
