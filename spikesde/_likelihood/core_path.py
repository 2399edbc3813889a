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

In a :class:`spikesde.Network` (``sigma_v = sigma_i = 0``) each neuron's membrane is a
deterministic function of its own spikes, the spikes of the neurons that structurally project to it
and the input spikes, so ``log p`` is the sum over neurons of the same expression, each along its
own pieces: the core moves a neuron to every spike it receives (mask true, whatever the weight)
and to every input spike, adds the jump to ``I`` there and continues from that time.

A buffer holds a neuron's first ``K = max_spikes`` spikes (``+inf`` padding). The density of a full
buffer is that of the first ``K`` spike times (the neuron's window ends at its ``K``-th spike); of a
buffer that is not full, that of all spikes in ``[t0, t1]`` with the survival to ``t1``. So the
score ``d log p / d theta`` of any buffer is exact, overflowed or not, except when the full buffer
belongs to a neuron that projects to others: its spikes after the ``K``-th still drove them but
are lost, and the likelihood refuses (an error at run time; raise ``max_spikes``).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._core.brownian import _num_steps
from .._core.network import Network, as_network
from .._core.stepper import AbstractStepper, EulerMaruyama
from .._models.currents import ConstantCurrent
from .._models.slif import SLIF
from .exact import clock_terms


def check_noise_free(model) -> None:
    """A TypeError unless ``model`` is an SLIF population or a network of SLIF neurons; a
    ValueError if its membrane noise is not zero where that is known now (under ``jit`` it is
    checked when run)."""
    neuron = as_network(model).neuron
    if not isinstance(neuron, SLIF):
        raise TypeError(f"the spike-train likelihood needs SLIF neurons, got {type(neuron).__name__}")
    if neuron.n_neurons > 1 and not isinstance(neuron.input_current, ConstantCurrent):
        raise ValueError("the spike-train likelihood of several neurons needs a constant input current, got "
                         f"{type(neuron.input_current).__name__}")  # fmt: skip
    for name in ("sigma_v", "sigma_i"):
        value = getattr(neuron, name)
        if not isinstance(value, jax.core.Tracer) and np.any(np.asarray(value) != 0):
            raise ValueError(f"the spike-train likelihood is exact only without membrane noise: {name}={value}, need 0")


def buffer_log_likelihood(
    model: SLIF | Network,
    spike_times: Float[Array, "n max_spikes"],
    *,
    t0: float,
    t1: float,
    dt: float,
    stepper: AbstractStepper | None = None,
) -> Float[Array, ""]:
    """``log p(spike_times)`` of the spike buffers of ``model`` under :func:`spikesde.simulate` (see
    the module docstring); differentiable in every parameter of ``model``, jit- and vmap-able.

    Arguments:
        model: SLIF neurons, or a :class:`spikesde.Network` of them, with ``sigma_v = sigma_i = 0``
            and the default event policy.
        spike_times: each neuron's first spikes in ``(t0, t1]``, ascending, ``+inf`` padded
            (``Solution.spike_times``); one neuron's buffer may be given as a vector.
        t0, t1, dt: the window and step of the simulation.
        stepper: the simulation's stepper (default :class:`spikesde.EulerMaruyama`).
    """
    check_noise_free(model)
    network = as_network(model)
    neuron = network.neuron
    noisy = jnp.any(jnp.stack([jnp.any(neuron.sigma_v != 0), jnp.any(neuron.sigma_i != 0)]))
    spikes = jnp.asarray(spike_times)
    spikes = spikes.astype(spikes.dtype if jnp.issubdtype(spikes.dtype, jnp.floating) else jnp.result_type(float))
    spikes = spikes[None] if spikes.ndim == 1 and neuron.n_neurons == 1 else spikes
    if spikes.ndim != 2 or spikes.shape[0] != neuron.n_neurons:
        raise ValueError(f"spike_times must have shape (n_neurons, max_spikes) = ({neuron.n_neurons}, K), got {spikes.shape}")
    receivers = _receivers(network)
    full = jnp.all(jnp.isfinite(spikes), axis=1)
    lost = jnp.any(full & jnp.any(receivers & ~jnp.eye(neuron.n_neurons, dtype=bool), axis=1))
    network = eqx.error_if(network, noisy, "the spike-train likelihood needs sigma_v = sigma_i = 0")
    network = eqx.error_if(network, lost, "a full spike buffer of a neuron that projects to others: raise max_spikes")
    nodes = jax.vmap(lambda k: _nodes(network, receivers, spikes, k, t0, t1, dt))
    times, counts, jumps, grid_index = nodes(jnp.arange(neuron.n_neurons))
    stepper = EulerMaruyama() if stepper is None else stepper
    log_lam, step_integral = _along_path(network.neuron, stepper, times, counts, jumps, t0 + dt * grid_index.astype(times.dtype))
    # The intensity just before node n+1 is the one of the piece that starts at node n.
    spike_log_intensity = jnp.concatenate([jnp.zeros((times.shape[0], 1), times.dtype), log_lam], axis=1)
    alpha = jnp.broadcast_to(network.neuron.alpha, (neuron.n_neurons,))
    spike_terms, step_terms = jax.vmap(clock_terms)(counts, step_integral, spike_log_intensity, alpha)
    return spike_terms.sum() + step_terms.sum()


def _receivers(network: Network):
    """``receivers[j, k]``: whether a spike of ``j`` moves neuron ``k`` (the core's structural rule)."""
    receivers = network.receivers()
    return jnp.zeros((network.n_neurons,) * 2, bool) if receivers is None else receivers


def _nodes(network, receivers, spikes, k, t0, t1, dt):
    """Neuron ``k``'s nodes: the grid merged with its own spikes, the spikes it receives and the
    input spikes, ending at its window's end (``t1``, or its last spike if its buffer is full):
    ``(times, counts, jumps, grid_index)``; ``grid_index[n]`` is the grid step node ``n`` lies in.

    Fixed shapes: the events that do not move ``k`` sit on the end, as do nodes past it (empty
    steps). An event that falls on a grid point comes before it, as in the core (it ends the step).
    """
    dtype = spikes.dtype
    n, per_neuron = spikes.shape
    own = spikes[k]
    end = jnp.where(jnp.all(jnp.isfinite(own)), own[-1], jnp.asarray(t1, dtype))
    coupling = network.coupling()
    weight = jnp.zeros((n,), dtype) if coupling is None else coupling[:, k].astype(dtype)
    moves = (receivers[:, k] | (jnp.arange(n) == k))[:, None] & jnp.isfinite(spikes)
    own_spikes = moves & (jnp.arange(n) == k)[:, None]
    event_times, fires, jumps = [spikes.ravel()], [own_spikes.ravel()], [jnp.repeat(weight, per_neuron)]
    if network.input_spike_times is not None:
        inputs = network.input_spike_times.astype(dtype)
        event_times.append(inputs.ravel())
        fires.append(jnp.zeros(inputs.size, bool))
        jumps.append(jnp.repeat(network.input_coupling()[:, k].astype(dtype), inputs.shape[1]))
        reached = network.input_receivers()[:, k][:, None] & jnp.isfinite(inputs)  # as the core: a mask's zeros do not move k
        moves = jnp.concatenate([moves.ravel(), reached.ravel()])
    moves = moves.ravel()
    event_times, fires = jnp.concatenate(event_times), jnp.concatenate(fires)
    jumps = jnp.where(moves, jnp.concatenate(jumps), 0.0)
    regular = t0 + dt * jnp.arange(_num_steps(t0, t1, dt) + 1, dtype=dtype)
    times = jnp.concatenate([jnp.where(moves, event_times, end), regular])
    order = jnp.argsort(times, stable=True)
    grid = jnp.concatenate([jnp.zeros(event_times.shape, jnp.int32), jnp.ones(regular.shape, jnp.int32)])
    counts = jnp.concatenate([fires.astype(jnp.int32), jnp.zeros(regular.shape, jnp.int32)])[order]
    jumps = jnp.concatenate([jumps, jnp.zeros(regular.shape, dtype)])[order]
    grid_index = jnp.maximum(jnp.cumsum(grid[order]) - 1, 0)
    return jnp.minimum(times[order], end), counts, jumps, grid_index


def _along_path(neuron, stepper, times, counts, jumps, grid_times):
    """``log lambda(V(tau_n^+))`` and the clock's run over each step ``[tau_n, tau_{n+1}]`` of every
    neuron (each on its own nodes, rows of ``times``), with the core's stepper, reset and jumps."""
    n, dtype = neuron.n_neurons, times.dtype
    y0 = neuron.initial_state(jnp.zeros((n,), dtype)).astype(dtype)
    no_noise = jnp.zeros((len(neuron.noise_rows), n), dtype)

    def step(y, inputs):
        t_grid, h, fired, jump = inputs
        y = neuron.reset(y, fired, jnp.zeros((n,), dtype))
        y = y.at[neuron.synaptic_row].add(jump).at[2].set(0.0)  # the clock's run over this step alone
        y_next = stepper.step(neuron, t_grid[0] if n == 1 else t_grid, y, h, no_noise)
        return y_next, (jnp.log(neuron.intensity(y[0])), y_next[2])

    inputs = (grid_times[:, :-1].T, jnp.diff(times, axis=1).T, counts[:, :-1].T > 0, jumps[:, :-1].T)
    _, (log_lam, step_integral) = jax.lax.scan(step, y0, inputs)
    return log_lam.T, step_integral.T


def deprecated_buffer_log_likelihood(*args, **kwargs):
    """Deprecated public name of :func:`buffer_log_likelihood` (the density of the event core's own
    discretisation): fit observed spike trains with :func:`spikesde.log_likelihood` instead, which
    takes any escape-noise neuron, its reset rule and duplicate spike times.

    Example:
        ```python
        import warnings
        neuron = sd.SLIF(input_current=1.5, sigma_v=0.0, alpha=0.0)     # noise-free: the spikes have an exact density
        with warnings.catch_warnings(record=True):                       # DeprecationWarning: use log_likelihood
            sd.likelihood.buffer_log_likelihood(neuron, jnp.array([[0.3, 0.7, jnp.inf]]), t0=0.0, t1=1.0, dt=0.01)
        ```
    """
    import warnings  # noqa: PLC0415

    warnings.warn("spikesde.likelihood.buffer_log_likelihood is deprecated: use spikesde.likelihood.log_likelihood(model, spike_trains, dt=...) "
                  "for observed trains (the score-function estimators keep the core's buffer density internally)",
                  DeprecationWarning, stacklevel=2)  # fmt: skip
    return buffer_log_likelihood(*args, **kwargs)
