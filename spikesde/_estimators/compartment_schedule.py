r"""A schedule of the number of compartments (samples) of multi-sample EM over training: the K-curriculum.

Trained from a random network with many compartments (K = 10 on Yin-Yang), importance-weighted EM can
fall in its first epoch into a mode where the observed spikes are explained by *which* hidden sample
was drawn rather than by the input (importance weights degenerate, outputs stop depending on the
class; ``notes/em-k10.md`` in the git history). Training the first ``warmup_epochs`` epochs with ``warmup_compartments``
(usually 1) and only then with ``K`` avoids it: the network is input-driven before many samples can
select lucky hidden activity.

The schedule works with anything that has a ``num_compartments`` field (:class:`MultiSampleEM`,
:class:`OnlineMultiSampleEM`, the EM classifiers): :meth:`CompartmentSchedule.at` returns a copy with
the epoch's ``K``.
"""

import dataclasses

import equinox as eqx

from .multisample import check_compartments


class CompartmentSchedule(eqx.Module):
    """``warmup_compartments`` for the first ``warmup_epochs`` epochs, then the estimator's own ``K``.

    Arguments:
        warmup_compartments: ``K0``, the number of compartments during the warm-up.
        warmup_epochs: how many epochs (from the first, counted from 0) use ``K0``; 0: no warm-up.
        restart_optimiser: start the optimiser afresh (e.g. Adam's moments) when ``K`` switches,
            as a new training run from the warm model would.

    Example:
        ```python
        schedule = sd.estimators.CompartmentSchedule(warmup_compartments=1, warmup_epochs=3)   # K = 1 for 3 epochs
        classifier = sd.estimators.MultiSampleEMClassifier(num_compartments=5, schedule=schedule)
        ```
    """

    warmup_compartments: int = eqx.field(static=True, default=1)
    warmup_epochs: int = eqx.field(static=True, default=0)
    restart_optimiser: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        check_compartments(self.warmup_compartments)
        if int(self.warmup_epochs) != self.warmup_epochs or self.warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be a non-negative integer, got {self.warmup_epochs}")

    def compartments(self, epoch: int, num_compartments: int) -> int:
        """``K`` of epoch ``epoch`` (0-based) for an estimator whose own ``K`` is ``num_compartments``."""
        return self.warmup_compartments if epoch < self.warmup_epochs else num_compartments

    def at(self, estimator, epoch: int):
        """``estimator`` (anything with a ``num_compartments`` field) with the ``K`` of ``epoch``."""
        k = self.compartments(epoch, estimator.num_compartments)
        return estimator if k == estimator.num_compartments else dataclasses.replace(estimator, num_compartments=k)

    def restarts(self, epoch: int) -> bool:
        """Whether the optimiser is restarted at the start of ``epoch`` (the switch from ``K0`` to ``K``)."""
        return self.restart_optimiser and self.warmup_epochs > 0 and epoch == self.warmup_epochs

    def check_epochs(self, epochs: int) -> None:
        """A run of ``epochs`` must leave at least one epoch after the warm-up (ValueError otherwise)."""
        if self.warmup_epochs >= epochs:
            raise ValueError(f"warmup_epochs must be less than the number of epochs ({epochs}), got {self.warmup_epochs}")
