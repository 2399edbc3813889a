"""How the events inside one grid step act on each other: the event core's two policies."""

import equinox as eqx


class AbstractEventPolicy(eqx.Module):
    """Whether a jump received inside a grid step acts from its event time or from the next grid point.

    The event core reads the class variable ``jumps_within_step``; the policies have no parameters.

    Example:
        ```python
        isinstance(sd.ParallelEvents(), sd.AbstractEventPolicy)   # True; simulate(..., event_policy=...)
        ```
    """

    #: Whether a synaptic jump (from a spike or an input spike) changes its receivers' state at the
    #: event time (sequential) or is held and added at the end of the step (parallel).
    jumps_within_step: eqx.AbstractClassVar[bool]


class SequentialEvents(AbstractEventPolicy):
    """Exact event order: one event per loop iteration, the earliest of all neurons and inputs.

    A spike at ``tau`` moves the neuron that fires and the neurons it connects to (structurally:
    the rows of ``mask``, every neuron for a dense ``weights``, the neurons that list it among
    their ``fan_in`` sources) to ``tau``, resets the one and
    adds the jumps to the others there. Other neurons keep their own step. Cost: one iteration per
    event plus one per grid step without events.

    Example:
        ```python
        network = sd.Network(sd.SLIF(2, input_current=[1.5, 0.5]), jnp.array([[0.0, 0.5], [0.0, 0.0]]))
        sd.simulate(network, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16, event_policy=sd.SequentialEvents()).spike_times
        ```
    """

    jumps_within_step = True


class ParallelEvents(AbstractEventPolicy):
    r"""Jumps received inside a step act from the next grid point on.

    Within a step every neuron then evolves on its own, so all neurons that cross fire in one
    iteration at their own exact times, and the jumps they send (and the input spikes inside the
    step) are summed and added to the synaptic rows at the step's end. This delays each jump by
    less than ``dt``: the scheme converges at the same order as the sequential one, and its
    gradients are exact for its own discrete map. Cost: one iteration per grid step, plus one per
    extra spike of a neuron that fires twice inside one step.

    Example:
        ```python
        network = sd.Network(sd.SLIF(2, input_current=[1.5, 0.5]), jnp.array([[0.0, 0.5], [0.0, 0.0]]))
        sd.simulate(network, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16, event_policy=sd.ParallelEvents()).spike_times
        ```
    """

    jumps_within_step = False
