"""Intel Loihi 1 current-based LIF neurons, bit-accurate integer arithmetic.

One algorithmic time step (Lava's ``PyLifModelBitAcc``), with ``>> 12`` rounding toward zero:

    u <- sign(u (4096 - (du + 1))) (|u (4096 - (du + 1))| >> 12) + (a_in << 6)    wrapped to 24 bits
    v <- sign(v (4096 - dv)) (|v (4096 - dv)| >> 12) + u + (bias_mant << bias_exp)
    v <- clip(v, -(2^23 - 1), 2^23 - 1)
    spike if v > (vth << 6) (strict), then v <- 0.
"""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Int

from .._core.current import AbstractCurrent
from .._core.neuron import AbstractNeuron
from .._models.currents import as_current
from .clock import AbstractClockStepper

_LIMITS = {"du": (0, 4095), "dv": (0, 4095), "vth": (0, 2**17 - 1), "bias_mant": (-(2**12), 2**12 - 1), "bias_exp": (0, 7)}


def _integer_parameter(name: str, value: ArrayLike) -> Int[Array, "*n"]:
    array = np.asarray(value)
    if array.dtype.kind == "f" and not np.all(array == np.round(array)):
        raise ValueError(f"LoihiLIF: {name} must hold integers, got {value!r}")
    low, high = _LIMITS[name]
    if np.any(array < low) or np.any(array > high):
        raise ValueError(f"LoihiLIF: {name} must lie in [{low}, {high}] (its hardware width), got values in [{array.min()}, {array.max()}]")
    return jnp.asarray(array, jnp.int32)


class LoihiLIF(AbstractNeuron):
    """Loihi 1 CUBA LIF neurons with integer parameters, state rows ``(u, v, a_in)``.

    ``u`` (current) and ``v`` (voltage) are 24-bit integers; ``a_in`` accumulates the synaptic
    input that arrives during a tick (the synaptic row: spikes of tick ``k`` enter ``u`` at tick
    ``k + 1``, as on the chip). The input current ``c(t)`` is added to ``a_in`` at each tick (an
    integer per tick, e.g. a :class:`spikesde.PiecewiseConstantCurrent`). Simulate it with
    :class:`Loihi1Stepper` and a strict grid event location; the state is a float array holding
    exact integers (|values| < 2^24, exact in float32).

    Arguments (integers, scalars or one per neuron): ``du``, ``dv`` (12-bit decays, units of
    1/4096), ``vth`` (17-bit threshold mantissa; the threshold is ``vth << 6``), ``bias_mant``
    (13-bit signed), ``bias_exp`` (3-bit), ``u0``, ``v0`` (initial state).

    Example:
        ```python
        neurons = sd.hardware.LoihiLIF(2, 0.0, du=410, dv=205, vth=100, bias_mant=100, bias_exp=6)   # integer registers
        neurons.state_names   # ('u', 'v', 'a_in'); simulate with Loihi1Stepper (see to_loihi)
        ```
    """

    n_neurons: int = eqx.field(static=True)
    input_current: AbstractCurrent
    du: Int[Array, "*n"]
    dv: Int[Array, "*n"]
    vth: Int[Array, "*n"]
    bias_mant: Int[Array, "*n"]
    bias_exp: Int[Array, "*n"]
    u0: Int[Array, "*n"]
    v0: Int[Array, "*n"]

    state_names: ClassVar[tuple[str, ...]] = ("u", "v", "a_in")
    synaptic_row: ClassVar[int] = 2
    noise_rows: ClassVar[tuple[int, ...]] = ()
    uses_clock: ClassVar[bool] = False
    affine_event: ClassVar[bool] = True

    def __init__(self, n_neurons=1, input_current=0.0, *, du=0, dv=0, vth=10, bias_mant=0, bias_exp=0, u0=0, v0=0):
        self.n_neurons = int(n_neurons)
        self.input_current = as_current(input_current)
        self.du = _integer_parameter("du", du)
        self.dv = _integer_parameter("dv", dv)
        self.vth = _integer_parameter("vth", vth)
        self.bias_mant = _integer_parameter("bias_mant", bias_mant)
        self.bias_exp = _integer_parameter("bias_exp", bias_exp)
        self.u0 = jnp.asarray(u0, jnp.int32)
        self.v0 = jnp.asarray(v0, jnp.int32)

    def initial_state(self, clock):
        shape = (self.n_neurons,)
        u, v = (jnp.broadcast_to(x, shape).astype(clock.dtype) for x in (self.u0, self.v0))
        return jnp.stack([u, v, jnp.zeros(shape, clock.dtype)])

    def _clock_driven(self, *_):
        raise TypeError("LoihiLIF is clock-driven: simulate it with stepper=Loihi1Stepper(dt=...) and a grid event location")

    drift = linear_step = _clock_driven

    def diffusion(self):
        return jnp.zeros((0, self.n_neurons))

    def event(self, y):
        # Exact in float: |v| < 2^23 and vth << 6 < 2^23.
        return y[1] - (self.vth * 64).astype(y.dtype)

    def reset(self, y, fired, clock):
        return y.at[1].set(jnp.where(fired, 0.0, y[1]))


def decay_toward_zero(x: Int[Array, "*n"], factor: Int[Array, "*n"]) -> Int[Array, "*n"]:
    """``sign(x factor) (|x factor| >> 12)`` for ``|x| < 2^24``, ``0 <= factor <= 4096``, in int32.

    ``|x| factor`` needs 36 bits; with ``|x| = a 2^12 + b`` (``0 <= b < 2^12``) it is
    ``a factor 2^12 + b factor``, so ``(|x| factor) >> 12 = a factor + ((b factor) >> 12)``
    exactly, and no partial product exceeds 2^24.
    """
    magnitude = jnp.abs(x)
    high, low = magnitude >> 12, magnitude & 4095
    shifted = high * factor + ((low * factor) >> 12)
    return jnp.sign(x) * shifted


def wrap24(x: Int[Array, "*n"]) -> Int[Array, "*n"]:
    """Two's-complement wrap into ``[-2^23, 2^23)``."""
    return ((x + 2**23) & (2**24 - 1)) - 2**23


class Loihi1Stepper(AbstractClockStepper):
    """The Loihi 1 CUBA LIF update (see the module docstring) for :class:`LoihiLIF` neurons, in int32.

    Pair it with ``GridEventLocation(strict=True)``: the threshold test ``v > vth << 6`` is strict.

    Example:
        ```python
        network = sd.Network(sd.LIF(2, 1.5, tau_mem=1.0, tau_syn=0.5), jnp.array([[0.0, 0.4], [0.0, 0.0]]))
        loihi = sd.hardware.to_loihi(network, dt=1e-2)   # LoihiLIF neurons with integer registers
        spikes = sd.simulate(loihi, t0=0.0, t1=1.0, dt=1e-2, key=jax.random.key(0), max_spikes=16,
                             stepper=sd.hardware.Loihi1Stepper(dt=1e-2), event_location=sd.GridEventLocation(strict=True),
                             event_policy=sd.ParallelEvents()).spike_times
        ```
    """

    def tick(self, neuron, t, y, dW, key):
        if not isinstance(neuron, LoihiLIF):
            raise TypeError(f"Loihi1Stepper simulates LoihiLIF neurons, got {type(neuron).__name__}")
        u, v, pending = (row.astype(jnp.int32) for row in y)
        a_in = pending + jnp.round(neuron.input_current(t)).astype(jnp.int32)
        u = wrap24(decay_toward_zero(u, 4096 - (neuron.du + 1)) + (a_in << 6))
        bias = neuron.bias_mant << neuron.bias_exp
        v = decay_toward_zero(v, 4096 - neuron.dv) + u + bias
        v = jnp.clip(v, -(2**23 - 1), 2**23 - 1)
        zeros = jnp.zeros_like(u)
        return jnp.stack([u, v, zeros]).astype(y.dtype)


def _bias_mantissa_exponent(bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``bias ~ mant << exp`` with a 13-bit signed mantissa and the smallest 3-bit exponent that fits."""
    exponent = np.zeros(bias.shape, np.int64)
    for _ in range(8):
        too_big = np.abs(np.round(bias / 2.0**exponent)) > 4095
        exponent = np.where(too_big, exponent + 1, exponent)
    if np.any(exponent > 7):
        raise ValueError(f"to_loihi: a bias of {np.max(np.abs(bias)):.4g} exceeds 4095 << 7; lower vth")
    return np.round(bias / 2.0**exponent).astype(np.int64), exponent


def _integer_weights(w: np.ndarray, name: str) -> np.ndarray:
    a_in = np.round(w)
    if np.any(np.abs(a_in) >= 2**15):
        raise ValueError(f"to_loihi: {name} exceed the 16-bit synaptic input (|a_in| < 2^15); lower vth")
    return a_in


def _clocked_input(network, gain: np.ndarray, dt: float):
    """A LIF's piecewise-constant current as the chip's per-tick synaptic input: with ``du = 4095``
    ``u`` lasts one tick, so ``a_in = round(g c / 64)`` on a tick adds the float step's ``g c``
    to ``v`` in that tick. ``u`` then carries nothing else: no coupling, no input spikes."""
    from .._models.currents import PiecewiseConstantCurrent

    if network.coupling() is not None or network.input_spike_times is not None:
        raise ValueError("to_loihi: a piecewise-constant current reaches the chip through u (du = 4095), which then cannot carry synaptic input too; "
                         "the network has coupling or input spikes")
    current = network.neuron.input_current
    ticks = np.asarray(current.breakpoints, np.float64) / dt
    off = np.flatnonzero(np.abs(ticks - np.round(ticks)) > 16 * np.finfo(np.asarray(current.breakpoints).dtype).eps * np.maximum(1.0, ticks))
    if off.size:
        raise ValueError(f"to_loihi: breakpoint {off[0]} of the input current is not on the clock of dt = {dt}")
    values = np.asarray(current.values, np.float64).reshape(ticks.size + 1, -1)
    a_in = _integer_weights(np.broadcast_to(values, (ticks.size + 1, gain.size)) * gain / 64, "the input current")
    # Breakpoints half a tick early: a tick reads the value at its start, away from any rounding of k dt.
    return PiecewiseConstantCurrent((np.round(ticks) - 0.5) * dt, a_in)


def _synaptic_gain(dt: float, tau_mem: np.ndarray, tau_syn: np.ndarray) -> np.ndarray:
    """``(e^(-dt/tau_syn) - e^(-dt/tau_mem)) / (1/tau_mem - 1/tau_syn)``, written
    ``e^(-dt/tau_mem) dt phi((1/tau_mem - 1/tau_syn) dt)`` with ``phi(x) = expm1(x) / x`` (1 at 0)
    so that equal time constants need no special case."""
    x = (1 / tau_mem - 1 / tau_syn) * dt
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(x == 0, 1.0, np.expm1(x) / np.where(x == 0, 1.0, x))
    return np.exp(-dt / tau_mem) * dt * phi


def _check_reset_rule(neuron) -> None:
    """A ValueError naming a reset rule the chip cannot run: its only reset sets v to 0."""
    from .._models.reset import SetReset

    rule = getattr(neuron, "reset_rule", None)
    if rule is not None and not (isinstance(rule, SetReset) and np.all(np.asarray(rule.value) == 0)):
        raise ValueError(
            f"to_loihi: {type(neuron).__name__} with reset_rule={type(rule).__name__} cannot be programmed: "
            "the chip sets v to 0 after a spike (SetReset(0.0), or a LIF subtracting its threshold)"
        )


def to_loihi(model, dt: float, *, vth: int = 2**14):
    """A :class:`spikesde.Network` of :class:`LoihiLIF` neurons approximating a network of deterministic
    :class:`spikesde.LIF` neurons on a clock of period ``dt``.

    Voltages are scaled by ``s = 64 vth / threshold`` (``vth`` the 17-bit threshold mantissa), the
    decays are ``dv = round(4096 (1 - e^(-dt/tau_mem)))`` and ``du = round(4096 (1 - e^(-dt/tau_syn))) - 1``,
    and with ``g = tau_mem (1 - e^(-dt/tau_mem))`` (the exact gain of a constant current over a
    tick) the bias is ``s g c`` (as ``mant << exp``). A synaptic jump ``w`` at a grid point moves
    the float ``V`` one tick later by ``w k``, ``k = (e^(-dt/tau_syn) - e^(-dt/tau_mem)) / (1/tau_mem - 1/tau_syn)``
    (``dt e^(-dt/tau)`` when the two are equal), and the chip's ``v`` by ``a_in << 6`` (the spike
    reaches ``u`` at the next tick, and ``u`` enters ``v`` in that tick): so ``a_in = round(s k w / 64)``,
    and chip and float agree at every later grid point up to rounding, for any ``tau_syn``. Input
    spike times are kept (the stepper applies them at the next tick). The input current is a
    :class:`spikesde.ConstantCurrent` (the bias), or a :class:`spikesde.PiecewiseConstantCurrent`
    switching on the clock in a network without synaptic inputs (then fed per tick through ``u``
    with ``du = 4095``: ``a_in = round(s g c / 64)``); the reset must be the chip's (to 0:
    ``v_reset = threshold``).

    For a NIR graph, program the chip as Lava does with :func:`spikesde.nir_to_loihi`.

    Example:
        ```python
        network = sd.Network(sd.LIF(2, 1.5, tau_mem=1.0, tau_syn=0.5), jnp.array([[0.0, 0.4], [0.0, 0.0]]))
        loihi = sd.hardware.to_loihi(network, dt=1e-2)   # LoihiLIF neurons with integer registers
        spikes = sd.simulate(loihi, t0=0.0, t1=1.0, dt=1e-2, key=jax.random.key(0), max_spikes=16,
                             stepper=sd.hardware.Loihi1Stepper(dt=1e-2), event_location=sd.GridEventLocation(strict=True),
                             event_policy=sd.ParallelEvents()).spike_times
        ```
    """
    from .._core.network import Network, as_network
    from .._models.currents import ConstantCurrent, PiecewiseConstantCurrent
    from .._models.lif import LIF

    network = as_network(model)
    lif, n = network.neuron, network.n_neurons
    _check_reset_rule(lif)
    if not isinstance(lif, LIF) or not isinstance(lif.input_current, (ConstantCurrent, PiecewiseConstantCurrent)):
        raise TypeError("to_loihi converts LIF neurons with a constant or piecewise-constant input current")
    vector = lambda x: np.broadcast_to(np.asarray(x, np.float64), (n,))  # noqa: E731
    tau_mem, tau_syn, threshold = vector(lif.tau_mem), vector(lif.tau_syn), vector(lif.threshold)
    if np.any(vector(lif.v_reset) != threshold):
        raise ValueError(f"to_loihi: LIF.v_reset = {np.asarray(lif.v_reset)} subtracts other than the threshold; the chip sets v to 0 after a spike")
    scale = 64 * vth / threshold
    gain = scale * tau_mem * -np.expm1(-dt / tau_mem)
    synaptic = scale * _synaptic_gain(dt, tau_mem, tau_syn)
    dv = np.round(4096 * -np.expm1(-dt / tau_mem)).astype(np.int64)
    du = np.clip(np.round(4096 * -np.expm1(-dt / tau_syn)) - 1, 0, 4095).astype(np.int64)
    if isinstance(lif.input_current, PiecewiseConstantCurrent):
        return Network(LoihiLIF(n, _clocked_input(network, gain, dt), du=4095, dv=dv, vth=np.full(n, vth)))
    mant, exponent = _bias_mantissa_exponent(gain * vector(lif.input_current.value))
    neuron = LoihiLIF(n, 0.0, du=du, dv=dv, vth=np.full(n, vth), bias_mant=mant, bias_exp=exponent)
    coupling = network.coupling()
    weights = None if coupling is None else _integer_weights(np.asarray(coupling) * synaptic[None, :] / 64, "weights")
    if network.input_spike_times is None:
        return Network(neuron, weights)
    w_in = _integer_weights(np.asarray(network.input_coupling()) * synaptic[None, :] / 64, "input_weights")
    return Network(neuron, weights, input_spike_times=network.input_spike_times, input_weights=w_in, input_mask=network.input_mask)
