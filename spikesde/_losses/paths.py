r"""Spike trains as paths: the Marcus lift of the time-augmented counting process.

A spike train of ``n`` neurons on ``[t0, t1]`` is the counting process
``N(t) = (N_1(t), ..., N_n(t))`` of the spikes in ``[t0, t]`` (spikes before ``t0`` or after ``t1``
are not part of it). Its time augmentation ``X(t) = (t, N_1(t), ..., N_n(t))`` jumps, and the Marcus
lift fills every jump with one straight segment traversed at a fixed time. For a counting process
this gives the piecewise-linear path through the vertices

    (t0, 0), (tau_1, N(tau_1-)), (tau_1, N(tau_1)), ..., (tau_m, N(tau_m-)), (tau_m, N(tau_m)), (t1, N(t1)),

with ``tau_1 < ... < tau_m`` the distinct spike times of all neurons. Spikes of several neurons at
one time make one diagonal segment ``N(tau-) -> N(tau)``, not a staircase in neuron order, so the
signature of the lift does not depend on how the neurons are numbered. Its signature is then an
ordinary (Riemann-Stieltjes) iterated integral; e.g. for one neuron ``int int dt dN = sum_j (tau_j - t0)``
and ``int int dN dt = sum_j (t1 - tau_j)``. The vertices depend on the data only through the spike
times, so gradients reach a path loss through ``tau_j``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


def finite_spike_times(
    spike_times: Float[ArrayLike, "*batch"], fill_value: float | Float[ArrayLike, ""]
) -> Float[Array, "*batch"]:
    r"""Replace the ``+inf`` padding of a spike buffer by ``fill_value`` (typically ``t1``).

    The gradient with respect to a padded entry is exactly zero (not ``0 * inf = NaN``): the
    padding is swapped out before any arithmetic touches it (the first half of the "double where"
    trick; every later use of the result is finite, so no second ``where`` is needed).

    Example:
        ```python
        sd.losses.finite_spike_times(jnp.array([0.2, jnp.inf]), 1.0)   # [0.2, 1.0], zero gradient at the padding
        ```
    """
    spike_times = jnp.asarray(spike_times)
    present = jnp.isfinite(spike_times)
    return jnp.where(present, spike_times, jnp.asarray(fill_value, spike_times.dtype))


def first_spike_times(
    spike_times: Float[ArrayLike, "*batch n max_spikes"], num_spikes: int, t1: float
) -> Float[Array, "*batch n num_spikes"]:
    """The first ``num_spikes`` spike times of each neuron; a spike that did not happen counts as ``t1``.

    The simulator stores spikes in time order per neuron, so these are the first buffer entries.

    Example:
        ```python
        sd.losses.first_spike_times(jnp.array([[0.2, jnp.inf]]), num_spikes=2, t1=1.0)   # [[0.2, 1.0]]
        ```
    """
    spike_times = jnp.asarray(spike_times)
    if not 1 <= num_spikes <= spike_times.shape[-1]:
        raise ValueError(f"num_spikes must be between 1 and the buffer length {spike_times.shape[-1]}, got {num_spikes}")
    return finite_spike_times(spike_times[..., :num_spikes], t1)


def marcus_lift(
    spike_times: Float[ArrayLike, "*batch n max_spikes"],
    *,
    t0: float,
    t1: float,
    time_scale: float = 1.0,
    count_scale: float = 1.0,
    taper: float = 0.0,
    max_events: int | None = None,
) -> Float[Array, "*batch 2*events+2 n+1"]:
    r"""The Marcus lift of spike trains, as piecewise-linear paths with a fixed number of vertices.

    Arguments:
        spike_times: spike buffers as returned by :func:`spikesde.simulate` (``Solution.spike_times``,
            padded with ``+inf``), with any number of leading batch axes (samples, noise levels, ...).
        t0, t1: the observation window; spikes before ``t0`` or after ``t1`` are ignored.
        time_scale, count_scale: the path is ``(time_scale * (t - t0), count_scale * N(t))``.
            Signature-kernel values grow like ``exp(|x|_1 |y|_1)`` in the 1-variation of the paths,
            and level-``m`` signature terms like ``|x|_1^m``, so scaling both axes to order one keeps
            losses well conditioned (e.g. ``1 / (t1 - t0)`` and ``1 / max_spikes``).
        taper: if positive, a spike at ``tau`` jumps by ``min(1, (t1 - tau) / taper)`` instead of 1, so a
            spike entering the window at ``t1`` starts with a zero jump. Without it the path (and every
            loss of it) jumps when a spike crosses ``t1`` as the parameters change, and pathwise
            gradients, which see spike times move but never spikes appear, miss that part of the
            derivative of an expected loss. Spikes cannot appear anywhere else (the clocks make spike
            times continuous in the parameters), so with a taper the lifted path is continuous in the
            parameters and the pathwise gradient of a smooth loss of it is unbiased.
        max_events: keep only the first ``max_events`` spikes in time order (the simulator's bound on
            spikes per solve), so the path has ``2 max_events + 2`` vertices instead of
            ``2 n max_spikes + 2``; a train with more spikes raises (``eqx.error_if``).

    Returns:
        Paths of ``2 n max_spikes + 2`` (or ``2 max_events + 2``) vertices in ``1 + n`` dimensions (time first): the start
        ``(0, 0)``, two vertices per buffer entry (before and after its jump) in time order, and the
        end ``(time_scale (t1 - t0), count_scale N(t1))``. The first of ``g`` simultaneous spikes
        carries their whole jump (one straight segment); the other ``g - 1`` repeat the vertex after
        it. A padded entry contributes two copies of the end vertex. Repeated vertices are zero
        increments, which leave every signature term unchanged; so do spikes beyond the buffer
        (``on_overflow="ignore"``): the path counts stored spikes only.

    Differentiable in ``spike_times``; padded entries get a zero (never NaN) gradient.

    Example: two neurons firing together at ``0.5`` jump along the diagonal in one segment::

        marcus_lift(jnp.array([[0.5], [0.5]]), t0=0.0, t1=1.0)
        # [[0, 0, 0], [0.5, 0, 0], [0.5, 1, 1], [0.5, 1, 1], [0.5, 1, 1], [1, 1, 1]]

    Example:
        ```python
        times = jnp.array([[[0.2, 0.7], [0.5, jnp.inf]]])           # 1 train, 2 neurons, +inf padded
        path = sd.signatures.marcus_lift(times, t0=0.0, t1=1.0)     # (1, vertices, 3): time, then each neuron's count
        ```
    """
    spike_times = jnp.asarray(spike_times)
    if spike_times.ndim < 2:
        raise ValueError(f"spike_times must have shape (*batch, n_neurons, max_spikes), got {spike_times.shape}")
    *batch, n, k = spike_times.shape
    dtype = spike_times.dtype if jnp.issubdtype(spike_times.dtype, jnp.floating) else jnp.result_type(float)
    spike_times = spike_times.astype(dtype)
    present = jnp.isfinite(spike_times) & (spike_times >= t0) & (spike_times <= t1)
    # Missing spikes sit at t1 with a zero jump: they sort after every real spike and duplicate the
    # end vertex.
    times = jnp.where(present, spike_times, jnp.asarray(t1, dtype)).reshape(*batch, n * k)
    heights = present.astype(dtype)
    if taper > 0:
        safe = jnp.where(present, spike_times, jnp.asarray(t1, dtype))
        heights = heights * jnp.clip((t1 - safe) / taper, 0.0, 1.0)
    jumps = (heights[..., None] * jnp.eye(n, dtype=dtype)[:, None, :]).reshape(*batch, n * k, n)

    # Real spikes first in time order (a spike exactly at t1 still precedes the padding).
    sort_key = jnp.where(present.reshape(*batch, n * k), jax.lax.stop_gradient(times), jnp.inf)
    order = jnp.argsort(sort_key, axis=-1, stable=True)
    times = jnp.take_along_axis(times, order, axis=-1)
    jumps = jnp.take_along_axis(jumps, order[..., None], axis=-2)
    if max_events is not None and max_events < n * k:
        if max_events < 1:
            raise ValueError(f"max_events must be positive, got {max_events}")
        overflow = jnp.any(jnp.take_along_axis(present.reshape(*batch, n * k), order, axis=-1)[..., max_events:])
        times = eqx.error_if(times, overflow, f"a spike train has more spikes than max_events={max_events}")
        times, jumps, n_events = times[..., :max_events], jumps[..., :max_events, :], max_events
    else:
        n_events = n * k
    _, after = counts_at_jumps(times, jumps)
    # The first event of a jump time carries the whole jump; the others repeat the vertex after it.
    before = jnp.concatenate([jnp.zeros_like(after[..., :1, :]), after[..., :-1, :]], axis=-2)

    t = (times - t0)[..., None] * time_scale
    vertices = jnp.stack(
        [jnp.concatenate([t, before * count_scale], axis=-1), jnp.concatenate([t, after * count_scale], axis=-1)],
        axis=-2,
    ).reshape(*batch, 2 * n_events, n + 1)
    start = jnp.zeros((*batch, 1, n + 1), dtype)
    end_time = jnp.full((*batch, 1, 1), (t1 - t0) * time_scale, dtype)
    end = jnp.concatenate([end_time, after[..., -1:, :] * count_scale], axis=-1)
    return jnp.concatenate([start, vertices, end], axis=-2)


@jax.jit  # one program instead of the scans' many small operations when called eagerly
def counts_at_jumps(
    times: Float[Array, "*batch events"], jumps: Float[Array, "*batch events n"]
) -> tuple[Float[Array, "*batch events n"], Float[Array, "*batch events n"]]:
    r"""``(N(tau_r-), N(tau_r))`` at each event of a time-sorted list: the counts just before and just
    after the jump at the event's time, which holds every event at that (exactly equal) time.

    ``jumps[r]`` is event ``r``'s own jump. Events at one time form one jump of the Marcus lift; the
    grouping uses the values of ``times`` only (no gradient flows through the comparison).
    """
    after = jax.lax.associative_scan(jnp.add, jumps, axis=jumps.ndim - 2)  # linear; XLA:CPU's cumsum is quadratic
    t = jax.lax.stop_gradient(times)
    index = jnp.broadcast_to(jnp.arange(t.shape[-1]), t.shape)
    edge = t[..., 1:] != t[..., :-1]
    closes = jnp.concatenate([edge, jnp.ones_like(t[..., :1], bool)], axis=-1)
    opens = jnp.concatenate([jnp.ones_like(t[..., :1], bool), edge], axis=-1)
    last = jax.lax.associative_scan(jnp.minimum, jnp.where(closes, index, t.shape[-1]), axis=t.ndim - 1, reverse=True)
    first = jax.lax.associative_scan(jnp.maximum, jnp.where(opens, index, 0), axis=t.ndim - 1)
    before = jnp.take_along_axis(after - jumps, first[..., None], axis=-2)
    return before, jnp.take_along_axis(after, last[..., None], axis=-2)
