"""The selected SLIF fitted again per bin width, the way the protocol scores it, kept only where the
validation window prefers it.

The SLIF is selected and fitted on exact spike times (:mod:`.grasshopper_select`); the protocol
scores its binned bits per spike with every spike moved to its bin's right edge
(:mod:`spikesde._likelihood.binned_fit`), while the GLM is fitted at each bin width. So, per bin
width: Newton steps on the linear parameters (bias, filter, after-spike amplitudes, reset; ``mu_v``,
``tau_slow`` and the structure held) maximise the binned Poisson likelihood of the training bins,
warm-started from the exact-time fit, and the refit replaces the exact-time parameters at that width
only if its binned validation log-likelihood is higher. Continuous-time scores and samples keep the
exact-time model. Spikes after the validation window are never read.
"""

import jax
import numpy as np

from .._likelihood.binned_fit import BinnedData, binned_fit

_log_likelihood = jax.jit(BinnedData.log_likelihood)


def binned_data(selected, bin_width: float) -> BinnedData:
    """The :class:`BinnedData` of the selection's recording before the end of validation at
    ``bin_width``, with the selected structure and ``tau_slow``."""
    sel = selected["selection"]
    spikes = sel.grid.spike_times()
    return BinnedData.build(
        spikes, bin_width, sel.end, sel.config.dt, lambda grid: sel.design(selected["structure"], selected["tau_slow"], grid)
    )


def refit_per_width(selected, protocol, n_iter: int = 25, log=print) -> dict:
    """For every bin width of ``protocol``: the refit on the training bins and the choice between
    it and the exact-time fit by the binned validation log-likelihood.

    Returns ``{width: {"theta", "refit", "choice" ("refit" or "exact"), "validation_log_likelihood":
    {"exact", "refit"}, "train_log_likelihood": {"exact", "refit"}, "steps", "converged"}}``,
    ``theta`` the chosen parameters, ``refit`` the refit ones.
    """
    theta, smoothness = selected["theta"], selected["structure"].smoothness
    out = {}
    for width in protocol.bin_widths:
        data = binned_data(selected, width)
        train, validation = data.window(*protocol.train), data.window(*protocol.validation)
        refit, _, (steps, converged) = binned_fit(data, theta, train, n_iter=n_iter, smoothness=smoothness)
        scores = {name: float(_log_likelihood(data, t, validation)) for name, t in (("exact", theta), ("refit", refit))}
        choice = "refit" if scores["refit"] > scores["exact"] else "exact"
        train_scores = {name: float(_log_likelihood(data, t, train)) for name, t in (("exact", theta), ("refit", refit))}
        out[width] = dict(theta=refit if choice == "refit" else theta, refit=refit, choice=choice, validation_log_likelihood=scores,
                          train_log_likelihood=train_scores, steps=int(steps), converged=bool(converged))  # fmt: skip
        log(f"SLIF at {width * 1e3:g} ms bins: binned validation log-likelihood {scores['exact']:.2f} (exact-time fit), "
            f"{scores['refit']:.2f} (refit on edge-moved spikes, {int(steps)} Newton steps"
            f"{'' if converged else ', not converged'}): {choice}")  # fmt: skip
    return out


def plain(per_width: dict) -> dict:
    """``refit_per_width``'s result for ``results.json`` (keys ``"1ms"``, ``"0.5ms"``, lists)."""
    lists = lambda theta: {k: np.asarray(v).tolist() for k, v in theta.items()}  # noqa: E731
    return {f"{w * 1e3:g}ms": {**row, "theta": lists(row["theta"]), "refit": lists(row["refit"])} for w, row in per_width.items()}
