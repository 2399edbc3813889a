"""Networks: neurons coupled by synaptic jumps, plus input spike trains."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from .coupling import AbstractCoupling, DenseCoupling, FanInCoupling
from .neuron import AbstractNeuron
from .validation import check_parameters, is_concrete


class Network(eqx.Module):
    r"""A population of neurons coupled through synaptic jumps.

    When neuron ``k`` fires, every post-synaptic neuron ``j`` receives
    ``I_j <- I_j + (weights * mask)[k, j]`` on its synaptic row (dense coupling), or
    ``sum_{s: fan_in.sources[j, s] = k} fan_in.weights[j, s]`` (fixed fan-in coupling, whose cost
    is linear in ``n``; see :class:`FanInCoupling`). An input spike of channel ``m`` at time ``t``
    adds ``input_weights[m, j]`` to ``I_j`` at ``t``.

    Arguments:
        neuron: the neurons (an :class:`AbstractNeuron` of ``n`` neurons).
        weights: ``(n, n)`` synaptic weights, ``weights[k, j]`` from ``k`` to ``j``; ``None`` for
            no coupling.
        mask: ``(n, n)`` boolean connectivity; entries where it is false are not connections and
            receive no gradient. Defaults to all true.
        input_spike_times: ``(m, max_input_spikes)`` spike times of ``m`` input channels, sorted
            per channel and padded with ``+inf``.
        input_weights: ``(m, n)`` weights from the input channels to the neurons.
        input_mask: ``(m, n)`` boolean: which neurons an input channel reaches. Entries where it is
            false are not connections: they receive no jump and no gradient, and an input spike
            does not split those neurons' steps (so it cannot move them through the
            discretisation). Defaults to all true. Like ``mask``, it is structural: a learned
            input weight passing through zero does not change which neurons are touched.
        fan_in: a :class:`FanInCoupling` of ``n`` neurons, instead of ``weights`` and ``mask``.

    Example:
        ```python
        weights = jnp.array([[0.0, 0.5], [0.0, 0.0]])        # neuron 0 -> neuron 1
        network = sd.Network(sd.SLIF(2, input_current=[1.5, 0.5]), weights)
        sd.simulate(network, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16).spike_times   # (2, 16)
        ```
    """

    neuron: AbstractNeuron
    weights: Float[Array, "n n"] | None
    mask: Bool[Array, "n n"] | None
    input_spike_times: Float[Array, "m k"] | None
    input_weights: Float[Array, "m n"] | None
    input_mask: Bool[Array, "m n"] | None
    fan_in: FanInCoupling | None

    def __init__(
        self,
        neuron: AbstractNeuron,
        weights: ArrayLike | None = None,
        mask: ArrayLike | None = None,
        input_spike_times: ArrayLike | None = None,
        input_weights: ArrayLike | None = None,
        input_mask: ArrayLike | None = None,
        *,
        fan_in: FanInCoupling | None = None,
    ):
        n = neuron.n_neurons
        self.neuron = neuron
        if fan_in is not None:
            if not isinstance(fan_in, FanInCoupling):
                raise ValueError(f"fan_in must be a FanInCoupling, got {type(fan_in).__name__}")
            if weights is not None or mask is not None:
                raise ValueError("give either weights (and mask) or fan_in, not both")
            if fan_in.n_neurons != n:
                raise ValueError(f"fan_in has {fan_in.n_neurons} neurons (rows of sources), the neuron has {n}")
        self.fan_in = fan_in
        self.weights = None if weights is None else jnp.asarray(weights, dtype=float)
        if self.weights is not None and self.weights.shape != (n, n):
            raise ValueError(f"weights must have shape (n_neurons, n_neurons) = ({n}, {n}), got {self.weights.shape}")
        if mask is not None:
            mask = jnp.asarray(mask, dtype=bool)
            if mask.shape != (n, n):
                raise ValueError(f"mask must have shape (n_neurons, n_neurons) = ({n}, {n}), got {mask.shape}")
            if self.weights is None:
                raise ValueError("a mask was given without weights")
        self.mask = mask
        if (input_spike_times is None) != (input_weights is None):
            raise ValueError("input_spike_times and input_weights must be given together")
        if input_spike_times is not None:
            times = jnp.asarray(input_spike_times, dtype=float)
            if times.ndim == 1:
                times = times[None]
            w_in = jnp.asarray(input_weights, dtype=float)
            if times.ndim != 2:
                raise ValueError(f"input_spike_times must have shape (channels, spikes), got {times.shape}")
            if w_in.shape != (times.shape[0], n):
                raise ValueError(
                    f"input_weights must have shape (channels, n_neurons) = ({times.shape[0]}, {n}), got {w_in.shape}"
                )
            if not isinstance(times, jax.core.Tracer) and bool(jnp.any(jnp.diff(times, axis=1) < 0)):
                raise ValueError("input_spike_times must be sorted along each channel (pad with +inf)")
            self.input_spike_times, self.input_weights = times, w_in
        else:
            self.input_spike_times = self.input_weights = None
        if input_mask is not None:
            if self.input_weights is None:
                raise ValueError("an input_mask was given without input_spike_times and input_weights")
            input_mask = jnp.asarray(input_mask, dtype=bool)
            if input_mask.shape != self.input_weights.shape:
                raise ValueError(
                    f"input_mask must have the shape of input_weights, (channels, n_neurons) = {self.input_weights.shape}, "
                    f"got {input_mask.shape}"
                )
        self.input_mask = input_mask

    def __check_init__(self):
        check_parameters("Network", {"weights": "finite", "input_weights": "finite"}, vars(self))
        times = self.input_spike_times
        if times is not None and is_concrete(times) and bool(jnp.any(jnp.isnan(times) | (times == -jnp.inf))):
            raise ValueError("Network.input_spike_times contains NaN or -inf (pad with +inf)")

    @property
    def n_neurons(self) -> int:
        return self.neuron.n_neurons

    @property
    def brownian_shape(self) -> tuple[int, int]:
        return self.neuron.brownian_shape

    def synapses(self) -> AbstractCoupling | None:
        """The coupling as the event core reads it: the :class:`FanInCoupling`, or a
        :class:`DenseCoupling` of :meth:`coupling` and :meth:`receivers` (``None`` without coupling)."""
        if self.fan_in is not None:
            return self.fan_in
        if self.weights is None:
            return None
        return DenseCoupling(self.coupling(), self.receivers())

    def coupling(self) -> Float[Array, "n n"] | None:
        """The effective weight matrix ``weights * mask``, ``C[k, j]`` from ``k`` to ``j``
        (``None`` without coupling; for a fan-in coupling, its ``n x n`` equivalent)."""
        if self.fan_in is not None:
            return self.fan_in.dense()
        if self.weights is None:
            return None
        if self.mask is None:
            return self.weights
        return jnp.where(self.mask, self.weights, 0.0)

    def receivers(self) -> Bool[Array, "n n"] | None:
        """``receivers[k, j]``: whether a spike of ``k`` moves neuron ``j`` (``None`` without coupling).

        Structural, never ``weights != 0``: a learned weight passing through zero must not change
        the discretisation. ``mask`` where given, every pair for dense ``weights``, the sources
        for a fan-in coupling (its ``n x n`` equivalent).
        """
        if self.fan_in is not None:
            return self.fan_in.dense_receivers()
        if self.weights is None:
            return None
        return self.mask if self.mask is not None else jnp.ones((self.n_neurons,) * 2, bool)

    def input_receivers(self) -> Bool[Array, "m n"] | None:
        """``input_receivers[c, j]``: whether an input spike of channel ``c`` moves neuron ``j``
        (``input_mask``, every neuron without one; ``None`` without inputs)."""
        if self.input_weights is None:
            return None
        return self.input_mask if self.input_mask is not None else jnp.ones(self.input_weights.shape, bool)

    def input_coupling(self) -> Float[Array, "m n"] | None:
        """The effective input weights ``input_weights * input_mask`` (``None`` without inputs)."""
        if self.input_weights is None or self.input_mask is None:
            return self.input_weights
        return jnp.where(self.input_mask, self.input_weights, 0.0)


def as_network(model: "Network | AbstractNeuron") -> Network:
    """A neuron population on its own is a network without coupling."""
    if isinstance(model, Network):
        return model
    if isinstance(model, AbstractNeuron):
        return Network(model)
    raise TypeError(f"expected a Network or an AbstractNeuron, got {type(model).__name__}")
