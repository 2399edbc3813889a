from .exact import history_traces, likelihood_terms, membrane
from .general import log_likelihood
from .grid import EventGrid, TrialGrid
from .sampler import sample_spikes, spike_times_from_grid
