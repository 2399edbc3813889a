r"""Kernels between spike trains, and the losses built on them: unbiased MMD^2 and the kernel score.

For a kernel ``k`` on spike trains, a model sample ``x_1..x_m`` and data ``y_1..y_n``:

    MMD^2_u = mean_{i != i'} k(x_i, x_i') + mean_{j != j'} k(y_j, y_j') - 2 mean_{i, j} k(x_i, y_j),
    score   = mean_{i != i'} k(x_i, x_i') - 2 mean_{i, j} k(x_i, y_j),

the second the kernel scoring rule ``phi(P, y) = E k(X, X') - 2 E k(X, y)`` (Issa, Horvath, Lemercier &
Salvi 2023) averaged over the data; it differs from MMD^2 by a term of the data alone, so both have the
same gradient in the model, and it is strictly proper when ``k`` is characteristic (the signature
kernel of time-augmented paths is).
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .base import AbstractSpikeTrainLoss, _check_batches
from .kernel import AbstractKernelSolver, PDESolver
from .paths import marcus_lift
from .spike_signature import spike_train_signature


class AbstractSpikeTrainKernel(eqx.Module):
    """A kernel between spike trains; ``gram`` of two batches of spike buffers.

    Example:
        ```python
        isinstance(sd.losses.SpikeTimeKernel(2, 0.0, 1.0), sd.losses.AbstractSpikeTrainKernel)   # True: KernelMMD(kernel)
        ```
    """

    @abc.abstractmethod
    def gram(self, x: Float[Array, "bx n k"], y: Float[Array, "by n k"]) -> Float[Array, "bx by"]:
        """``K[a, b] = k(x[a], y[b])``."""


class SignaturePDEKernel(AbstractSpikeTrainKernel):
    """The untruncated signature kernel of the (scaled, compacted) Marcus lifts, by a PDE solver.

    Lift options as in :func:`spikesde.marcus_lift` (``max_events`` shortens the paths to the spikes
    a solve can hold, which the PDE's cost, quadratic in the path length, rewards). ``solver``:
    default :class:`spikesde.PDESolver` with refinement 2 (relative kernel error below about 5e-4,
    ``benchmarks/kernel_accuracy.py``).

    Example:
        ```python
        kernel = sd.losses.SignaturePDEKernel(t0=0.0, t1=1.0, solver=sd.signatures.PDESolver(refinement=1))
        x = jnp.array([[[0.2, 0.6]], [[0.3, jnp.inf]]])   # 2 trains of 1 neuron, +inf padded
        kernel.gram(x, x)   # (2, 2); KernelMMD(kernel) is SignatureKernelMMD
        ```
    """

    t0: float = eqx.field(static=True)
    t1: float = eqx.field(static=True)
    time_scale: float = eqx.field(static=True, default=1.0)
    count_scale: float = eqx.field(static=True, default=1.0)
    taper: float = eqx.field(static=True, default=0.0)
    max_events: int | None = eqx.field(static=True, default=None)
    solver: AbstractKernelSolver = PDESolver()

    def lift(self, spike_times):
        return marcus_lift(
            spike_times, t0=self.t0, t1=self.t1, time_scale=self.time_scale, count_scale=self.count_scale,
            taper=self.taper, max_events=self.max_events,
        )

    def gram(self, x, y):
        return self.solver.gram(self.lift(x), self.lift(y))


class TruncatedSignatureKernel(AbstractSpikeTrainKernel):
    """``k(x, y) = sum_{m=0}^{N} <S^m(x), S^m(y)>``: the linear kernel of depth-``N`` signatures.

    Signatures from :func:`spikesde.spike_train_signature` (cost linear in the spikes).

    Example:
        ```python
        kernel = sd.losses.TruncatedSignatureKernel(t0=0.0, t1=1.0, depth=2)
        x = jnp.array([[[0.2, 0.6]], [[0.3, jnp.inf]]])   # 2 trains of 1 neuron, +inf padded
        kernel.gram(x, x)   # (2, 2)
        ```
    """

    t0: float = eqx.field(static=True)
    t1: float = eqx.field(static=True)
    depth: int = eqx.field(static=True, default=3)
    time_scale: float = eqx.field(static=True, default=1.0)
    count_scale: float = eqx.field(static=True, default=1.0)
    taper: float = eqx.field(static=True, default=0.0)
    max_events: int | None = eqx.field(static=True, default=None)

    def features(self, spike_times):
        return spike_train_signature(
            spike_times, t0=self.t0, t1=self.t1, depth=self.depth, time_scale=self.time_scale,
            count_scale=self.count_scale, taper=self.taper, max_events=self.max_events,
        )

    def gram(self, x, y):
        return 1.0 + self.features(x) @ self.features(y).T


def _off_diagonal_mean(gram):
    m = gram.shape[0]
    return (jnp.sum(gram) - jnp.trace(gram)) / (m * (m - 1))


def _check_two(x, y, name):
    if x.shape[0] < 2:
        raise ValueError(f"the {name} needs at least two model samples, got {x.shape[0]}")
    if name == "unbiased MMD" and y.shape[0] < 2:
        raise ValueError(f"the unbiased MMD needs at least two data samples, got {y.shape[0]}")


class KernelMMD(AbstractSpikeTrainLoss):
    """Unbiased squared MMD between the model sample and the data under ``kernel``.

    Example:
        ```python
        loss = sd.losses.KernelMMD(sd.losses.SpikeTimeKernel(num_spikes=2, t0=0.0, t1=1.0))
        x = jnp.array([[[0.2, 0.6]], [[0.3, jnp.inf]]])   # 2 trains of 1 neuron, +inf padded
        loss(x, x + 0.05)
        ```
    """

    kernel: AbstractSpikeTrainKernel

    def __call__(self, model_spike_times, data_spike_times):
        x, y = _check_batches(model_spike_times, data_spike_times)
        _check_two(x, y, "unbiased MMD")
        return (
            _off_diagonal_mean(self.kernel.gram(x, x))
            + _off_diagonal_mean(self.kernel.gram(y, y))
            - 2 * jnp.mean(self.kernel.gram(x, y))
        )


class KernelScore(AbstractSpikeTrainLoss):
    """The kernel scoring rule of the model sample, averaged over the data: ``E k(X, X') - 2 E k(X, y)``.

    Example:
        ```python
        score = sd.losses.KernelScore(sd.losses.SpikeTimeKernel(num_spikes=2, t0=0.0, t1=1.0))
        x = jnp.array([[[0.2, 0.6]], [[0.3, jnp.inf]]])   # model samples
        score(x, x[:1])                                   # scored against one observed train
        ```
    """

    kernel: AbstractSpikeTrainKernel

    def __call__(self, model_spike_times, data_spike_times):
        x, y = _check_batches(model_spike_times, data_spike_times)
        _check_two(x, y, "kernel score")
        return _off_diagonal_mean(self.kernel.gram(x, x)) - 2 * jnp.mean(self.kernel.gram(x, y))


class SignatureKernelMMD(KernelMMD):
    r"""Unbiased squared MMD with the signature PDE kernel of the Marcus-lifted spike trains.

    A shorthand for ``KernelMMD(SignaturePDEKernel(...))``: ``refinement`` is the dyadic order of the
    PDE solver (default 2, as :class:`spikesde.PDESolver`: relative kernel error below about 5e-4
    on lifts scaled to 1-variation of order one, 2.0e-3 at 1, 7.5e-3 at 0; see
    ``benchmarks/kernel_accuracy.py``), ``static_kernel`` its static kernel. Cost ``O(B^2 L^2 4^refinement)``.

    Example:
        ```python
        loss = sd.SignatureKernelMMD(t0=0.0, t1=1.0, refinement=1)
        x = jnp.array([[[0.2, 0.6]], [[0.3, jnp.inf]]])   # 2 trains of 1 neuron, +inf padded
        loss(x, x + 0.05)
        ```
    """

    def __init__(
        self, t0, t1, time_scale=1.0, count_scale=1.0, refinement=2, taper=0.0, *, max_events=None, solver=None
    ):
        solver = PDESolver(refinement) if solver is None else solver
        self.kernel = SignaturePDEKernel(
            t0=t0, t1=t1, time_scale=time_scale, count_scale=count_scale, taper=taper, max_events=max_events,
            solver=solver,
        )
