"""The ``[optimizer]`` section of the configuration schema: one tagged struct per optimiser (``optimizer.name``)."""

from typing import Literal

from .schema_base import _Section


class _Optimizer(_Section):
    """``lr`` and its schedule over ``training.steps``: constant, decaying to ``final_lr``, or
    ``piecewise`` (``lr`` until ``boundaries[0]``, then ``values[0]`` until ``boundaries[1]``, ...)."""

    lr: float
    schedule: Literal["constant", "exponential", "cosine", "linear", "piecewise"] = "constant"
    final_lr: float | None = None  # the learning rate at the last step of a decaying schedule
    boundaries: list[int] = []  # piecewise: the steps where the learning rate changes
    values: list[float] = []  # piecewise: the learning rate from each boundary on

    def __post_init__(self):
        if not self.lr > 0:
            raise ValueError(f"lr: must be positive, got {self.lr}")
        if self.schedule != "piecewise" and (self.boundaries or self.values):
            raise ValueError("boundaries: only applies to schedule = 'piecewise'")
        if self.schedule == "piecewise":
            if self.final_lr is not None:
                raise ValueError("final_lr: a piecewise schedule takes boundaries and values, not final_lr")
            if not self.boundaries or len(self.values) != len(self.boundaries):
                raise ValueError(f"values: a piecewise schedule needs one value per boundary, got {len(self.values)} "
                                 f"values for {len(self.boundaries)} boundaries")  # fmt: skip
            if any(b <= a for a, b in zip([0, *self.boundaries[:-1]], self.boundaries)):
                raise ValueError(f"boundaries: must be positive and increasing, got {self.boundaries}")
            if not all(v > 0 for v in self.values):
                raise ValueError(f"values: learning rates must be positive, got {self.values}")
            return
        if self.schedule == "constant" and self.final_lr is not None:
            raise ValueError("final_lr: only applies to a decaying schedule (exponential, cosine, linear)")
        if self.schedule != "constant":
            if self.final_lr is None or not 0 <= self.final_lr <= self.lr:
                raise ValueError(f"final_lr: a {self.schedule} schedule needs final_lr in [0, lr = {self.lr}]")
            if self.schedule == "exponential" and self.final_lr == 0:
                raise ValueError("final_lr: an exponential schedule needs a positive final_lr")


class RMSprop(_Optimizer, tag_field="name", tag="rmsprop"):
    decay: float = 0.9
    momentum: float = 0.0
    eps: float = 1e-8


class Adam(_Optimizer, tag_field="name", tag="adam"):
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8


class SGD(_Optimizer, tag_field="name", tag="sgd"):
    momentum: float = 0.0


class Optax(_Optimizer, tag_field="name", tag="optax", kw_only=True):
    """Any optax optimiser: ``function = "adamw"``, its keyword arguments in ``options``."""

    function: str
    options: dict[str, float | int | bool | str] = {}


class Newton(_Section, tag_field="name", tag="newton"):
    """Levenberg-damped Newton steps (``training.steps`` of them); only with ``loss.kind = "exact_likelihood"``."""

    damping: float = 1e-3

    def __post_init__(self):
        if not self.damping > 0:
            raise ValueError(f"damping: must be positive, got {self.damping}")


Optimizer = RMSprop | Adam | SGD | Optax | Newton
