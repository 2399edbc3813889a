"""Spike-train data: containers, readers and writers. Imports only numpy and the core."""

from .spike_trains import SpikeTrains
