"""The SLIF with an absolute refractory period (dead time), as NEST's ``pp_psc_delta`` has."""

from typing import ClassVar

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._core.current import AbstractCurrent
from .._core.neuron import _as_parameter
from .slif import _SLIFBase


class RefractorySLIF(_SLIFBase):
    r"""Stochastic leaky integrate-and-fire neurons with a dead time ``t_ref``, state ``(V, I, s, r)``.

    The :class:`SLIF` (same arguments, same ``V`` and ``I``) whose escape clock stops for a time
    ``t_ref`` after every spike: ``r`` is the dead time left, and between spikes

        dV = mu_v (I + c(t) - V) dt + sigma_v dW_V,     dI = -mu_i I dt + sigma_i dW_I,
        ds = lambda(V) 1[r <= 0] dt,                    dr = -1[r > 0] dt.

    At a spike ``V`` is reset (``v_reset`` or the reset rule), ``s <- -(E' + alpha)`` and
    ``r <- t_ref``. So the conditional intensity is ``lambda(V(t)) 1[t - t_last >= t_ref]`` (after
    the clock offset ``alpha``, counted from the end of the dead time), and :meth:`dead_time`
    returns ``t_ref``: :func:`spikesde.likelihood.log_likelihood` removes the window from the
    integral and gives a spike inside it likelihood 0.

    During the dead time ``V`` is not clamped: it keeps integrating its input from the reset value,
    as in NEST's ``pp_psc_delta`` (whose update integrates ``V`` on every step and only skips the
    spike draw while refractory; ``with_reset`` sets ``V`` to 0 at the spike). NEST's
    ``pp_psc_delta`` with ``dead_time > 0`` is therefore, with ``V`` in mV and time in seconds,
    ``RefractorySLIF(1, I_e tau_m / C_m, mu_v=1/tau_m, alpha=0, escape=ExponentialLinearEscape(c_1,
    c_2, c_3), reset_rule=SetReset(0.0), t_ref=dead_time)`` (``dead_time_random`` and
    ``t_ref_remaining`` have no counterpart; NEST rounds ``dead_time`` to whole steps, here it is exact).
    Clamping ``V`` during the refractory period, as ``iaf_psc_exp`` and ``gif_psc_exp`` do, is not
    this model.

    The event function is ``s - max(r, 0)`` (``r`` in units of time): below zero during the dead
    time, since the clock is frozen below zero, and equal to ``s`` after it, so spikes and their
    gradients are those of the clock; the ``-r`` slope lets Newton's method find a crossing that
    follows the end of the dead time within a step. With :class:`spikesde.ExponentialEuler` the
    clock restarts exactly at ``t_last + t_ref`` (inside a step); with
    :class:`spikesde.EulerMaruyama` (whose step reads the drift at its start) it restarts at the first
    grid point after it, an error of at most ``dt`` per spike, and spike times carry no gradient
    in ``t_ref``. :class:`spikesde.hardware.LowPrecisionEuler` and NIR export refuse this neuron
    (NIR's neurons have no refractory period; on a clock, use ``spikesde.hardware.Refractory``).

    Arguments: those of :class:`SLIF`, and

        t_ref: the dead time (time; a scalar or one value per neuron, ``>= 0``).

    Example:
        ```python
        escape = sd.ExponentialLinearEscape(c1=0.0, c2=1.238, c3=0.25)   # NEST's defaults, V in mV
        neuron = sd.RefractorySLIF(1, 15.0, mu_v=100.0, alpha=0.0, escape=escape, reset_rule=sd.SetReset(0.0), t_ref=2e-3)
        spikes = sd.simulate(neuron, t0=0.0, t1=0.2, dt=1e-4, key=jax.random.key(0), max_spikes=64, stepper=sd.ExponentialEuler()).spike_times
        ```
    """

    t_ref: Float[Array, "*n"]

    state_names: ClassVar[tuple[str, ...]] = ("V", "I", "s", "r")
    domains: ClassVar[dict[str, str]] = {**_SLIFBase.domains, "t_ref": "nonnegative"}

    def __init__(self, n_neurons: int = 1, input_current: ArrayLike | AbstractCurrent = 1.5, *, t_ref: ArrayLike, **options):
        super().__init__(n_neurons, input_current, **options)
        self.t_ref = _as_parameter(t_ref)

    def dead_time(self):
        return jnp.broadcast_to(self.t_ref, (self.n_neurons,))

    def initial_state(self, clock):
        v, i, s = self._initial_rows(clock)
        return jnp.stack([v, i, s, jnp.zeros_like(s)])  # not refractory at t0

    def drift(self, t, y):
        v, i, _, r = y
        dv, di = self._membrane_drift(t, v, i)
        return jnp.stack([dv, di, jnp.where(r > 0, 0.0, self.intensity(v)), jnp.where(r > 0, -1.0, 0.0)])

    def event(self, y):
        return y[2] - jnp.maximum(y[3], 0.0)

    def reset(self, y, fired, clock):
        v, i, s, r = y
        s = jnp.where(fired, -(clock + self.alpha), s)
        return jnp.stack([self._reset_membrane(v, fired), i, s, jnp.where(fired, self.dead_time(), r)])

    def linear_step(self, t, y, h):
        v, i, s, r = y
        v_new, i_new = self._membrane_flow(t, v, i, h)
        # The clock runs only for the part of the step after the dead time; `where`, not `maximum`,
        # so that a tie (h = r, or h = r = 0) passes no derivative to the frozen clock.
        free = jnp.where(h > r, h - r, 0.0)
        s_new = s + self.intensity(v) * free
        r_new = jnp.where(r > h, r - h, 0.0)
        return jnp.stack([v_new, i_new, jnp.broadcast_to(s_new, v_new.shape), jnp.broadcast_to(r_new, v_new.shape)])
