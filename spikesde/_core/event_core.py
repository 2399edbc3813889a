"""The event core: one bounded loop that advances a network through its grid steps and events.

Every integrator shares this code; they differ only in their :class:`AbstractStepper`, how
crossings are located (:class:`AbstractEventLocation`) and how jumps act inside a step
(:class:`AbstractEventPolicy`).
"""

from typing import NamedTuple

import equinox.internal as eqxi
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from .bounded_loop import masked_bounded_loop
from .buffers import write_once
from .event_apply import JUMPS_NAME, Carry, EventApplier
from .event_location import AbstractEventLocation
from .event_policy import AbstractEventPolicy
from .network import Network
from .report import NonFinite, track_nonfinite
from .stepper import AbstractStepper, scale_neurons


class CoreOutput(NamedTuple):
    spike_times: Float[Array, "n max_spikes"]
    spike_counts: Int[Array, " n"]
    overflow: Bool[Array, " n"]
    t_final: Float[Array, ""]
    saved_states: Float[Array, "n_save d n"]
    final_state: Float[Array, "d n"]
    budget_exhausted: Bool[Array, ""]
    nonfinite: NonFinite


def solve_events(
    network: Network,
    stepper: AbstractStepper,
    *,
    t0: float,
    dt: float,
    brownian_increments: Float[Array, "steps r n"],
    clock_keys: PRNGKeyArray,
    max_spikes: int,
    max_events: int,
    save_slots: Int[Array, " steps"],
    num_saved: int,
    save_initial: bool,
    save_in_loop: bool,
    event_location: AbstractEventLocation,
    event_policy: AbstractEventPolicy,
) -> CoreOutput:
    r"""Solve the network's event SDE on the grid ``t_i = t0 + i dt``.

    All neurons are in the same grid step ``i`` (Brownian increment ``dW_i``, linear in between),
    each at its own time ``t_k`` in it. An iteration proposes, for every neuron, the step from
    ``t_k`` to ``t_{i+1}`` (input current read at ``t_i``: events split the state's step, not the
    input's) and asks ``event_location`` for each crossing. ``event_policy`` says which events it
    applies: :class:`SequentialEvents` the earliest spike or input spike, at ``tau``, moving the
    neuron that fires and the neurons that structurally receive its jump to ``tau`` (a partial step
    with the increment ``dW_i (tau - t_k) / dt``), resetting the one and jumping the others;
    :class:`ParallelEvents` every crossing at once, each at its own time, with the jumps held
    until ``t_{i+1}``. A neuron that neither fires nor receives a jump keeps its whole step, so
    uncoupled neurons do not influence each other through the discretisation. The iteration then
    proposes again from the moved neurons; if nothing is left in the step, it completes it.

    The split step reads the same Brownian path as the whole step, so the partial increments cancel
    in the derivative with respect to ``tau``, and the jump of the sensitivity across the reset,
    ``J+ = grad T J- + d_theta T + (grad T mu- - mu+) d tau``, follows from differentiating the split
    step. A stepper must be the identity for ``h = 0``.

    The loop is a bounded while loop (:func:`spikesde._core.bounded_loop.masked_bounded_loop`:
    blocks of iterations masked by the loop condition, nested in checkpointed scans): it runs one
    iteration per grid step plus about one per event, never more than ``num_steps + max_events``;
    blocks after the end cost nothing (also under ``vmap``, up to the slowest sample), forward and
    reverse mode both work, and reverse mode keeps checkpoints, not every
    iteration. If an event is due when ``max_events`` have been applied, the solve stops there
    (``t_final < t1``, ``budget_exhausted``); spikes before ``t_final`` are all exact and complete.
    The first state entry that becomes NaN or inf is recorded in ``nonfinite`` (see
    :mod:`spikesde._core.report`).

    States are saved at the grid points of ``save_slots`` (slot ``s`` after step ``i`` when
    ``save_slots[i] == s``; ``num_saved`` means none), at ``t0`` in slot 0 if ``save_initial``.
    Without ``save_in_loop`` only the last slot is used, for the state at ``t1``.

    Spike ``j`` of neuron ``k`` is stored in ``spike_times[k, j]`` (``+inf`` padding) for
    ``j < max_spikes``; a later spike sets ``overflow[k]`` (it still resets the neuron). After its
    ``j``-th spike neuron ``k`` draws its clock ``clock_draws(clock_keys, j)[k]``.
    """
    dtype = brownian_increments.dtype
    num_steps = brownian_increments.shape[0]
    dt_array = jnp.asarray(dt, dtype)
    apply = EventApplier(network, event_policy.jumps_within_step, max_events, clock_keys, max_spikes, num_steps, dtype)
    body = _iteration(
        network, stepper, event_location, apply, brownian_increments, t0=t0, dt=dt_array, save_slots=save_slots,
        num_saved=num_saved, save_in_loop=save_in_loop, max_spikes=max_spikes,
    )

    carry = apply.initial_carry(t0, num_saved, save_initial)
    is_buffer = jax.tree_util.tree_map(lambda _: False, carry)._replace(spike_buffer=True, saved_states=True)
    carry = masked_bounded_loop(
        lambda c: (c.step_index < num_steps) & ~c.stopped,
        body,
        carry,
        max_steps=num_steps + max_events,
        is_buffer=is_buffer,
        saved_names=(JUMPS_NAME,),
        # The parallel policy takes about one iteration per grid step (a neuron firing twice in a
        # step adds one): a loop sized to that needs fewer checkpointed levels than the budget.
        first_steps=None if apply.sequential else num_steps + num_steps // 8,
    )
    saved = carry.saved_states[:num_saved]
    if not save_in_loop:
        reached = carry.step_index == num_steps
        saved = saved.at[num_saved - 1].set(jnp.where(reached, carry.y, jnp.nan))
    return CoreOutput(carry.spike_buffer[:, :max_spikes], carry.spike_counts, carry.overflow, carry.t_final, saved, carry.y, carry.stopped, carry.nonfinite)


def _iteration(network, stepper, event_location, apply, brownian_increments, *, t0, dt, save_slots, num_saved, save_in_loop, max_spikes):
    """The loop body of :func:`solve_events`."""
    neuron = network.neuron
    n = neuron.n_neurons
    dtype = brownian_increments.dtype
    num_steps = brownian_increments.shape[0]
    dt_array = dt
    sequential = apply.sequential  # a Python bool: the policy is static

    def propose(t_grid, t, y, t_end, dW):
        h = jnp.maximum(t_end - t, 0.0)
        y_next = stepper.step(neuron, t_grid, y, h, scale_neurons(dW, h / dt_array))
        crossing, offset = event_location.locate(neuron, stepper, t_grid, y, h, dW, dt_array, y_next)
        return h, y_next, jnp.where(crossing, jnp.minimum(t + offset, t_end), jnp.inf)

    def body(carry: Carry, active: Bool[Array, ""]) -> Carry:
        index = carry.step_index
        dW = brownian_increments[jnp.minimum(index, num_steps - 1)]
        t_grid = t0 + index.astype(dtype) * dt_array
        t_end = t0 + (index + 1).astype(dtype) * dt_array
        h, y_next, neuron_times = propose(t_grid, carry.t, carry.y, t_end, dW)
        event = apply.select(carry, neuron_times, t_end)
        y_mid, t_mid = apply.move(carry, event, y_next, h, dW, t_grid, stepper, dt_array)
        # Propose again from the neurons just moved; the others' proposals are unchanged. (Computing
        # it unconditionally, with a `where`, was measured no faster in reverse mode once the
        # buffers were written once: notes/core-reverse.md (git history).)
        y_next2, times2 = jax.lax.cond(
            eqxi.unvmap_any(jnp.any(event.touched)),
            lambda: _repropose(propose, event.touched, t_grid, t_mid, y_mid, t_end, dW, y_next, neuron_times),
            lambda: (y_next, neuron_times),
        )
        left = jnp.any(jnp.isfinite(times2))
        if sequential:
            left = left | (apply.next_input(event.input_pointer)[0] <= t_end)
            y_stay, t_stay = y_mid, t_mid
        else:
            # Without jumps inside the step, the neurons that do not fire are done with it.
            y_stay = jnp.where(event.fire | event.blocked, y_mid, y_next)
            t_stay = jnp.where(event.fire | event.blocked, t_mid, t_end)
        complete = ~event.blocked & ~left
        pending = carry.pending + event.jump_later
        y_done = y_next2
        input_pointer = event.input_pointer
        if not sequential:
            input_jump, input_pointer = apply.inputs_until(input_pointer, t_end)
            y_done = y_done.at[neuron.synaptic_row].add(pending + input_jump)
        # The buffers are written in place: an inactive (masked) iteration writes to their spare slots.
        slot = jnp.where(complete & active, save_slots[jnp.minimum(index, num_steps - 1)], num_saved) if save_in_loop else num_saved
        counts = carry.spike_counts
        spike_slot = jnp.where(event.fire & (counts < max_spikes) & active, counts, max_spikes)
        new = Carry(
            y=jnp.where(complete, y_done, y_stay),
            t=jnp.where(complete, t_end, t_stay),
            step_index=index + complete.astype(index.dtype),
            stopped=event.blocked,
            t_final=jnp.where(event.blocked, event.t_blocked, jnp.where(complete, t_end, carry.t_final)),
            num_events=carry.num_events + event.num_applied,
            spike_counts=counts + event.fire.astype(counts.dtype),
            overflow=carry.overflow | (event.fire & (counts >= max_spikes)),
            input_pointer=jnp.where(complete | sequential, input_pointer, carry.input_pointer),
            pending=jnp.where(complete, 0.0, pending),
            spike_buffer=write_once(carry.spike_buffer, (jnp.arange(n), spike_slot), event.times),
            saved_states=write_once(carry.saved_states, slot, y_done),
            nonfinite=carry.nonfinite,
        )
        return new._replace(nonfinite=track_nonfinite(carry.nonfinite, new.y, new.t))

    return body


def _repropose(propose, touched, t_grid, t_mid, y_mid, t_end, dW, y_next, neuron_times):
    _, y_next2, times2 = propose(t_grid, t_mid, y_mid, t_end, dW)
    return jnp.where(touched, y_next2, y_next), jnp.where(touched, times2, neuron_times)
