"""Examples of the public names defined in files that other changes were editing in this round.

Every other public name carries its example in its own docstring (an "Example:" section with a
fenced python block). These wait here until they move into their docstrings the same way; the docs
build appends each to its entry's docstring (docs/_ext/rst_roles.py:ReferenceExamples) and
tests/test_api.py runs them as it runs the docstrings' examples. Delete an entry when its docstring
gets the example, and this file (with its hook in mkdocs.yml) when none is left.
"""

EXAMPLES = {
    "spikesde.experiments.score_run": """
scores = sd.experiments.score_run("runs/grasshopper", window="test")   # a folder written by recipes.grasshopper.run
""",
    "spikesde.likelihood.Protocol": """
protocol = sd.likelihood.Protocol(train=(0.0, 7.0), validation=(7.0, 8.0), test=(8.0, 10.0))
protocol.bin_widths   # (0.001, 0.0005): bits/spike at these bins
""",
    "spikesde.recipes.grasshopper.GrasshopperConfig": """
config = sd.recipes.grasshopper.GrasshopperConfig(recording=1, train_end=8.0)   # configs/grasshopper.toml's defaults
""",
    "spikesde.recipes.grasshopper.load_run": """
run = sd.recipes.grasshopper.load_run("runs/grasshopper")   # a folder written by run
run["slif"], run["protocol"]
""",
    "spikesde.recipes.grasshopper.plot_grasshopper": """
run = sd.recipes.grasshopper.load_run("runs/grasshopper")   # the figure run draws: grasshopper.png
""",
    "spikesde.recipes.grasshopper.results_table": """
import json, pathlib
results = json.loads(pathlib.Path("runs/grasshopper/results.json").read_text())   # written by run
print(sd.recipes.grasshopper.results_table(results))   # Markdown: bits/spike and Gamma of the SLIF and the GLM
""",
    "spikesde.recipes.grasshopper.run": """
import pathlib
config = sd.recipes.grasshopper.GrasshopperConfig(recording=1)
results = sd.recipes.grasshopper.run(config, pathlib.Path("runs/grasshopper"))   # minutes: select, fit, score, plot
""",
    "spikesde.recipes.grasshopper.select_glm": """
trains = sd.datasets.read_grasshopper(1)
config, protocol = sd.recipes.grasshopper.GrasshopperConfig(), sd.likelihood.Protocol()
settings, scores, fits = sd.recipes.grasshopper.select_glm(trains, config, protocol)   # minutes
""",
    "spikesde.recipes.grasshopper.select_slif": """
trains = sd.datasets.read_grasshopper(1)
config, protocol = sd.recipes.grasshopper.GrasshopperConfig(), sd.likelihood.Protocol()
selected = sd.recipes.grasshopper.select_slif(trains, config, protocol)   # minutes
""",
}
