"""Brownian motion for the event core: increments on the step grid, one fixed path per key."""

import abc

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray


class AbstractBrownian(eqx.Module):
    """A Brownian path, read by the event core as its increments over the steps of a grid.

    Inside a step the core uses the linear interpolant of the path, so that a step split at an
    event time is the same path as the whole step and the two partial increments cancel in the
    derivative with respect to the event time.

    Example:
        ```python
        isinstance(sd.GridBrownian(jax.random.key(0)), sd.AbstractBrownian)   # True; simulate(..., brownian=...)
        ```
    """

    @abc.abstractmethod
    def increments(self, t0: float, dt: float, num_steps: int, shape: tuple[int, ...], dtype) -> Float[Array, "steps *shape"]:
        """``W(t0 + (i + 1) dt) - W(t0 + i dt)`` for ``i < num_steps``."""


class GridBrownian(AbstractBrownian):
    """Independent ``N(0, dt)`` increments on the step grid: the fastest path, but a different
    path for each ``dt`` (use :class:`FineGridBrownian` to compare step sizes on one path).

    Example:
        ```python
        brownian = sd.GridBrownian(jax.random.key(7))   # simulate(..., brownian=brownian); the default draws one from key
        brownian.increments(0.0, 0.01, 100, (2, 1), jnp.float32).shape   # (100, 2, 1): steps, (V, I), neurons
        ```
    """

    key: PRNGKeyArray

    def increments(self, t0, dt, num_steps, shape, dtype):
        return jnp.sqrt(jnp.asarray(dt, dtype)) * jax.random.normal(self.key, (num_steps, *shape), dtype)


class FineGridBrownian(AbstractBrownian):
    """One Brownian path on ``[t0, t1]``, sampled on a fine grid of spacing ``dt`` and linear in between.

    Any step size that is a multiple of the fine spacing reads the same path: this is what makes
    solutions at different step sizes, and the reference solver, comparable sample by sample.
    ``evaluate`` makes it usable as a diffrax control.

    Example:
        ```python
        path = sd.FineGridBrownian(jax.random.key(7), t0=0.0, t1=1.0, dt=1e-3, shape=(2, 1))   # (V, I) x 1 neuron
        fine, coarse = (path.increments(0.0, dt, round(1.0 / dt), (2, 1), jnp.float32) for dt in (1e-3, 1e-2))
        coarse[0], fine[:10].sum(0)   # equal: one path at both steps, simulate(..., dt=dt, brownian=path)
        ```
    """

    key: PRNGKeyArray
    t0: float = eqx.field(static=True)
    t1: float = eqx.field(static=True)
    dt: float = eqx.field(static=True)
    shape: tuple[int, ...] = eqx.field(static=True)

    @property
    def num_fine_steps(self) -> int:
        return _num_steps(self.t0, self.t1, self.dt)

    def fine_increments(self, dtype) -> Float[Array, "fine *shape"]:
        return jnp.sqrt(jnp.asarray(self.dt, dtype)) * jax.random.normal(self.key, (self.num_fine_steps, *self.shape), dtype)

    def increments(self, t0, dt, num_steps, shape, dtype):
        if tuple(shape) != tuple(self.shape):
            raise ValueError(f"this Brownian path has shape {self.shape}, the model needs {tuple(shape)}")
        ratio = dt / self.dt
        if abs(ratio - round(ratio)) > 1e-6 * ratio:
            raise ValueError(f"the step dt={dt} is not a multiple of the Brownian path's fine spacing {self.dt}")
        ratio = round(ratio)
        offset = (t0 - self.t0) / self.dt
        if abs(offset - round(offset)) > 1e-6 or offset < -1e-9:
            raise ValueError(f"t0={t0} is not on the Brownian path's fine grid starting at {self.t0}")
        offset = round(offset)
        if offset + num_steps * ratio > self.num_fine_steps:
            raise ValueError(f"the Brownian path ends at t1={self.t1}, before the end of the solve")
        fine = self.fine_increments(dtype)[offset : offset + num_steps * ratio]
        return fine.reshape(num_steps, ratio, *shape).sum(axis=1)

    def cumulative(self, dtype) -> Float[Array, "fine+1 *shape"]:
        """``W`` at the fine grid points, starting from ``W(t0) = 0``."""
        return jnp.concatenate([jnp.zeros((1, *self.shape), dtype), jnp.cumsum(self.fine_increments(dtype), axis=0)])

    def evaluate(self, t0, t1=None, left=True, use_levy=False):
        """``W(t1) - W(t0)`` of the piecewise-linear path (``W(t0) - W(self.t0)`` if ``t1`` is None).

        Draws the path on every call; to query it many times, keep :meth:`cumulative` and use
        :func:`interpolate_path`.
        """
        cumulative = self.cumulative(jnp.result_type(float))
        if t1 is None:
            return interpolate_path(cumulative, t0, self.t0, self.dt)
        return interpolate_path(cumulative, t1, self.t0, self.dt) - interpolate_path(cumulative, t0, self.t0, self.dt)


def interpolate_path(cumulative: Float[Array, "fine+1 *shape"], t, start: float, spacing: float) -> Float[Array, "*shape"]:
    """The piecewise-linear path through ``cumulative[i]`` at ``start + i spacing``, at time ``t``."""
    num_fine = cumulative.shape[0] - 1
    position = jnp.clip((t - start) / spacing, 0, num_fine)
    index = jnp.clip(jnp.floor(position).astype(jnp.int32), 0, num_fine - 1)
    weight = position - index
    return cumulative[index] * (1 - weight) + cumulative[index + 1] * weight


class DiffraxBrownian(AbstractBrownian):
    """Any diffrax Brownian path (e.g. a :class:`diffrax.VirtualBrownianTree`), queried per step.

    Example:
        ```python
        import diffrax
        tree = diffrax.VirtualBrownianTree(0.0, 1.0, tol=1e-3, shape=(2, 1), key=jax.random.key(7))
        brownian = sd.DiffraxBrownian(tree)   # simulate(..., brownian=brownian) queries it per step
        ```
    """

    path: diffrax.AbstractBrownianPath

    def increments(self, t0, dt, num_steps, shape, dtype):
        starts = t0 + dt * jnp.arange(num_steps, dtype=dtype)
        increments = jax.vmap(lambda start: self.path.evaluate(start, start + dt))(starts)
        if increments.shape[1:] != tuple(shape):
            raise ValueError(f"the diffrax Brownian path has shape {increments.shape[1:]}, the model needs {tuple(shape)}")
        return increments.astype(dtype)


def _num_steps(t0: float, t1: float, dt: float) -> int:
    """Number of steps of size ``dt`` from ``t0`` to ``t1``; the span must be a multiple of ``dt``."""
    steps = (t1 - t0) / dt
    rounded = round(steps)
    if abs(steps - rounded) > 1e-6 * max(1.0, steps):
        raise ValueError(f"t1 - t0 = {t1 - t0} is not a multiple of dt = {dt}")
    return max(int(rounded), 1)
