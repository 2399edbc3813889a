"""How model samples are drawn: the window, the step, the spike buffers; and simulated data sets."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from .._core.brownian import _num_steps
from .._core.network import as_network
from .._core.simulate import simulate
from .._core.stepper import AbstractStepper
from .sharding import map_batch


class Simulation(eqx.Module):
    """The settings of every simulation of a fit (all compile-time constants).

    Arguments:
        t0, t1: the observation window; ``t1 - t0`` must be a multiple of ``dt``.
        dt: the step.
        max_spikes: spike buffer length per neuron (the data are padded to it too).
        stepper: the integrator step (default :class:`spikesde.EulerMaruyama`).
        max_events: the event budget of one solve (default: enough for full buffers).
        dtype: floating dtype of the solve (default: JAX's default float).
        keep_first: compare model and data on each neuron's first ``max_spikes`` spikes by design
            (reference experiment (a)): longer data trains are cut to ``max_spikes``, and model
            samples that fire more are expected (their overflow fraction is still reported in the
            metrics, but not warned about).

    Example:
        ```python
        simulation = sd.Simulation(t0=0.0, t1=5.0, dt=0.01, max_spikes=3, keep_first=True)   # the first 3 spikes
        ```
    """

    t0: float = eqx.field(static=True)
    t1: float = eqx.field(static=True)
    dt: float = eqx.field(static=True)
    max_spikes: int = eqx.field(static=True)
    stepper: AbstractStepper | None = None
    max_events: int | None = eqx.field(static=True, default=None)
    dtype: object = eqx.field(static=True, default=None)
    keep_first: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        for name in ("t0", "t1", "dt"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"simulation.{name} must be a finite number, got {value!r}")
        if not self.dt > 0:
            raise ValueError(f"simulation.dt must be positive, got {self.dt}")
        if not self.t1 > self.t0:
            raise ValueError(f"simulation.t1 must be greater than t0, got t0={self.t0}, t1={self.t1}")
        try:
            _num_steps(self.t0, self.t1, self.dt)
        except ValueError:
            raise ValueError(
                f"simulation.dt={self.dt} does not divide the window t1 - t0 = {self.t1 - self.t0}"
            ) from None
        for name in ("max_spikes", "max_events"):
            value = getattr(self, name)
            if value is None and name == "max_events":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"simulation.{name} must be a positive integer, got {value!r}")
        if self.stepper is not None and not isinstance(self.stepper, AbstractStepper):
            raise TypeError(f"simulation.stepper must be an AbstractStepper, got {type(self.stepper).__name__}")

    def sample(
        self, model, key: PRNGKeyArray, num_samples: int
    ) -> tuple[Float[Array, "b n {self.max_spikes}"], Bool[Array, " b"]]:
        """``num_samples`` spike trains of ``model`` (padded with ``+inf``) and whether each overflowed.

        An overflowed sample holds the first ``max_spikes`` spikes of each neuron (those are exact);
        the caller reports the overflow fraction. Inside a sharded training step the samples are
        split over the step's device mesh (their keys are the same as on one device).
        """

        def one(sample_key):
            solution = simulate(
                model, t0=self.t0, t1=self.t1, dt=self.dt, key=sample_key, max_spikes=self.max_spikes,
                stepper=self.stepper, max_events=self.max_events, on_overflow="ignore", dtype=self.dtype,
            )  # fmt: skip
            # A solve whose event budget ran out lost spikes as surely as one whose buffer overflowed.
            return solution.spike_times, jnp.any(solution.overflow) | solution.budget_exhausted

        return map_batch(one, jax.random.split(key, num_samples))


class Simulated(eqx.Module):
    """A data set drawn from a known model: ``num_samples`` spike trains from ``key``.

    Passed as ``data`` (or ``test``) to :func:`spikesde.fit`, it is drawn there with the fit's
    :class:`Simulation`, so resuming a run redraws exactly the same data.

    Example:
        ```python
        data, overflow = sd.Simulated(sd.SLIF(1, 1.5), 16, jax.random.key(1)).draw(sd.Simulation(0.0, 1.0, 0.01, 16))
        data.shape   # (16, 1, 16)
        ```
    """

    model: object
    num_samples: int = eqx.field(static=True)
    key: PRNGKeyArray

    def __check_init__(self):
        as_network(self.model)  # a TypeError naming the type if it is not a model
        if isinstance(self.num_samples, bool) or not isinstance(self.num_samples, (int, np.integer)) or self.num_samples < 1:
            raise ValueError(f"Simulated.num_samples must be a positive integer, got {self.num_samples!r}")

    def draw(self, simulation: Simulation) -> tuple[np.ndarray, float]:
        """The spike buffers and the fraction of samples that overflowed ``max_spikes``."""
        spikes, overflow = _draw(self.model, simulation, self.key, self.num_samples)
        return np.asarray(spikes), float(np.mean(np.asarray(overflow)))


@eqx.filter_jit
def _draw(model, simulation, key, num_samples):
    return simulation.sample(model, key, num_samples)
