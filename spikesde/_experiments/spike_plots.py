"""Rasters, PSTHs and spike-count distributions of several sets of spike trains side by side."""

from collections.abc import Mapping, Sequence

import numpy as np


def spike_counts(spike_times, groups: Mapping[str, Sequence[int]]) -> dict[str, np.ndarray]:
    """Spikes per trial of each group of neurons: ``{group: (trials,) counts}``."""
    fired = np.isfinite(np.asarray(spike_times))
    return {name: fired[:, list(index)].sum(axis=(1, 2)) for name, index in groups.items()}


def psth(spike_times, index: Sequence[int], *, t0: float, t1: float, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin centres and the mean rate per neuron of ``index`` (spikes per unit time, averaged over trials)."""
    times = np.asarray(spike_times)[:, list(index)]
    counts, edges = np.histogram(times[np.isfinite(times)], bins=bins, range=(t0, t1))
    width = (t1 - t0) / bins
    return 0.5 * (edges[1:] + edges[:-1]), counts / (times.shape[0] * len(index) * width)


def plot_spike_statistics(samples: Mapping[str, np.ndarray], *, t0: float, t1: float,
                          groups: Mapping[str, Sequence[int]] | None = None, bins: int = 20, trial: int = 0):  # fmt: skip
    """A figure comparing sets of spike trains (``{label: (trials, neurons, max_spikes) buffers}``).

    Top row: the raster of trial ``trial`` of each set. Middle row: the PSTH of each group of
    neurons (default: all neurons in one group), every set overlaid. Bottom row: the distribution
    over trials of each group's spike count, every set overlaid. Needs matplotlib
    (``pip install spikesde[plot]``).

    Example:
        ```python
        x = jnp.array([[[0.2, 0.6]], [[0.3, jnp.inf]]])
        figure = sd.experiments.plot_spike_statistics({"data": x, "model": x + 0.05}, t0=0.0, t1=1.0, bins=5)
        figure.savefig("statistics.png")
        ```
    """
    try:
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError as error:
        raise ImportError("plot_spike_statistics needs matplotlib: pip install spikesde[plot]") from error
    if not samples:
        raise ValueError("samples must map at least one label to spike times")
    arrays = {label: np.asarray(s) for label, s in samples.items()}
    for label, s in arrays.items():
        if s.ndim != 3 or not 0 <= trial < s.shape[0]:
            raise ValueError(f"samples[{label!r}] must have shape (trials > {trial}, neurons, max_spikes), got {s.shape}")
    n_neurons = next(iter(arrays.values())).shape[1]
    groups = dict(groups or {"all neurons": range(n_neurons)})
    columns = max(len(arrays), len(groups))
    fig, axes = plt.subplots(3, columns, figsize=(3.6 * columns, 8.5), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (label, s) in zip(axes[0], arrays.items()):
        for neuron in range(n_neurons):
            times = s[trial, neuron][np.isfinite(s[trial, neuron])]
            ax.vlines(times, neuron + 0.6, neuron + 1.4, color="k", lw=1)
        ax.set(title=f"{label}: trial {trial}", xlim=(t0, t1), ylim=(0.4, n_neurons + 0.6), xlabel="t", ylabel="neuron")
    for column, (name, index) in enumerate(groups.items()):
        counts = {label: spike_counts(s, {name: index})[name] for label, s in arrays.items()}
        top = max(int(c.max()) for c in counts.values()) + 1
        for colour, (label, s) in zip(colours, arrays.items()):
            centres, rate = psth(s, index, t0=t0, t1=t1, bins=bins)
            axes[1, column].plot(centres, rate, color=colour, label=label)
            axes[2, column].hist(counts[label], bins=np.arange(top + 1) - 0.5, density=True, histtype="step", color=colour,
                                 label=f"{label} (mean {counts[label].mean():.1f})")  # fmt: skip
        axes[1, column].set(title=f"PSTH, {name}", xlabel="t", ylabel="rate per neuron")
        axes[2, column].set(title=f"spike count, {name}", xlabel="spikes per trial", ylabel="fraction of trials")
        axes[2, column].legend(fontsize=7)
    axes[1, 0].legend(fontsize=7)
    for ax in [*axes[0, len(arrays):], *axes[1, len(groups):], *axes[2, len(groups):]]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig
