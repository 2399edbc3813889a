"""Spike-train data: containers, readers and writers. Imports only numpy and the core."""

from .formats import load_spike_trains, save_spike_trains
from .neo_convert import from_neo, to_neo
from .nir_data import from_nir_events, from_nir_gridded, to_nir_events, to_nir_gridded
from .spike_trains import SpikeTrains
from .simulated import simulate_spike_trains
