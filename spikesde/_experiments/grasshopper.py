"""Fit a locust receptor recording (nitime) under the evaluation protocol: the SLIF by exact
likelihood with its structure selected on training and validation data, against a Poisson GLM
selected the same way; both scored once on the test window by one function. For the binned scores
the SLIF is also refitted per bin width on the binned training data, kept where validation prefers
it (:mod:`.grasshopper_refit`), as the GLM is fitted per bin width.

    spikesde fit configs/grasshopper.toml --out runs/grasshopper
    python -m spikesde._experiments.grasshopper --out runs/grasshopper [--config configs/grasshopper.toml]

Windows (:class:`~spikesde._likelihood.protocol.Protocol`): training ``[0, train_end - 1)``,
validation ``[train_end - 1, train_end)``, test ``[train_end, 10)`` s (``train_end = 8``). Writes
``results.json`` and ``grasshopper.png``.
"""

import argparse
import dataclasses
import json
import math
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .._io.grasshopper import read_grasshopper
from .._likelihood.design import to_model
from .._likelihood.newton import block_indicators, block_multiplicities, percentile_intervals
from .._likelihood.protocol import Protocol, score
from .._likelihood.slif_scoring import FittedSLIF, PerWidthSLIF
from .._likelihood.stimulus_fit import bootstrap_refits, laplace_covariance, profile_fit
from .grasshopper_glm import GLMBaseline, glm_models, one_blas_thread, select_glm
from .grasshopper_refit import plain, refit_per_width
from .grasshopper_select import select_slif


@dataclasses.dataclass(frozen=True)
class GrasshopperConfig:
    """The settings of the fit; the defaults are those of ``configs/grasshopper.toml``, from which
    :func:`~.likelihood_run.settings_from_config` builds them (``spikesde fit``). ``transform``,
    ``filter_duration``, ``history_taus`` (those below 50 ms) and ``smoothness`` are the first
    candidates of the selection (:func:`~.grasshopper_select.candidates`); ``mu_v_grid``'s
    geometric mean of its ends starts the ``mu_v`` search (which has no grid ceiling)."""

    recording: int = 1
    train_end: float = 8.0
    dt: float = 1e-4
    n_basis: int = 10
    filter_duration: float = 0.03
    history_taus: tuple[float, ...] = (0.002, 0.005, 0.02)
    transform: str = "log_zscore"
    mu_v_grid: tuple[float, ...] = (100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0)
    beta: float = 5.0
    alpha: float = 0.0
    v_threshold: float = 1.0
    tau_s: float = 1.0
    v0: float = 1.0
    golden_steps: int = 6
    newton_steps: int = 25
    n_boot: int = 0
    n_blocks: int = 16
    bootstrap_steps: int = 3
    level: float = 0.9
    n_samples: int = 100
    bin_widths: tuple[float, ...] = (0.001, 0.0005)
    precision: float = 0.002
    glm: bool = True
    noise_sigmas: tuple[float, ...] = ()
    noise_shifts: tuple[float, ...] = (0.0,)
    noise_samples: int = 8
    noise_window: float = 0.5
    seed: int = 0
    smoothness: float = 0.0

    def protocol(self, duration: float = 10.0) -> Protocol:
        """Training ``[0, train_end - 1)``, validation ``[train_end - 1, train_end)``, test ``[train_end, duration)``."""
        return Protocol(train=(0.0, self.train_end - 1.0), validation=(self.train_end - 1.0, self.train_end),
                        test=(self.train_end, duration), bin_widths=self.bin_widths, precision=self.precision,
                        n_samples=self.n_samples, seed=self.seed)  # fmt: skip


def _log(start_time, start_cpu):
    return lambda what: print(f"[{time.perf_counter() - start_time:6.1f} s, CPU {time.process_time() - start_cpu:6.1f} s] {what}",
                              flush=True)  # fmt: skip


def _plain(tree) -> dict:
    return {k: np.asarray(v).tolist() for k, v in tree.items()}


def fit_slif(design, theta, weights, config):
    """:func:`profile_fit` of one structure from the geometric mean of ``mu_v_grid``'s ends (no grid
    ceiling), with ``config``'s Newton steps and smoothness: ``(theta, log-likelihood)``."""
    log_mu = 0.5 * (math.log(config.mu_v_grid[0]) + math.log(config.mu_v_grid[-1]))
    theta, value, _ = profile_fit(design, {**theta, "log_mu_v": jnp.asarray(log_mu)}, weights, n_iter=config.newton_steps,
                                  smoothness=config.smoothness)  # fmt: skip
    return theta, value


def slif_model(selected, duration, dt, per_width=None) -> FittedSLIF | PerWidthSLIF:
    """The :class:`FittedSLIF` of a selection (its theta, structure and slow time constant); with
    ``per_width`` (:func:`~.grasshopper_refit.refit_per_width`) the :class:`PerWidthSLIF` that scores
    each bin width by the parameters chosen for it."""
    sel, structure = selected["selection"], selected["structure"]
    design = sel.design(structure, selected["tau_slow"])
    taus = structure.fast_taus + (selected["tau_slow"],)

    def fitted(theta):
        return FittedSLIF(*to_model(theta, sel.current(structure)[1], taus, design.template), dt, duration)

    exact = fitted(selected["theta"])
    if per_width is None:
        return exact
    return PerWidthSLIF(exact, {w: fitted(row["theta"]) if row["choice"] == "refit" else exact for w, row in per_width.items()})


def intervals(selected, config) -> dict:
    """Laplace intervals (posterior under the smoothness prior) at ``config.level`` for the fitted
    parameters: the linear ones and ``log_mu_v`` (``tau_slow`` is profiled: point estimate only);
    with ``n_boot > 0`` also block-bootstrap intervals of the linear parameters (``mu_v`` and
    ``tau_slow`` held: no bootstrap interval for them)."""
    sel, structure, theta = selected["selection"], selected["structure"], selected["theta"]
    design = sel.design(structure, selected["tau_slow"])
    covariance = laplace_covariance(design, theta, *sel.train, smoothness=structure.smoothness)
    sd = ravel_pytree(theta)[1](jnp.sqrt(jnp.clip(jnp.diag(covariance), 0.0)))
    z = float(jax.scipy.special.ndtri(0.5 + config.level / 2))
    out = {"level": config.level, "laplace_sd": _plain(sd),
           "laplace": {k: [(np.asarray(theta[k]) - z * np.asarray(sd[k])).tolist(), (np.asarray(theta[k]) + z * np.asarray(sd[k])).tolist()] for k in theta},
           "not_given": {"tau_slow": "profiled on the training likelihood; no interval"}}  # fmt: skip
    boot = None
    if config.n_boot > 0:
        indicators = block_indicators(design.grid.times, *sel.protocol.train, config.n_blocks)
        multiplicity = block_multiplicities(config.n_blocks, config.n_boot, jax.random.key(config.seed))
        boot = bootstrap_refits(design, theta, indicators, multiplicity, n_iter=config.bootstrap_steps, smoothness=structure.smoothness)
        low, high = percentile_intervals(boot, config.level)
        out["bootstrap"] = {k: [np.asarray(low[k]).tolist(), np.asarray(high[k]).tolist()] for k in theta if k != "log_mu_v"}
        out["not_given"]["log_mu_v"] = "held at its estimate in the bootstrap refits; Laplace interval only"
    return out, covariance, boot


def _scores(model, spikes, protocol):
    validation = score(model, spikes, "validation", protocol, samples=False)
    test = score(model, spikes, "test", protocol)
    samples = test.pop("samples")
    return {"validation": validation, "test": test}, samples


def run(config: GrasshopperConfig, out: pathlib.Path, *, trains=None, plot: bool = True) -> dict:
    """The whole experiment: SLIF selection and fit, intervals, GLM selection and fit, every score
    of the protocol (test window once, at the end), figure. Writes ``out/results.json`` (and
    ``out/grasshopper.png``); returns the results."""
    if config.noise_sigmas:
        raise ValueError("loss.noise_sigma_v: the membrane-noise fit is not part of the protocol pipeline; set it to []")
    start_time, start_cpu = time.perf_counter(), time.process_time()
    log = _log(start_time, start_cpu)
    trains = read_grasshopper(config.recording) if trains is None else trains
    spikes, duration = np.asarray(trains.times[0][0]), trains.t1
    protocol = config.protocol(duration)
    log(f"recording {config.recording}: {spikes.size} spikes; train {protocol.train}, validation {protocol.validation}, "
        f"test {protocol.test} s")  # fmt: skip
    selected = select_slif(trains, config, protocol, log)
    report, covariance, boot = intervals(selected, config)
    log("Laplace intervals" + (" and bootstrap" if boot is not None else ""))
    structure = selected["structure"]
    slif = {"structure": dataclasses.asdict(structure), "tau_slow": selected["tau_slow"], "theta": _plain(selected["theta"]),
            "mu_v": math.exp(float(selected["theta"]["log_mu_v"])), "on_bound": selected["on_bound"],
            "train_log_likelihood": selected["train_log_likelihood"], "intervals": report, "selection_table": selected["table"]}  # fmt: skip
    per_width = refit_per_width(selected, protocol, config.newton_steps, log)
    slif["binned"] = plain(per_width)
    glm, glm_model = {}, None
    if config.glm:
        fits, settings, table = select_glm(trains, config, protocol, log)
        glm_model = GLMBaseline(glm_models(trains, fits, settings, config, protocol))
        glm = {"settings": {f"{w * 1e3:g}ms": row for w, row in settings.items()}, "selection_table": table,
               "fits": {f"{w * 1e3:g}ms": {"intercept": f.intercept, "coef": f.coef.tolist(), "mean": f.mean.tolist(),
                                            "scale": f.scale.tolist()} for w, f in fits.items()}}  # fmt: skip
    # The test window is scored here, once, after every choice has been made.
    slif_model_ = slif_model(selected, duration, config.dt, per_width)
    slif_scores, samples = _scores(slif_model_, spikes, protocol)
    slif.update(slif_scores)
    glm_samples = []
    if glm_model is not None:
        with one_blas_thread():
            glm_scores, glm_samples = _scores(glm_model, spikes, protocol)
        glm.update(glm_scores)
    log("scored (validation, then test)")
    results = {"config": dataclasses.asdict(config), "protocol": dataclasses.asdict(protocol), "slif": slif, "glm": glm,
               "n_train_spikes": int(np.sum(spikes < protocol.train[1])), "n_test_spikes": slif["test"]["n_spikes"]}  # fmt: skip
    results.update(seconds=time.perf_counter() - start_time, cpu_seconds=time.process_time() - start_cpu)
    out.mkdir(parents=True, exist_ok=True)
    if plot:
        from .grasshopper_figure import plot_grasshopper

        fitted = dict(selected=selected, covariance=covariance, model=slif_model_.exact, glm=glm_model)
        plot_grasshopper(out / "grasshopper.png", trains, protocol, fitted, samples, glm_samples)
    results["seconds_with_figure"] = time.perf_counter() - start_time
    (out / "results.json").write_text(json.dumps(results, indent=1))
    log(f"wrote {out / 'results.json'}")
    return results


def results_table(results: dict) -> str:
    """The Markdown table of the protocol's test scores of a :func:`run` (SLIF and GLM), with the
    validation scores and each GLM's solver state below it."""
    widths = [f"{w * 1e3:g}ms" for w in results["protocol"]["bin_widths"]]
    head = ["model", "bits/spike, continuous"] + [f"bits/spike, {w[:-2]} ms" for w in widths] + ["Gamma (2 ms)", "validation bits/spike (finest)"]
    rows = []
    for name, d in (("SLIF (selected; binned: per-width fit)", results["slif"]), ("Poisson GLM (selected, ridge)", results["glm"])):
        if not d:
            continue
        test = d["test"]
        row = [name, f"{test['bits_per_spike_continuous']:.3f}" if "bits_per_spike_continuous" in test else "-"]
        row += [f"{test[f'bits_per_spike_{w}']:.3f}" for w in widths]
        row += [f"{test['gamma']:.3f} +- {test['gamma_sem']:.3f}", f"{d['validation'][f'bits_per_spike_{widths[-1]}']:.3f}"]
        rows.append(row)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]
    s = results["slif"]
    notes = [f"\nTest window {results['protocol']['test']} s, {results['n_test_spikes']} spikes; bits/spike against Poisson at the "
             f"training rate {s['test']['training_rate']:.1f} Hz.",
             f"SLIF: {s['structure']}, tau_slow {s['tau_slow']:.2f} s, mu_v {s['mu_v']:.0f}/s"
             + (f"; ON A SEARCH BOUND: {s['on_bound']}" if s["on_bound"] else "; no parameter on a search bound") + "."]  # fmt: skip
    for w, row in s.get("binned", {}).items():
        v = row["validation_log_likelihood"]
        notes.append(f"SLIF {w} bins: {row['choice']} parameters (binned validation log-likelihood: exact-time fit {v['exact']:.2f}, "
                     f"refit on edge-moved spikes {v['refit']:.2f}; {row['steps']} Newton steps, converged {row['converged']}).")  # fmt: skip
    for w, row in results["glm"].get("settings", {}).items():
        notes.append(f"GLM {w}: {row['transform']}, filter {row['filter_duration'] * 1e3:g} ms, slow traces {row['slow_taus']}, "
                     f"ridge {row['ridge']:g}; converged {row['converged']} ({row['iterations']} Newton steps, decrement "
                     f"{row['newton_decrement']:.1e})" + (f"; at the end of its candidates: {row['on_edge']}" if row.get("on_edge") else "") + ".")  # fmt: skip
    return "\n".join(lines + notes) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("runs/grasshopper"))
    parser.add_argument("--config", type=pathlib.Path, default=None, help="a config like configs/grasshopper.toml")
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    if args.config is None:
        config = GrasshopperConfig()
    else:
        from .config import load_config
        from .likelihood_run import settings_from_config

        config = settings_from_config(load_config(args.config))
    results = run(config, args.out)
    print(results_table(results), end="")
    print(f"total {results['seconds_with_figure']:.1f} s wall, {results['cpu_seconds']:.1f} s CPU; wrote {args.out}/results.json")


if __name__ == "__main__":
    main()
