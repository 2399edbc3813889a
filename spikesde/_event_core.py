"""The event core: one loop over the step grid that finds, orders and applies every spike.

Every integrator shares this code; they differ only in their :class:`AbstractStepper`.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from ._network import Network
from ._stepper import AbstractStepper


class CoreOutput(NamedTuple):
    spike_times: Float[Array, "n max_spikes"]
    spike_counts: Int[Array, " n"]
    missed_events: Bool[Array, ""]
    saved_states: Float[Array, "n_save d n"]
    final_state: Float[Array, "d n"]


class _Carry(NamedTuple):
    y: Float[Array, "d n"]
    t: Float[Array, ""]
    spike_times: Float[Array, "n max_spikes"]
    spike_counts: Int[Array, " n"]
    input_pointer: Int[Array, " m"]
    missed_events: Bool[Array, ""]
    saved_states: Float[Array, "n_save d n"]


def solve_events(
    network: Network,
    stepper: AbstractStepper,
    *,
    t0: float,
    dt: float,
    brownian_increments: Float[Array, "steps d n"],
    clocks: Float[Array, "n max_spikes+1"],
    max_spikes: int,
    max_events_per_step: int,
    save_slots: Int[Array, " steps"],
    num_saved: int,
    save_initial: bool,
    root_iterations: int,
    unroll: int = 1,
) -> CoreOutput:
    r"""Solve the network's event SDE on the grid ``t0 + i dt``, applying every event exactly.

    Within step ``i`` (Brownian increment ``dW_i``, linear in between) the core repeats, at most
    ``max_events_per_step`` times: propose a step from the current time ``t_c`` to the grid point;
    locate each neuron's crossing ``E_k(y(tau)) = 0`` of its event function on that step (closed
    form for affine steps and events, Newton otherwise, with the implicit-function derivative
    ``d tau = -dE / (dE/dt)``) and the next input spike; take the earliest event ``tau``; step from
    ``t_c`` to ``tau`` with the increment ``dW_i (tau - t_c) / dt``; apply the reset and the synaptic
    jump; continue from ``tau``. A crossing left over after the last permitted event sets
    ``missed_events``.

    Spike ``j`` of neuron ``k`` is stored in ``spike_times[k, j]`` (``+inf`` padding) for
    ``j < max_spikes``; ``spike_counts`` counts every spike, stored or not. After its ``j``-th spike a
    neuron with escape noise draws its clock from ``clocks[k, min(j, max_spikes)]``.
    """
    neuron = network.neuron
    n = neuron.n_neurons
    dtype = brownian_increments.dtype
    coupling = network.coupling()
    synaptic_row = neuron.synaptic_row
    neuron_index = jnp.arange(n)
    if network.input_spike_times is not None:
        input_times = network.input_spike_times
        input_weights = network.input_weights
    else:
        input_times = jnp.full((1, 1), jnp.inf, dtype)
        input_weights = jnp.zeros((1, n), dtype)
    num_inputs, max_inputs = input_times.shape
    dt = jnp.asarray(dt, dtype)
    closed_form_roots = stepper.affine_in_time and neuron.affine_event

    def next_input(pointer):
        times = jnp.where(pointer < max_inputs, input_times[jnp.arange(num_inputs), jnp.minimum(pointer, max_inputs - 1)], jnp.inf)
        channel = jnp.argmin(times)
        return times[channel], channel

    def crossing_offsets(t_c, y, h_rem, dW, event_now, event_next):
        """Time from ``t_c`` to each neuron's crossing on the remaining step (valid where crossing)."""
        crossing = event_next >= 0
        rise = event_next - event_now
        safe_rise = jnp.where(crossing & (rise > 0), rise, 1.0)
        fraction = jnp.where(crossing & (rise > 0), jnp.clip(-event_now / safe_rise, 0.0, 1.0), 0.0)
        offset = fraction * h_rem
        if closed_form_roots:
            return crossing, offset

        def event_after(h):
            return neuron.event(stepper.step(neuron, t_c, y, h, dW * (h / dt)[None]))

        def newton(h):
            value, slope = jax.jvp(event_after, (h,), (jnp.ones_like(h),))
            safe_slope = jnp.where(crossing & (slope > 0), slope, 1.0)
            return jnp.where(crossing & (slope > 0), h - value / safe_slope, h)

        root = jax.lax.stop_gradient(offset)
        for _ in range(root_iterations):
            root = jnp.clip(newton(root), 0.0, h_rem)
        # One differentiable Newton step from the converged root gives the implicit-function
        # derivative d tau = -dE / (dE/dt) without differentiating through the iterations.
        return crossing, jnp.clip(newton(jax.lax.stop_gradient(root)), 0.0, h_rem)

    def sub_step(carry: _Carry, t_end, dW) -> _Carry:
        y, t_c = carry.y, carry.t
        h_rem = t_end - t_c
        y_next = stepper.step(neuron, t_c, y, h_rem, dW * (h_rem / dt))
        crossing, offset = crossing_offsets(t_c, y, h_rem, dW, neuron.event(y), neuron.event(y_next))
        neuron_times = jnp.where(crossing, t_c + offset, jnp.inf)
        first_neuron = jnp.argmin(neuron_times)
        neuron_time = neuron_times[first_neuron]
        input_time, input_channel = next_input(carry.input_pointer)
        is_input = input_time < neuron_time
        tau = jnp.minimum(neuron_time, input_time)
        has_event = tau <= t_end
        # Keep every branch finite: a non-finite value in the branch not taken poisons gradients.
        tau = jnp.where(has_event, tau, t_end)
        h_event = tau - t_c
        y_event = stepper.step(neuron, t_c, y, h_event, dW * (h_event / dt))

        fires = has_event & ~is_input
        fired = fires & (neuron_index == first_neuron)
        count = carry.spike_counts[first_neuron]
        clock = clocks[neuron_index, jnp.minimum(carry.spike_counts + 1, max_spikes)]
        y_reset = neuron.reset(y_event, fired, clock)
        jump = jnp.zeros((n,), dtype)
        if coupling is not None:
            jump = jnp.where(fires, coupling[first_neuron], jump)
        jump = jnp.where(has_event & is_input, input_weights[input_channel], jump)
        y_reset = y_reset.at[synaptic_row].add(jump)

        slot = jnp.where(fires & (count < max_spikes), count, max_spikes)
        spike_times = carry.spike_times.at[first_neuron, slot].set(tau, mode="drop")
        return _Carry(
            y=jnp.where(has_event, y_reset, y_next),
            t=tau,
            spike_times=spike_times,
            spike_counts=carry.spike_counts + fired.astype(carry.spike_counts.dtype),
            input_pointer=carry.input_pointer.at[input_channel].add((has_event & is_input).astype(jnp.int32)),
            missed_events=carry.missed_events,
            saved_states=carry.saved_states,
        )

    def grid_step(carry: _Carry, inputs):
        index, dW, save_slot = inputs
        t_start = t0 + index * dt
        t_end = t0 + (index + 1) * dt
        carry = carry._replace(t=t_start)
        for _ in range(max_events_per_step):
            carry = sub_step(carry, t_end, dW)
        h_rem = t_end - carry.t
        y = stepper.step(neuron, carry.t, carry.y, h_rem, dW * (h_rem / dt))
        input_time, _ = next_input(carry.input_pointer)
        missed = jnp.any(neuron.event(y) >= 0) | (input_time <= t_end)
        saved = carry.saved_states.at[save_slot].set(y, mode="drop")
        return carry._replace(y=y, t=t_end, missed_events=carry.missed_events | missed, saved_states=saved), None

    y0 = neuron.initial_state(clocks[:, 0])
    saved_states = jnp.zeros((num_saved, *y0.shape), dtype)
    if save_initial:
        saved_states = saved_states.at[0].set(y0)
    input_pointer = jnp.sum(input_times < t0, axis=1).astype(jnp.int32)
    carry = _Carry(
        y=y0,
        t=jnp.asarray(t0, dtype),
        spike_times=jnp.full((n, max_spikes), jnp.inf, dtype),
        spike_counts=jnp.zeros((n,), jnp.int32),
        input_pointer=input_pointer,
        missed_events=jnp.asarray(False),
        saved_states=saved_states,
    )
    num_steps = brownian_increments.shape[0]
    steps = (jnp.arange(num_steps), brownian_increments, save_slots)
    carry, _ = jax.lax.scan(grid_step, carry, steps, unroll=unroll)
    return CoreOutput(carry.spike_times, carry.spike_counts, carry.missed_events, carry.saved_states, carry.y)
