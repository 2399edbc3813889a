r"""Maximum-likelihood fits of escape-noise neurons to observed spike trains, by damped Newton steps.

The objective is the exact log-likelihood :func:`spikesde.log_likelihood` of the data (no model
samples, no loss): deterministic and smooth, so a second-order method converges in a few steps
where first-order optimisers stall or oscillate. :func:`fit_likelihood` maximises it over the
learned parameters (unconstrained coordinates ``u`` of :class:`spikesde.Learn`) with
Levenberg-damped Newton steps on the exact Hessian (:func:`spikesde._likelihood.newton.maximise`),
stopping when a step changes ``log L`` by at most ``rtol (1 + |log L|)``; the standard errors are
those of the Laplace (observed-information) approximation,

    Cov(u) = (-d^2 log L / du^2)^{-1}  at the optimum,   Cov(x) = J Cov(u) J^T,  J = dx/du.

Example:

    >>> import spikesde as sd
    >>> result = sd.fit_likelihood(sd.SLIF(1, 10.0, mu_v=100.0, alpha=0.0), trains, learn=["input_current.value"], dt=1e-4)
    >>> result.values["input_current.value"], result.standard_errors["input_current.value"]
"""

import dataclasses
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .._io import SpikeTrains
from .._likelihood.general import check_escape_neuron, log_likelihood
from .._likelihood.grid import EventGrid, TrialGrid
from .._likelihood.newton import maximise
from .learn import constrained_values, fill, initial_params, prepare


@dataclasses.dataclass(frozen=True)
class LikelihoodFit:
    """The outcome of :func:`fit_likelihood`.

    Fields:
        model: the fitted model.
        values: the learned values by path (NumPy arrays).
        standard_errors: their standard errors from the Hessian at the optimum, by path.
        covariance: the covariance of all learned values, flattened in the order of ``values``.
        log_likelihood: ``log L`` at the optimum (summed over the trials).
        test_log_likelihood: ``log L`` of the test trains at the optimum (``None`` without test data).
        iterations: Newton steps taken; converged: whether the stopping rule was met before ``max_steps``.
        seconds, cpu_seconds: wall-clock and process CPU time of the fit, compilation included.
    """

    model: object
    values: dict
    standard_errors: dict
    covariance: np.ndarray
    log_likelihood: float
    test_log_likelihood: float | None
    iterations: int
    converged: bool
    seconds: float
    cpu_seconds: float


def as_trial_grid(data, dt: float | None, n_neurons: int) -> TrialGrid:
    """``data`` (``SpikeTrains``, ``TrialGrid`` or ``EventGrid``) on the likelihood's nodes."""
    if isinstance(data, TrialGrid):
        return data
    if isinstance(data, EventGrid):
        return TrialGrid.from_event_grid(data)
    if isinstance(data, SpikeTrains):
        if dt is None:
            raise ValueError("dt (the likelihood's grid step) is needed to fit SpikeTrains")
        if data.n_neurons != n_neurons:
            raise ValueError(f"the data hold {data.n_neurons} neurons, the model has n_neurons={n_neurons}")
        return TrialGrid.from_spike_trains(data, dt)
    raise TypeError(f"data must be SpikeTrains, a TrialGrid or an EventGrid, got {type(data).__name__}")


@eqx.filter_jit
def _maximise(model, specs, params, grid, max_steps, rtol):
    def objective(p):
        return log_likelihood(fill(model, specs, p), grid)

    best, value, info = maximise(objective, params, n_iter=max_steps, rtol=rtol, info=True)
    flat, unravel = ravel_pytree(best)
    hessian = jax.hessian(lambda x: objective(unravel(x)))(flat)
    return best, value, hessian, info


@eqx.filter_jit
def _value(model, specs, params, grid):
    return log_likelihood(fill(model, specs, params), grid)


def fit_likelihood(model, data, *, learn, dt: float | None = None, test=None, max_steps: int = 50, rtol: float = 1e-12) -> LikelihoodFit:
    """Maximum-likelihood estimate of the parameters ``learn`` of an escape-noise ``model``.

    Arguments:
        model: a neuron population with an escape rate and no membrane noise (see
            :func:`spikesde.log_likelihood`); everything not learned is fixed.
        data: :class:`spikesde.SpikeTrains`, or a :class:`spikesde.TrialGrid` / :class:`EventGrid`.
        learn: paths or :class:`spikesde.Learn` specs, as for :func:`spikesde.fit`.
        dt: the likelihood's grid step (spikes are nodes whatever ``dt``; the quadrature error is
            ``O(dt^2)`` for step-wise constant inputs, see :func:`spikesde.log_likelihood`).
        test: held-out trains (as ``data``) whose log-likelihood is reported at the optimum.
        max_steps: the most Newton steps; rtol: the stopping rule (module docstring).
    """
    tic, cpu = time.perf_counter(), time.process_time()
    check_escape_neuron(model)
    if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
    grid = as_trial_grid(data, dt, model.n_neurons)
    model, specs = prepare(model, learn)
    params = initial_params(model, specs)
    if not np.isfinite(float(_value(model, specs, params, grid))):
        raise ValueError("the log-likelihood is -inf at the starting values (a spike the model cannot emit: "
                         "inside the dead time or before the clock offset alpha, or at zero rate); change the start")  # fmt: skip
    best, value, hessian, (steps, converged) = _maximise(model, specs, params, grid, int(max_steps), float(rtol))
    flat, unravel = ravel_pytree(best)
    covariance_u = np.linalg.inv(-np.asarray(hessian))
    to_values = lambda x: ravel_pytree(constrained_values(model, specs, unravel(x)))[0]  # noqa: E731
    jacobian = np.asarray(jax.jacfwd(to_values)(flat))
    covariance = jacobian @ covariance_u @ jacobian.T
    values = constrained_values(model, specs, best)
    _, unravel_values = ravel_pytree(values)
    errors = unravel_values(jnp.sqrt(jnp.clip(jnp.diag(jnp.asarray(covariance)), 0.0)))
    fitted = fill(model, specs, best)
    test_value = None
    if test is not None:
        test_value = float(_value(model, specs, best, as_trial_grid(test, dt, model.n_neurons)))
    return LikelihoodFit(
        fitted, {p: np.asarray(v) for p, v in values.items()}, {p: np.asarray(v) for p, v in errors.items()},
        covariance, float(value), test_value, int(steps), bool(converged), time.perf_counter() - tic, time.process_time() - cpu,
    )  # fmt: skip
