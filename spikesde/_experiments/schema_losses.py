"""The ``[loss]`` section of the configuration schema: one tagged struct per loss (``loss.kind``)."""

from typing import Literal

import msgspec

from .schema_base import _Section


class _PathLoss(_Section):
    time_scale: float = 1.0
    count_scale: float = 1.0
    taper: float = 0.0

    def __post_init__(self):
        if self.taper < 0:
            raise ValueError(f"taper: must be non-negative, got {self.taper}")


class ExpectedSignature(_PathLoss, tag_field="kind", tag="expected_signature"):
    depth: int = 3
    reduction: Literal["sum", "mean"] = "sum"

    def __post_init__(self):
        super().__post_init__()
        if self.depth < 1:
            raise ValueError(f"depth: must be at least 1, got {self.depth}")


class SignatureMMD(_PathLoss, tag_field="kind", tag="signature_mmd"):
    refinement: int = 2  # as SignatureKernelMMD: relative kernel error below about 5e-4

    def __post_init__(self):
        super().__post_init__()
        if self.refinement < 0:
            raise ValueError(f"refinement: must be non-negative, got {self.refinement}")


class SpikeTimeMSE(_Section, tag_field="kind", tag="spike_time_mse"):
    num_spikes: int = 0  # 0: simulation.max_spikes


class SpikeTimeMAE(_Section, tag_field="kind", tag="spike_time_mae"):
    num_spikes: int = 0


class SpikeTimeMMDLoss(_Section, tag_field="kind", tag="spike_time_mmd"):
    """Unbiased MMD^2 under a Gaussian kernel on each neuron's first ``num_spikes`` intervals (or times)."""

    num_spikes: int = 0  # 0: simulation.max_spikes
    bandwidths: tuple[float, ...] = (0.5, 1.0, 2.0)  # Gaussian widths, in units of time_unit
    time_unit: float = 1.0  # intervals (or times) are divided by it
    intervals: bool = True  # false: compare the spike times themselves
    marginal: bool = False  # true: mean of one-dimensional kernels over the coordinates

    def __post_init__(self):
        if self.num_spikes < 0:
            raise ValueError(f"num_spikes: must be non-negative, got {self.num_spikes}")
        if not self.bandwidths or not all(b > 0 for b in self.bandwidths):
            raise ValueError(f"bandwidths: must be one or more positive numbers, got {self.bandwidths}")
        if not self.time_unit > 0:
            raise ValueError(f"time_unit: must be positive, got {self.time_unit}")


class LagStatistics(_Section, tag_field="kind", tag="lag_statistics"):
    """:class:`spikesde.LagStatisticLoss`: counts, first moments and alpha-kernel lag statistics of
    neuron pairs (``pairs = "connections"``: the model network's connections; ``"all"``: every pair)."""

    taus: list[float] = msgspec.field(default_factory=lambda: [0.05, 0.15])
    taper: float = 0.1
    pairs: Literal["connections", "all"] = "connections"
    whiten: Literal["none", "diagonal", "full"] = "none"
    shrinkage: float = 0.1  # "full": weight of the diagonal in the data's covariance

    def __post_init__(self):
        if not 0 < self.shrinkage <= 1:
            raise ValueError(f"shrinkage: must lie in (0, 1], got {self.shrinkage}")
        if not self.taus or not all(tau > 0 for tau in self.taus):
            raise ValueError(f"taus: must be one or more positive time scales, got {self.taus}")
        if not self.taper >= 0:
            raise ValueError(f"taper: must be non-negative, got {self.taper}")


class ExactLikelihood(_Section, tag_field="kind", tag="exact_likelihood"):
    """Maximum likelihood of a noise-free escape-noise SLIF (:func:`spikesde.log_likelihood`):
    Newton steps on the linear parameters (``training.steps`` per point, ``optimizer.name =
    "newton"``) profiled over ``mu_v`` (``mu_v_grid``, then ``golden_steps`` of golden section).

    Intervals at ``level``: Laplace, and a block bootstrap (``n_boot`` replicates of ``n_blocks``
    time blocks). Held-out metrics: bits per spike (continuous time and at ``bin_widths``), the
    coincidence factor Gamma at ``precision`` s over ``n_samples`` model samples; ``glm``: fit the
    Poisson GLM baseline (stimulus and spike-history filters on raised-cosine bases, ridge and stimulus
    representation chosen on validation, convergence checked) under the same protocol.
    """

    mu_v_grid: list[float] = msgspec.field(default_factory=lambda: [100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0])
    golden_steps: int = 6
    n_boot: int = 40
    n_blocks: int = 16
    bootstrap_steps: int = 3  # Newton steps of each bootstrap refit after its block-decomposed first step
    level: float = 0.9
    n_samples: int = 50
    bin_widths: list[float] = msgspec.field(default_factory=lambda: [0.001, 0.0005])
    precision: float = 0.002
    glm: bool = True
    # The SLIF with membrane noise, fitted by the windowed kernel score on samples (grid search from
    # the likelihood fit; empty noise_sigma_v: not fitted).
    noise_sigma_v: list[float] = []
    noise_bias_shift: list[float] = msgspec.field(default_factory=lambda: [0.0])
    noise_samples: int = 8
    noise_window: float = 0.5

    def __post_init__(self):
        if any(not s >= 0 for s in self.noise_sigma_v) or not self.noise_bias_shift:
            raise ValueError("noise_sigma_v: must be non-negative, with at least one noise_bias_shift")
        if self.noise_samples < 2 or not self.noise_window > 0:
            raise ValueError("noise_samples: needs at least 2 samples and a positive noise_window")
        if not self.mu_v_grid or any(not m > 0 for m in self.mu_v_grid):
            raise ValueError(f"mu_v_grid: must list positive membrane rates, got {self.mu_v_grid}")
        for name in ("golden_steps", "n_boot", "bootstrap_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be non-negative, got {getattr(self, name)}")
        if self.n_blocks < 2:
            raise ValueError(f"n_blocks: must be at least 2, got {self.n_blocks}")
        if not 0 < self.level < 1:
            raise ValueError(f"level: must lie in (0, 1), got {self.level}")
        if self.n_samples < 1:
            raise ValueError(f"n_samples: must be at least 1, got {self.n_samples}")
        if any(not w > 0 for w in self.bin_widths) or not self.precision > 0:
            raise ValueError("bin_widths: bin widths and precision must be positive")


Loss = (
    ExpectedSignature | SignatureMMD | SpikeTimeMSE | SpikeTimeMAE | SpikeTimeMMDLoss | LagStatistics | ExactLikelihood
)
