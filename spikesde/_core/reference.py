"""A slow, plainly correct reference solver: one diffrax solve per spike, for cross-checks."""

import math

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import optimistix as optx
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from .brownian import FineGridBrownian, interpolate_path
from .clocks import clock_draws, neuron_clock_keys
from .network import Network, as_network
from .neuron import AbstractNeuron
from .simulate import _cast
from .solution import Solution


class _StateBrownianPath(diffrax.AbstractPath):
    r"""A :class:`FineGridBrownian` as a diffrax control shaped like the state.

    ``evaluate(s, u)`` is ``W(u) - W(s)`` of the piecewise-linear fine-grid path on the noisy rows
    and 0 on the others, so that a diagonal diffusion ``sigma`` (zero off the noisy rows) gives
    ``sigma * dW`` as a pointwise product. The cumulative path is built once here: asking
    ``FineGridBrownian.evaluate`` inside the solve would redraw the whole fine path at every step.
    """

    cumulative: Float[Array, "fine_plus_one r n"]
    t0: float = eqx.field(static=True)
    t1: float = eqx.field(static=True)
    spacing: float = eqx.field(static=True)
    noise_rows: tuple[int, ...] = eqx.field(static=True)
    state_dim: int = eqx.field(static=True)

    def __init__(self, brownian: FineGridBrownian, noise_rows: tuple[int, ...], state_dim: int, dtype):
        self.cumulative = brownian.cumulative(dtype)
        self.t0 = brownian.t0
        self.t1 = brownian.t1
        self.spacing = brownian.dt
        self.noise_rows = tuple(noise_rows)
        self.state_dim = int(state_dim)

    def _value(self, t):
        return interpolate_path(self.cumulative, t, self.t0, self.spacing)

    def evaluate(self, t0, t1=None, left=True):
        del left
        w = self._value(t0) if t1 is None else self._value(t1) - self._value(t0)
        full = jnp.zeros((self.state_dim, *w.shape[1:]), w.dtype)
        return full.at[jnp.asarray(self.noise_rows)].set(w)


def _drift(t, y, neuron: AbstractNeuron):
    return neuron.drift(t, y)


def _diffusion(t, y, neuron: AbstractNeuron):
    # Additive noise on the noisy rows only: a diagonal operator on the state's (d, n) layout.
    sigma = jnp.zeros_like(y).at[jnp.asarray(neuron.noise_rows)].set(neuron.diffusion().astype(y.dtype))
    return lx.DiagonalLinearOperator(sigma)


def _earliest_event(t, y, args: AbstractNeuron, **kwargs):
    # Every neuron's event function is negative between its spikes, so the maximum over neurons
    # first reaches zero at the earliest crossing, whichever neuron it belongs to.
    return jnp.max(args.event(y))


@eqx.filter_jit
def _solve_to_next_spike(
    network: Network,
    path: _StateBrownianPath,
    t_start: Float[Array, ""],
    y_start: Float[Array, "d n"],
    *,
    t1: float,
    dt: float,
    max_steps: int,
    tol: float,
) -> tuple[Float[Array, ""], Float[Array, "d n"], Bool[Array, ""]]:
    r"""Euler from ``t_start`` with steps ``dt`` until the first spike or ``t1``.

    The spike time ``tau`` is the root of ``max_k E_k`` on the last step's linear interpolant
    (Newton, exact for this convex piecewise-linear function). The state at ``tau`` is *not* read
    off that interpolant: its noise is ``dW (tau - t_n) / dt``, which misses the Brownian bridge
    ``W(tau) - W(t_n) - dW (tau - t_n) / dt`` (of size ``sigma sqrt(dt)``), while the restarted
    solve reads the path from ``W(tau)`` on; one such error per spike lowers the strong order to
    1/2. It is the partial Euler step from the last grid point ``t_n`` to ``tau`` instead, with the
    true increment ``W(tau) - W(t_n)``. Event functions read no noisy row, so ``tau`` is the same.
    """
    neuron = network.neuron
    solver = diffrax.Euler()
    terms = diffrax.MultiTerm(diffrax.ODETerm(_drift), diffrax.ControlTerm(_diffusion, path))
    event = diffrax.Event(_earliest_event, root_finder=optx.Newton(rtol=tol, atol=tol), direction=True)
    solution = diffrax.diffeqsolve(
        terms,
        solver,
        t0=t_start,
        t1=t1,
        dt0=dt,
        y0=y_start,
        args=neuron,
        # Every step is saved only to find the last grid point before the event.
        saveat=diffrax.SaveAt(steps=True),
        stepsize_controller=diffrax.ConstantStepSize(),
        event=event,
        max_steps=max_steps,
        throw=False,
    )
    # Newton on max_k E_k, convex and piecewise linear on the step, reaches the root in finitely
    # many steps, but next to a steep crossing |max_k E_k| cannot fall below its roundoff
    # (slope * ulp(t)) and Newton then stops at its iteration cap already on the root: accepted.
    # Any other failure is an error.
    ok = (
        (solution.result == diffrax.RESULTS.successful)
        | (solution.result == diffrax.RESULTS.event_occurred)
        | (solution.result == diffrax.RESULTS.nonlinear_max_steps_reached)
    )
    solution = eqx.error_if(solution, ~ok, "reference_simulate: the diffrax solve between two spikes failed")
    # Saved: the ends of the steps before the event, then the event (or t1) itself.
    num_saved = jnp.sum(jnp.isfinite(solution.ts))
    t_end = solution.ts[num_saved - 1]
    last = num_saved - 2
    t_grid = jnp.where(last >= 0, solution.ts[jnp.maximum(last, 0)], t_start)
    y_grid = jnp.where(last >= 0, solution.ys[jnp.maximum(last, 0)], y_start)
    y_event, _, _, _, _ = solver.step(terms, t_grid, t_end, y_grid, neuron, None, made_jump=False)
    spiked = solution.event_mask
    return t_end, jnp.where(spiked, y_event, solution.ys[num_saved - 1]), spiked


@eqx.filter_jit
def _fire(network: Network, y: Float[Array, "d n"], k: Array, clock: Float[Array, ""]) -> Float[Array, "d n"]:
    """The jump map of a spike of neuron ``k``: its reset, then the synaptic jumps it sends."""
    neuron = network.neuron
    fired = jnp.arange(neuron.n_neurons) == k
    y = neuron.reset(y, fired, jnp.full((neuron.n_neurons,), clock))
    coupling = network.coupling()
    if coupling is not None:
        y = y.at[neuron.synaptic_row].add(coupling[k].astype(y.dtype))
    return y


def reference_simulate(
    model: Network | AbstractNeuron,
    *,
    t0: float,
    t1: float,
    dt: float,
    key: PRNGKeyArray,
    brownian: FineGridBrownian,
    max_spikes: int,
    max_events: int | None = None,
    dtype=None,
) -> Solution:
    r"""Reference solution of the network's event SDE: one terminating diffrax solve per spike.

    Between spikes ``dy = mu(t, y) dt + sigma dW`` is solved by ``diffrax.Euler`` with constant
    steps ``dt`` counted from the last spike (not on a fixed grid), driven by the piecewise-linear
    path of ``brownian``. A ``diffrax.Event`` on ``max_k E_k(y)`` stops the solve at the earliest
    crossing ``tau``; neuron ``k = argmax_k E_k(y(tau))`` is reset, ``y <- T_k(y(tau))`` with its
    next clock, the row ``network.coupling()[k]`` is added to the synaptic row, and the solve
    restarts at ``tau``. This is the design of the published reference code, written plainly and
    with one correction: the state at ``tau`` is a partial Euler step with the true Brownian
    increment, not the step's linear interpolant (which would drop a Brownian-bridge term at every
    spike and halve the strong order). It is slow (a Python loop and a host round trip per spike),
    runs only eagerly (no ``jit`` or ``vmap``), and is for checking :func:`spikesde.simulate`, to
    which it converges at strong order 1 as ``dt -> 0`` on the same Brownian path and clocks.

    The clocks are those :func:`spikesde.simulate` draws from ``key``: neuron ``k`` starts from
    ``clock_draws(clock_keys, 0)[k]`` and after its ``j``-th spike redraws
    ``clock_draws(clock_keys, j)[k]``, with ``clock_keys = neuron_clock_keys(jax.random.split(key)[1], n)``. So both solvers see the same noise.

    Arguments:
        model: a :class:`Network` without input spike trains, or a neuron population.
        t0, t1, dt: the time span and the step.
        key: random key; split as :func:`spikesde.simulate` splits it, for the clocks.
        brownian: the Brownian path; must cover ``[t0, t1]`` and have the model's noise shape.
        max_spikes: spike buffer length per neuron (later spikes are counted, not stored).
        max_events: spikes allowed in total (default ``n_neurons * max_spikes``); when one more is
            due the solve stops there (``t_final < t1``, ``budget_exhausted``).
        dtype: floating dtype (default: JAX's default float).

    Returns a :class:`Solution`; its ``ts`` are ``(t0, t1)`` and ``ys`` the states there (NaN at
    ``t1`` if the event budget ran out).

    Example:
        ```python
        path = sd.FineGridBrownian(jax.random.key(7), t0=0.0, t1=1.0, dt=0.01, shape=(2, 1))   # (V, I) x 1 neuron
        reference = sd.reference_simulate(sd.SLIF(input_current=1.5, sigma_v=0.3), t0=0.0, t1=1.0, dt=0.01,
                                          key=jax.random.key(0), max_spikes=16, brownian=path)
        reference.spike_times   # agrees with sd.simulate on the same path
        ```
    """
    network = as_network(model)
    neuron = network.neuron
    n = neuron.n_neurons
    if network.input_spike_times is not None:
        raise ValueError("reference_simulate does not support input spike trains; use a network without them")
    if not isinstance(brownian, FineGridBrownian):
        raise ValueError(f"reference_simulate needs a FineGridBrownian path, got {type(brownian).__name__}")
    t0, t1, dt = float(t0), float(t1), float(dt)
    if not (math.isfinite(t0) and math.isfinite(t1) and dt > 0 and t1 > t0):
        raise ValueError(f"need finite t0 < t1 and dt > 0, got t0={t0}, t1={t1}, dt={dt}")
    if int(max_spikes) != max_spikes or int(max_spikes) < 1:
        raise ValueError(f"max_spikes must be a positive integer, got {max_spikes}")
    max_spikes = int(max_spikes)
    max_events = n * max_spikes if max_events is None else int(max_events)
    if tuple(brownian.shape) != tuple(neuron.brownian_shape):
        raise ValueError(f"the Brownian path has shape {brownian.shape}, the model needs {neuron.brownian_shape}")
    if brownian.t0 > t0 + 1e-9 * brownian.dt or brownian.t1 < t1 - 1e-9 * brownian.dt:
        raise ValueError(f"the Brownian path covers [{brownian.t0}, {brownian.t1}], not the solve's [{t0}, {t1}]")
    errors = neuron.parameter_errors()
    if errors:
        raise ValueError("; ".join(errors))

    dtype = jnp.dtype(dtype) if dtype is not None else jnp.result_type(float)
    network = _cast(network, dtype)
    neuron = network.neuron
    # The same split and the same clock stream as spikesde.simulate, so both solvers see one noise.
    _, clock_key = jax.random.split(key)
    clock_keys = neuron_clock_keys(clock_key, n)
    path = _StateBrownianPath(brownian, neuron.noise_rows, neuron.state_dim, dtype)
    # A solve restarted at tau needs at most ceil((t1 - tau) / dt) steps, plus slack for rounding.
    max_steps = math.ceil((t1 - t0) / dt) + 2
    # Newton is exact on the piecewise-linear interpolant; the tolerance only has to sit above roundoff.
    solve_kwargs = dict(t1=t1, dt=dt, max_steps=max_steps, tol=float(64 * jnp.finfo(dtype).eps))

    y = neuron.initial_state(clock_draws(clock_keys, 0, dtype))
    y_initial = y
    t = jnp.asarray(t0, dtype)
    spike_times = np.full((n, max_spikes), np.inf)
    counts = np.zeros(n, dtype=np.int64)
    overflow = np.zeros(n, dtype=bool)
    num_events = 0
    budget_ran_out = False
    while True:
        t_next, y_next, spiked = _solve_to_next_spike(network, path, t, y, **solve_kwargs)
        if not bool(spiked):
            t, y = t_next, y_next
            break
        k = int(jnp.argmax(neuron.event(y_next)))
        if num_events >= max_events:
            budget_ran_out = True
            t, y = t_next, y_next
            break
        if counts[k] < max_spikes:
            spike_times[k, counts[k]] = float(t_next)
        else:
            overflow[k] = True
        counts[k] += 1
        num_events += 1
        clock = clock_draws(clock_keys[k : k + 1], int(counts[k]), dtype)[0]
        y = _fire(network, y_next, jnp.asarray(k), clock)
        t = t_next

    return Solution(
        spike_times=jnp.asarray(spike_times, dtype),
        spike_counts=jnp.asarray(counts, jnp.int32),
        overflow=jnp.asarray(overflow),
        t_final=jnp.asarray(t, dtype),
        ts=jnp.asarray([t0, t1], dtype),
        ys=jnp.stack([y_initial, jnp.full_like(y, jnp.nan) if budget_ran_out else y]),
        final_state=y,
        state_names=neuron.state_names,
        budget_exhausted=jnp.asarray(budget_ran_out),
    )
