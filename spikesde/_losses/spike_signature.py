r"""Truncated signatures of Marcus-lifted spike trains, computed from the lift's one-axis segments.

The Marcus lift of a spike train (:func:`spikesde.marcus_lift`) is a chain of straight segments each
along one coordinate axis: time runs between spikes (axis ``e_0``) and a spike of neuron ``k`` is a
jump along ``e_k``. A segment ``a = l e_c`` has signature ``exp(a)``, with level ``m`` equal to
``l^m / m! e_c^{(x)m}``, and Chen's identity ``S(x * y) = S(x) (x) S(y)`` chains them. Writing
``P^m_{<r}`` for level ``m`` of the signature of the segments before ``r``,

    S^m = sum_r sum_{j=1}^{m} P^{m-j}_{<r} (x) l_r^j / j! e_{c_r}^{(x)j},

so every level is a sum over segments of lower-level prefix sums (exclusive cumulative sums), and the
cost is linear in the number of segments: ``O(E d^N)`` per train for ``E`` spikes in ``d = n + 1``
dimensions at depth ``N``, instead of ``O(L d^N)`` for the ``L = 2 n K + 2`` vertices of the padded
lift. The top level is a single contraction over samples and segments (a matrix product), so the
expected signature of a batch never forms per-sample top-level tensors.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int


def spike_events(
    spike_times: Float[ArrayLike, "*batch n max_spikes"],
    *,
    t0: float,
    t1: float,
    taper: float = 0.0,
    max_events: int | None = None,
) -> tuple[Float[Array, "*batch events"], Int[Array, "*batch events"], Float[Array, "*batch events"]]:
    r"""The spikes of each train merged in time order: times, neuron (axis ``1..n``) and jump height.

    Padding (``+inf``) and spikes after ``t1`` become events at ``t1`` with height zero, sorted last;
    their times are swapped out before any arithmetic, so their gradient is zero (not NaN). With
    ``max_events`` only the first ``max_events`` events are kept (the simulator's ``max_events`` bounds
    the spikes of a solve), and a train with more spikes raises (``eqx.error_if``) rather than being
    truncated silently. ``taper`` as in :func:`spikesde.marcus_lift`.
    """
    spike_times = jnp.asarray(spike_times)
    if spike_times.ndim < 2:
        raise ValueError(f"spike_times must have shape (*batch, n_neurons, max_spikes), got {spike_times.shape}")
    *batch, n, k = spike_times.shape
    (times, axes, heights), order = _sorted_events(spike_times, t1=t1, taper=taper)
    if max_events is not None and max_events < n * k:
        if max_events < 1:
            raise ValueError(f"max_events must be positive, got {max_events}")
        count = jnp.max(jnp.sum(heights > 0, axis=-1))
        times = eqx.error_if(
            times, count > max_events, f"a spike train has more spikes than max_events={max_events}; raise max_events"
        )
        times, axes, heights = times[..., :max_events], axes[..., :max_events], heights[..., :max_events]
    return times, axes, heights


def _sorted_events(spike_times, *, t1, taper):
    """Buffer entries merged in time order (real spikes first), and the sorting permutation."""
    *batch, n, k = spike_times.shape
    dtype = spike_times.dtype if jnp.issubdtype(spike_times.dtype, jnp.floating) else jnp.result_type(float)
    spike_times = spike_times.astype(dtype)
    present = jnp.isfinite(spike_times) & (spike_times <= t1)
    # Swap the padding out before any arithmetic: zero (not NaN) gradients for it.
    times = jnp.where(present, spike_times, jnp.asarray(t1, dtype))
    heights = present.astype(dtype)
    if taper > 0:
        heights = heights * jnp.clip((t1 - times) / taper, 0.0, 1.0)
    axes = jnp.broadcast_to(jnp.arange(1, n + 1)[:, None], (n, k))
    times, heights = times.reshape(*batch, n * k), heights.reshape(*batch, n * k)
    axes = jnp.broadcast_to(axes.reshape(n * k), times.shape)
    # Real spikes first in time order (a spike exactly at t1 still precedes the padding).
    sort_key = jax.lax.stop_gradient(jnp.where(present.reshape(*batch, n * k), times, jnp.inf))
    order = jnp.argsort(sort_key, axis=-1, stable=True)
    return tuple(jnp.take_along_axis(a, order, axis=-1) for a in (times, axes, heights)), order


def _segments(times, axes, heights, *, t0, t1, time_scale, count_scale):
    """Interleave time segments (axis 0) and jumps: ``2 E + 1`` segments ``(axis, length)``."""
    dtype = times.dtype
    edges = jnp.concatenate([jnp.full((*times.shape[:-1], 1), t0, dtype), times], axis=-1)
    runs = jnp.diff(edges, axis=-1) * time_scale
    last = (t1 - edges[..., -1:]) * time_scale
    lengths = jnp.stack([runs, heights * count_scale], axis=-1).reshape(*times.shape[:-1], -1)
    lengths = jnp.concatenate([lengths, last], axis=-1)
    seg_axes = jnp.stack([jnp.zeros_like(axes), axes], axis=-1).reshape(*axes.shape[:-1], -1)
    seg_axes = jnp.concatenate([seg_axes, jnp.zeros_like(axes[..., :1])], axis=-1)
    return seg_axes, lengths


def _diagonal(d: int, j: int, dtype) -> np.ndarray:
    """The ``(d, d^j)`` matrix sending ``e_c`` to ``e_c^{(x)j}`` (flattened)."""
    out = np.zeros((d, d**j))
    for c in range(d):
        out[c, sum(c * d**p for p in range(j))] = 1.0
    return jnp.asarray(out, dtype)


def axis_segment_signature(
    axes: Int[Array, "*batch segments"],
    lengths: Float[Array, "*batch segments"],
    *,
    dim: int,
    depth: int,
    mean: bool = False,
) -> Float[Array, "*batch features"]:
    r"""The truncated signature of chains of one-axis segments ``l_r e_{c_r}``, flattened like signax.

    Arguments:
        axes: each segment's axis ``c_r`` in ``0..dim-1``.
        lengths: each segment's signed length ``l_r``.
        dim: the path dimension ``d``.
        depth: truncation depth ``N >= 1``; the result holds levels ``1..N``, ``d + ... + d^N`` terms.
        mean: return the mean over all leading axes (the expected signature) instead.

    Levels below ``N`` are formed per segment as exclusive prefix sums (``O(M d^{N-1})`` per chain
    of ``M`` segments); level ``N`` is one contraction of those prefixes with the segments.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    batch = lengths.shape[:-1]
    m = lengths.shape[-1]
    lengths = lengths.reshape(-1, m)
    dtype = lengths.dtype
    onehot = jax.nn.one_hot(axes.reshape(-1, m), dim, dtype=dtype)
    # powers[j] = l^j / j! e_c^{(x)j}, dense, for the levels below the top (j = 1 .. depth - 1).
    powers = [None] + [
        (lengths**j / math.factorial(j))[..., None] * (onehot @ _diagonal(dim, j, dtype)) for j in range(1, depth)
    ]
    ones = jnp.ones((*lengths.shape, 1), dtype)
    prefixes = [ones]  # exclusive prefixes P^m_{<r}, shape (B, M, d^m)
    totals = []
    for level in range(1, depth):
        increment = sum(
            (prefixes[level - j][..., :, None] * powers[j][..., None, :]).reshape(*lengths.shape, -1)
            for j in range(1, level + 1)
        )
        inclusive = _cumsum(increment)
        prefixes.append(inclusive - increment)
        totals.append(inclusive[:, -1])
    # Top level: sum_r sum_j P^{N-j}_{<r} (x) l^j/j! e_c^{(x)j} as contractions over segments.
    pattern = "bri,brc->ic" if mean else "bri,brc->bic"
    top = 0
    for j in range(1, depth + 1):
        weight = (lengths**j / math.factorial(j))[..., None] * onehot
        contracted = jnp.einsum(pattern, prefixes[depth - j], weight)
        if j > 1:
            contracted = contracted @ _diagonal(dim, j, dtype)
        top = top + contracted.reshape(*contracted.shape[:-2], -1)
    if mean:
        levels = [jnp.mean(t, axis=0) for t in totals] + [top / lengths.shape[0]]
        return jnp.concatenate(levels)
    levels = totals + [top]
    return jnp.concatenate(levels, axis=-1).reshape(*batch, -1)


def spike_train_signature(
    spike_times: Float[ArrayLike, "*batch n max_spikes"],
    *,
    t0: float,
    t1: float,
    depth: int = 3,
    time_scale: float = 1.0,
    count_scale: float = 1.0,
    taper: float = 0.0,
    max_events: int | None = None,
    mean: bool = False,
) -> Float[Array, "*batch features"]:
    r"""The depth-``N`` signature of the Marcus lift of spike trains, from its one-axis segments.

    Equals ``signax.signature(marcus_lift(spike_times, ...), depth)`` (levels ``1..N`` flattened,
    ``d + ... + d^N`` terms, ``d = n + 1``, time first) at a cost linear in the number of stored
    spikes. Arguments as in :func:`spikesde.marcus_lift` and :func:`spike_events`; ``mean=True``
    returns the expected signature over all batch axes. Differentiable in ``spike_times``; padded
    entries get zero gradients.
    """
    spike_times = jnp.asarray(spike_times)
    if spike_times.ndim < 2:
        raise ValueError(f"spike_times must have shape (*batch, n_neurons, max_spikes), got {spike_times.shape}")
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    if depth <= 3:
        return _spike_levels(
            spike_times, t0=t0, t1=t1, depth=depth, time_scale=time_scale, count_scale=count_scale, taper=taper,
            mean=mean, max_events=max_events,
        )
    times, axes, heights = spike_events(spike_times, t0=t0, t1=t1, taper=taper, max_events=max_events)
    seg_axes, lengths = _segments(times, axes, heights, t0=t0, t1=t1, time_scale=time_scale, count_scale=count_scale)
    return axis_segment_signature(seg_axes, lengths, dim=spike_times.shape[-2] + 1, depth=depth, mean=mean)



def _take(x, index):
    """``x[b, index[b, i], ...]``: gather along the event axis."""
    return jnp.take_along_axis(x, index if x.ndim == index.ndim else index[..., None], axis=1)


def _cumsum(x):
    # XLA:CPU lowers jnp.cumsum to a quadratic reduce_window; the associative scan is linear.
    return jax.lax.associative_scan(jnp.add, x, axis=1)


def _spike_levels(spike_times, *, t0, t1, depth, time_scale, count_scale, taper, mean, max_events):
    r"""Levels ``1..depth`` (``depth <= 3``) with each segment ``q`` as the middle letter of Chen's identity:

        S^2_{ij} = sum_q P_{q,i} a_{q,j} + (a_q^2 / 2)_{ij},
        S^3_{ijk} = sum_q P_{q,i} a_{q,j} R_{q,k} + (a_q^2/2)_{ij} R_{q,k} + P_{q,i} (a_q^2/2)_{jk} + (a_q^3/6)_{ijk},

    ``P_q`` and ``R_q`` the level-1 signature before and after segment ``q`` (``d`` numbers each). Time
    segments fill the slice ``j = 0`` with one matrix product; the jumps of neuron ``c`` fill ``j = c``
    with one matrix product per neuron over its own buffer entries (no one-hot over neurons).
    """
    *batch, n, k = spike_times.shape
    spike_times = spike_times.reshape(-1, n, k)
    (times, axes, heights), order = _sorted_events(spike_times, t1=t1, taper=taper)
    b = times.shape[0]
    dtype = times.dtype
    d = n + 1
    # Buffer entry -> position in time order (a scatter, cheaper than a second sort).
    inverse = jnp.zeros_like(order).at[jnp.arange(b)[:, None], order].set(jnp.arange(n * k)[None, :])
    h = _take(heights * count_scale, inverse).reshape(b, n, k)
    if max_events is not None and max_events < n * k:
        times = eqx.error_if(
            times, jnp.any(heights[:, max_events:] > 0),
            f"a spike train has more spikes than max_events={max_events}; raise max_events",
        )
        times, axes, heights = times[:, :max_events], axes[:, :max_events], heights[:, :max_events]
        inverse = jnp.minimum(inverse, max_events - 1)  # entries beyond are padding: h = 0 there
    clock = (times - t0) * time_scale  # time coordinate at each spike, in time order
    jumps = (heights * count_scale)[..., None] * jax.nn.one_hot(axes - 1, n, dtype=dtype)
    counts_after = _cumsum(jumps)
    total = jnp.concatenate([jnp.full((b, 1), (t1 - t0) * time_scale, dtype), counts_after[:, -1]], axis=-1)
    before = jnp.concatenate([clock[..., None], counts_after - jumps], axis=-1)
    after = jnp.concatenate([clock[..., None], counts_after], axis=-1)
    # Jumps in buffer order (b, n, k): prefix P before and suffix R after each.
    p_jump = _take(before, inverse).reshape(b, n, k, d)
    r_jump = (total[:, None] - _take(after, inverse)).reshape(b, n, k, d)
    # Time segments q = 0..events: they start at the state after jump q (the origin for q = 0).
    p_time = jnp.concatenate([jnp.zeros((b, 1, d), dtype), after], axis=1)
    dt = jnp.concatenate([clock, total[:, :1]], axis=-1) - p_time[..., 0]
    r_time = (total[:, None] - p_time).at[..., 0].add(-dt)
    segments = _Segments(p_time, r_time, dt, p_jump, r_jump, h, mean)
    levels = [total]
    if depth >= 2:
        levels.append(segments.level2())
    if depth >= 3:
        levels.append(segments.level3())
    if mean:
        return jnp.concatenate([jnp.mean(levels[0], axis=0)] + [x.reshape(-1) / b for x in levels[1:]])
    return jnp.concatenate([x.reshape(b, -1) for x in levels], axis=-1).reshape(*batch, -1)


class _Segments(eqx.Module):
    """The time segments and jumps of a batch of lifted spike trains, with their prefixes and suffixes.

    Sums run over the segments, and also over the batch when ``mean`` (the caller divides).
    """

    p_time: Array  # (b, q, d) level-1 signature before each time segment
    r_time: Array  # (b, q, d) ... and after it
    dt: Array  # (b, q) its length
    p_jump: Array  # (b, n, k, d) before each buffer entry's jump
    r_jump: Array  # (b, n, k, d)
    h: Array  # (b, n, k) its height (zero for padding)
    mean: bool = eqx.field(static=True)

    def _sum(self, pattern, *operands):
        lhs, out = pattern.split("->")
        return jnp.einsum(f"{lhs}->{out if not self.mean else out.lstrip('b')}", *operands)

    def _middle(self):
        """sum_q P_q (x) a_q (x) R_q as ``(..., i, j, k)``: plain matrix products, grouped by neuron."""
        p, r, d = self.p_time * self.dt[..., None], self.r_time, self.p_time.shape[-1]
        pj, rj = self.p_jump * self.h[..., None], self.r_jump
        if self.mean:
            time = p.reshape(-1, d).T @ r.reshape(-1, d)
            n = pj.shape[1]
            pj, rj = (x.transpose(1, 0, 2, 3).reshape(n, -1, d) for x in (pj, rj))
            jump = jnp.einsum("cxi,cxl->icl", pj, rj)
        else:
            time = jnp.einsum("bqi,bqk->bik", p, r)
            jump = jnp.einsum("bcxi,bcxl->bicl", pj, rj)
        return jnp.concatenate([time[..., :, None, :], jump], axis=-2)

    def _power_sums(self, power):
        """sum_q l_q^power per axis: ``(..., d)``."""
        return jnp.concatenate(
            [self._sum("bq->b", self.dt**power)[..., None], self._sum("bck->bc", self.h**power)], axis=-1
        )

    def level2(self):
        columns = jnp.concatenate(
            [self._sum("bqi,bq->bi", self.p_time, self.dt)[..., None], self._sum("bcki,bck->bic", self.p_jump, self.h)],
            axis=-1,
        )
        d = columns.shape[-1]
        return columns + self._power_sums(2)[..., None] / 2 * jnp.eye(d, dtype=columns.dtype)

    def level3(self):
        half_dt2, half_h2 = self.dt**2 / 2, self.h**2 / 2
        # Two letters on the middle segment: (a^2/2) (x) R  -> s3[c, c, k]  and  P (x) (a^2/2) -> s3[i, c, c].
        left = jnp.concatenate(
            [self._sum("bq,bqk->bk", half_dt2, self.r_time)[..., None, :], self._sum("bck,bckl->bcl", half_h2, self.r_jump)],
            axis=-2,
        )
        right = jnp.concatenate(
            [self._sum("bqi,bq->bi", self.p_time, half_dt2)[..., None], self._sum("bcki,bck->bic", self.p_jump, half_h2)],
            axis=-1,
        )
        diag = jnp.arange(left.shape[-1])
        s3 = self._middle()
        s3 = s3.at[..., diag, diag, :].add(left)
        s3 = s3.at[..., :, diag, diag].add(right)
        return s3.at[..., diag, diag, diag].add(self._power_sums(3) / 6)
