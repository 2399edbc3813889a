"""The grasshopper recipe: fit recording 1 of a locust auditory receptor neuron (bundled with
``nitime``) by the exact likelihood of a stimulus-driven SLIF, against a Poisson GLM (nemos).

Trains on ``[0, 8]`` s and scores the held-out ``(8, 10]`` s in bits per spike and coincidence
factor. From the command line: ``spikesde fit configs/grasshopper.toml --out runs/grasshopper``.

Example:
    ```python
    from spikesde.recipes import grasshopper

    config = grasshopper.GrasshopperConfig()
    # results = grasshopper.run(config, pathlib.Path("runs/grasshopper"))  # minutes on a CPU
    ```
"""

from .._experiments.grasshopper import GrasshopperConfig, fit_recording, results_table, run
from .._experiments.grasshopper_figure import plot_grasshopper
from .._experiments.grasshopper_noise import fit_membrane_noise, psth_error
from .._io.grasshopper import read_grasshopper, stimulus_of

__all__ = [
    "GrasshopperConfig",
    "fit_membrane_noise",
    "fit_recording",
    "plot_grasshopper",
    "psth_error",
    "read_grasshopper",
    "results_table",
    "run",
    "stimulus_of",
]
