r"""The stimulus-driven SLIF's likelihood as a point-process GLM at fixed membrane rate.

For an SLIF with input ``c = b + w . features(t)`` (:class:`StimulusCurrent`) and after-spike
current ``h = a . traces(t)`` (:class:`AfterSpikeCurrent`), the membrane before each node is
linear in ``theta = (b, w, a, v_reset)`` once ``mu_v`` is fixed:

    V(tau_n^-) = X(mu_v)[n] . theta + v0 exp(-mu_v (tau_n - t0)),

each column of ``X`` being the membrane's response to one input (a constant, one filtered
stimulus, one spike trace, minus the reset train). So ``log lambda`` is linear in ``theta`` and
the log-likelihood is concave in it: Newton converges in a few steps, and ``mu_v`` is a 1-d
profile. :func:`design_log_likelihood` equals :func:`log_likelihood` of :func:`to_model` exactly
(same recurrences), only faster to differentiate twice.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._models.slif import SLIF
from .._models.stimulus import AfterSpikeCurrent, StimulusCurrent
from .exact import _linear_recurrence, history_traces, terms_from_membrane, weighted_sum
from .grid import EventGrid


class StimulusDesign(eqx.Module):
    """Data of a stimulus-driven fit on one grid: the grid, the filtered stimulus at its left
    nodes, the spike traces (``taus`` static) and the fixed neuron parameters (a template SLIF
    whose ``beta``, ``v_threshold``, ``tau_s``, ``alpha``, ``v0`` are used).

    Example:
        ```python
        grid = sd.likelihood.EventGrid.from_spike_times([0.3, 0.7], t0=0.0, t1=1.0, dt=0.01)
        current = sd.likelihood.StimulusCurrent(jnp.zeros((101, 2)), dt=0.01)
        design = sd.likelihood.StimulusDesign.build(grid, current, (0.01,), sd.SLIF(1, 1.5, mu_v=10.0, alpha=0.0, reset_rule=sd.SetReset(0.0)))
        design.features.shape, design.traces.shape   # (steps, 2), (steps, 1)
        ```
    """

    grid: EventGrid
    features: Float[Array, "steps n_basis"]
    traces: Float[Array, "steps n_taus"]
    template: SLIF

    @classmethod
    def build(cls, grid: EventGrid, current: StimulusCurrent, taus, template: SLIF) -> "StimulusDesign":
        features = current.feature_values(grid.times[:-1])
        traces = history_traces(grid, tuple(taus))[:-1]
        return cls(grid, features, traces, template)

    def columns(self, mu_v: Float[Array, ""]) -> Float[Array, "nodes p"]:
        """``X(mu_v)``: columns bias, stimulus features, traces, reset (coefficient of ``v_reset``)."""
        steps = self.grid.steps
        decay = jnp.exp(-mu_v * steps)
        gain = -jnp.expm1(-mu_v * steps)
        counts = self.grid.counts[:-1].astype(steps.dtype)
        drives = jnp.concatenate([jnp.ones_like(steps)[:, None], self.features, self.traces], axis=1)
        offsets = jnp.concatenate([gain[:, None] * drives, (-decay * counts)[:, None]], axis=1)
        response = jax.vmap(lambda o: _linear_recurrence(decay, o, jnp.zeros((), steps.dtype)), in_axes=1, out_axes=1)
        return response(offsets)

    def log_likelihood(self, theta: dict, spike_weights=None, step_weights=None) -> Float[Array, ""]:
        """Log-likelihood at ``theta = {"bias", "weights", "amplitudes", "v_reset", "log_mu_v"}``."""
        columns = self.columns(jnp.exp(theta["log_mu_v"]))
        return self.log_likelihood_from_columns(columns, theta, spike_weights, step_weights)

    def log_likelihood_from_columns(self, columns, theta: dict, spike_weights=None, step_weights=None):
        """:meth:`log_likelihood` with ``X(mu_v)`` computed once by the caller (the linear
        parameters then enter through a matrix product only: cheap Hessians, small programs)."""
        return weighted_sum(*self.terms(theta, columns), spike_weights, step_weights)

    def terms(self, theta: dict, columns=None):
        """``(spike_terms, step_terms)`` of :func:`likelihood_terms` at ``theta``."""
        mu_v = jnp.exp(theta["log_mu_v"])
        columns = self.columns(mu_v) if columns is None else columns
        linear = jnp.concatenate(
            [jnp.reshape(theta["bias"], (1,)), theta["weights"], theta["amplitudes"], jnp.reshape(theta["v_reset"], (1,))]
        )
        elapsed = self.grid.times - self.grid.times[0]
        v_minus = columns @ linear + jnp.reshape(self.template.v0, ()) * jnp.exp(-mu_v * elapsed)
        return terms_from_membrane(self.template, self.grid, v_minus, v_minus - theta["v_reset"] * self.grid.counts)


def to_model(theta: dict, current: StimulusCurrent, taus, template: SLIF) -> tuple[SLIF, AfterSpikeCurrent]:
    """The SLIF and after-spike current that ``theta`` describes (for simulation and the generic
    :func:`log_likelihood`)."""
    current = eqx.tree_at(lambda c: (c.bias, c.weights), current, (jnp.asarray(theta["bias"]), theta["weights"]))
    neuron = eqx.tree_at(
        lambda n: (n.input_current, n.mu_v, n.v_reset),
        template,
        (current, jnp.exp(theta["log_mu_v"]), jnp.asarray(theta["v_reset"])),
    )
    return neuron, AfterSpikeCurrent(taus, theta["amplitudes"])
