r"""Fit the input current of stochastic LIF neurons to samples of spike trains.

The experiment (Holberg & Salvi 2024, Figure 1): draw ``n`` spike trains from an SLIF neuron with
the true input current ``c*``, then minimise ``L(theta) = D(model samples at theta, data)`` over
the learned current parameters ``theta`` by stochastic gradient descent. Every step draws fresh
model samples, so the gradient is an unbiased pathwise estimate of ``d/dtheta E[D]`` for the
sample-mean losses (the noise is held fixed while :func:`spikesde.simulate` differentiates).

One training step (simulate, loss, gradient, optimiser update, and test metrics on the same model
samples against an independent test set) is a single compiled XLA program; Python only drives the
loop, writes metrics, checkpoints and draws plots. A run over a sweep of noise levels and sample
sizes writes a folder::

    <out>/config.toml                         the resolved configuration
    <out>/summary.json, summary.md            final estimates, test MAE, timings per run
    <out>/figure.png                          test MAE and the estimates against the step
    <out>/sigma_v=<s>/n=<n>/metrics.jsonl     one line per step
    <out>/sigma_v=<s>/n=<n>/params.json       final parameters and summary of that run
    <out>/sigma_v=<s>/n=<n>/checkpoint.eqx    step, parameters, optimiser state, PRNG key

A run that is killed resumes (``resume=True``) from its last checkpoint and ends with exactly the
parameters of an uninterrupted run: the state carries the PRNG key, and the data are regenerated
from the seed.
"""

import dataclasses
import json
import math
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from .._experiments.config import Config, ConfigError, config_to_toml, load_config
from .._core.current import AbstractCurrent
from .._models.currents import ConstantCurrent, PiecewiseConstantCurrent, SinusoidalCurrent
from .._gradients.forward import forward_value_and_grad
from .._losses.base import AbstractSpikeTrainLoss
from .._losses.kernel import SignatureKernelMMD
from .._losses.signature import ExpectedSignatureLoss
from .._losses.spike_time import FirstSpikeTimeLoss
from .._experiments.plotting import plot_sweep, run_dir_name
from .._core.simulate import simulate
from .._models.slif import SLIF

Params = dict[str, Float[Array, "..."]]


# ---------------------------------------------------------------------------------------------
# The problem: model, data, loss and optimiser from a configuration.


def true_parameters(config: Config) -> Params:
    """The learned fields of the current at their true values."""
    return {name: jnp.asarray(config.current.true[name], dtype=float) for name in config.current.init}


def initial_parameters(config: Config) -> Params:
    """The learned fields of the current at their starting values."""
    return {name: jnp.asarray(value, dtype=float) for name, value in config.current.init.items()}


def make_current(config: Config, params: Params) -> AbstractCurrent:
    """The input current with the learned fields from ``params`` and the others at their true values."""
    fields = {name: jnp.asarray(value, dtype=float) for name, value in config.current.true.items()}
    fields.update(params)
    kind = config.current.kind
    if kind == "constant":
        return ConstantCurrent(fields["value"])
    if kind == "piecewise_constant":
        return PiecewiseConstantCurrent(fields["breakpoints"], fields["values"])
    if kind == "sinusoidal":
        return SinusoidalCurrent(fields["offset"], fields["amplitude"], fields["frequency"], fields["phase"])
    raise ConfigError("current.kind", f"unsupported current {kind!r}")


def make_model(config: Config, params: Params, sigma_v: Float[Array, ""] | float) -> SLIF:
    """One SLIF neuron driven by the current of ``params``, noise ``sigma_v`` on ``V``."""
    m = config.model
    return SLIF(
        1,
        make_current(config, params),
        mu_v=m.mu_v,
        mu_i=m.mu_i,
        sigma_v=sigma_v,
        sigma_i=m.sigma_i,
        v_reset=m.v_reset,
        alpha=m.alpha,
        beta=m.beta,
        v_threshold=m.v_threshold,
        tau_s=m.tau_s,
        v0=m.v0,
        i0=m.i0,
    )


def sample_spike_times(
    config: Config, params: Params, sigma_v: Float[Array, ""] | float, key: PRNGKeyArray, num_samples: int
) -> Float[Array, "num_samples 1 max_spikes"]:
    """``num_samples`` independent spike trains (buffers padded with ``+inf``), differentiable in ``params``."""
    s = config.simulation
    model = make_model(config, params, sigma_v)

    def one(sample_key):
        solution = simulate(
            model, t0=s.t0, t1=s.t1, dt=s.dt, key=sample_key, max_spikes=s.max_spikes, on_overflow="ignore"
        )
        return solution.spike_times

    return jax.vmap(one)(jax.random.split(key, num_samples))


def make_loss(config: Config) -> AbstractSpikeTrainLoss:
    """The training loss named by ``config.loss``."""
    loss, s = config.loss, config.simulation
    if loss.kind == "expected_signature":
        return ExpectedSignatureLoss(
            t0=s.t0, t1=s.t1, depth=loss.depth, time_scale=loss.time_scale, count_scale=loss.count_scale,
            reduction=loss.reduction, taper=loss.taper,
        )
    if loss.kind == "signature_mmd":
        return SignatureKernelMMD(
            t0=s.t0, t1=s.t1, time_scale=loss.time_scale, count_scale=loss.count_scale, refinement=loss.refinement,
            taper=loss.taper,
        )
    num_spikes = loss.num_spikes or s.max_spikes
    return FirstSpikeTimeLoss(num_spikes=num_spikes, t1=s.t1, kind="mse" if loss.kind == "spike_time_mse" else "mae")


def make_test_metric(config: Config) -> FirstSpikeTimeLoss:
    """The reference test metric: MAE of the average first ``max_spikes`` spike times."""
    return FirstSpikeTimeLoss(num_spikes=config.simulation.max_spikes, t1=config.simulation.t1, kind="mae")


def make_optimizer(config: Config) -> optax.GradientTransformation:
    """The optimiser of ``config.optimizer`` with its learning-rate schedule over ``training.steps``."""
    o, steps = config.optimizer, config.training.steps
    if o.schedule == "constant":
        lr = o.lr
    elif o.schedule == "exponential":
        lr = optax.exponential_decay(o.lr, transition_steps=steps, decay_rate=o.final_lr / o.lr)
    else:
        lr = optax.cosine_decay_schedule(o.lr, decay_steps=steps, alpha=o.final_lr / o.lr)
    if o.name == "rmsprop":
        return optax.rmsprop(lr, decay=o.decay, eps=o.eps, momentum=o.momentum or None)
    if o.name == "adam":
        return optax.adam(lr, b1=o.b1, b2=o.b2, eps=o.eps)
    return optax.sgd(lr, momentum=o.momentum or None)


# ---------------------------------------------------------------------------------------------
# The compiled step.


class TrainState(eqx.Module):
    """Everything a step changes: resuming from a saved state reproduces the run bit for bit."""

    step: Array
    params: Params
    opt_state: PyTree
    key: PRNGKeyArray


@dataclasses.dataclass(frozen=True, eq=False)
class Experiment:
    """The fixed parts of one run: how to sample the model, the loss, the test metric, the optimiser.

    Not a pytree: everything here is a compile-time constant of the step.
    """

    config: Config
    loss: AbstractSpikeTrainLoss
    test_metric: FirstSpikeTimeLoss
    optimizer: optax.GradientTransformation
    model_samples: int

    def value_and_grad(self, objective):
        """Reverse mode, or forward sensitivities (one tangent per learned scalar: cheaper for a few)."""
        mode = self.config.training.gradient
        if mode == "auto":
            size = sum(int(np.size(v)) for v in self.config.current.init.values())
            mode = "forward" if size <= 4 else "reverse"
        if mode == "forward":
            return forward_value_and_grad(objective, has_aux=True)
        return jax.value_and_grad(objective, has_aux=True)

    def init(self, key: PRNGKeyArray) -> TrainState:
        params = initial_parameters(self.config)
        return TrainState(jnp.asarray(0), params, self.optimizer.init(params), key)

    def step(self, state: TrainState, data, test_data, sigma_v) -> tuple[TrainState, dict]:
        """One optimiser step; the metrics describe the parameters *before* the update."""
        key, sample_key = jax.random.split(state.key)

        def objective(params):
            spikes = sample_spike_times(self.config, params, sigma_v, sample_key, self.model_samples)
            return self.loss(spikes, data), spikes

        (loss, spikes), grads = self.value_and_grad(objective)(state.params)
        # The model samples are independent of the test set, so they estimate the test metrics too.
        spikes = jax.lax.stop_gradient(spikes)
        metrics = {
            "loss": loss,
            "test_loss": self.loss(spikes, test_data),
            "test_mae": self.test_metric(spikes, test_data),
            "params": state.params,
        }
        updates, opt_state = self.optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        return TrainState(state.step + 1, params, opt_state, key), metrics

    def evaluate(self, params: Params, key, test_data, sigma_v) -> dict:
        """Test loss and test MAE of ``params`` on fresh model samples (a forward pass, no gradient)."""
        spikes = sample_spike_times(self.config, params, sigma_v, key, self.model_samples)
        return {
            "test_loss": self.loss(spikes, test_data),
            "test_mae": self.test_metric(spikes, test_data),
            "params": params,
        }


# ---------------------------------------------------------------------------------------------
# Checkpoints.


def save_checkpoint(path: Path, state: TrainState) -> None:
    """Write ``state`` atomically (a killed run never leaves a torn checkpoint)."""
    tree = {"step": state.step, "params": state.params, "opt_state": state.opt_state, "key": jax.random.key_data(state.key)}
    tmp = path.with_suffix(".tmp")
    eqx.tree_serialise_leaves(tmp, tree)
    os.replace(tmp, path)


def load_checkpoint(path: Path, like: TrainState) -> TrainState:
    """Read a checkpoint written by :func:`save_checkpoint` for a state shaped like ``like``."""
    template = {"step": like.step, "params": like.params, "opt_state": like.opt_state, "key": jax.random.key_data(like.key)}
    tree = eqx.tree_deserialise_leaves(path, template)
    key = jax.random.wrap_key_data(tree["key"], impl=jax.random.key_impl(like.key))
    return TrainState(tree["step"], tree["params"], tree["opt_state"], key)


# ---------------------------------------------------------------------------------------------
# Running a sweep.


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """The outcome of one (noise level, sample size) run."""

    sigma_v: float
    sample_size: int
    steps: int
    final_params: dict  # the parameters after the last step
    final_estimate: dict  # mean over the last `final_window` iterates
    true_params: dict
    final_error: float  # max |estimate - truth| over the learned components
    test_mae: float  # mean over the last `final_window` steps
    test_loss: float
    steps_to_tolerance: int | None
    seconds_to_tolerance: float | None  # wall time of the steps before it (compilation excluded)
    seconds_per_step: float
    compile_seconds: float | None  # None: the compiled step was reused from a run with the same shapes
    forward_seconds: float  # one forward pass of the model samples (no gradient), for comparison

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class FitResult:
    out_dir: Path
    runs: list[RunSummary]
    figure: Path


def _run_key(seed: int, sigma_v: float, sample_size: int) -> PRNGKeyArray:
    # Keyed by the values, not their position in the sweep: editing the sweep does not change a run.
    key = jax.random.fold_in(jax.random.key(seed), sample_size)
    return jax.random.fold_in(key, int(round(sigma_v * 1_000_000)))


def _to_host(tree):
    return jax.tree_util.tree_map(lambda x: np.asarray(x).tolist(), jax.device_get(tree))


def _format_params(params: dict) -> str:
    parts = []
    for name, value in params.items():
        values = np.atleast_1d(np.asarray(value, dtype=float))
        text = ", ".join(f"{v:.4f}" for v in values)
        parts.append(f"{name}={text if values.size == 1 and np.ndim(value) == 0 else '[' + text + ']'}")
    return " ".join(parts)


def _max_error(params: dict, truth: dict) -> float:
    return max(float(np.max(np.abs(np.asarray(params[k], float) - np.asarray(truth[k], float)))) for k in truth)


def _read_metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a torn last line from a killed run
    return records


def _prepare_out_dir(config: Config, out_dir: Path, resume: bool, overwrite: bool) -> None:
    config_path = out_dir / "config.toml"
    if resume:
        if config_path.exists():
            stored = load_config(config_path).to_dict()
            current = config.to_dict()
            if stored != current:
                changed = _diff_keys(stored, current)
                raise ConfigError(
                    changed[0], f"differs from the configuration of the run in {out_dir} ({', '.join(changed)}); "
                    "resume with the same configuration, or start a new run with --out"
                )
    elif out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise FileExistsError(
                f"{out_dir} already holds a run; pass resume=True (--resume) to continue it, overwrite=True "
                "(--overwrite) to replace it, or choose another folder (--out)"
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config_path.write_text(config_to_toml(config))


def _diff_keys(a, b, prefix="") -> list[str]:
    keys = []
    for key in sorted(set(a) | set(b)):
        path = f"{prefix}{key}"
        if isinstance(a.get(key), dict) and isinstance(b.get(key), dict):
            keys += _diff_keys(a[key], b[key], path + ".")
        elif a.get(key) != b.get(key):
            keys.append(path)
    return keys


class _Compiled:
    """Compiled steps and evaluations, shared by every run in this process with the same program.

    The program depends on the configuration (not on the sweep: the noise level is an argument)
    and on the shapes; re-running a notebook cell or resuming in the same process skips compiling.
    """

    max_entries = 16

    def __init__(self):
        self._cache: dict = {}

    @staticmethod
    def _program(config: Config) -> str:
        """What the compiled code depends on (the schedule depends on the number of steps)."""
        data = config.to_dict()
        program = {k: data[k] for k in ("simulation", "model", "current", "loss", "optimizer")}
        program["training"] = {k: data["training"][k] for k in ("steps", "gradient")}
        return json.dumps(program, sort_keys=True)

    def sampler(self, config: Config):
        """``sample(key, sigma_v, num)``: true spike trains (jitted once per configuration)."""
        signature = ("sampler", self._program(config))
        if signature not in self._cache:
            truth = true_parameters(config)
            sample = jax.jit(lambda key, sigma, num: sample_spike_times(config, truth, sigma, key, num), static_argnums=2)
            self._store(signature, sample)
        return self._cache[signature]

    def _store(self, signature, value):
        while len(self._cache) >= self.max_entries:
            self._cache.pop(next(iter(self._cache)))
        self._cache[signature] = value

    def get(self, experiment: Experiment, state, data, test_data, sigma_v):
        signature = (self._program(experiment.config), experiment.model_samples, data.shape, test_data.shape)
        if signature in self._cache:
            return (*self._cache[signature], None)
        start = time.perf_counter()
        step = jax.jit(experiment.step).lower(state, data, test_data, sigma_v).compile()
        compile_seconds = time.perf_counter() - start
        evaluate = jax.jit(experiment.evaluate).lower(state.params, state.key, test_data, sigma_v).compile()
        self._store(signature, (step, evaluate))
        return step, evaluate, compile_seconds


_COMPILED = _Compiled()


def fit(
    config: Config,
    out_dir: str | Path | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    callback: Callable[[int, TrainState, dict], None] | None = None,
) -> FitResult:
    """Run the sweep of ``config`` (every noise level times every sample size) and write the run folder.

    Arguments:
        config: a checked configuration (:func:`spikesde.load_config`).
        out_dir: the run folder (default ``runs/<config.name>``).
        resume: continue the run in ``out_dir``: finished runs are kept, unfinished ones restart
            from their last checkpoint. The configuration must be the one the run was started with.
        overwrite: replace an existing run in ``out_dir``.
        progress: show a progress bar per run (step, loss, test MAE, current estimates).
        callback: called as ``callback(step, state, metrics)`` after every step (e.g. to stop early by
            raising an exception; the run then resumes from its last checkpoint).

    Returns:
        The run folder, a :class:`RunSummary` per run, and the path of the figure.
    """
    out_dir = Path(out_dir) if out_dir is not None else Path("runs") / config.name
    _prepare_out_dir(config, out_dir, resume, overwrite)
    runs = []
    for sigma_v in config.sweep.sigma_v:
        for sample_size in config.sweep.sample_size:
            runs.append(
                _fit_one(config, sigma_v, sample_size, out_dir / run_dir_name(sigma_v, sample_size), _COMPILED,
                         progress=progress, callback=callback)
            )
    (out_dir / "summary.json").write_text(json.dumps([r.to_dict() for r in runs], indent=2) + "\n")
    (out_dir / "summary.md").write_text(summary_table(runs))
    return FitResult(out_dir, runs, plot_sweep(out_dir, config))


def _fit_one(config: Config, sigma_v: float, sample_size: int, run_dir: Path, compiled: _Compiled, *, progress, callback):
    params_path = run_dir / "params.json"
    if params_path.exists():
        summary = json.loads(params_path.read_text())["summary"]
        return RunSummary(**summary)
    run_dir.mkdir(parents=True, exist_ok=True)
    t = config.training
    model_samples = t.model_samples or sample_size
    test_size = t.test_size or sample_size
    experiment = Experiment(config, make_loss(config), make_test_metric(config), make_optimizer(config), model_samples)

    data_key, test_key, train_key, eval_key = jax.random.split(_run_key(t.seed, sigma_v, sample_size), 4)
    sigma = jnp.asarray(sigma_v, dtype=float)
    truth = true_parameters(config)
    sample = compiled.sampler(config)
    data = sample(data_key, sigma, sample_size)
    test_data = sample(test_key, sigma, test_size)

    state = experiment.init(train_key)
    checkpoint_path = run_dir / "checkpoint.eqx"
    if checkpoint_path.exists():
        state = load_checkpoint(checkpoint_path, state)
    start_step = int(state.step)
    metrics_path = run_dir / "metrics.jsonl"
    # Steps after the checkpoint were logged by the killed run; they are about to be redone.
    records = [r for r in _read_metrics(metrics_path) if r["step"] < start_step]
    metrics_path.write_text("".join(json.dumps(r) + "\n" for r in records))

    step_fn, evaluate_fn, compile_seconds = compiled.get(experiment, state, data, test_data, sigma)

    bar = _progress_bar(progress, t.steps, start_step, f"sigma_v={sigma_v:g} n={sample_size}")
    step_seconds = []
    with metrics_path.open("a") as log:
        for step in range(start_step, t.steps):
            tic = time.perf_counter()
            state, metrics = step_fn(state, data, test_data, sigma)
            metrics = _to_host(metrics)
            step_seconds.append(time.perf_counter() - tic)
            record = {"step": step, **metrics, "seconds": step_seconds[-1]}
            log.write(json.dumps(record) + "\n")
            log.flush()
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(
                    f"loss={metrics['loss']:.4g} test_mae={metrics['test_mae']:.4f} {_format_params(_to_host(state.params))}",
                    refresh=False,
                )
            if t.checkpoint_every and (step + 1) % t.checkpoint_every == 0:
                save_checkpoint(checkpoint_path, state)
            if callback is not None:
                callback(step + 1, state, metrics)
        final_metrics = _to_host(evaluate_fn(state.params, jax.random.fold_in(eval_key, t.steps), test_data, sigma))
        final = {"step": t.steps, **final_metrics, "loss": None, "seconds": None}
        log.write(json.dumps(final) + "\n")
    if bar is not None:
        bar.close()
    save_checkpoint(checkpoint_path, state)
    forward_seconds = _time_forward(evaluate_fn, state.params, eval_key, test_data, sigma)

    records = _read_metrics(metrics_path)
    window = [r for r in records if r["step"] > t.steps - t.final_window]
    estimate = {name: np.mean([np.asarray(r["params"][name], float) for r in window], axis=0).tolist() for name in truth}
    truth_host = _to_host(truth)
    within = [r["step"] for r in records if _max_error(r["params"], truth_host) < t.tolerance]
    # Timings come from this session's steps only (a resumed run did not time the steps before).
    timed = step_seconds[1:] if len(step_seconds) > 1 else step_seconds
    summary = RunSummary(
        sigma_v=sigma_v,
        sample_size=sample_size,
        steps=t.steps,
        final_params=_to_host(state.params),
        final_estimate=estimate,
        true_params=truth_host,
        final_error=_max_error(estimate, truth_host),
        test_mae=float(np.mean([r["test_mae"] for r in window])),
        test_loss=float(np.mean([r["test_loss"] for r in window])),
        steps_to_tolerance=within[0] if within else None,
        seconds_to_tolerance=float(sum(r["seconds"] for r in records if r["step"] < within[0])) if within else None,
        seconds_per_step=float(np.median(timed)) if timed else math.nan,
        compile_seconds=compile_seconds,
        forward_seconds=forward_seconds,
    )
    params_path.write_text(json.dumps({"params": summary.final_params, "summary": summary.to_dict()}, indent=2) + "\n")
    return summary


def _time_forward(evaluate_fn, params, key, test_data, sigma, repeats: int = 20) -> float:
    """Median seconds of one forward pass (model samples and test metrics, no gradient) at ``params``."""
    jax.block_until_ready(evaluate_fn(params, key, test_data, sigma))
    times = []
    for i in range(repeats):
        tic = time.perf_counter()
        jax.block_until_ready(evaluate_fn(params, jax.random.fold_in(key, i), test_data, sigma))
        times.append(time.perf_counter() - tic)
    return float(np.median(times))


def _progress_bar(enabled: bool, total: int, initial: int, description: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm  # noqa: PLC0415

    return tqdm(total=total, initial=initial, desc=description, dynamic_ncols=True, mininterval=0.2)


def summary_table(runs: list[RunSummary]) -> str:
    """A Markdown table of the runs' final estimates, test MAE and timings."""
    lines = [
        "| sigma_v | n | final estimate (mean of last window) | error | test MAE | steps (s) to tolerance | s / step | forward s | compile s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        estimate = _format_params(r.final_estimate)
        compile_text = f"{r.compile_seconds:.1f}" if r.compile_seconds is not None else "(reused)"
        lines.append(
            f"| {r.sigma_v:g} | {r.sample_size} | {estimate} | {r.final_error:.4f} | {r.test_mae:.4f} | "
            f"{_to_tolerance(r)} | {r.seconds_per_step:.4f} | "
            f"{r.forward_seconds:.4f} | {compile_text} |"
        )
    return "\n".join(lines) + "\n"


def _to_tolerance(run: RunSummary) -> str:
    if run.steps_to_tolerance is None:
        return "never"
    return f"{run.steps_to_tolerance} ({run.seconds_to_tolerance:.2f} s)"
