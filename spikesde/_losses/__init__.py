"""Spike trains as paths (the Marcus lift) and losses between batches of spike trains."""

from .base import AbstractSpikeTrainLoss
from .kernel import AbstractKernelSolver, PDESolver, PySigLibSolver, signature_kernel, signature_kernel_gram
from .mmd import (
    AbstractSpikeTrainKernel,
    KernelMMD,
    KernelScore,
    SignatureKernelMMD,
    SignaturePDEKernel,
    TruncatedSignatureKernel,
)
from .static_kernels import AbstractStaticKernel, LinearKernel, RBFKernel
from .lag_statistics import LagStatisticLoss
from .paths import finite_spike_times, first_spike_times, marcus_lift
from .signature import ExpectedSignatureLoss, expected_signature
from .spike_signature import spike_events, spike_train_signature
from .spike_time import FirstSpikeTimeLoss
from .spike_time_kernel import SpikeTimeKernel, SpikeTimeMMD
