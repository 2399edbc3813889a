r"""Data parallelism for training: model samples and data trials sharded over a device mesh.

A training step's loss ``D(S, Y)`` is a function of a batch ``S = (s_1 .. s_M)`` of independent model
samples and the data trials ``Y``; the samples are independent given their keys, so the ``M`` solves
split over the devices of a :class:`jax.sharding.Mesh` with no change to the model. The parameters,
optimiser state and key are replicated; the keys of the samples and the data trials are sharded
along their first axis over every axis of the mesh, and XLA's partitioner inserts the reductions
that the loss and its gradient need. The sample keys are those of the one-device run, so a sharded
step computes the same numbers up to the order of the sums.

With several processes (:func:`jax.distributed.initialize`), the mesh spans the devices of all of
them; every process holds the whole data set and the same arguments, and arrays become global
arrays with :func:`jax.make_array_from_callback` (each process supplies its devices' slices).
"""

import contextlib
import contextvars

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

_BATCH_MESH: contextvars.ContextVar[Mesh | None] = contextvars.ContextVar("spikesde_batch_mesh", default=None)


def default_mesh() -> Mesh | None:
    """A one-axis mesh ``("samples",)`` over all devices (every process's after
    :func:`jax.distributed.initialize`) when there are several; ``None`` with one device."""
    devices = jax.devices()
    return Mesh(np.array(devices), ("samples",)) if len(devices) > 1 else None


def check_mesh(mesh) -> Mesh | None:
    """``mesh`` if it is a :class:`jax.sharding.Mesh` (``None`` for a mesh of one device), else a TypeError."""
    if not isinstance(mesh, Mesh):
        raise TypeError(f"mesh must be a jax.sharding.Mesh, got {type(mesh).__name__}")
    return mesh if mesh.size > 1 else None


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """The first axis split over every axis of ``mesh``, the rest whole."""
    return NamedSharding(mesh, PartitionSpec(mesh.axis_names))


@contextlib.contextmanager
def sharded_batches(mesh: Mesh | None):
    """While tracing inside this block, :func:`map_batch` splits batches over ``mesh``."""
    token = _BATCH_MESH.set(mesh)
    try:
        yield
    finally:
        _BATCH_MESH.reset(token)


def map_batch(fn, keys):
    """``jax.vmap(fn)(keys)``, split over the mesh of the enclosing :func:`sharded_batches` (one
    device outside one). A batch that does not split evenly is padded with repeats of its first
    keys, whose results are dropped: XLA's partitioner failed on uneven reverse-mode loops."""
    mesh = _BATCH_MESH.get()
    if mesh is None:
        return jax.vmap(fn)(keys)
    size = keys.shape[0]
    padded = -(-size // mesh.size) * mesh.size
    if padded != size:
        keys = keys[jnp.arange(padded) % size]
    out = jax.vmap(fn)(jax.lax.with_sharding_constraint(keys, batch_sharding(mesh)))
    return jax.tree_util.tree_map(lambda x: x[:size], out)


def _global(array, sharding: NamedSharding):
    host = np.asarray(array)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def replicate(tree, mesh: Mesh | None):
    """Every array of ``tree`` (PRNG keys included) as a global array replicated on ``mesh``; every
    process must pass equal values. Unchanged when ``mesh`` is ``None``."""
    if mesh is None:
        return tree
    sharding = NamedSharding(mesh, PartitionSpec())

    def place(leaf):
        if not eqx.is_array(leaf):
            return leaf
        if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            impl = jax.random.key_impl(leaf)
            return jax.random.wrap_key_data(_global(jax.random.key_data(leaf), sharding), impl=impl)
        return _global(leaf, sharding)

    return jax.tree_util.tree_map(place, tree)


def shard_trials(array, mesh: Mesh | None):
    """``array`` (trials first) as a global array sharded by trials over ``mesh``; replicated when
    the trials do not split evenly (a jit input cannot be padded); unchanged when ``mesh`` is ``None``."""
    if array is None or mesh is None:
        return array
    if np.shape(array)[0] % mesh.size:
        return replicate(array, mesh)
    return _global(array, batch_sharding(mesh))


def is_writer() -> bool:
    """Whether this process writes files (process 0 of a multi-process run, or the only one)."""
    return jax.process_index() == 0


def from_writer(tree):
    """``tree`` of process 0 on every process (a no-op with one process). Every process must call
    it with a tree of the same structure and shapes."""
    if jax.process_count() == 1:
        return tree
    return multihost_utils.broadcast_one_to_all(tree)
