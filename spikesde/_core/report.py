"""Run-time reports of a solve: spike-buffer overflow, an exhausted event budget, non-finite states.

The event core records what happened (:class:`NonFinite` is tracked in its loop); :func:`report`
turns the records of a :class:`Solution` into an error, a warning or nothing (``on_overflow``).
Outside any transformation it raises or warns in Python with every detail (which neurons, which
state, when). Inside ``jit``/``vmap``/``grad`` it warns from the compiled code through
``jax.debug.callback`` (once per sample under ``vmap``) or raises through ``equinox.error_if``.
"""

import functools
import warnings
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from .solution import Solution


class NonFinite(NamedTuple):
    """The first non-finite (NaN or inf) state entry of a solve: ``time`` (``+inf`` if none), its
    state ``row`` and ``neuron`` (``-1`` if none)."""

    time: Float[Array, ""]
    row: Int[Array, ""]
    neuron: Int[Array, ""]


def no_nonfinite(dtype) -> NonFinite:
    return NonFinite(jnp.asarray(jnp.inf, dtype), jnp.asarray(-1, jnp.int32), jnp.asarray(-1, jnp.int32))


def track_nonfinite(record: NonFinite, y: Float[Array, "d n"], t: Float[Array, "*n"]) -> NonFinite:
    """``record``, or the first non-finite entry of the state ``y`` at time ``t`` (one time, or each
    neuron's own) if none was seen."""
    bad = ~jnp.isfinite(y)
    n = y.shape[-1]
    first = jnp.argmax(bad.reshape(-1)).astype(jnp.int32)
    row, neuron = first // n, first % n
    new = jnp.any(bad) & (record.row < 0)
    time = jnp.broadcast_to(jax.lax.stop_gradient(t), (n,))[neuron]
    return NonFinite(jnp.where(new, time, record.time), jnp.where(new, row, record.row), jnp.where(new, neuron, record.neuron))


def report(solution: Solution, on_overflow: str, *, max_spikes: int, max_events: int, t1: float) -> Solution:
    """Raise (``"error"``), warn (``"warn"``) or do nothing (``"ignore"``) about what went wrong."""
    if on_overflow == "ignore":
        return solution
    info = dict(state_names=solution.state_names, max_spikes=max_spikes, max_events=max_events, t1=t1)
    flags = (solution.overflow, solution.budget_exhausted, solution.t_final, solution.nonfinite_time, solution.nonfinite_row, solution.nonfinite_neuron)
    if not any(isinstance(flag, jax.core.Tracer) for flag in flags):
        messages = describe(*(np.asarray(flag) for flag in flags), **info)
        if messages and on_overflow == "error":
            raise RuntimeError("\n".join(messages))
        for message in messages:
            warnings.warn(message, RuntimeWarning, stacklevel=3)
        return solution
    if on_overflow == "warn":
        jax.debug.callback(functools.partial(_warn, **info), *flags)
        return solution
    # One error naming every problem that occurred: a message for each combination of the three.
    problems = (
        _overflow_message("(see Solution.overflow)", max_spikes),
        _budget_message(max_events, None, t1),
        "non-finite state: a state became NaN or inf during the solve (simulate with on_overflow='warn' to see "
        "which state and when, or read Solution.nonfinite_time/_row/_neuron)",
    )
    messages = ["\n".join(p for bit, p in enumerate(problems) if combination >> bit & 1) for combination in range(8)]
    flags = (jnp.any(solution.overflow), solution.budget_exhausted, solution.nonfinite)
    index = sum(flag.astype(jnp.int32) << bit for bit, flag in enumerate(flags))
    spike_times = eqx.branched_error_if(solution.spike_times, index > 0, index, messages)
    return eqx.tree_at(lambda s: s.spike_times, solution, spike_times)


def describe(overflow, budget_exhausted, t_final, nonfinite_time, nonfinite_row, nonfinite_neuron, *, state_names, max_spikes, max_events, t1) -> list[str]:
    """One message per problem, from concrete (NumPy) flags of one solution."""
    messages = []
    neurons = np.flatnonzero(overflow)
    if neurons.size:
        messages.append(_overflow_message(_listing(neurons), max_spikes))
    if bool(budget_exhausted):
        messages.append(_budget_message(max_events, float(t_final), t1))
    if int(nonfinite_row) >= 0:
        messages.append(
            f"non-finite state: {state_names[int(nonfinite_row)]} of neuron {int(nonfinite_neuron)} became NaN or inf "
            f"at t={float(nonfinite_time):.6g}; spikes after that are missing. Check the parameters, the input current "
            "and the step (an explicit Euler step of a stiff membrane, mu_v dt > 2, diverges)."
        )
    return messages


def _warn(*flags, **info) -> None:
    for message in describe(*(np.asarray(flag) for flag in flags), **info):
        warnings.warn(message, RuntimeWarning, stacklevel=2)


def _overflow_message(neurons: str, max_spikes: int) -> str:
    return (
        f"spike buffer overflow: neuron(s) {neurons} fired more than max_spikes={max_spikes} times; spike_counts "
        "counts every spike, the buffers hold the first max_spikes. Raise max_spikes, or pass on_overflow='ignore'."
    )


def _budget_message(max_events: int, t_final: float | None, t1: float) -> str:
    at = "before t1" if t_final is None else f"at t={t_final:.6g} < t1={t1}"
    return (
        f"event budget exhausted: max_events={max_events} events were applied and another was due {at}; the solve "
        "stopped there (every spike before Solution.t_final is exact). Raise max_events, or pass on_overflow='ignore'."
    )


def _listing(neurons: np.ndarray) -> str:
    shown = ", ".join(str(k) for k in neurons[:10])
    return f"{shown}, ... ({neurons.size} in all)" if neurons.size > 10 else shown
