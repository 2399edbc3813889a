"""The grasshopper recipe: the input of a locust auditory receptor neuron (recordings bundled with
``nitime``), estimated by the exact likelihood of a stimulus-driven SLIF and scored against a
converged Poisson GLM under one protocol.

The protocol (:class:`spikesde.likelihood.Protocol`): train on ``[0, 7)`` s, select the model on
``[7, 8)`` s, score ``[8, 10)`` s once, in bits per spike on ``[k w, (k+1) w)`` bins and by Kistler's
coincidence factor. From the command line: ``spikesde fit configs/grasshopper.toml --out
runs/grasshopper``, then ``spikesde score runs/grasshopper``.

Example:
    ```python
    from spikesde.recipes import grasshopper

    config = grasshopper.GrasshopperConfig()
    # results = grasshopper.run(config, pathlib.Path("runs/grasshopper"))  # minutes on a CPU
    ```
"""

from .._experiments.grasshopper import GrasshopperConfig, results_table, run
from .._experiments.grasshopper_figure import plot_grasshopper
from .._experiments.grasshopper_glm import select_glm
from .._experiments.grasshopper_select import select_slif
from .._experiments.score import load_run, score_run
from .._io.grasshopper import read_grasshopper, stimulus_of

__all__ = [
    "GrasshopperConfig",
    "load_run",
    "plot_grasshopper",
    "read_grasshopper",
    "results_table",
    "run",
    "score_run",
    "select_glm",
    "select_slif",
    "stimulus_of",
]
