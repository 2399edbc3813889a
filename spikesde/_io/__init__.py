"""Spike-train data: containers, readers and writers. Imports only numpy and the core."""

from .formats import load_spike_trains, save_spike_trains
from .neo_convert import from_neo, to_neo
from .spike_trains import SpikeTrains
