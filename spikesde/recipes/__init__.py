"""Recipes: whole experiments built from the public API, each a module with a ``run``/``train``
entry point, its configuration and its tables. They reproduce the figures of the guides; read them
as worked examples.

- [`spikesde.recipes.grasshopper`][spikesde.recipes.grasshopper]: the exact-likelihood fit of a
  recorded locust auditory receptor (``spikesde fit configs/grasshopper.toml``);
- [`spikesde.recipes.yinyang`][spikesde.recipes.yinyang]: Yin-Yang classification with each gradient
  estimator of [`spikesde.estimators`][spikesde.estimators]
  (``python -m spikesde._experiments.yinyang --estimator exact``).

Example:
    ```python
    from spikesde.recipes import yinyang

    classifier = yinyang.make_estimator("exact")
    ```
"""

from . import grasshopper, yinyang

__all__ = ["grasshopper", "yinyang"]
