"""``spikesde score RUN``: rebuild the fitted models of a grasshopper run folder and score them
under the protocol on any window.

    spikesde score runs/grasshopper                   # the test window
    spikesde score runs/grasshopper --window 2 4      # any [start, stop) s
    python -c "import spikesde.experiments; print(spikesde.experiments.score_run('runs/grasshopper', 'validation'))"
"""

import dataclasses
import json
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from .._io.grasshopper import read_grasshopper
from .._likelihood.design import to_model
from .._likelihood.glm import GLMFit
from .._likelihood.protocol import Protocol, score
from .._likelihood.slif_scoring import FittedSLIF, PerWidthSLIF
from .._models.slif import SLIF
from .._training.errors import RunFolderError
from .grasshopper_glm import FittedGLM, GLMBaseline
from .grasshopper_select import stimulus_current


def load_run(run_dir) -> dict:
    """The recording, protocol and fitted models of a run folder: ``{"trains", "protocol", "slif",
    "glm" (None if the run had no GLM), "results"}``."""
    path = Path(run_dir) / "results.json"
    if not path.is_file():
        raise RunFolderError(Path(run_dir), "holds no results.json: not a finished grasshopper run")
    results = json.loads(path.read_text())
    if "protocol" not in results or "structure" not in results.get("slif", {}):
        raise RunFolderError(Path(run_dir), "results.json is from an older grasshopper run without the protocol; fit it again")
    config, slif = results["config"], results["slif"]
    protocol = Protocol(**{k: tuple(v) if isinstance(v, list) else v for k, v in results["protocol"].items()})
    trains = read_grasshopper(config["recording"])
    structure = slif["structure"]
    _, current = stimulus_current(trains, structure["transform"], structure["filter_duration"], config["n_basis"], protocol.train[1])
    template = SLIF(input_current=current, alpha=config["alpha"], beta=config["beta"], v_threshold=config["v_threshold"],
                    tau_s=config["tau_s"], v0=config["v0"])  # fmt: skip
    taus = tuple(structure["fast_taus"]) + (slif["tau_slow"],)

    def fitted(theta):
        theta = {k: jnp.asarray(v) for k, v in theta.items()}
        return FittedSLIF(*to_model(theta, current, taus, template), config["dt"], trains.t1)

    model = fitted(slif["theta"])
    if "binned" in slif:  # the per-width refits (grasshopper_refit), where validation chose them
        model = PerWidthSLIF(model, {float(name[:-2]) * 1e-3: fitted(row["theta"]) for name, row in slif["binned"].items()})
    out = {"trains": trains, "protocol": protocol, "results": results, "glm": None, "slif": model}
    if results.get("glm"):
        models = {}
        for name, row in results["glm"]["settings"].items():
            width, fit = float(name[:-2]) * 1e-3, results["glm"]["fits"][name]
            _, current = stimulus_current(trains, row["transform"], row["filter_duration"], config["n_basis"], protocol.train[1])
            glm = GLMFit(fit["intercept"], np.asarray(fit["coef"]), np.asarray(fit["mean"]), np.asarray(fit["scale"]), row["ridge"],
                         row["iterations"], row["newton_decrement"], row["converged"])  # fmt: skip
            models[width] = FittedGLM({width: glm}, current, tuple(row["slow_taus"]), trains.t1, row)
        out["glm"] = GLMBaseline(models)
    return out


def score_run(run_dir, window="test", *, samples: bool = True, n_samples: int | None = None) -> dict:
    """Every protocol score (:func:`spikesde._likelihood.protocol.score`) of the run's SLIF and GLM
    on ``window`` (``"train"``, ``"validation"``, ``"test"`` or ``(start, stop)`` s).

    Arguments:
        run_dir: a folder written by ``spikesde fit configs/grasshopper.toml``.
        window: the window scored; samples: also Gamma (model samples from the recorded history);
        n_samples: the number of samples (default: the run's).
    Returns ``{"slif": {...}, "glm": {...}}`` (no ``"glm"`` if the run had none).
    """
    run = load_run(run_dir)
    protocol = run["protocol"] if n_samples is None else dataclasses.replace(run["protocol"], n_samples=n_samples)
    spikes = np.asarray(run["trains"].times[0][0])
    out = {}
    for name in ("slif", "glm"):
        if run[name] is not None:
            out[name] = score(run[name], spikes, window, protocol, samples=samples)
            out[name].pop("samples", None)
    return out
