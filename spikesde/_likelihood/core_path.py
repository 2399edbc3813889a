r"""The exact log-density of a simulated spike buffer under the event core's own discretisation.

:func:`spikesde.simulate` solves a noise-free SLIF (``sigma_v = sigma_i = 0``) on the grid
``t_i = t0 + i dt``, split at every spike: on each piece ``[a, b]`` (grid points and spikes are the
nodes) the stepper moves the state from ``a`` with the input read at the grid point ``t_i`` that
starts the step, and the clock runs ``C_ab = s(b) - s(a) = lambda(V(a^+)) (b - a)`` (the clock row
of every stepper is the left-point rule). The neuron fires when the clock's run since its last
spike reaches ``E + alpha``, ``E ~ Exp(1)``. The membrane is a deterministic function of the spike
times, so the spike times have the density of a point process with piecewise-constant intensity
``lambda(V(a^+))`` on each piece, switched on once the clock has run ``alpha``:

    log p = sum_spikes log lambda(V(a_s^+)) - sum_{intervals k} max(C_k - alpha, 0),

``a_s`` the start of the piece that ends at spike ``s``. This is exact for the simulated process,
whatever ``dt``: no quadrature error, unlike :func:`spikesde._likelihood.exact.log_likelihood`
(trapezoid on the exact flow), which approximates the continuous-time model.

A buffer holds a neuron's first ``K = max_spikes`` spikes (``+inf`` padding). Its density is that of
the first ``K`` spike times when it is full (the window ends at the ``K``-th spike) and that of all
spikes in ``[t0, t1]`` (with the survival to ``t1``) otherwise, so the score
``d log p / d theta`` of any buffer is exact, overflowed or not.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._core.brownian import _num_steps
from .._core.stepper import AbstractStepper, EulerMaruyama
from .._models.slif import SLIF
from .exact import clock_terms


def check_noise_free(neuron) -> None:
    """A TypeError unless ``neuron`` is one SLIF neuron; a ValueError if its membrane noise is
    not zero where that is known now (under ``jit`` it is checked when run)."""
    if not isinstance(neuron, SLIF):
        raise TypeError(f"the spike-train likelihood needs an SLIF neuron, got {type(neuron).__name__}")
    if neuron.n_neurons != 1:
        raise ValueError(f"the spike-train likelihood takes one SLIF neuron, got n_neurons={neuron.n_neurons}")
    for name in ("sigma_v", "sigma_i"):
        value = getattr(neuron, name)
        if not isinstance(value, jax.core.Tracer) and np.any(np.asarray(value) != 0):
            raise ValueError(f"the spike-train likelihood is exact only without membrane noise: {name}={value}, need 0")


def buffer_log_likelihood(
    neuron: SLIF,
    spike_times: Float[Array, " max_spikes"],
    *,
    t0: float,
    t1: float,
    dt: float,
    stepper: AbstractStepper | None = None,
) -> Float[Array, ""]:
    """``log p(spike_times)`` of one neuron's spike buffer under :func:`spikesde.simulate` (see the
    module docstring); differentiable in every parameter of ``neuron``, jit- and vmap-able.

    Arguments:
        neuron: one noise-free :class:`spikesde.SLIF` neuron (``sigma_v = sigma_i = 0``).
        spike_times: its first spikes in ``(t0, t1]``, ascending, ``+inf`` padded (a row of
            ``Solution.spike_times``).
        t0, t1, dt: the window and step of the simulation.
        stepper: the simulation's stepper (default :class:`spikesde.EulerMaruyama`).
    """
    check_noise_free(neuron)
    noisy = jnp.any(jnp.stack([jnp.any(neuron.sigma_v != 0), jnp.any(neuron.sigma_i != 0)]))
    neuron = eqx.error_if(neuron, noisy, "the spike-train likelihood needs sigma_v = sigma_i = 0")
    stepper = EulerMaruyama() if stepper is None else stepper
    times, counts, grid_index = _nodes(jnp.asarray(spike_times), t0, t1, dt)
    log_lam, step_integral = _along_path(neuron, stepper, times, counts, t0 + dt * grid_index.astype(times.dtype))
    # The intensity just before node n+1 is the one of the piece that starts at node n.
    spike_log_intensity = jnp.concatenate([jnp.zeros(1, times.dtype), log_lam])
    spike_terms, step_terms = clock_terms(counts, step_integral, spike_log_intensity, neuron.alpha)
    return spike_terms.sum() + step_terms.sum()


def _nodes(spikes, t0, t1, dt):
    """The grid merged with the spikes, ending at the window's end (``t1``, or the last spike of a
    full buffer): ``(times, counts, grid_index)``, ``grid_index[n]`` the grid step node ``n`` lies in.

    Fixed shapes (``num_steps + 1 + max_spikes`` nodes): nodes past the end sit on it (empty steps).
    A spike that falls on a grid point comes before it, as in the core (it ends the step before).
    """
    dtype = spikes.dtype if jnp.issubdtype(spikes.dtype, jnp.floating) else jnp.result_type(float)
    spikes = spikes.astype(dtype)
    regular = t0 + dt * jnp.arange(_num_steps(t0, t1, dt) + 1, dtype=dtype)
    fired = jnp.isfinite(spikes)
    end = jnp.where(jnp.all(fired), spikes[-1], jnp.asarray(t1, dtype))
    times = jnp.concatenate([jnp.where(fired, spikes, end), regular])
    is_grid = jnp.concatenate([jnp.zeros(spikes.shape, jnp.int32), jnp.ones(regular.shape, jnp.int32)])
    order = jnp.argsort(times, stable=True)
    counts = jnp.concatenate([fired.astype(jnp.int32), jnp.zeros(regular.shape, jnp.int32)])[order]
    grid_index = jnp.cumsum(is_grid[order]) - 1
    return jnp.minimum(times[order], end), counts, jnp.maximum(grid_index, 0)


def _along_path(neuron, stepper, times, counts, grid_times):
    """``log lambda(V(tau_n^+))`` and the clock's run over each step ``[tau_n, tau_{n+1}]``, with the
    core's stepper and reset (no noise)."""
    dtype = times.dtype
    y0 = neuron.initial_state(jnp.zeros((1,), dtype)).astype(dtype)
    no_noise = jnp.zeros((len(neuron.noise_rows), 1), dtype)

    def step(y, inputs):
        t_grid, h, fired = inputs
        y = neuron.reset(y, fired, jnp.zeros((1,), dtype))
        y = y.at[2].set(0.0)  # the clock's run over this step alone
        y_next = stepper.step(neuron, t_grid, y, h, no_noise)
        return y_next, (jnp.log(neuron.intensity(y[0]))[0], y_next[2, 0])

    inputs = (grid_times[:-1], jnp.diff(times), counts[:-1] > 0)
    _, (log_lam, step_integral) = jax.lax.scan(step, y0, inputs)
    return log_lam, step_integral
