from .exact import history_traces, likelihood_terms, log_likelihood, membrane
from .grid import EventGrid
from .sampler import sample_spikes, spike_times_from_grid
