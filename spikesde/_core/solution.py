"""What a simulation returns."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int


class Solution(eqx.Module):
    """The result of :func:`spikesde.simulate`.

    Fields:
        spike_times: ``(n_neurons, max_spikes)``, spike ``j`` of neuron ``k`` at ``[k, j]``, padded
            with ``+inf``; differentiable.
        spike_counts: ``(n_neurons,)`` spikes of each neuron in ``[t0, t1]``, including any that did
            not fit in the buffer.
        overflow: ``(n_neurons,)`` whether a neuron fired more than ``max_spikes`` times (its spike
            buffer overflowed; its later spikes are counted, not stored).
        t_final: the time the solve reached: ``t1``, or earlier if the event budget ran out (every
            spike before ``t_final`` is exact and stored, buffer space permitting).
        budget_exhausted: whether the event budget ``max_events`` ran out before ``t1`` (the solve
            stopped at ``t_final``; no neuron is flagged in ``overflow`` for it).
        nonfinite_time, nonfinite_row, nonfinite_neuron: the first time a state entry became NaN or
            inf, its state row (index into ``state_names``) and neuron; ``+inf, -1, -1`` if never.
        ts: ``(n_save,)`` the save times.
        ys: ``(n_save, state_dim, n_neurons)`` the states at ``ts`` (NaN after ``t_final``).
        final_state: ``(state_dim, n_neurons)`` the state at ``t1``.
        state_names: names of the state rows.

    Example:
        ```python
        solution = sd.simulate(sd.SLIF(input_current=1.5), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16)
        solution.ys.shape, solution.state_names, solution.t_final   # (2, 3, 1): t0 and t1; V, I and the clock s
        ```
    """

    spike_times: Float[Array, "n max_spikes"]
    spike_counts: Int[Array, " n"]
    overflow: Bool[Array, " n"]
    t_final: Float[Array, ""]
    ts: Float[Array, " n_save"]
    ys: Float[Array, "n_save d n"]
    final_state: Float[Array, "d n"]
    state_names: tuple[str, ...] = eqx.field(static=True)
    budget_exhausted: Bool[Array, ""] = eqx.field(default_factory=lambda: jnp.asarray(False))
    nonfinite_time: Float[Array, ""] = eqx.field(default_factory=lambda: jnp.asarray(jnp.inf))
    nonfinite_row: Int[Array, ""] = eqx.field(default_factory=lambda: jnp.asarray(-1, jnp.int32))
    nonfinite_neuron: Int[Array, ""] = eqx.field(default_factory=lambda: jnp.asarray(-1, jnp.int32))

    @property
    def max_spikes(self) -> int:
        return self.spike_times.shape[-1]

    @property
    def nonfinite(self) -> Bool[Array, ""]:
        """Whether some state became NaN or inf during the solve."""
        return self.nonfinite_row >= 0

    @property
    def stored_counts(self) -> Int[Array, " n"]:
        """Number of spikes held in the buffer of each neuron (at most ``max_spikes``)."""
        return jnp.minimum(self.spike_counts, self.max_spikes)

    def state(self, name: str) -> Float[Array, "n_save n"]:
        """The saved trajectory of the state variable ``name`` (e.g. ``"V"``)."""
        if name not in self.state_names:
            raise KeyError(f"unknown state variable {name!r}; this model has {self.state_names}")
        return self.ys[..., self.state_names.index(name), :]
