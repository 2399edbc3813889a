"""Spike trains as paths (the Marcus lift) and losses between batches of spike trains."""

from .base import AbstractSpikeTrainLoss
from .kernel import SignatureKernelMMD, signature_kernel
from .paths import finite_spike_times, first_spike_times, marcus_lift
from .signature import ExpectedSignatureLoss, expected_signature
from .spike_signature import spike_events, spike_train_signature
from .spike_time import FirstSpikeTimeLoss
