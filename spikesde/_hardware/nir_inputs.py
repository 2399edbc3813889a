"""What a spike means when a NIR graph is simulated, and input rasters on the right ticks.

NIR writes its neurons as ODEs (``tau dv/dt = v_leak - v + R I``) driven by spikes. The frameworks
that export NIR (snnTorch, Norse, Sinabs, Spyx, Rockpool, Lava) are discrete-time: an input spike
is the value 1 held for one time step. NIR's own proposal is a Dirac pulse of unit integral. The
two differ by a factor ``dt`` in the effect of every spike, so the meaning is an explicit option:

* :class:`DiscreteTimeSpikes` ``(dt)``: a spike at ``t`` is a unit input on ``[t, t + dt)``.
  Into a NIR ``LIF`` node it is a current pulse (exact); into the synapse of a ``CubaLIF`` node it
  is the jump ``dt w_in W / tau_syn`` of the synaptic current, the discrete frameworks' own update
  (it differs from a pulse held in the synapse by ``O(dt / tau_syn)`` relative).
* :class:`ContinuousTimeSpikes`: a spike is a Dirac pulse, a jump ``w_in W / tau_syn`` of the
  synaptic current (into a ``LIF`` node it would be a voltage jump, which spikesde's LIF cannot
  take: refused).

:func:`spikesde.read_nir` uses :class:`DiscreteTimeSpikes` (with the input raster's ``dt``)
unless the graph says spikesde wrote it (then :class:`ContinuousTimeSpikes`, the meaning
:func:`spikesde.to_nir` exports).
"""

from __future__ import annotations

import abc

import equinox as eqx
import numpy as np
from jaxtyping import ArrayLike, Float


class AbstractSpikeMeaning(eqx.Module):
    """How a spike entering a NIR neuron node acts (see the module docstring).

    Example:
        ```python
        isinstance(sd.hardware.DiscreteTimeSpikes(), sd.hardware.AbstractSpikeMeaning)   # True: read_nir(..., spikes=...)
        ```
    """

    @abc.abstractmethod
    def spike_area(self) -> float:
        """The integral of one spike's input signal (``dt`` for a one-step unit input, 1 for a Dirac pulse)."""


class DiscreteTimeSpikes(AbstractSpikeMeaning):
    """A spike is a unit input held for one step of length ``dt`` (snnTorch, Norse, Sinabs, Spyx,
    Rockpool, Lava). ``dt = None`` takes the step of the :class:`InputRaster` given to
    :func:`spikesde.read_nir`.

    For example, ``read_nir("lif.nir", inputs=InputRaster(raster, dt=1e-4), spikes=DiscreteTimeSpikes())``.

    Example:
        ```python
        spikes = sd.hardware.DiscreteTimeSpikes(dt=1e-3)   # how snnTorch, Norse, Lava read a spike
        spikes.spike_area()                                # 1e-3: a unit input held for one step
        ```
    """

    dt: float | None = None

    def __check_init__(self):
        if self.dt is not None and not (np.isfinite(self.dt) and self.dt > 0):
            raise ValueError(f"DiscreteTimeSpikes.dt must be a positive step, got {self.dt}")

    def spike_area(self) -> float:
        if self.dt is None:
            raise ValueError("DiscreteTimeSpikes needs dt: give DiscreteTimeSpikes(dt=...) or an InputRaster (which carries dt)")
        return float(self.dt)


class ContinuousTimeSpikes(AbstractSpikeMeaning):
    """A spike is a Dirac pulse of unit integral (NIR's continuous-time reading; spikesde's export).

    For example, ``read_nir("net.nir", input_spike_times=times, spikes=ContinuousTimeSpikes())``.

    Example:
        ```python
        spikes = sd.hardware.ContinuousTimeSpikes()   # read_nir(path, input_spike_times=times, spikes=spikes)
        spikes.spike_area()                           # 1.0: a Dirac pulse of unit integral
        ```
    """

    def spike_area(self) -> float:
        return 1.0


class InputRaster(eqx.Module):
    r"""Input values on a clock: row ``k`` of ``values`` is the input during step ``k``, the interval
    ``[k dt, (k + 1) dt)`` (the layout of NIR's ``TimeGriddedData`` and of the frameworks' tensors).

    Where each row goes, so nobody is off by one tick:

    * float solvers (exact event times): a spike of row ``k`` starts at ``k dt`` (:meth:`event_times`);
      under :class:`DiscreteTimeSpikes` it is the pulse on ``[k dt, (k + 1) dt)``;
    * clock-driven steppers (``Loihi1Stepper``, ``GridEventLocation``): an input spike exactly on a
      grid point counts for the tick *ending* there, so row ``k`` belongs in the tick ``(k dt, (k + 1) dt]``;
      :meth:`tick_times` places it at ``(k + 1/2) dt``, inside that tick whatever the float rounding of
      the grid (``(k + 1) dt`` in float may land just after the grid point, one tick late). Simulate
      with ``ParallelEvents`` (the chip's semantics: inputs of a tick are pending until its end);
      on Loihi the input then reaches ``u`` one tick later, as through Lava's ``Dense``.

    Arguments: ``values`` (``(steps, channels)``, or ``(steps,)`` for one channel; spike counts or
    graded values), ``dt`` (the step).

    Example:
        ```python
        import numpy as np
        raster = sd.hardware.InputRaster(np.eye(3), dt=0.1)
        raster.event_times()   # [[0.0], [0.1], [0.2]]
        ```
    """

    values: Float[np.ndarray, "steps channels"] = eqx.field(converter=lambda v: _as_raster(v))
    dt: float = eqx.field(converter=float)

    def __check_init__(self):
        if not (np.isfinite(self.dt) and self.dt > 0):
            raise ValueError(f"InputRaster.dt must be a positive step, got {self.dt}")
        if not np.all(np.isfinite(self.values)):
            raise ValueError("InputRaster.values must be finite")

    @property
    def n_channels(self) -> int:
        return self.values.shape[1]

    def is_binary(self) -> bool:
        return bool(np.all((self.values == 0) | (self.values == 1)))

    def _times(self, offset: float) -> np.ndarray:
        if not self.is_binary():
            raise ValueError("InputRaster: spike times need a raster of 0s and 1s; graded values are currents (see pulse breakpoints)")
        rows = [np.flatnonzero(column) for column in self.values.T]
        width = max(1, max(len(r) for r in rows))
        times = np.full((self.n_channels, width), np.inf)
        for channel, r in enumerate(rows):
            times[channel, : len(r)] = (r + offset) * self.dt
        return times

    def event_times(self) -> Float[np.ndarray, "channels spikes"]:
        """``(channels, max_spikes)`` spike times ``k dt`` (padded with ``inf``), for float solvers."""
        return self._times(0)

    def tick_times(self) -> Float[np.ndarray, "channels spikes"]:
        """``(channels, max_spikes)`` spike times ``(k + 1/2) dt`` (row ``k`` in the tick ending at
        ``(k + 1) dt``), for clock-driven steppers."""
        return self._times(0.5)


def _as_raster(values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"InputRaster.values must be (steps, channels), got shape {array.shape}")
    return array


def spike_steps(times: ArrayLike, dt: float) -> np.ndarray:
    """The step index ``k`` of each spike time: the step whose interval ``(k dt, (k + 1) dt]`` holds it.

    This is the index the frameworks and the NIR paper report: a float spike inside step ``k`` and a
    clock-driven spike detected at the tick ending at ``(k + 1) dt`` both get ``k``. Times within 16
    rounding units of their own precision (float32 or float64) of a grid point count as on it;
    ``inf`` padding is dropped.

    Example:
        ```python
        sd.hardware.spike_steps([0.04608, 0.0462], 1e-4)   # [460, 461]
        ```
    """
    times = np.asarray(times)
    eps = np.finfo(times.dtype).eps if np.issubdtype(times.dtype, np.floating) else np.finfo(np.float64).eps
    ratio = times.astype(np.float64)[np.isfinite(times)] / dt
    return (np.ceil(ratio - 16 * eps * np.maximum(1.0, np.abs(ratio))) - 1).astype(np.int64)
