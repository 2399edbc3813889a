"""The event core: one loop that advances a network to its next event or grid point.

Every integrator shares this code; they differ only in their :class:`AbstractStepper`.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray

from .event_location import AbstractEventLocation
from .network import Network
from .report import NonFinite, no_nonfinite, track_nonfinite
from .stepper import AbstractStepper


def clock_draws(clock_key: PRNGKeyArray, index: Int[ArrayLike, ""], n: int, dtype) -> Float[Array, " n"]:
    """The Exp(1) draws for the ``index``-th clock of each of ``n`` neurons (index 0: at ``t0``;
    index ``j``: after the ``j``-th spike). One fixed stream per key, whatever the buffer sizes."""
    return jax.random.exponential(jax.random.fold_in(clock_key, index), (n,), dtype)


class CoreOutput(NamedTuple):
    spike_times: Float[Array, "n max_spikes"]
    spike_counts: Int[Array, " n"]
    overflow: Bool[Array, " n"]
    t_final: Float[Array, ""]
    saved_states: Float[Array, "n_save d n"]
    final_state: Float[Array, "d n"]
    budget_exhausted: Bool[Array, ""]
    nonfinite: NonFinite


class _Carry(NamedTuple):
    y: Float[Array, "d n"]
    t: Float[Array, ""]
    step_index: Int[Array, ""]
    stopped: Bool[Array, ""]
    num_events: Int[Array, ""]
    spike_counts: Int[Array, " n"]
    overflow: Bool[Array, " n"]
    input_pointer: Int[Array, " m"]
    saved_states: Float[Array, "n_save d n"]
    nonfinite: NonFinite


def solve_events(
    network: Network,
    stepper: AbstractStepper,
    *,
    t0: float,
    dt: float,
    brownian_increments: Float[Array, "steps r n"],
    clock_key: PRNGKeyArray,
    max_spikes: int,
    max_events: int,
    save_slots: Int[Array, " steps"],
    num_saved: int,
    save_initial: bool,
    save_in_loop: bool,
    event_location: AbstractEventLocation,
    unroll: int = 1,
) -> CoreOutput:
    r"""Solve the network's event SDE on the grid ``t_i = t0 + i dt``, applying every event exactly.

    Each iteration starts at the current time ``t_c`` inside grid step ``i`` (Brownian increment
    ``dW_i``, linear in between) and proposes a step to ``t_{i+1}``. It asks ``event_location`` for
    every neuron's crossing ``E_k(y(tau)) = 0`` on that step (:class:`ExactEventLocation`: closed
    form for affine steps and events, Newton otherwise, differentiated by the implicit function
    theorem ``d tau = -dE / (dE/dt)``) and finds the next input spike. If the earliest of them, ``tau``, is inside the step, the iteration steps from
    ``t_c`` to ``tau`` with the increment ``dW_i (tau - t_c) / dt``, applies the reset and the
    synaptic jump and stays in step ``i``; otherwise it accepts the step and moves to ``t_{i+1}``.
    Events are therefore applied in time order, however many fall in one step, and the split step
    reads the same Brownian path as the whole step, so the partial increments cancel in the
    derivative with respect to ``tau``.

    The loop has ``num_steps + max_events`` iterations. If an event is due when ``max_events``
    have been applied, the solve stops there (``t_final < t1``, ``budget_exhausted``); spikes before
    ``t_final`` are all exact and complete. The first state entry that becomes NaN or inf is recorded
    in ``nonfinite`` (see :mod:`spikesde._core.report`).

    States are saved at the grid points of ``save_slots`` (slot ``s`` after step ``i`` when
    ``save_slots[i] == s``; ``num_saved`` means none), at ``t0`` in slot 0 if ``save_initial``. Without
    ``save_in_loop`` only the last slot is used, for the state at ``t1``, taken from the final carry.

    The jump of the sensitivity across the reset,
    ``J+ = grad T J- + d_theta T + (grad T mu- - mu+) d tau``, follows from differentiating the split
    step: its first piece ends at ``tau``, its second starts there. A stepper must be the identity
    for ``h = 0`` (several events at one time are applied one per iteration, with ``h = 0``).

    Spike ``j`` of neuron ``k`` is stored in ``spike_times[k, j]`` (``+inf`` padding) for
    ``j < max_spikes``; a later spike sets ``overflow[k]`` (it still resets the neuron).
    ``spike_counts`` counts every spike applied. After its ``j``-th spike a neuron with escape noise
    draws its clock from ``clock_draws(clock_key, j, n)[k]``.
    """
    neuron = network.neuron
    n = neuron.n_neurons
    dtype = brownian_increments.dtype
    num_steps = brownian_increments.shape[0]
    coupling = network.coupling()
    synaptic_row = neuron.synaptic_row
    neuron_index = jnp.arange(n)
    save_index = jnp.arange(num_saved)
    has_inputs = network.input_spike_times is not None
    if has_inputs:
        input_times = network.input_spike_times
        input_weights = network.input_weights
        num_inputs, max_inputs = input_times.shape
    dt = jnp.asarray(dt, dtype)

    def next_input(pointer):
        if not has_inputs:
            return jnp.asarray(jnp.inf, dtype), jnp.asarray(0, jnp.int32)
        capped = jnp.minimum(pointer, max_inputs - 1)
        times = jnp.where(pointer < max_inputs, input_times[jnp.arange(num_inputs), capped], jnp.inf)
        channel = jnp.argmin(times)
        return times[channel], channel

    def iteration(carry: _Carry, _) -> tuple[_Carry, None]:
        y, t_c, index = carry.y, carry.t, carry.step_index
        running = (index < num_steps) & ~carry.stopped
        dW = brownian_increments[jnp.minimum(index, num_steps - 1)]
        t_end = t0 + (index + 1) * dt
        h_rem = jnp.where(running, t_end - t_c, 0.0)
        y_next = stepper.step(neuron, t_c, y, h_rem, dW * (h_rem / dt))
        crossing, offset = event_location.locate(neuron, stepper, t_c, y, h_rem, dW, dt, y_next)
        neuron_times = jnp.where(crossing, t_c + offset, jnp.inf)
        first_neuron = jnp.argmin(neuron_times)
        neuron_time = neuron_times[first_neuron]
        input_time, input_channel = next_input(carry.input_pointer)
        is_input = input_time < neuron_time
        tau = jnp.minimum(neuron_time, input_time)
        event_due = running & (tau <= t_end)
        over_budget = event_due & (carry.num_events >= max_events)
        has_event = event_due & ~over_budget
        advance = running & ~event_due
        # Keep every branch finite: a non-finite value in the branch not taken poisons gradients.
        tau = jnp.where(has_event, tau, t_c)
        h_event = tau - t_c
        if stepper.affine_in_time:
            # The step is affine in its length: the state at the event lies on the proposal's chord.
            fraction = jnp.where(h_rem > 0, h_event / jnp.where(h_rem > 0, h_rem, 1.0), 0.0)
            y_event = y + fraction * (y_next - y)
        else:
            y_event = stepper.step(neuron, t_c, y, h_event, dW * (h_event / dt))

        fires = has_event & ~is_input
        fired = fires & (neuron_index == first_neuron)
        count = carry.spike_counts[first_neuron]
        clock = clocks[first_neuron, jnp.minimum(count + 1, max_events)]
        y_reset = neuron.reset(y_event, fired, clock)
        jump = jnp.zeros((n,), dtype)
        if coupling is not None:
            jump = jnp.where(fires, coupling[first_neuron], jump)
        if has_inputs:
            jump = jnp.where(has_event & is_input, input_weights[input_channel], jump)
            input_pointer = carry.input_pointer.at[input_channel].add((has_event & is_input).astype(jnp.int32))
        else:
            input_pointer = carry.input_pointer
        y_reset = y_reset.at[synaptic_row].add(jump)

        if save_in_loop:
            slot = save_slots[jnp.minimum(index, num_steps - 1)]
            saved = jnp.where(advance & (save_index == slot)[:, None, None], y_next, carry.saved_states)
        else:
            saved = carry.saved_states
        lost = fired & (carry.spike_counts >= max_spikes)
        carry = _Carry(
            y=jnp.where(has_event, y_reset, jnp.where(advance, y_next, y)),
            t=jnp.where(advance, t_end, tau),
            step_index=index + advance.astype(index.dtype),
            stopped=carry.stopped | over_budget,
            num_events=carry.num_events + has_event.astype(carry.num_events.dtype),
            spike_counts=carry.spike_counts + fired.astype(carry.spike_counts.dtype),
            overflow=carry.overflow | lost,
            input_pointer=input_pointer,
            saved_states=saved,
            nonfinite=carry.nonfinite,
        )
        carry = carry._replace(nonfinite=track_nonfinite(carry.nonfinite, carry.y, carry.t))
        # Each iteration reports at most one spike; the buffers are filled once after the loop.
        spike_slot = jnp.where(fires & (count < max_spikes), count, max_spikes)
        return carry, (tau, first_neuron, spike_slot)

    # No neuron fires more than max_events times, so these are all the clocks the solve can use.
    clocks = jax.vmap(lambda index: clock_draws(clock_key, index, n, dtype), out_axes=1)(jnp.arange(max_events + 1))
    y0 = neuron.initial_state(clocks[:, 0])
    saved_states = jnp.full((num_saved, *y0.shape), jnp.nan, dtype)
    if save_initial:
        saved_states = saved_states.at[0].set(y0)
    carry = _Carry(
        y=y0,
        t=jnp.asarray(t0, dtype),
        step_index=jnp.asarray(0, jnp.int32),
        stopped=jnp.asarray(False),
        num_events=jnp.asarray(0, jnp.int32),
        spike_counts=jnp.zeros((n,), jnp.int32),
        overflow=jnp.zeros((n,), bool),
        input_pointer=jnp.sum(input_times < t0, axis=1).astype(jnp.int32) if has_inputs else jnp.zeros((1,), jnp.int32),
        saved_states=saved_states,
        nonfinite=track_nonfinite(no_nonfinite(dtype), y0, jnp.asarray(t0, dtype)),
    )
    carry, (times, neurons, slots) = jax.lax.scan(iteration, carry, None, length=num_steps + max_events, unroll=unroll)
    if not save_in_loop:
        reached = carry.step_index == num_steps
        saved = carry.saved_states.at[num_saved - 1].set(jnp.where(reached, carry.y, jnp.nan))
        carry = carry._replace(saved_states=saved)
    spike_times = jnp.full((n, max_spikes), jnp.inf, dtype).at[neurons, slots].set(times, mode="drop")
    return CoreOutput(spike_times, carry.spike_counts, carry.overflow, carry.t, carry.saved_states, carry.y, carry.stopped, carry.nonfinite)
