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
import functools
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
from .data import as_buffers, split
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
        final: test metrics of model samples at the optimum (only when :func:`spikesde.fit` was given metrics).

    Example:
        ```python
        trains = sd.SpikeTrains([[[0.21, 0.55, 0.83]], [[0.3, 0.62, 0.9]]], t0=0.0, t1=1.0)   # 2 trials
        step = sd.SLIF(1, sd.PiecewiseConstantCurrent([0.5], [1.5, 1.5]), mu_v=10.0, alpha=0.0, reset_rule=sd.SetReset(0.0))
        result = sd.likelihood.fit_likelihood(step, trains, learn=["input_current.values"], dt=0.01)
        result.log_likelihood, result.converged, result.covariance.shape   # ..., True, (2, 2)
        ```
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
    final: dict = dataclasses.field(default_factory=dict)


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

    Example:
        ```python
        trains = sd.SpikeTrains([[[0.21, 0.55, 0.83]], [[0.3, 0.62, 0.9]]], t0=0.0, t1=1.0)   # 2 trials
        step = sd.SLIF(1, sd.PiecewiseConstantCurrent([0.5], [1.5, 1.5]), mu_v=10.0, alpha=0.0, reset_rule=sd.SetReset(0.0))
        result = sd.likelihood.fit_likelihood(step, trains, learn=["input_current.values"], dt=0.01)
        result.values["input_current.values"], result.standard_errors["input_current.values"]   # the two levels
        ```
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


def maximum_likelihood_fit(estimator, model, data, *, learn, simulation, steps, test, key, metrics, model_samples, out_dir):
    """:func:`spikesde.fit` with ``estimator=MaximumLikelihood()``: the data (``SpikeTrains``, padded
    buffers or ``Simulated``, on the simulation's window) fitted by :func:`fit_likelihood` on the
    grid ``estimator.dt`` (default ``simulation.dt``). Model samples are drawn only for ``metrics``
    (``model_samples`` of them, default the number of test trials), against the test data."""
    if out_dir is not None:
        raise ValueError("a maximum-likelihood fit keeps no run folder (it is one compiled solve): out_dir must be None")
    key = jax.random.key(0) if key is None else key
    split_key, sample_key = jax.random.split(key)
    train = as_buffers(data, simulation, "data")
    test_buffers = None
    if isinstance(test, float):
        train, test_buffers = split(train, test, split_key)
    elif test is not None:
        test_buffers = as_buffers(test, simulation, "test")
    to_trains = lambda b: SpikeTrains.from_buffers(b, simulation.t0, simulation.t1)  # noqa: E731
    result = fit_likelihood(model, to_trains(train), learn=learn, dt=estimator.dt or simulation.dt,
                            test=None if test_buffers is None else to_trains(test_buffers),
                            max_steps=estimator.max_steps if steps is None else steps, rtol=estimator.rtol)  # fmt: skip
    if metrics:
        if test_buffers is None:
            raise ValueError("metrics compare model samples with test data: give test=")
        count = test_buffers.shape[0] if model_samples is None else model_samples
        spikes, _ = simulation.sample(result.model, sample_key, count)
        final = {name: float(metric(spikes, jnp.asarray(test_buffers))) for name, metric in metrics.items()}
        result = dataclasses.replace(result, final=final)
    return result


@dataclasses.dataclass(frozen=True)
class ProfileLikelihood:
    """The outcome of :func:`profile_likelihood`: the grid of ``values`` of the profiled parameter,
    the maximised ``log_likelihoods`` at each, the ``best`` value and the :class:`LikelihoodFit` there,
    and a likelihood-ratio ``interval`` (values whose profile is within ``chi2_1(level) / 2`` of the top).

    Example:
        ```python
        trains = sd.SpikeTrains([[[0.21, 0.55, 0.83]], [[0.3, 0.62, 0.9]]], t0=0.0, t1=1.0)
        step = sd.SLIF(1, sd.PiecewiseConstantCurrent([0.5], [1.5, 1.5]), mu_v=10.0, alpha=0.0, reset_rule=sd.SetReset(0.0))
        profile = sd.likelihood.profile_likelihood(step, trains, path="input_current.breakpoints", values=[[0.4], [0.5], [0.6]],
                                                   learn=["input_current.values"], dt=0.01)
        profile.values.shape, profile.log_likelihoods.shape, profile.fit.converged   # (3, 1), (3,), True
        ```
    """

    values: np.ndarray
    log_likelihoods: np.ndarray
    best: np.ndarray
    fit: LikelihoodFit
    interval: tuple[float, float]


def profile_likelihood(model, data, *, path: str, values, learn, dt: float | None = None, level: float = 0.95,
                       max_steps: int = 50, rtol: float = 1e-12) -> ProfileLikelihood:  # fmt: skip
    r"""The profile log-likelihood of a parameter that has no useful gradient, such as the
    breakpoints of a :class:`spikesde.PiecewiseConstantCurrent` (the input is held over grid steps,
    so ``log L`` is a step function of a breakpoint):

        l_p(b) = max_theta log L(b, theta),   b over ``values``,

    the other parameters ``learn`` refitted at each ``b`` (one compiled program for all ``b``).

    Arguments:
        path: the profiled parameter's path in ``model`` (e.g. ``"input_current.breakpoints"``).
        values: its candidate values (a sequence; each broadcast to the parameter's shape).
        learn, dt, max_steps, rtol: as for :func:`fit_likelihood`.
        level: the coverage of the likelihood-ratio interval (``l_p(b) >= max l_p - chi2_1(level) / 2``),
            reported for a scalar parameter (``nan`` otherwise).

    Example:
        ```python
        trains = sd.SpikeTrains([[[0.21, 0.55, 0.83]], [[0.3, 0.62, 0.9]]], t0=0.0, t1=1.0)
        step = sd.SLIF(1, sd.PiecewiseConstantCurrent([0.5], [1.5, 1.5]), mu_v=10.0, alpha=0.0, reset_rule=sd.SetReset(0.0))
        profile = sd.likelihood.profile_likelihood(step, trains, path="input_current.breakpoints", values=[[0.4], [0.5], [0.6]],
                                                   learn=["input_current.values"], dt=0.01)
        profile.best, profile.interval
        ```
    """
    from scipy.stats import chi2  # noqa: PLC0415 (scipy only here)

    getter = lambda m: functools.reduce(getattr, path.split("."), m)  # noqa: E731
    current = getter(model)
    grid = as_trial_grid(data, dt, model.n_neurons)
    fits = []
    for value in values:
        candidate = eqx.tree_at(getter, model, jnp.broadcast_to(jnp.asarray(value, current.dtype), current.shape))
        fits.append(fit_likelihood(candidate, grid, learn=learn, max_steps=max_steps, rtol=rtol))
    log_l = np.array([f.log_likelihood for f in fits])
    best = int(np.argmax(log_l))
    grid_values = np.array([np.asarray(v, dtype=float) for v in values])
    inside = grid_values[log_l >= log_l[best] - chi2.ppf(level, 1) / 2]
    interval = (float(inside.min()), float(inside.max())) if grid_values[0].size == 1 else (np.nan, np.nan)
    return ProfileLikelihood(grid_values, log_l, grid_values[best], fits[best], interval)
