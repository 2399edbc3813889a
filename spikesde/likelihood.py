"""Exact likelihoods of spike trains under noise-free SLIF neurons, and what fits them to data.

With ``sigma_v = sigma_i = 0`` the membrane between spikes is deterministic and the spikes are an
inhomogeneous Poisson process of intensity ``lambda(V(t))``: ``log p = sum_s log lambda(V(t_s)) -
int lambda(V(t)) dt``. [`log_likelihood`][spikesde.likelihood.log_likelihood] evaluates it on an
[`EventGrid`][spikesde.likelihood.EventGrid] (the recorded spikes merged into a time grid),
[`buffer_log_likelihood`][spikesde.likelihood.buffer_log_likelihood] on the spike buffers that
[`spikesde.simulate`][spikesde.simulate] returns. Stimulus-driven models use a
[`StimulusCurrent`][spikesde.likelihood.StimulusCurrent] (a filtered stimulus) and an
[`AfterSpikeCurrent`][spikesde.likelihood.AfterSpikeCurrent] (spike history); the metrics compare
models with data in the units of the literature (bits per spike, coincidence factor).

Example:
    ```python
    import spikesde as sd

    ll = sd.likelihood.poisson_log_likelihood(n_spikes=12, duration=2.0, rate=6.0)
    ```
"""

from ._likelihood import EventGrid, log_likelihood, sample_spikes
from ._likelihood.core_path import deprecated_buffer_log_likelihood as buffer_log_likelihood
from ._likelihood.grid import TrialGrid
from ._likelihood.particle import ParticleFilter
from ._likelihood.protocol import Protocol
from ._training.likelihood_fit import LikelihoodFit, ProfileLikelihood, fit_likelihood, profile_likelihood
from ._likelihood.design import StimulusDesign
from ._likelihood.metrics import bits_per_spike, coincidence_factor, poisson_log_likelihood
from ._models.stimulus import AfterSpikeCurrent, StimulusCurrent, filter_stimulus, raised_cosine_basis

__all__ = [
    "LikelihoodFit",
    "ParticleFilter",
    "ProfileLikelihood",
    "Protocol",
    "TrialGrid",
    "fit_likelihood",
    "profile_likelihood",
    "AfterSpikeCurrent",
    "EventGrid",
    "StimulusCurrent",
    "StimulusDesign",
    "bits_per_spike",
    "buffer_log_likelihood",
    "coincidence_factor",
    "filter_stimulus",
    "log_likelihood",
    "poisson_log_likelihood",
    "raised_cosine_basis",
    "sample_spikes",
]
