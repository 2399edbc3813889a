r"""Truncated signatures of Marcus-lifted spike trains, computed from the lift's segments.

The Marcus lift of a spike train (:func:`spikesde.marcus_lift`) is a chain of straight segments:
time runs between spikes (along axis ``e_0``), and at each spike time the counts jump along one
segment ``a = sum_c h_c e_c`` (``h_c`` the spikes of neuron ``c`` at that time; a single spike is a
jump along one axis). A segment ``a`` has signature ``exp(a)``, with level ``m`` equal to
``a^{(x)m} / m!``, and Chen's identity ``S(x * y) = S(x) (x) S(y)`` chains them. Writing ``P_q`` and
``R_q`` for the signatures before and after segment ``q``, level ``m`` is a sum over segments of
terms with one letter from ``q``, so every level costs one pass over the segments: ``O(E d^N)`` per
train for ``E`` spikes in ``d = n + 1`` dimensions at depth ``N``. The top level is a single
contraction over samples and segments (a matrix product), so the expected signature of a batch never
forms per-sample top-level tensors.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int

from .paths import counts_at_jumps


def spike_events(
    spike_times: Float[ArrayLike, "*batch n max_spikes"],
    *,
    t0: float,
    t1: float,
    taper: float = 0.0,
    max_events: int | None = None,
) -> tuple[Float[Array, "*batch events"], Int[Array, "*batch events"], Float[Array, "*batch events"]]:
    r"""The spikes of each train merged in time order: times, neuron (axis ``1..n``) and jump height.

    Padding (``+inf``) and spikes outside ``[t0, t1]`` become events at ``t1`` with height zero, sorted last;
    their times are swapped out before any arithmetic, so their gradient is zero (not NaN). With
    ``max_events`` only the first ``max_events`` events are kept (the simulator's ``max_events`` bounds
    the spikes of a solve), and a train with more spikes raises (``eqx.error_if``) rather than being
    truncated silently. ``taper`` as in :func:`spikesde.marcus_lift`.

    Example:
        ```python
        times, neurons, weights = sd.signatures.spike_events(jnp.array([[0.2, 0.7], [0.5, jnp.inf]]), t0=0.0, t1=1.0)
        ```
    """
    spike_times = jnp.asarray(spike_times)
    if spike_times.ndim < 2:
        raise ValueError(f"spike_times must have shape (*batch, n_neurons, max_spikes), got {spike_times.shape}")
    *batch, n, k = spike_times.shape
    (times, axes, heights), order = _sorted_events(spike_times, t0=t0, t1=t1, taper=taper)
    if max_events is not None and max_events < n * k:
        if max_events < 1:
            raise ValueError(f"max_events must be positive, got {max_events}")
        count = jnp.max(jnp.sum(heights > 0, axis=-1))
        times = eqx.error_if(
            times, count > max_events, f"a spike train has more spikes than max_events={max_events}; raise max_events"
        )
        times, axes, heights = times[..., :max_events], axes[..., :max_events], heights[..., :max_events]
    return times, axes, heights


def _sorted_events(spike_times, *, t0, t1, taper):
    """Buffer entries merged in time order (real spikes first), and the sorting permutation."""
    *batch, n, k = spike_times.shape
    dtype = spike_times.dtype if jnp.issubdtype(spike_times.dtype, jnp.floating) else jnp.result_type(float)
    spike_times = spike_times.astype(dtype)
    present = jnp.isfinite(spike_times) & (spike_times >= t0) & (spike_times <= t1)
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


def _increments(times, axes, heights, *, n, t0, t1, time_scale, count_scale):
    """The lift's ``2 E + 1`` segments as increments ``(..., 2 E + 1, n + 1)``: the time run before
    each event and its jump (the whole jump of its time on the first event there, zero on the
    others), then the run to ``t1``."""
    dtype = times.dtype
    _, after = counts_at_jumps(times, heights[..., None] * jax.nn.one_hot(axes - 1, n, dtype=dtype))
    previous = jnp.concatenate([jnp.zeros_like(after[..., :1, :]), after[..., :-1, :]], axis=-2)
    edges = jnp.concatenate([jnp.full((*times.shape[:-1], 1), t0, dtype), times], axis=-1)
    runs = jnp.diff(edges, axis=-1)[..., None] * jnp.eye(n + 1, dtype=dtype)[0] * time_scale
    jumps = jnp.pad(after - previous, [(0, 0)] * (after.ndim - 1) + [(1, 0)]) * count_scale
    steps = jnp.stack([runs, jumps], axis=-2).reshape(*times.shape[:-1], -1, n + 1)
    last = (t1 - edges[..., -1:, None]) * jnp.eye(n + 1, dtype=dtype)[0] * time_scale
    return jnp.concatenate([steps, last], axis=-2)


@functools.partial(jax.jit, static_argnames=("depth", "mean"))
def segment_signature(
    increments: Float[Array, "*batch segments dim"], *, depth: int, mean: bool = False
) -> Float[Array, "*batch features"]:
    r"""The truncated signature of chains of straight segments ``a_r``, flattened like signax.

    Arguments:
        increments: each segment's increment ``a_r`` (a path's consecutive differences).
        depth: truncation depth ``N >= 1``; the result holds levels ``1..N``, ``d + ... + d^N`` terms.
        mean: return the mean over all leading axes (the expected signature) instead.

    Levels below ``N`` are formed per segment as exclusive prefix sums
    ``P^m_{<r} = sum_{q<r} sum_{j=1}^{m} P^{m-j}_{<q} (x) a_q^{(x)j} / j!`` (``O(M d^{N-1})`` per
    chain of ``M`` segments); level ``N`` is one contraction of those prefixes with the segments.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    *batch, m, d = increments.shape
    a = increments.reshape(-1, m, d)
    b = a.shape[0]
    powers = [None, a]  # a^{(x)j} / j!, flattened: (B, M, d^j)
    for j in range(2, depth + 1):
        powers.append((powers[-1][..., :, None] * a[..., None, :]).reshape(b, m, -1) / j)
    prefixes = [jnp.ones((b, m, 1), a.dtype)]  # exclusive prefixes P^m_{<r}, shape (B, M, d^m)
    totals = []
    for level in range(1, depth):
        increment = sum(
            (prefixes[level - j][..., :, None] * powers[j][..., None, :]).reshape(b, m, -1) for j in range(1, level + 1)
        )
        inclusive = _cumsum(increment)
        prefixes.append(inclusive - increment)
        totals.append(inclusive[:, -1])
    pattern = "bri,brc->ic" if mean else "bri,brc->bic"
    top = sum(jnp.einsum(pattern, prefixes[depth - j], powers[j]).reshape(*([] if mean else [b]), -1)
              for j in range(1, depth + 1))  # fmt: skip
    if mean:
        return jnp.concatenate([jnp.mean(t, axis=0) for t in totals] + [top / b])
    return jnp.concatenate(totals + [top], axis=-1).reshape(*batch, -1)


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
    entries get zero gradients. Simultaneous spikes jump together (one segment), so permuting the
    neurons permutes the signature's letters and nothing else.

    Example: two neurons firing together give symmetric cross terms ``S^(1,2) = S^(2,1) = 1/2``::

        s = spike_train_signature(jnp.array([[[0.5], [0.5]]]), t0=0.0, t1=1.0, depth=2)
        s[0, 3 + 1 * 3 + 2], s[0, 3 + 2 * 3 + 1]  # 0.5, 0.5 (level 2 starts after the d = 3 level-1 terms)

    Example:
        ```python
        times = jnp.array([[[0.2, 0.7], [0.5, jnp.inf]]])
        sig = sd.signatures.spike_train_signature(times, t0=0.0, t1=1.0, depth=2)   # levels 1 and 2: 3 + 9 terms
        ```
    """
    spike_times = jnp.asarray(spike_times)
    if spike_times.ndim < 2:
        raise ValueError(f"spike_times must have shape (*batch, n_neurons, max_spikes), got {spike_times.shape}")
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    if depth <= 3:
        return _spike_levels(
            spike_times,
            t0=t0,
            t1=t1,
            depth=depth,
            time_scale=time_scale,
            count_scale=count_scale,
            taper=taper,
            mean=mean,
            max_events=max_events,
        )
    times, axes, heights = spike_events(spike_times, t0=t0, t1=t1, taper=taper, max_events=max_events)
    increments = _increments(
        times, axes, heights, n=spike_times.shape[-2], t0=t0, t1=t1, time_scale=time_scale, count_scale=count_scale
    )
    return segment_signature(increments, depth=depth, mean=mean)


def _take(x, index):
    """``x[b, index[b, i], ...]``: gather along the event axis."""
    return jnp.take_along_axis(x, index if x.ndim == index.ndim else index[..., None], axis=1)


def _cumsum(x):
    # XLA:CPU lowers jnp.cumsum to a quadratic reduce_window; the associative scan is linear.
    return jax.lax.associative_scan(jnp.add, x, axis=1)


def _spike_levels(spike_times, *, t0, t1, depth, time_scale, count_scale, taper, mean, max_events):
    r"""Levels ``1..depth`` (``depth <= 3``) with each segment ``q`` (increment ``a_q``, level-1
    signatures ``P_q`` before and ``R_q`` after it) as the middle letter of Chen's identity:

        S^2_{ij} = sum_q (P_q + a_q / 2)_i a_{q,j},
        S^3_{ijk} = sum_q a_{q,j} [(P_q + a_q / 2)_i (R_q + a_q / 2)_k - a_{q,i} a_{q,k} / 12]

    (the terms ``P a R + (a^2/2) R + P (a^2/2) + a^3/6`` regrouped around the segment's midpoint).
    ``a_{q,j}`` is linear in the spikes at the segment's time, so the jump of neuron ``c`` (slice
    ``j = c``) is a sum over its own buffer entries, each with the midpoint of the whole jump at its
    time: one matrix product per neuron (no one-hot over neurons). Time segments fill ``j = 0``.
    """
    *batch, n, k = spike_times.shape
    spike_times = spike_times.reshape(-1, n, k)
    (times, axes, heights), order = _sorted_events(spike_times, t0=t0, t1=t1, taper=taper)
    b = times.shape[0]
    dtype = times.dtype
    d = n + 1
    # Buffer entry -> position in time order (a scatter, cheaper than a second sort).
    inverse = jnp.zeros_like(order).at[jnp.arange(b)[:, None], order].set(jnp.arange(n * k)[None, :])
    h = _take(heights * count_scale, inverse).reshape(b, n, k)
    if max_events is not None and max_events < n * k:
        times = eqx.error_if(
            times,
            jnp.any(heights[:, max_events:] > 0),
            f"a spike train has more spikes than max_events={max_events}; raise max_events",
        )
        times, axes, heights = times[:, :max_events], axes[:, :max_events], heights[:, :max_events]
        inverse = jnp.minimum(inverse, max_events - 1)  # entries beyond are padding: h = 0 there
    clock = (times - t0) * time_scale  # time coordinate at each spike, in time order
    jumps = (heights * count_scale)[..., None] * jax.nn.one_hot(axes - 1, n, dtype=dtype)
    before, after = counts_at_jumps(times, jumps)
    total = jnp.concatenate([jnp.full((b, 1), (t1 - t0) * time_scale, dtype), after[:, -1]], axis=-1)
    # Each spike's jump segment (all spikes at its time): its midpoint and its increment.
    middle = jnp.concatenate([clock[..., None], (before + after) / 2], axis=-1)
    span = jnp.concatenate([jnp.zeros_like(clock[..., None]), after - before], axis=-1)
    mid_jump = _take(middle, inverse).reshape(b, n, k, d)
    span_jump = _take(span, inverse).reshape(b, n, k, d)
    # Time segments q = 0..events: they start at the state after jump q (the origin for q = 0).
    start = jnp.concatenate([jnp.zeros((b, 1, d), dtype), jnp.concatenate([clock[..., None], after], axis=-1)], axis=1)
    dt = jnp.concatenate([clock, total[:, :1]], axis=-1) - start[..., 0]
    mid_time = start.at[..., 0].add(dt / 2)
    segments = _Segments(mid_time, total[:, None] - mid_time, dt, mid_jump, total[:, None, None] - mid_jump,
                         span_jump, h, mean)  # fmt: skip
    levels = [total]
    if depth >= 2:
        levels.append(segments.level2())
    if depth >= 3:
        levels.append(segments.level3())
    if mean:
        return jnp.concatenate([jnp.mean(levels[0], axis=0)] + [x.reshape(-1) / b for x in levels[1:]])
    return jnp.concatenate([x.reshape(b, -1) for x in levels], axis=-1).reshape(*batch, -1)


class _Segments(eqx.Module):
    """The time segments and jumps of a batch of lifted spike trains, seen from their midpoints.

    Sums run over the segments, and also over the batch when ``mean`` (the caller divides).
    """

    mid_time: Array  # (b, q, d) level-1 signature from the start to each time segment's midpoint
    rest_time: Array  # (b, q, d) ... and from the midpoint to the end
    dt: Array  # (b, q) its length
    mid_jump: Array  # (b, n, k, d) the same for the jump segment of each buffer entry's time
    rest_jump: Array  # (b, n, k, d)
    span_jump: Array  # (b, n, k, d) that jump segment's increment (every spike at that time)
    h: Array  # (b, n, k) the entry's own jump height (zero for padding)
    mean: bool = eqx.field(static=True)

    def _sum(self, pattern, *operands):
        lhs, out = pattern.split("->")
        return jnp.einsum(f"{lhs}->{out if not self.mean else out.lstrip('b')}", *operands)

    def level2(self):
        return jnp.concatenate(
            [self._sum("bqi,bq->bi", self.mid_time, self.dt)[..., None], self._sum("bcki,bck->bic", self.mid_jump, self.h)],
            axis=-1,
        )

    def level3(self):
        time = self._sum("bqi,bq,bqk->bik", self.mid_time, self.dt, self.rest_time)
        hm = self.mid_jump * self.h[..., None]
        jump = self._sum("bcxi,bcxl->bicl", hm, self.rest_jump)
        jump = jump - self._sum("bcxi,bcxl->bicl", self.span_jump * self.h[..., None], self.span_jump) / 12
        s3 = jnp.concatenate([time[..., :, None, :], jump], axis=-2)
        return s3.at[..., 0, 0, 0].add(-self._sum("bq->b", self.dt**3) / 12)
