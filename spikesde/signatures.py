"""Spike trains as paths: the Marcus lift, path signatures and signature kernels.

A spike train of ``n`` neurons on ``[t0, t1]`` is lifted to a continuous path in ``R^(1+n)``
(time, then each neuron's spike count) whose jumps are straight segments
([`marcus_lift`][spikesde.signatures.marcus_lift]); its signature
([`spike_train_signature`][spikesde.signatures.spike_train_signature]) and the signature kernel
between two such paths ([`signature_kernel`][spikesde.signatures.signature_kernel], solved by
[`PDESolver`][spikesde.signatures.PDESolver] or [`PySigLibSolver`][spikesde.signatures.PySigLibSolver])
are what [`spikesde.SignatureKernelMMD`][spikesde.SignatureKernelMMD] and
[`spikesde.ExpectedSignatureLoss`][spikesde.ExpectedSignatureLoss] compare.

Example:
    ```python
    import jax.numpy as jnp
    import spikesde as sd

    times = jnp.array([[[0.2, 0.7]]])  # (batch, neurons, spikes)
    sig = sd.signatures.spike_train_signature(times, t0=0.0, t1=1.0, depth=2)
    ```
"""

from ._losses import (
    AbstractKernelSolver,
    PDESolver,
    PySigLibSolver,
    expected_signature,
    marcus_lift,
    signature_kernel,
    signature_kernel_gram,
    spike_events,
    spike_train_signature,
)

__all__ = [
    "AbstractKernelSolver",
    "PDESolver",
    "PySigLibSolver",
    "expected_signature",
    "marcus_lift",
    "signature_kernel",
    "signature_kernel_gram",
    "spike_events",
    "spike_train_signature",
]
