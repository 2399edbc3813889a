"""Applying the events of one loop iteration of the event core: which events, and the state at them."""

from typing import NamedTuple

import equinox.internal as eqxi
import jax
import jax.numpy as jnp
from jax.ad_checkpoint import checkpoint_name
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from .clocks import clock_draws, clock_table
from .network import Network
from .report import NonFinite, no_nonfinite, track_nonfinite
from .stepper import scale_neurons

# The parallel policy's summed jumps: reverse mode stores them per iteration (one n-vector) at the
# innermost checkpointed level of the loop, so the last recomputation skips the coupling product.
JUMPS_NAME = "spikesde_parallel_jumps"


class Carry(NamedTuple):
    y: Float[Array, "d n"]
    t: Float[Array, " n"]  # each neuron's own time inside the current grid step
    step_index: Int[Array, ""]
    stopped: Bool[Array, ""]
    t_final: Float[Array, ""]
    num_events: Int[Array, ""]
    spike_counts: Int[Array, " n"]
    overflow: Bool[Array, " n"]
    input_pointer: Int[Array, " m"]
    pending: Float[Array, " n"]  # jumps held until the end of the step (parallel policy)
    spike_buffer: Float[Array, "n max_spikes+1"]  # the last column takes the writes that are not spikes
    saved_states: Float[Array, "n_save+1 d n"]  # the last slot takes the steps that are not saved
    nonfinite: NonFinite  # the first NaN/inf state entry (spikesde._core.report)



class Event(NamedTuple):
    """What one iteration applies."""

    fire: Bool[Array, " n"]  # neurons that fire
    touched: Bool[Array, " n"]  # neurons moved to an event time (those that fire or receive a jump now)
    times: Float[Array, " n"]  # the event time of each touched neuron
    first: Int[Array, ""]  # the neuron that fires (sequential policy)
    jump_now: Float[Array, " n"]  # jumps added at the event time
    jump_later: Float[Array, " n"]  # jumps held until the end of the step
    input_pointer: Int[Array, " m"]
    num_applied: Int[Array, ""]
    blocked: Bool[Array, ""]  # an event was due with the budget spent: the solve stops
    t_blocked: Float[Array, ""]


class EventApplier:
    """The pieces of a loop iteration that depend on the network and the event policy."""

    def __init__(self, network: Network, sequential: bool, max_events: int, clock_keys: PRNGKeyArray, max_spikes: int, num_steps: int, dtype):
        self.network, self.neuron = network, network.neuron
        self.n = self.neuron.n_neurons
        self.sequential, self.max_events, self.max_spikes, self.num_steps = sequential, max_events, max_spikes, num_steps
        self.clock_keys, self.dtype = clock_keys, dtype
        self.coupling = network.synapses()
        self.has_inputs = network.input_spike_times is not None
        self.input_coupling = network.input_coupling()
        self.input_receivers = network.input_receivers()
        # The parallel policy reads the clocks from a table (one gather per iteration).
        self.clocks = None if sequential else clock_table(clock_keys, max_spikes + 1, dtype)

    def initial_carry(self, t0: float, num_saved: int, save_initial: bool) -> Carry:
        n, dtype = self.n, self.dtype
        y0 = self.neuron.initial_state(clock_draws(self.clock_keys, 0, dtype))
        saved = jnp.full((num_saved + 1, *y0.shape), jnp.nan, dtype)
        if save_initial:
            saved = saved.at[0].set(y0)
        if self.has_inputs:
            pointer = jnp.sum(self.network.input_spike_times < t0, axis=1).astype(jnp.int32)
        else:
            pointer = jnp.zeros((1,), jnp.int32)
        return Carry(
            y=y0,
            t=jnp.full((n,), t0, dtype),
            step_index=jnp.asarray(0, jnp.int32),
            stopped=jnp.asarray(False),
            t_final=jnp.asarray(t0, dtype),
            num_events=jnp.asarray(0, jnp.int32),
            spike_counts=jnp.zeros((n,), jnp.int32),
            overflow=jnp.zeros((n,), bool),
            input_pointer=pointer,
            pending=jnp.zeros((n,), dtype),
            spike_buffer=jnp.full((n, self.max_spikes + 1), jnp.inf, dtype),
            saved_states=saved,
            nonfinite=track_nonfinite(no_nonfinite(dtype), y0, jnp.asarray(t0, dtype)),
        )

    def next_input(self, pointer: Int[Array, " m"]) -> tuple[Float[Array, ""], Int[Array, ""]]:
        """The time and channel of the next input spike (``inf`` when none is left)."""
        if not self.has_inputs:
            return jnp.asarray(jnp.inf, self.dtype), jnp.asarray(0, jnp.int32)
        times_all = self.network.input_spike_times
        num_inputs, max_inputs = times_all.shape
        capped = jnp.minimum(pointer, max_inputs - 1)
        times = jnp.where(pointer < max_inputs, times_all[jnp.arange(num_inputs), capped], jnp.inf)
        channel = jnp.argmin(times)
        return times[channel], channel

    def inputs_until(self, pointer: Int[Array, " m"], t_end: Float[Array, ""]) -> tuple[Float[Array, " n"], Int[Array, " m"]]:
        """The summed jumps of the input spikes after ``pointer`` up to ``t_end``, and the new pointer."""
        if not self.has_inputs:
            return jnp.zeros((self.n,), self.dtype), pointer
        new_pointer = jnp.sum(self.network.input_spike_times <= t_end, axis=1).astype(jnp.int32)
        return (new_pointer - pointer).astype(self.dtype) @ self.input_coupling, new_pointer

    def select(self, carry: Carry, neuron_times: Float[Array, " n"], t_end: Float[Array, ""]) -> Event:
        """The events this iteration applies, given each neuron's next crossing time (``inf``: none)."""
        if self.sequential:
            return self._select_first(carry, neuron_times, t_end)
        return self._select_all(carry, neuron_times)

    def _select_first(self, carry, neuron_times, t_end):
        n, dtype = self.n, self.dtype
        first = jnp.argmin(neuron_times)
        neuron_time = neuron_times[first]
        input_time, channel = self.next_input(carry.input_pointer)
        is_input = input_time < neuron_time
        tau = jnp.minimum(neuron_time, input_time)
        due = tau <= t_end
        blocked = due & (carry.num_events >= self.max_events)
        applied = due & ~blocked
        fire = applied & ~is_input & (jnp.arange(n) == first)
        receive = jnp.zeros((n,), bool)
        jump = jnp.zeros((n,), dtype)
        if self.coupling is not None:
            receive = jnp.where(is_input, receive, self.coupling.reaches(first))
            jump = jnp.where(is_input, jump, self.coupling.row(first))
        pointer = carry.input_pointer
        if self.has_inputs:
            receive = jnp.where(is_input, self.input_receivers[channel], receive)
            jump = jnp.where(is_input, self.input_coupling[channel], jump)
            pointer = pointer.at[channel].add((applied & is_input).astype(jnp.int32))
        touched = fire | (applied & receive)
        return Event(
            fire=fire,
            touched=touched,
            times=jnp.broadcast_to(jnp.where(applied, tau, t_end), (n,)),
            first=first,
            jump_now=jnp.where(applied, jump, 0.0),
            jump_later=jnp.zeros((n,), dtype),
            input_pointer=pointer,
            num_applied=applied.astype(jnp.int32),
            blocked=blocked,
            t_blocked=tau,
        )

    def _select_all(self, carry, neuron_times):
        due = jnp.isfinite(neuron_times)
        num_due = jnp.sum(due).astype(jnp.int32)
        blocked = (num_due > 0) & (carry.num_events + num_due > self.max_events)
        fire = due & ~blocked
        jump_later = jnp.zeros((self.n,), self.dtype)
        if self.coupling is not None:
            jump_later = checkpoint_name(self.coupling.jumps(fire), JUMPS_NAME)
        return Event(
            fire=fire,
            touched=fire,
            times=jnp.where(fire, neuron_times, carry.t),
            first=jnp.asarray(0, jnp.int32),
            jump_now=jnp.zeros((self.n,), self.dtype),
            jump_later=jump_later,
            input_pointer=carry.input_pointer,
            num_applied=jnp.where(blocked, 0, num_due),
            blocked=blocked,
            t_blocked=jnp.min(neuron_times),
        )

    def move(self, carry: Carry, event: Event, y_next, h, dW, t_grid, stepper, dt) -> tuple[Float[Array, "d n"], Float[Array, " n"]]:
        """Move the touched neurons to their event times, reset those that fire, add the jumps now due."""
        neuron, y = self.neuron, carry.y
        h_event = jnp.where(event.touched, event.times - carry.t, 0.0)
        if stepper.affine_in_time:
            # The step is affine in its length: the state at the event lies on the proposal's chord.
            fraction = jnp.where(h > 0, h_event / jnp.where(h > 0, h, 1.0), 0.0)
            y_event = y + scale_neurons(y_next - y, fraction)
        else:
            y_event = stepper.step(neuron, t_grid, y, h_event, scale_neurons(dW, h_event / dt))
        y_reset = neuron.reset(y_event, event.fire, self._clocks(carry.spike_counts, event))
        if self.sequential:
            y_reset = y_reset.at[neuron.synaptic_row].add(event.jump_now)
        return jnp.where(event.touched, y_reset, y), jnp.where(event.touched, event.times, carry.t)

    def _clocks(self, counts: Int[Array, " n"], event: Event) -> Float[Array, " n"]:
        """The next clock of each neuron that fires: draw ``counts + 1`` of its stream."""
        if self.sequential:
            first = event.first
            draw = clock_draws(self.clock_keys[first][None], counts[first] + 1, self.dtype)[0]
            return jnp.broadcast_to(draw, (self.n,))
        index = counts + 1
        in_table = index <= self.max_spikes
        from_table = self.clocks[jnp.arange(self.n), jnp.minimum(index, self.max_spikes)]
        # Past the table (a buffer overflow) the draws come from the same stream, in the loop.
        return jax.lax.cond(
            eqxi.unvmap_any(jnp.any(event.fire & ~in_table)),
            lambda: jnp.where(in_table, from_table, clock_draws(self.clock_keys, index, self.dtype)),
            lambda: from_table,
        )
