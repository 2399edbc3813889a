"""The public entry point of the event core."""

import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, PRNGKeyArray

from .brownian import AbstractBrownian, GridBrownian, _num_steps
from .event_core import solve_events
from .clocks import neuron_clock_keys
from .event_location import AbstractEventLocation, ExactEventLocation
from .event_policy import AbstractEventPolicy, SequentialEvents
from .memory import check_memory
from .network import Network, as_network
from .neuron import AbstractNeuron
from .report import report
from .solution import Solution
from .stepper import AbstractStepper, EulerMaruyama
from .validation import check_count, check_grid_rounding, check_step_fits, solve_dtype

_ON_OVERFLOW = ("error", "warn", "ignore")


def simulate(
    model: Network | AbstractNeuron,
    *,
    t0: float,
    t1: float,
    dt: float,
    key: PRNGKeyArray,
    max_spikes: int,
    save_at: Sequence[float] | ArrayLike | None = None,
    stepper: AbstractStepper | None = None,
    brownian: AbstractBrownian | None = None,
    max_events: int | None = None,
    root_iterations: int = 8,
    on_overflow: str = "error",
    event_gradient: str = "root",
    dtype=None,
    event_location: AbstractEventLocation | None = None,
    event_policy: AbstractEventPolicy | None = None,
    clock_keys: PRNGKeyArray | None = None,
) -> Solution:
    r"""Simulate a spiking network as an event SDE on ``[t0, t1]`` with fixed step ``dt``.

    Between events the state solves ``dy = mu(t, y) dt + sigma dW``; neuron ``k`` fires at the
    exact time its event function crosses zero inside a step; the reset and the synaptic jumps are
    applied there and the step continues from the event (see :func:`spikesde._event_core.solve_events`).
    The result is differentiable in every parameter of ``model`` with the noise held fixed, and
    ``simulate`` works under ``jax.jit``, ``jax.vmap`` (over ``key``) and ``jax.grad``.

    Arguments:
        model: a :class:`Network`, or a neuron population (simulated without coupling).
        t0, t1: the time span; ``t1 - t0`` must be a positive multiple of ``dt``.
        dt: the step (a Python float; each distinct value compiles once).
        key: random key for the exponential clocks and (unless ``brownian`` is given) the
            Brownian path.
        max_spikes: spike buffer length per neuron.
        save_at: times on the step grid at which to save the state (default: ``t0`` and ``t1``).
        stepper: the integrator step (default :class:`EulerMaruyama`).
        brownian: the Brownian path (default :class:`GridBrownian` from ``key``); pass a
            :class:`FineGridBrownian` to compare step sizes on one path.
        max_events: budget of events (spikes and input spikes) for the whole solve; the loop runs
            at most ``num_steps + max_events`` iterations (it stops at ``t1``). Default: ``n_neurons * max_spikes`` plus the
            number of input spikes, which only runs out when some spike buffer overflows.
        root_iterations: Newton iterations to locate a crossing when the step or the event
            function is not affine in time.
        on_overflow: what to do when a spike buffer overflows (``Solution.overflow`` names the
            neurons), the event budget runs out before ``t1`` (``Solution.budget_exhausted``) or a
            state becomes NaN or inf (``Solution.nonfinite_*``): ``"error"`` (default) raises,
            ``"warn"`` warns (also from inside ``jit`` and ``vmap``), ``"ignore"`` leaves the flags
            to the caller: every spike before ``t_final`` is then exact, and each neuron's buffer
            holds its first ``max_spikes`` of them.
        event_gradient: how event times are differentiated: ``"root"`` (differentiate the root
            formula) or ``"recursion"`` (inject ``d tau = -(<grad E, J> + d_theta E) / <grad E, mu>``
            explicitly). Both are exact for the discretised pathwise map and agree to rounding.
        dtype: floating dtype of the solve (default: JAX's default float).
        event_location: how crossings are located on a step (an :class:`AbstractEventLocation`);
            default ``ExactEventLocation(root_iterations, event_gradient)``.
            :class:`GridEventLocation` fires at the end of the crossing step (clock-driven chips).
        event_policy: how events inside one step act on each other: :class:`SequentialEvents`
            (default: exact order, one event per loop iteration) or :class:`ParallelEvents` (jumps
            act from the next grid point on; all spikes of a step in one iteration).
        clock_keys: one key per neuron for its exponential clocks (default
            ``fold_in(jax.random.split(key)[1], k)`` for neuron ``k``, see
            :func:`spikesde.neuron_clock_keys`): pass ``neuron_clock_keys(key, n)[k:k+1]`` to give a
            one-neuron solve the clocks of neuron ``k`` of a network.

    Example:
        ```python
        solution = sd.simulate(sd.SLIF(input_current=1.5, sigma_v=0.5), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16)
        solution.spike_times, solution.spike_counts, solution.overflow   # (1, 16), (1,), (1,)
        ```
    """
    network = as_network(model)
    key = _as_key(key)
    _check_arguments(network, t0=t0, t1=t1, dt=dt, max_spikes=max_spikes, on_overflow=on_overflow, event_gradient=event_gradient)
    dtype = solve_dtype(dtype)
    check_step_fits(float(t0), float(t1), float(dt))
    root_iterations = check_count("root_iterations", root_iterations)
    num_steps = _num_steps(t0, t1, dt)
    if max_events is None:
        inputs = 0 if network.input_spike_times is None else int(np.prod(network.input_spike_times.shape))
        max_events = network.n_neurons * int(max_spikes) + inputs
    max_events = _positive_integer("max_events", max_events)
    check_memory(network, num_steps=num_steps, max_spikes=int(max_spikes), max_events=int(max_events), dtype=dtype)
    check_grid_rounding(float(t0), float(t1), float(dt), dtype)
    save_times, save_slots, save_initial = _save_grid(save_at, t0=t0, dt=dt, num_steps=num_steps)
    # Saving nothing but t0 and t1 needs no work inside the loop.
    save_in_loop = not (np.all(save_slots[:-1] == len(save_times)) and save_slots[-1] == len(save_times) - 1)
    if event_location is None:
        event_location = ExactEventLocation(int(root_iterations), event_gradient)
    elif not isinstance(event_location, AbstractEventLocation):
        raise TypeError(f"event_location must be an AbstractEventLocation, got {type(event_location).__name__}")
    if event_policy is None:
        event_policy = SequentialEvents()
    elif not isinstance(event_policy, AbstractEventPolicy):
        raise TypeError(f"event_policy must be SequentialEvents() or ParallelEvents(), got {type(event_policy).__name__}")
    if clock_keys is not None and (not hasattr(clock_keys, "shape") or clock_keys.shape != (network.n_neurons,)):
        raise ValueError(f"clock_keys must hold one key per neuron, shape ({network.n_neurons},), got {getattr(clock_keys, 'shape', None)}")
    if stepper is not None and not isinstance(stepper, AbstractStepper):
        raise TypeError(f"stepper must be an AbstractStepper such as EulerMaruyama() or ExponentialEuler(), got {stepper!r}")
    if brownian is not None and not isinstance(brownian, AbstractBrownian):
        raise TypeError(f"brownian must be an AbstractBrownian such as FineGridBrownian(...), got {type(brownian).__name__}")
    solution = _simulate_jit(
        network,
        key,
        stepper if stepper is not None else EulerMaruyama(),
        brownian,
        save_times,
        save_slots,
        t0=float(t0),
        dt=float(dt),
        num_steps=num_steps,
        max_spikes=int(max_spikes),
        max_events=int(max_events),
        event_location=event_location,
        event_policy=event_policy,
        clock_keys=clock_keys,
        save_initial=save_initial,
        save_in_loop=bool(save_in_loop),
        dtype=dtype,
    )
    return report(solution, on_overflow, max_spikes=int(max_spikes), max_events=int(max_events), t1=float(t1))


@eqx.filter_jit
def _simulate_jit(
    network, key, stepper, brownian, save_times, save_slots, *, t0, dt, num_steps, max_spikes, max_events,
    event_location, event_policy, clock_keys, save_initial, save_in_loop, dtype
):
    network = _cast(network, dtype)
    network = _error_if_nan(network)
    network = _error_if_unsorted_inputs(network)
    brownian_key, clock_key = jax.random.split(key)
    if clock_keys is None:
        clock_keys = neuron_clock_keys(clock_key, network.n_neurons)
    if brownian is None:
        brownian = GridBrownian(brownian_key)
    neuron = network.neuron
    shape = neuron.brownian_shape
    increments = brownian.increments(t0, dt, num_steps, shape, dtype)
    out = solve_events(
        network,
        stepper,
        t0=t0,
        dt=dt,
        brownian_increments=increments,
        clock_keys=clock_keys,
        max_spikes=max_spikes,
        max_events=max_events,
        save_slots=jnp.asarray(save_slots),
        num_saved=save_times.shape[0],
        save_initial=save_initial,
        save_in_loop=save_in_loop,
        event_location=event_location,
        event_policy=event_policy,
    )
    return Solution(
        spike_times=out.spike_times,
        spike_counts=out.spike_counts,
        overflow=out.overflow,
        t_final=out.t_final,
        ts=save_times.astype(dtype),
        ys=out.saved_states,
        final_state=out.final_state,
        state_names=neuron.state_names,
        budget_exhausted=out.budget_exhausted,
        nonfinite_time=out.nonfinite.time,
        nonfinite_row=out.nonfinite.row,
        nonfinite_neuron=out.nonfinite.neuron,
    )


def _cast(tree, dtype):
    return jax.tree_util.tree_map(lambda x: x.astype(dtype) if eqx.is_inexact_array(x) else x, tree)


def _error_if_nan(network):
    leaves = [leaf for leaf in jax.tree_util.tree_leaves(network) if eqx.is_inexact_array(leaf)]
    bad = jnp.any(jnp.stack([jnp.any(jnp.isnan(leaf)) for leaf in leaves])) if leaves else False
    return eqx.error_if(network, bad, "a parameter of the model is NaN")


def _error_if_unsorted_inputs(network):
    # Network checks the order itself, except for times that are tracers (built under jit).
    times = network.input_spike_times
    if times is None or times.shape[1] < 2:
        return network
    unsorted = jnp.any(times[:, 1:] < times[:, :-1])
    return eqx.error_if(network, unsorted, "Network.input_spike_times must be sorted along each channel (pad with +inf)")


def _as_key(key):
    """A typed PRNG key; a raw ``uint32`` key of shape ``(2,)`` (``jax.random.PRNGKey``) is wrapped
    (same random stream as ``jax.random.key`` with that seed)."""
    dtype = getattr(key, "dtype", None)
    if dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key):
        return key
    if dtype == jnp.uint32 and np.shape(key) == (2,):
        return jax.random.wrap_key_data(key)
    raise TypeError(
        f"key must be a JAX random key, e.g. jax.random.key(0), got {type(key).__name__}"
        + (f" of dtype {dtype} and shape {np.shape(key)}" if dtype is not None else f" {key!r}")
    )


def _positive_integer(name: str, value) -> int:
    """``value`` as an int, or a ValueError naming ``name`` (NaN, fractions, bools, strings...)."""
    try:
        ok = not isinstance(value, bool) and float(value).is_integer() and float(value) >= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_arguments(network: Network, *, t0, t1, dt, max_spikes, on_overflow, event_gradient):
    for name, value in (("t0", t0), ("t1", t1), ("dt", dt)):
        if isinstance(value, jax.core.Tracer) or not np.isscalar(value) and np.ndim(value) != 0:
            raise ValueError(f"{name} must be a Python number (it fixes the step grid), got {type(value).__name__}")
        if value is None or isinstance(value, str | bytes):
            raise ValueError(f"{name} must be a Python number (it fixes the step grid), got {value!r}")
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be finite, got {value}")
    if not float(dt) > 0:
        raise ValueError(f"dt must be positive, got dt={dt}")
    if not float(t1) > float(t0):
        raise ValueError(f"t1 must be greater than t0, got t0={t0}, t1={t1}")
    _positive_integer("max_spikes", max_spikes)
    if event_gradient not in ("root", "recursion"):
        raise ValueError(f"event_gradient must be 'root' or 'recursion', got {event_gradient!r}")
    if on_overflow not in _ON_OVERFLOW:
        raise ValueError(f"on_overflow must be one of {_ON_OVERFLOW}, got {on_overflow!r}")
    errors = network.neuron.parameter_errors()
    if errors:
        raise ValueError("; ".join(errors))
    for path, leaf in jax.tree_util.tree_flatten_with_path(network)[0]:
        if eqx.is_inexact_array(leaf) and not isinstance(leaf, jax.core.Tracer):
            if np.isnan(np.asarray(leaf)).any():
                raise ValueError(f"parameter {jax.tree_util.keystr(path)} contains NaN")


def _save_grid(save_at, *, t0, dt, num_steps):
    """Save times, the save slot of each step (``num_saved`` = not saved), and whether ``t0`` is saved."""
    times = np.array([t0, t0 + num_steps * dt] if save_at is None else np.atleast_1d(np.asarray(save_at, dtype=float)))
    if times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)):
        raise ValueError(f"save_at must be None or a non-empty list of finite times on the step grid, got {np.asarray(save_at).tolist()}")
    positions = (times - t0) / dt
    indices = np.round(positions).astype(int)
    if np.any(np.abs(positions - indices) > 1e-6) or np.any(indices < 0) or np.any(indices > num_steps):
        raise ValueError(f"save_at times must lie on the step grid t0 + k dt within [t0, t1], got {times.tolist()}")
    if np.any(np.diff(indices) <= 0):
        raise ValueError("save_at times must be strictly increasing")
    slots = np.full(num_steps, len(times), dtype=np.int32)
    save_initial = bool(indices[0] == 0)
    for slot, index in enumerate(indices):
        if index > 0:
            slots[index - 1] = slot
    return jnp.asarray(t0 + indices * dt), slots, save_initial
