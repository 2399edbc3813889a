"""Spike-train data in and out: the [`SpikeTrains`][spikesde.io.SpikeTrains] container, its file
formats, and conversions to Neo and to NIR event data.

[`load_spike_trains`][spikesde.io.load_spike_trains] reads NWB, NIX, ``.npz``, CSV and text files
(the format from the suffix); [`from_neo`][spikesde.io.from_neo] / [`to_neo`][spikesde.io.to_neo]
and the ``nir`` functions convert in memory.

Example:
    ```python
    import numpy as np
    import spikesde as sd

    trains = sd.io.SpikeTrains(times=[[np.array([0.1, 0.5])]], t0=0.0, t1=1.0)  # 1 trial, 1 neuron
    ```
"""

from ._io import (
    SpikeTrains,
    from_neo,
    from_nir_events,
    from_nir_gridded,
    load_spike_trains,
    save_spike_trains,
    simulate_spike_trains,
    to_neo,
    to_nir_events,
    to_nir_gridded,
)

__all__ = [
    "SpikeTrains",
    "from_neo",
    "from_nir_events",
    "from_nir_gridded",
    "load_spike_trains",
    "save_spike_trains",
    "simulate_spike_trains",
    "to_neo",
    "to_nir_events",
    "to_nir_gridded",
]
