"""The grasshopper figure: the rate over the whole recording (data, SLIF, GLM) with the protocol's
windows, the stimulus and after-spike filters with their 90% Laplace bands, the test-window rasters."""

import numpy as np


def _smoothed(t, times, weights, width):
    """Gaussian-smoothed (``width`` s) rate of weighted events at ``times``, evaluated at ``t`` (Hz)."""
    out = np.zeros_like(t)
    for start in range(0, times.size, 2000):  # chunks keep the (t, events) matrix small
        d = (t[:, None] - times[None, start : start + 2000]) / width
        out += (np.exp(-0.5 * d**2) * weights[None, start : start + 2000]).sum(axis=1)
    return out / (width * np.sqrt(2 * np.pi))


def plot_grasshopper(path, trains, protocol, fitted, samples, glm_samples, width=0.1):
    """The figure of :func:`~.grasshopper.run`. ``fitted``: the selection (``selected``), the Laplace
    ``covariance``, the :class:`FittedSLIF` (``model``) and the GLM baseline (``glm``, or None);
    ``samples``, ``glm_samples``: model trains of the test window."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("the figure needs matplotlib: pip install matplotlib") from error
    spikes, duration = np.asarray(trains.times[0][0]), trains.t1
    fig, axes = plt.subplots(4, 1, figsize=(9, 12), gridspec_kw=dict(height_ratios=[1.4, 1.2, 1.2, 1.6]))
    # Rate: the recording's spikes, and each model's conditional intensity given the recorded
    # history, integrated over 1 ms bins, all smoothed alike.
    t = np.linspace(0, duration, 1001)
    bins = 0.001
    centres = (np.arange(int(round(duration / bins))) + 0.5) * bins
    axes[0].plot(t, _smoothed(t, spikes, np.ones(spikes.size), width), color="k", label="data")
    models = [("SLIF", fitted["model"], "C0")] + ([("GLM", fitted["glm"], "C1")] if fitted["glm"] is not None else [])
    for name, model, colour in models:
        exact = {"exact_history": True} if name == "SLIF" else {}  # the GLM's history is binned by construction
        expected = model.expected_counts(spikes, bins, 0.0, duration, **exact)
        axes[0].plot(t, _smoothed(t, centres, expected, width), color=colour, label=f"{name} (given the recorded history)")
    for (a, b), name, shade in ((protocol.train, "train", "0.95"), (protocol.validation, "validation", "0.85"), (protocol.test, "test", "0.75")):
        axes[0].axvspan(a, b, color=shade, zorder=0)
        axes[0].text((a + b) / 2, 0.02, name, transform=axes[0].get_xaxis_transform(), ha="center", fontsize=7)
    axes[0].set(xlabel="time (s)", ylabel=f"rate (Hz), {width * 1e3:g} ms kernel", title=f"{trains.neuron_names[0]}")
    axes[0].legend(fontsize=7, loc="upper right")
    _plot_filters(axes[1], axes[2], fitted)
    rows = [(spikes, "k")] + [(s, "C0") for s in samples[:10]] + [(s, "C1") for s in glm_samples[:10]]
    a, b = protocol.test
    for row, (train, colour) in enumerate(rows):
        train = np.asarray(train)
        axes[3].vlines(train[(train >= a) & (train < b)], row + 0.1, row + 0.9, color=colour, lw=0.6)
    n_slif, n_glm = min(len(samples), 10), min(len(glm_samples), 10)
    ticks = [0.5, 1 + n_slif / 2] + ([1 + n_slif + n_glm / 2] if n_glm else [])
    axes[3].set(xlabel="time (s), test window", yticks=ticks, yticklabels=["data", "SLIF", "GLM"][: len(ticks)], xlim=(a, b))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_filters(stimulus_ax, history_ax, fitted):
    """Stimulus filters and after-spike kernels in log-rate units (the SLIF's times ``beta``: its
    log-intensity is ``beta (V - v_threshold)``), the SLIF's with its 90% Laplace band."""
    selected, covariance = fitted["selected"], np.asarray(fitted["covariance"])
    theta, sel = selected["theta"], selected["selection"]
    basis, _ = sel.current(selected["structure"])
    beta = float(np.reshape(np.asarray(sel.config.beta), ()))
    stim_dt = float(sel.current(selected["structure"])[1].dt)
    weights = np.asarray(theta["weights"])
    cov_w = covariance[-weights.size :, -weights.size :]  # ravel order: amplitudes, bias, log_mu_v, v_reset, weights
    k = beta * basis @ weights
    sd = beta * np.sqrt(np.clip(np.einsum("lj,jk,lk->l", basis, cov_w, basis), 0.0, None))
    lags = np.arange(basis.shape[0]) * stim_dt * 1e3
    stimulus_ax.fill_between(lags, k - 1.645 * sd, k + 1.645 * sd, color="C0", alpha=0.3, label="SLIF 90% Laplace")
    stimulus_ax.plot(lags, k, color="C0", label="SLIF (beta x filter)")
    # A spike's effect on beta V: the reset -v_reset e^{-mu t} plus each after-spike current
    # a_j e^{-t/tau_j} passed through the membrane, a_j mu (e^{-t/tau_j} - e^{-mu t}) / (mu - 1/tau_j).
    taus = np.asarray(selected["structure"].fast_taus + (selected["tau_slow"],))
    amplitudes, mu = np.asarray(theta["amplitudes"]), float(np.exp(theta["log_mu_v"]))
    t = np.geomspace(2e-4, 20.0, 300)[:, None]
    kernels = np.concatenate([mu * (np.exp(-t / taus) - np.exp(-mu * t)) / (mu - 1 / taus), -np.exp(-mu * t)], axis=1)
    index = list(range(amplitudes.size)) + [amplitudes.size + 2]  # ravel order: amplitudes, bias, log_mu_v, v_reset, weights
    h = beta * kernels @ np.append(amplitudes, float(theta["v_reset"]))
    h_sd = beta * np.sqrt(np.clip(np.einsum("lj,jk,lk->l", kernels, covariance[np.ix_(index, index)], kernels), 0.0, None))
    history_ax.fill_between(t[:, 0] * 1e3, h - 1.645 * h_sd, h + 1.645 * h_sd, color="C0", alpha=0.3)
    history_ax.plot(t[:, 0] * 1e3, h, color="C0", label="SLIF: reset + after-spike currents through the membrane (beta x)")
    glm = fitted["glm"]
    if glm is not None:
        width = min(glm.models)
        stim_filter, hist_filter = glm.filters(width)
        stimulus_ax.plot(np.arange(stim_filter.size) * stim_dt * 1e3, stim_filter, color="C1", label=f"GLM ({width * 1e3:g} ms bins)")
        history_ax.plot((np.arange(hist_filter.size) + 1) * width * 1e3, hist_filter, color="C1", label="GLM history filter")
    stimulus_ax.axhline(0, color="0.7", lw=0.5)
    stimulus_ax.set(xlabel="lag (ms)", ylabel="stimulus filter (log-rate per unit)")
    stimulus_ax.legend(fontsize=7)
    history_ax.axhline(0, color="0.7", lw=0.5)
    history_ax.set(xscale="log", xlabel="time since a spike (ms)", ylabel="after-spike (log-rate)")
    history_ax.legend(fontsize=7)
