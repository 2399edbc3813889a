"""Experiments from configuration files: the checked schema, loading, sweeps, and the models and
plots of a finished run. The command line (``spikesde fit config.toml``) runs the same code.

Example:
    ```python
    import spikesde as sd

    config = sd.experiments.load_config("configs/demo.toml")
    ```
"""

from ._experiments.config import ConfigError, load_config
from ._experiments.models import RunModels, run_models
from ._experiments.schema import Config
from ._experiments.score import score_run
from ._experiments.spike_plots import plot_spike_statistics
from ._experiments.sweep import run_sweep

__all__ = ["Config", "ConfigError", "RunModels", "load_config", "plot_spike_statistics", "run_models", "run_sweep", "score_run"]
