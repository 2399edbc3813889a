"""A generic low-precision clock-driven integrator for LIF and SLIF neurons (any format, any rounding)."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._models.lif import LIF
from .._models.slif import SLIF
from .clock import AbstractClockStepper, Quantizer
from .formats import AbstractFormat, FixedPoint, as_format
from .rounding import AbstractRounding, NearestEven, as_rounding


class LowPrecisionEuler(AbstractClockStepper):
    r"""Forward Euler on a clock, every arithmetic result rounded into ``format`` with ``rounding``.

    One tick of length ``dt`` for an :class:`spikesde.SLIF` (``a_v = mu_v dt``, ``a_i = mu_i dt``):

        V <- q(V + q(a_v q(q(I + c) - V)))  [+ q(sigma_v xi_V)]
        I <- q(I - q(a_i I))                [+ q(sigma_i xi_I)]
        s <- q(s + q(lambda(V) dt))          (lambda evaluated in float, as from a lookup table)

    and for a :class:`spikesde.LIF` (``a_v = dt / tau_mem``, ``a_i = dt / tau_syn``):

        V <- q(q(V - q(a_v V)) + q(dt (I + c)))   [+ noise],   I <- q(I - q(a_i I)) [+ noise].

    ``q`` rounds into the format after every operation (XLA may keep extra precision inside fused
    operations, so rounding is explicit). The decay constants ``a`` are stored with
    ``decay_bits`` fraction bits (round to nearest; ``None``: exact, to isolate the rounding of
    the state): a 12-bit constant
    turns ``dt / tau = 0.005`` into ``20 / 4096``, i.e. ``tau`` 20 ms into 20.48 ms.

    Noise ``xi`` over a tick: ``noise_bits=None`` uses the exact Brownian increment ``dW`` of the
    core; an integer ``k`` uses on-chip noise, a ``k``-bit uniform integer ``r`` scaled to the
    Brownian variance, ``xi = sqrt(12 dt) ((r + 1/2) / 2^k - 1/2)``, drawn from ``key``.

    With ``straight_through=True`` the values are unchanged and gradients are those of the float
    Euler scheme (see :mod:`spikesde._hardware.straight_through`).

    Example:
        ```python
        chip = sd.hardware.LowPrecisionEuler(0.01, sd.hardware.FixedPoint(7, 12), sd.hardware.Stochastic(), key=jax.random.key(1))
        spikes = sd.simulate(sd.SLIF(input_current=1.5), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16,
                             stepper=chip, event_location=sd.GridEventLocation(strict=False)).spike_times
        ```
    """

    format: AbstractFormat = FixedPoint(7, 12)
    rounding: AbstractRounding = NearestEven()
    decay_bits: int | None = eqx.field(static=True, default=12)
    noise_bits: int | None = eqx.field(static=True, default=None)
    straight_through: bool = eqx.field(static=True, default=False)

    def __init__(self, dt, format=FixedPoint(7, 12), rounding=NearestEven(), *, decay_bits=12, noise_bits=None,
                 straight_through=False, key=None, t0=0.0):
        self.dt = dt
        self.t0 = t0
        self.key = key
        self.format = as_format(format)
        self.rounding = as_rounding(rounding)
        self.decay_bits = decay_bits
        self.noise_bits = noise_bits
        self.straight_through = straight_through

    def __check_init__(self):
        if self.decay_bits is not None and not (isinstance(self.decay_bits, int) and 1 <= self.decay_bits <= 30):
            raise ValueError(f"LowPrecisionEuler: decay_bits must be an integer in [1, 30] or None, got {self.decay_bits!r}")
        if self.noise_bits is not None and not (isinstance(self.noise_bits, int) and 1 <= self.noise_bits <= 23):
            raise ValueError(f"LowPrecisionEuler: noise_bits must be an integer in [1, 23] or None, got {self.noise_bits!r}")
        if self.rounding.needs_key and self.key is None:
            raise ValueError("LowPrecisionEuler: stochastic rounding needs key=jax.random.key(...)")
        if self.noise_bits is not None and self.key is None:
            raise ValueError("LowPrecisionEuler: on-chip noise (noise_bits) needs key=jax.random.key(...)")

    def constant(self, a: Float[Array, "*n"]) -> Float[Array, "*n"]:
        """A decay constant as stored on the chip (``decay_bits`` fraction bits, nearest)."""
        if self.decay_bits is None:
            return a
        stored = jnp.round(a * 2.0**self.decay_bits) / 2.0**self.decay_bits
        return a + jax.lax.stop_gradient(stored - a) if self.straight_through else stored

    def noise(self, neuron, dW: Float[Array, "r n"], key: PRNGKeyArray | None) -> Float[Array, "r n"]:
        """``sigma xi`` on the noisy rows for one tick."""
        if self.noise_bits is None:
            xi = dW
        else:
            r = jax.random.randint(jax.random.fold_in(key, 2**20), dW.shape, 0, 2**self.noise_bits)
            xi = math.sqrt(12 * self.dt) * ((r.astype(dW.dtype) + 0.5) / 2**self.noise_bits - 0.5)
        return neuron.diffusion() * xi

    def tick(self, neuron, t, y, dW, key):
        self.format.check_carrier(y.dtype)
        q = Quantizer(self.format, self.rounding, key, self.straight_through)
        c = neuron.input_current(t)
        if isinstance(neuron, SLIF):
            v, i, s = y
            a_v, a_i = self.constant(neuron.mu_v * self.dt), self.constant(neuron.mu_i * self.dt)
            v_new = q(v + q(a_v * q(q(i + c, 0) - v, 1), 2), 3)
            s_new = q(s + q(neuron.intensity(v) * self.dt, 4), 5)
        elif isinstance(neuron, LIF):
            v, i = y
            a_v, a_i = self.constant(self.dt / neuron.tau_mem), self.constant(self.dt / neuron.tau_syn)
            v_new = q(q(v - q(a_v * v, 0), 1) + q(self.dt * (i + c), 2), 3)
        else:
            raise TypeError(f"LowPrecisionEuler simulates LIF and SLIF neurons, got {type(neuron).__name__}")
        i_new = q(i - q(a_i * i, 6), 7)
        sigma_xi = self.noise(neuron, dW, key)
        v_new = q(v_new + q(sigma_xi[0], 8), 9)
        i_new = q(i_new + q(sigma_xi[1], 10), 11)
        rows = [v_new, i_new] if isinstance(neuron, LIF) else [v_new, i_new, s_new]
        return jnp.stack([jnp.broadcast_to(row, v.shape) for row in rows])

    def shadow(self, neuron, t, y, h):
        if not self.straight_through:
            return 0.0
        # Value zero; derivative mu(t, y) dh: moving a step's end moves the state along the drift.
        return (h - jax.lax.stop_gradient(h)) * neuron.drift(t, y)
