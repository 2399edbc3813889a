"""Losses between batches of spike trains, and the spike-train kernels behind them.

The losses most fits use are also at the top level ([`spikesde.SignatureKernelMMD`][spikesde.SignatureKernelMMD],
[`spikesde.SpikeTimeMMD`][spikesde.SpikeTimeMMD], ...). Here are, besides, the kernels a
[`KernelMMD`][spikesde.losses.KernelMMD] or [`KernelScore`][spikesde.losses.KernelScore] is built from,
the static kernels lifted by the signature kernel, and the helpers that read spike buffers.

Example:
    ```python
    import spikesde as sd

    loss = sd.losses.KernelMMD(sd.losses.SpikeTimeKernel(num_spikes=4, t0=0.0, t1=1.0))
    ```
"""

from ._losses import (
    AbstractSpikeTrainKernel,
    AbstractSpikeTrainLoss,
    AbstractStaticKernel,
    ExpectedSignatureLoss,
    FirstSpikeTimeLoss,
    KernelMMD,
    KernelScore,
    LagStatisticLoss,
    LinearKernel,
    RBFKernel,
    SignatureKernelMMD,
    SignaturePDEKernel,
    SpikeTimeKernel,
    SpikeTimeMMD,
    TruncatedSignatureKernel,
    finite_spike_times,
    first_spike_times,
)

__all__ = [
    "AbstractSpikeTrainKernel",
    "AbstractSpikeTrainLoss",
    "AbstractStaticKernel",
    "ExpectedSignatureLoss",
    "FirstSpikeTimeLoss",
    "KernelMMD",
    "KernelScore",
    "LagStatisticLoss",
    "LinearKernel",
    "RBFKernel",
    "SignatureKernelMMD",
    "SignaturePDEKernel",
    "SpikeTimeKernel",
    "SpikeTimeMMD",
    "TruncatedSignatureKernel",
    "finite_spike_times",
    "first_spike_times",
]
