"""Data sets: the Yin-Yang classification task (generated, no download) and the grasshopper
auditory-receptor recording (bundled with ``nitime``: ``pip install spikesde[data]``).

Example:
    ```python
    import spikesde as sd

    data = sd.datasets.yinyang(1000, seed=42)
    times = sd.datasets.encode_first_spike_times(data.features)
    ```
"""

from ._datasets import YinYang, encode_first_spike_times, yinyang_class
from ._datasets.yinyang import yinyang  # the function, not the module of the same name
from ._io.grasshopper import read_grasshopper, stimulus_of

__all__ = [
    "YinYang",
    "encode_first_spike_times",
    "read_grasshopper",
    "stimulus_of",
    "yinyang",
    "yinyang_class",
]
