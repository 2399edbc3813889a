r"""One log-likelihood of observed spike trains for any escape-noise neuron.

Model. A population of neurons (any :class:`spikesde.AbstractNeuron` that declares an escape rate,
see :meth:`~spikesde.AbstractNeuron.escape_rate`), without membrane noise, observed through its
spike times. Between spikes the state follows the neuron's own drift; at a spike the neuron's own
``reset`` acts (two spikes stamped on one node are two resets); its escape clock fires with the
conditional intensity

    lambda*(t) = lambda(y(t)) 1[C(t) >= alpha] 1[t - t_last >= d],

``lambda`` the escape rate, ``C`` the integrated intensity since the last spike ``t_last``,
``alpha`` the clock offset (:meth:`~spikesde.AbstractNeuron.clock_offset`) and ``d`` the dead time
(:meth:`~spikesde.AbstractNeuron.dead_time`). The state is a deterministic function of the
parameters and the observed spikes, so the log-likelihood of spikes ``t_1 < ... < t_m`` of each
neuron in ``(t0, t1]`` is

    log L = sum_i [ log lambda(y(t_i^-)) + log 1[t_i feasible] ] - int_{t0}^{t1} lambda*(t) dt

(summed over neurons and trials; a spike before the clock has run ``alpha``, or inside the dead
time, has likelihood 0 and gives ``-inf``). For a :class:`spikesde.Network` the neurons share one
path: a spike of neuron ``j`` adds ``C[j, k]`` (``Network.coupling()``) to the synaptic row of
neuron ``k`` right after the resets at that instant, so the state stays a deterministic function of
the observed spikes of all neurons and the same formula holds. For ``k`` spikes on one node the term is ``k log
lambda(y^-)``, the parameter-dependent part of a Poisson count in that step.

Discretisation, on the nodes of an :class:`EventGrid` (the grid ``t0 + j dt`` merged with every
spike): the state takes the neuron's :meth:`~spikesde.AbstractNeuron.linear_step` from each node to
the next (the exact flow of the linear part with the input ``c(t)`` held at the step's left node);
the integral of ``lambda*`` over a step is the trapezoid rule on ``lambda`` at the step's two ends
(after the reset at the left end, before it at the right end). For a neuron whose drift is linear
between spikes with an input constant over each step (any :class:`spikesde.SLIF` with a constant or
piecewise-constant input whose breaks are on the grid) the membrane is exact and the error is the
trapezoid rule's, ``O(dt^2)``; with an input that varies inside a step it is ``O(dt)`` (the input
held over the step). A dead time that ends inside a step is taken as the fraction of the step after
it (``O(dt)``; exact when dead times end on nodes, e.g. grid-aligned spikes and ``d`` a multiple of
``dt``).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._core.network import Network
from .._core.neuron import AbstractNeuron
from .._io.spike_trains import SpikeTrains
from .._models.currents import ConstantCurrent
from .._models.stimulus import AfterSpikeCurrent
from .exact import clock_terms, history_traces
from .grid import EventGrid, TrialGrid


def check_escape_neuron(neuron) -> None:
    """A TypeError unless ``neuron`` is an :class:`AbstractNeuron` that declares an escape rate; a
    ValueError where its membrane noise is known to be non-zero."""
    if not isinstance(neuron, AbstractNeuron):
        raise TypeError(f"the spike-train likelihood needs a neuron population (an AbstractNeuron), got {type(neuron).__name__}")
    if not neuron.has_escape_rate:
        raise TypeError(
            f"the spike-train likelihood needs an escape-noise neuron: {type(neuron).__name__} declares no escape_rate "
            "(a deterministic threshold gives spike trains no density); give the class escape_rate(y) or log_escape_rate(y)"
        )
    for name in ("sigma_v", "sigma_i"):
        value = getattr(neuron, name, 0.0)
        if not isinstance(value, jax.core.Tracer) and np.any(np.asarray(value) != 0):
            raise ValueError(f"the spike-train likelihood is exact only without membrane noise: {name}={value}, need 0")


def _reset(neuron, y, count, max_count: int):
    """``count`` resets (a per-neuron integer) of the neuron's own reset map; the clock argument is 0
    (the likelihood keeps its own clock)."""
    clock = jnp.zeros(count.shape, y.dtype)
    for j in range(max_count):
        y = neuron.reset(y, count > j, clock)
    return y


def path_log_rates(neuron, times, counts, extra_drive, max_count: int, coupling=None):
    """``(log_rate_minus, log_rate_plus)``, each ``(nodes, n)``: ``log lambda`` just before and just
    after every node, along the state the neuron's ``linear_step`` and ``reset`` give on these nodes
    (and, with a ``coupling`` ``C[j, k]``, the jumps ``counts @ C`` of the synaptic row after the resets)."""
    n, dtype = neuron.n_neurons, times.dtype
    left = times[:-1]
    drive = jnp.broadcast_to(jax.vmap(neuron.input_current)(left).reshape(left.shape[0], -1), (left.shape[0], n))
    drive = drive + extra_drive
    y0 = neuron.initial_state(jnp.zeros((n,), dtype)).astype(dtype)

    def step(y, inputs):
        t, h, c, count = inputs
        held = eqx.tree_at(lambda m: m.input_current, neuron, ConstantCurrent(c))  # the input held over the step
        y_minus = held.linear_step(t, y, h)
        y_plus = _reset(neuron, y_minus, count, max_count)
        if coupling is not None:
            y_plus = y_plus.at[neuron.synaptic_row].add(count.astype(y_plus.dtype) @ coupling.astype(y_plus.dtype))
        return y_plus, (neuron.log_escape_rate(y_minus), neuron.log_escape_rate(y_plus))

    _, (minus, plus) = jax.lax.scan(step, y0, (left, jnp.diff(times), drive, counts[1:]))
    first = neuron.log_escape_rate(y0)[None]
    return jnp.concatenate([first, minus]), jnp.concatenate([first, plus])


def trial_terms(neuron, times, counts, extra_drive, max_count: int, coupling=None):
    """``(spike_terms (nodes, n), step_terms (steps, n))`` of one trial (see the module docstring)."""
    counts = eqx.error_if(counts, counts > max_count, "more spikes on one node than the grid's max_count (build the grid outside jit)")
    log_minus, log_plus = path_log_rates(neuron, times, counts, extra_drive, max_count, coupling)
    steps = jnp.diff(times)[:, None]
    integral = 0.5 * steps * (jnp.exp(log_plus[:-1]) + jnp.exp(log_minus[1:]))
    dead = jnp.broadcast_to(neuron.dead_time(), (neuron.n_neurons,)).astype(times.dtype)
    integral, dead_ok = _dead_time(times, counts, dead, integral)
    alpha = jnp.broadcast_to(neuron.clock_offset(), (neuron.n_neurons,)).astype(times.dtype)
    spike, step = jax.vmap(clock_terms, in_axes=(1, 1, 1, 0), out_axes=1)(counts, integral, log_minus, alpha)
    return jnp.where(dead_ok | (counts == 0), spike, -jnp.inf), step


def _dead_time(times, counts, dead, integral):
    """The step integrals restricted to the time after each neuron's dead time, and whether every
    spike comes after the dead time of the one before (a second spike on one node needs ``d = 0``)."""
    index = jnp.arange(times.shape[0])[:, None]
    last = jax.lax.cummax(jnp.where(counts > 0, index, -1), axis=0)
    last_time = jnp.where(last >= 0, times[jnp.maximum(last, 0)], -jnp.inf)
    free_from = last_time[:-1] + dead
    steps = jnp.diff(times)[:, None]
    available = jnp.clip(times[1:, None] - jnp.maximum(times[:-1, None], free_from), 0.0, None)
    fraction = jnp.where(steps > 0, available / jnp.where(steps > 0, steps, 1.0), 0.0)
    previous = jnp.concatenate([jnp.full((1, counts.shape[1]), -jnp.inf, times.dtype), last_time[:-1]])
    ok = (times[:, None] - previous >= dead) & ((counts <= 1) | (dead <= 0))
    return integral * jnp.where(dead > 0, fraction, 1.0), ok


def log_likelihood(
    model: AbstractNeuron | Network,
    spike_trains,
    history: AfterSpikeCurrent | None = None,
    *,
    dt: float | None = None,
    spike_weights: Float[Array, " nodes"] | None = None,
    step_weights: Float[Array, " steps"] | None = None,
) -> Float[Array, ""]:
    """``log L`` of observed spike trains under an escape-noise neuron (see the module docstring for
    the model, the discretisation and its order in ``dt``), summed over trials and neurons.

    Differentiable in every parameter of ``model`` (and ``history``); jit-able (build the grid
    outside). Membrane noise must be zero (a ValueError otherwise).

    Arguments:
        model: the neurons (``n_neurons`` of them; neuron ``k`` of the data is neuron ``k`` here),
            any :class:`AbstractNeuron` with an escape rate: :class:`SLIF` with any escape
            function and reset rule, or a neuron you write; or a :class:`spikesde.Network` of them
            (a spike of neuron ``j`` then adds ``coupling()[j, k]`` to the synaptic row of neuron
            ``k``, after the resets at that instant; input spikes are refused).
        spike_trains: an :class:`EventGrid` (one trial of one neuron), a :class:`TrialGrid`
            (:meth:`TrialGrid.from_spike_trains`, the fastest for repeated evaluation) or a
            :class:`spikesde.SpikeTrains` (then ``dt`` is needed).
        history: an after-spike current ``h(t)`` added to the input (one neuron only).
        dt: the grid step when ``spike_trains`` is a ``SpikeTrains``.
        spike_weights, step_weights: weights of each node's spike term and each step's integral
            (one trial of one neuron; :meth:`EventGrid.window`, bootstrap blocks).

    Example:
        ```python
        grid = sd.likelihood.EventGrid.from_spike_times([0.3, 0.7], t0=0.0, t1=1.0, dt=0.01)
        sd.likelihood.log_likelihood(sd.SLIF(1, 1.5, mu_v=10.0, alpha=0.0, reset_rule=sd.SetReset(0.0)), grid)
        ```
    """
    model, coupling = _neuron_and_coupling(model, history)
    check_escape_neuron(model)
    grid = _as_trial_grid(spike_trains, model.n_neurons, dt)
    if history is not None and model.n_neurons != 1:
        raise ValueError(f"an after-spike history current needs one neuron, got n_neurons={model.n_neurons}")
    weighted = spike_weights is not None or step_weights is not None
    if weighted and (grid.counts.shape[0] != 1 or model.n_neurons != 1):
        raise ValueError("spike_weights and step_weights weigh the nodes of one trial of one neuron")
    spike, step = trial_grid_terms(model, grid, history, coupling)
    if spike_weights is not None:
        spike = jnp.where(spike_weights[None, :, None] > 0, spike_weights[None, :, None] * spike, 0.0)
    if step_weights is not None:
        step = step_weights[None, :, None] * step
    return spike.sum() + step.sum()


def trial_grid_terms(model, grid: TrialGrid, history: AfterSpikeCurrent | None = None, coupling=None):
    """``(spike_terms (trials, nodes, n), step_terms (trials, steps, n))`` of every trial of ``grid``."""
    times = grid.times.astype(jnp.result_type(float))

    def one(t, counts):
        extra = jnp.zeros((t.shape[0] - 1, model.n_neurons), t.dtype)
        if history is not None:
            traces = history_traces(EventGrid(t, counts[:, 0]), history.taus)[:-1]
            extra = extra + (traces @ history.amplitudes)[:, None]
        return trial_terms(model, t, counts, extra, grid.max_count, coupling)

    in_times = 0 if times.ndim == 2 else None
    return jax.vmap(one, in_axes=(in_times, 0))(times, grid.counts)


def _neuron_and_coupling(model, history):
    """The neuron population of ``model`` and its coupling matrix (``None`` for a population alone)."""
    if not isinstance(model, Network):
        return model, None
    if model.input_spike_times is not None:
        raise ValueError("the likelihood of a Network with input spikes (input_spike_times) is not built: their jumps "
                         "would need nodes of the grid; give the inputs as part of the data or as an input current")  # fmt: skip
    if history is not None:
        raise ValueError("an after-spike history current needs one neuron; a Network's own coupling plays that role")
    return model.neuron, model.coupling()


def _as_trial_grid(spike_trains, n_neurons: int, dt) -> TrialGrid:
    if isinstance(spike_trains, TrialGrid):
        grid = spike_trains
    elif isinstance(spike_trains, EventGrid):
        if n_neurons != 1:
            raise ValueError(f"an EventGrid holds one neuron's spikes; the model has n_neurons={n_neurons} (use a TrialGrid)")
        grid = TrialGrid.from_event_grid(spike_trains)
    elif isinstance(spike_trains, SpikeTrains):
        if dt is None:
            raise ValueError("dt is needed to put SpikeTrains on a grid (log_likelihood(model, trains, dt=...))")
        grid = TrialGrid.from_spike_trains(spike_trains, dt)
    else:
        raise TypeError(f"spike_trains must be an EventGrid, a TrialGrid or SpikeTrains, got {type(spike_trains).__name__}")
    if grid.counts.shape[-1] != n_neurons:
        raise ValueError(f"the spike trains hold {grid.counts.shape[-1]} neurons, the model has n_neurons={n_neurons}")
    return grid
