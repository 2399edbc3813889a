"""Synaptic coupling: what the spikes of a network send, as the event core reads it.

Two couplings share one interface (:class:`AbstractCoupling`): :class:`DenseCoupling`, an
``n x n`` matrix (``Network(neuron, weights, mask)``; an iteration costs ``O(n^2)``), and
:class:`FanInCoupling`, ``k`` inputs per neuron given by their sources (``Network(neuron,
fan_in=...)``; an iteration costs ``O(n k)``, so time is linear in ``n`` at fixed fan-in).
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from .validation import check_parameters, is_concrete


class AbstractCoupling(eqx.Module):
    """The synaptic jumps of a network of ``n`` neurons: ``C[k, j]`` is added to neuron ``j``'s
    synaptic row when neuron ``k`` fires, and ``R[k, j]`` says whether that spike structurally
    reaches ``j`` (it then splits ``j``'s step; never decided by the weight's value).

    Example:
        ```python
        coupling = sd.DenseCoupling(jnp.array([[0.0, 0.5], [0.2, 0.0]]), jnp.array([[False, True], [True, False]]))
        isinstance(coupling, sd.AbstractCoupling), coupling.row(1)   # True, [0.2, 0.0]
        ```
    """

    @abc.abstractmethod
    def jumps(self, fire: Bool[Array, " n"]) -> Float[Array, " n"]:
        """The summed jumps ``sum_{k fires} C[k, :]`` of the neurons that fire (parallel policy)."""

    @abc.abstractmethod
    def row(self, k: Int[Array, ""]) -> Float[Array, " n"]:
        """The jumps ``C[k, :]`` a spike of neuron ``k`` sends (sequential policy)."""

    @abc.abstractmethod
    def reaches(self, k: Int[Array, ""]) -> Bool[Array, " n"]:
        """``R[k, :]``: the neurons a spike of ``k`` structurally reaches."""


class DenseCoupling(AbstractCoupling):
    """An ``n x n`` coupling matrix ``matrix[k, j]`` (from ``k`` to ``j``) and its structural
    ``receivers``, as :meth:`Network.coupling` and :meth:`Network.receivers` give them.

    Arguments:
        matrix: ``(n, n)`` effective weights (zero off the connectivity).
        receivers: ``(n, n)`` boolean connectivity.

    Example:
        ```python
        network = sd.Network(sd.SLIF(2), jnp.array([[0.0, 0.5], [0.0, 0.0]]))
        coupling = sd.DenseCoupling(network.coupling(), network.receivers())
        coupling.jumps(jnp.array([True, False]))   # [0.0, 0.5]: neuron 0's spike reaches neuron 1
        ```
    """

    matrix: Float[Array, "n n"]
    receivers: Bool[Array, "n n"]

    def jumps(self, fire: Bool[Array, " n"]) -> Float[Array, " n"]:
        return spike_jumps(fire, self.matrix)

    def row(self, k: Int[Array, ""]) -> Float[Array, " n"]:
        return self.matrix[k]

    def reaches(self, k: Int[Array, ""]) -> Bool[Array, " n"]:
        return self.receivers[k]


class FanInCoupling(AbstractCoupling):
    r"""Fixed fan-in coupling: each neuron ``j`` has ``k`` inputs, from neurons ``sources[j, s]``
    with weights ``weights[j, s]``.

    A spike of neuron ``i`` adds ``sum_{s: sources[j, s] = i} weights[j, s]`` to neuron ``j``; the
    jumps of the neurons that fire are the gather ``sum_s fire[sources[j, s]] weights[j, s]``
    (``O(n k)``, never ``n x n``, also in reverse mode, against ``O(n^2)`` for a dense matrix), and
    a spike reaches the neurons that list its sender among their sources. The row of one sender
    (sequential policy) is read from a fan-out table built once from concrete ``sources``,
    ``targets[i]`` = the flat indices of the entries with ``sources == i`` (``O(n + max
    out-degree)`` per event); sources that are tracers get no table and the ``O(n k)`` gather of a
    one-hot spike instead. The table is built by ``__init__``: to change the sources, build a new
    coupling (``eqx.tree_at`` on ``sources`` would leave the table stale). The same network as a dense one: ``matrix[sources[j, s], j] =
    weights[j, s]`` (see :meth:`dense`).

    Arguments:
        sources: ``(n, k)`` integers in ``[0, n)``: the presynaptic neuron of input ``s`` of
            neuron ``j``; no neuron twice in a row.
        weights: ``(n, k)`` finite weights of those inputs. Learned by the path
            ``"fan_in.weights"`` of a :class:`spikesde.Network`.

    Example:
        ```python
        sources = jnp.array([[1], [0]])           # neuron 0 listens to 1, neuron 1 to 0
        network = sd.Network(sd.SLIF(2, input_current=1.5), fan_in=sd.FanInCoupling(sources, jnp.array([[0.3], [0.3]])))
        ```
    """

    sources: Int[Array, "n k"]
    weights: Float[Array, "n k"]
    targets: Int[Array, "n max_out"] | None  # derived from sources: flat indices, padded with n k

    def __init__(self, sources: ArrayLike, weights: ArrayLike):
        sources_np = np.asarray(sources) if is_concrete(sources) else None
        if sources_np is not None and sources_np.size and not np.issubdtype(sources_np.dtype, np.integer):
            raise ValueError(f"FanInCoupling.sources must be integers (neuron indices), got dtype {sources_np.dtype}")
        self.sources = jnp.asarray(sources, dtype=jnp.int32)
        self.weights = jnp.asarray(weights, dtype=float)
        if self.sources.ndim != 2 or self.sources.shape[1] < 1:
            raise ValueError(f"FanInCoupling.sources must have shape (n_neurons, fan_in) with fan_in >= 1, got {self.sources.shape}")
        if self.weights.shape != self.sources.shape:
            raise ValueError(f"FanInCoupling.weights must have the shape of sources, {self.sources.shape}, got {self.weights.shape}")
        self.targets = None if sources_np is None else _fan_out(sources_np.astype(np.int64))

    def __check_init__(self):
        check_parameters("FanInCoupling", {"weights": "finite"}, vars(self))
        if not is_concrete(self.sources):
            return
        sources, n = np.asarray(self.sources), self.sources.shape[0]
        bad = (sources < 0) | (sources >= n)
        if bad.any():
            raise ValueError(
                f"FanInCoupling.sources must lie in [0, n_neurons) = [0, {n}), got {sources[bad].ravel()[0]} "
                f"(entry {np.argwhere(bad)[0].tolist()})"
            )
        ordered = np.sort(sources, axis=1)
        repeated = np.argwhere(ordered[:, 1:] == ordered[:, :-1])
        if repeated.size:
            j, s = repeated[0]
            raise ValueError(f"FanInCoupling.sources lists neuron {ordered[j, s]} twice among the inputs of neuron {j}")

    @property
    def n_neurons(self) -> int:
        return self.sources.shape[0]

    @property
    def fan_in(self) -> int:
        return self.sources.shape[1]

    def jumps(self, fire: Bool[Array, " n"]) -> Float[Array, " n"]:
        return gathered_jumps(fire, self.sources, self.weights)

    def row(self, k: Int[Array, ""]) -> Float[Array, " n"]:
        if self.targets is None:
            # The one-hot spike of k: fire[sources] = (sources == k), O(n k).
            return gathered_jumps(jnp.arange(self.n_neurons) == k, self.sources, self.weights)
        flat = self.targets[k]
        values = self.weights.ravel().at[flat].get(mode="fill", fill_value=0.0)
        # No neuron twice among one neuron's sources: one term per receiver, the dense row exactly.
        return jnp.zeros((self.n_neurons,), self.weights.dtype).at[flat // self.fan_in].add(values, mode="drop")

    def reaches(self, k: Int[Array, ""]) -> Bool[Array, " n"]:
        if self.targets is None:
            return jnp.any(self.sources == k, axis=1)
        return jnp.zeros((self.n_neurons,), bool).at[self.targets[k] // self.fan_in].set(True, mode="drop")

    def dense(self) -> Float[Array, "n n"]:
        """The equivalent ``n x n`` matrix ``C[sources[j, s], j] = weights[j, s]`` (``O(n^2)``
        memory: for exports, the reference solver and small networks)."""
        return self._scatter(self.weights)

    def dense_receivers(self) -> Bool[Array, "n n"]:
        """The equivalent ``n x n`` structural connectivity ``R[sources[j, s], j] = True``."""
        return self._scatter(jnp.ones(self.sources.shape, self.weights.dtype)) > 0

    def _scatter(self, values: Array) -> Array:
        """``M[i, j] = sum_{s: sources[j, s] = i} values[j, s]``, the sum that :meth:`jumps` gathers."""
        n = self.n_neurons
        posts = jnp.broadcast_to(jnp.arange(n)[:, None], self.sources.shape)
        return jnp.zeros((n, n), values.dtype).at[self.sources, posts].add(values)


def _fan_out(sources: np.ndarray) -> np.ndarray | None:
    """``targets[i]``: the flat indices ``j k + s`` with ``sources[j, s] == i``, padded with ``n k``
    (out of range: read as 0, its receiver ``n`` dropped). ``None`` for indices out of range
    (``__check_init__`` reports them)."""
    n, k = sources.shape
    if sources.size == 0 or sources.min() < 0 or sources.max() >= n:
        return None
    flat = np.argsort(sources.ravel(), kind="stable")
    degrees = np.bincount(sources.ravel(), minlength=n)
    starts = np.concatenate([[0], np.cumsum(degrees)[:-1]])
    position = np.arange(n * k) - np.repeat(starts, degrees)
    targets = np.full((n, max(int(degrees.max()), 1)), n * k, np.int64)
    targets[np.repeat(np.arange(n), degrees), position] = flat
    return jnp.asarray(targets, dtype=jnp.int32)


@jax.custom_jvp
def spike_jumps(fire: Bool[Array, " n"], coupling: Float[Array, "n n"]) -> Float[Array, " n"]:
    """The summed jumps ``sum_{k fires} coupling[k]`` of the neurons that fire: ``fire @ coupling``.

    Its JVP, ``sum_k fire_k d coupling[k]``, is written elementwise so that its transpose (the
    cotangent of the coupling, ``fire g^T``) is a broadcast product that XLA fuses into the reverse
    loop's accumulator, instead of an outer-product ``dot`` and a transpose materialised at every
    loop iteration (0.3 ms each at N = 1,000). Values are those of ``fire @ coupling``.
    """
    return fire.astype(coupling.dtype) @ coupling


@spike_jumps.defjvp
def _spike_jumps_jvp(primals, tangents):
    fire, coupling = primals
    _, d_coupling = tangents
    # Checkpointed so that reverse mode keeps ``fire`` (n booleans), not its n x n broadcast.
    return spike_jumps(fire, coupling), jax.checkpoint(_masked_row_sum)(fire, d_coupling)


def _masked_row_sum(fire: Bool[Array, " n"], rows: Float[Array, "n n"]) -> Float[Array, " n"]:
    return jnp.sum(jnp.where(fire[:, None], rows, 0.0), axis=0)


@jax.custom_jvp
def gathered_jumps(fire: Bool[Array, " n"], sources: Int[Array, "n k"], weights: Float[Array, "n k"]) -> Float[Array, " n"]:
    """``jumps[j] = sum_s fire[sources[j, s]] weights[j, s]``: a gather, ``O(n k)``.

    Linear in ``weights``; its JVP is the same gather of the weight tangent, checkpointed so that
    reverse mode keeps ``fire`` (n booleans) per loop iteration, not the ``n x k`` gathered
    selection, and the weights' cotangent ``fire[sources] g[:, None]`` is an ``n x k`` product
    fused into the loop's accumulator.
    """
    return _gather_sum(fire, sources, weights)


@gathered_jumps.defjvp
def _gathered_jumps_jvp(primals, tangents):
    fire, sources, weights = primals
    d_weights = tangents[2]
    return gathered_jumps(fire, sources, weights), jax.checkpoint(_gather_sum)(fire, sources, d_weights)


def _gather_sum(fire, sources, weights):
    return jnp.sum(jnp.where(fire[sources], weights, 0.0), axis=1)
