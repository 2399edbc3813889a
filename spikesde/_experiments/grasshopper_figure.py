"""The grasshopper figure: stimulus, recorded and model rasters, PSTHs, learned filter, ISIs."""

import numpy as np

from .._io.grasshopper import stimulus_of


def _smoothed_rate(trains, t, width=0.005):
    """Gaussian-smoothed rate (Hz) averaged over trains, evaluated at ``t``."""
    rate = np.zeros_like(t)
    for train in trains:
        rate += np.exp(-0.5 * ((t[:, None] - np.asarray(train)[None, :]) / width) ** 2).sum(axis=1)
    return rate / (len(trains) * width * np.sqrt(2 * np.pi))


def plot_grasshopper(path, trains, config, fitted, samples, glm_samples, window=(8.0, 9.0)):
    """The figure of :func:`~.grasshopper.run`: ``trains`` the recording (its ``stimulus``
    covariate), ``fitted`` the SLIF fit (basis, theta, covariance, bootstrap refits), ``samples``
    and ``glm_samples`` model spike trains (lists of time arrays; the GLM's may be empty)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("the figure needs matplotlib: pip install matplotlib") from error
    start, stop = window
    cut = lambda s: s[(s > start) & (s <= stop)]
    fig, axes = plt.subplots(5, 1, figsize=(9, 12), gridspec_kw=dict(height_ratios=[1, 2, 1.3, 1.5, 1.3]))
    stimulus, dt = stimulus_of(trains)
    data = trains.times[0][0]
    t_stim = trains.t0 + np.arange(stimulus.size) * dt
    keep = (t_stim > start) & (t_stim <= stop)
    axes[0].plot(t_stim[keep], stimulus[keep], lw=0.6, color="k")
    axes[0].set(ylabel="envelope", title=f"recording {config.recording}, test window (trained on 0-{config.train_end:g} s)")
    rows = [(cut(data), "k")] + [(cut(s), "C0") for s in samples[:15]] + [(cut(s), "C1") for s in glm_samples[:15]]
    for row, (train, colour) in enumerate(rows):
        axes[1].vlines(train, row + 0.1, row + 0.9, color=colour, lw=0.8)
    axes[1].set(ylabel="trial", yticks=[0.5, 8.5, 23.5], yticklabels=["data", "SLIF", "GLM"], xlim=window)
    t = np.linspace(start, stop, 2000)
    axes[2].plot(t, _smoothed_rate([data], t), color="k", label="data (1 trial)")
    axes[2].plot(t, _smoothed_rate(samples, t), color="C0", label="SLIF (likelihood)")
    if glm_samples:
        axes[2].plot(t, _smoothed_rate(glm_samples, t), color="C1", label="GLM (nemos)")
    axes[2].set(ylabel="rate (Hz), 5 ms", xlim=window)
    axes[2].legend(fontsize=7, loc="upper right")
    _plot_filter(axes[3], fitted["basis"], dt, fitted["theta"], fitted["covariance"], fitted["boot"])
    bins = np.linspace(0, 0.05, 51)
    axes[4].hist(np.diff(data), bins, density=True, histtype="step", color="k", label="data")
    axes[4].hist(np.concatenate([np.diff(s) for s in samples]), bins, density=True, histtype="step", color="C0", label="SLIF")
    if glm_samples:
        glm_isi = np.concatenate([np.diff(s) for s in glm_samples])
        axes[4].hist(glm_isi, bins, density=True, histtype="step", color="C1", label="GLM")
    axes[4].set(xlabel="inter-spike interval (s)", ylabel="density")
    axes[4].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_filter(ax, basis, dt, theta, covariance, boot):
    """Learned stimulus filter ``k = basis @ w`` with its Laplace 90% band and bootstrap band."""
    lags = np.arange(basis.shape[0]) * dt * 1e3
    weights = np.asarray(theta["weights"])
    k = basis @ weights
    # Weights sit after the scalar bias in the flattened parameter vector (ravel_pytree sorts keys:
    # amplitudes, bias, log_mu_v, v_reset, weights).
    n_w = weights.size
    cov_w = np.asarray(covariance)[-n_w:, -n_w:]
    # A Laplace variance that comes out negative (a flat direction) is drawn as no band.
    sd = np.sqrt(np.clip(np.einsum("lj,jk,lk->l", basis, cov_w, basis), 0.0, None))
    ax.fill_between(lags, k - 1.645 * sd, k + 1.645 * sd, color="C0", alpha=0.3, label="90% Laplace")
    boot_k = np.asarray(boot["weights"]) @ basis.T
    ax.plot(lags, np.percentile(boot_k, 5, axis=0), "C0--", lw=0.8, label="90% bootstrap")
    ax.plot(lags, np.percentile(boot_k, 95, axis=0), "C0--", lw=0.8)
    ax.plot(lags, k, color="C0", label="SLIF filter")
    ax.axhline(0, color="0.7", lw=0.5)
    ax.set(xlabel="lag (ms)", ylabel="filter (per z-scored log env.)")
    ax.legend(fontsize=7)
