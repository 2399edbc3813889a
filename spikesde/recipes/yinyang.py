"""The Yin-Yang recipe: a 5-120-3 spiking classifier trained on the Yin-Yang task with each
gradient estimator of [`spikesde.estimators`][spikesde.estimators] (conventional splits 5000 / 1000 /
1000 points, seeds 42 / 41 / 40; inputs as first-spike times ``10 + 30 f`` ms plus a bias spike at
20 ms).

From the command line: ``python -m spikesde._experiments.yinyang --estimator exact --epochs 10``.

Example:
    ```python
    from spikesde.recipes import yinyang

    classifier = yinyang.make_estimator("surrogate")
    inputs, labels = yinyang.load_split("validation", 1000)
    ```
"""

from .._experiments.yinyang import evaluate, load_split, make_estimator, train

__all__ = ["evaluate", "load_split", "make_estimator", "train"]
