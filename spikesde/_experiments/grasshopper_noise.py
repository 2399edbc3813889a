r"""The SLIF with membrane noise on the grasshopper recording, fitted by a simulation-based loss.

With ``sigma_v > 0`` the likelihood is intractable, so the noisy model is scored on samples: the
kernel scoring rule (:class:`spikesde.KernelScore`, signature PDE kernel of the Marcus-lifted
spike trains) of ``n_samples`` model trains against the recording, window by window. The recording
is one trial, but the stimulus differs between windows, so the loss is the scoring rule of the
model's conditional law in each ``window`` s window against the one recorded train there, averaged
over the windows of the training part (a proper scoring rule summed over independent-ish
observations; Gneiting & Raftery 2007):

    L(sigma_v, db) = mean_w [ E k(X_w, X_w') - 2 E k(X_w, y_w) ].

The fit starts from the likelihood fit and moves two parameters, ``sigma_v`` and a shift ``db`` of
the bias (on top of the lognormal correction that keeps the mean intensity: membrane noise raises
the rate through the convex intensity), over a grid: the grid sampler is not differentiable in spike times, so this fit takes no gradient.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._likelihood.design import to_model
from .._likelihood.sampler import sample_spikes
from .._losses.kernel import PDESolver
from .._losses.mmd import KernelScore, SignaturePDEKernel


def window_buffers(trains, start: float, stop: float, width: float, max_spikes: int) -> np.ndarray:
    """``(windows, trains, 1, max_spikes)`` buffers of the spikes of each ``width`` s window of
    ``(start, stop]``, times relative to the window, padded with ``+inf`` (extra spikes dropped)."""
    edges = np.arange(start, stop - 1e-9, width)
    out = np.full((edges.size, len(trains), 1, max_spikes), np.inf)
    for w, left in enumerate(edges):
        for i, train in enumerate(trains):
            inside = np.asarray(train)[(train > left) & (train <= left + width)] - left
            out[w, i, 0, : min(inside.size, max_spikes)] = inside[:max_spikes]
    return out


def noisy_samples(fitted, config, sigma_v: float, bias_shift: float, n_samples: int, key) -> list:
    """``n_samples`` spike trains (whole recording) of the fitted SLIF with membrane noise
    ``sigma_v``, its bias lowered by the lognormal correction ``beta s^2 / 2`` and moved by ``bias_shift``."""
    theta = fitted["theta"]
    # Lognormal correction: the stationary membrane noise (sd s = sigma_v / sqrt(2 mu_v)) multiplies
    # the mean intensity by exp(beta^2 s^2 / 2); the bias moves down by beta s^2 / 2 to keep it.
    beta = float(jnp.reshape(fitted["design"].template.beta, ()))
    sd2 = sigma_v**2 / (2 * float(jnp.exp(theta["log_mu_v"])))
    theta = {**theta, "bias": theta["bias"] - beta * sd2 / 2 + bias_shift}
    neuron, history = to_model(theta, fitted["current"], config.history_taus, fitted["design"].template)
    neuron = eqx.tree_at(lambda n: n.sigma_v, neuron, jnp.asarray(sigma_v, dtype=neuron.mu_v.dtype))
    duration = float(fitted["design"].grid.times[-1])
    draw = lambda k: sample_spikes(neuron, history, t0=0.0, t1=duration, dt=config.dt, key=k)  # noqa: E731
    fired = np.asarray(_vmapped(draw)(jax.random.split(key, n_samples)))
    return [config.dt * np.flatnonzero(row) for row in fired]


def _vmapped(draw):
    return jax.jit(jax.vmap(draw))


def windowed_score(model_trains, data_train, start, stop, width, max_spikes=80) -> float:
    """Mean over the windows of ``(start, stop]`` of the kernel score of the model trains against the data."""
    # Refinement 0 as in the recorded runs (the default is now 2); its kernel error is up to 7.5e-3 on such lifts.
    kernel = SignaturePDEKernel(t0=0.0, t1=width, time_scale=1.0 / width, count_scale=4.0 / max_spikes, solver=PDESolver(0))
    loss = KernelScore(kernel)
    x = jnp.asarray(window_buffers(model_trains, start, stop, width, max_spikes))
    y = jnp.asarray(window_buffers([data_train], start, stop, width, max_spikes))
    return float(jnp.mean(jax.jit(jax.vmap(loss))(x, y)))


def fit_membrane_noise(fitted, data_train, config, *, sigmas, shifts, n_samples=8, width=0.5, max_spikes=80, seed=0):
    """Grid search of ``(sigma_v, bias shift)`` minimising :func:`windowed_score` on the training
    part ``(0, train_end]`` (common random numbers: one key for every grid point). Returns the best
    pair and the table ``{(sigma_v, shift): score}``."""
    key = jax.random.key(seed)
    table = {}
    for sigma in sigmas:
        for shift in shifts:
            trains = noisy_samples(fitted, config, sigma, shift, n_samples, key)
            table[(float(sigma), float(shift))] = windowed_score(trains, data_train, 0.0, config.train_end, width, max_spikes)
    best = min(table, key=table.get)
    return best, table


def psth_error(model_trains, data_train, start, stop, width=0.005) -> float:
    """Root-mean-square difference (Hz) of the Gaussian-smoothed (``width`` s) rates of the model
    (averaged over its trains) and of the recording on ``(start, stop]``."""
    t = np.linspace(start, stop, int(round((stop - start) / 0.0005)) + 1)
    rate = lambda trains: sum(np.exp(-0.5 * ((t[:, None] - np.asarray(s)[None, :]) / width) ** 2).sum(1) for s in trains) / (
        len(trains) * width * math.sqrt(2 * math.pi))  # noqa: E731
    return float(np.sqrt(np.mean((rate(model_trains) - rate([data_train])) ** 2)))
