"""The shape of the public API: sub-namespaces, deprecated spellings, docstrings, reference pages."""

import importlib
import inspect
import pathlib
import re
import textwrap
import warnings

import pytest

import spikesde as sd

NAMESPACES = (
    "spikesde",
    "spikesde.datasets",
    "spikesde.estimators",
    "spikesde.experiments",
    "spikesde.hardware",
    "spikesde.io",
    "spikesde.likelihood",
    "spikesde.losses",
    "spikesde.recipes",
    "spikesde.recipes.grasshopper",
    "spikesde.recipes.yinyang",
    "spikesde.signatures",
)
API_PAGES = pathlib.Path(__file__).resolve().parent.parent / "docs" / "api"


def _public():
    """``(namespace, name, object)`` of every public name, modules excluded."""
    for namespace in NAMESPACES:
        module = importlib.import_module(namespace)
        for name in module.__all__:
            value = getattr(module, name)
            if not inspect.ismodule(value):
                yield namespace, name, value


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_every_name_of_all_resolves(namespace):
    module = importlib.import_module(namespace)
    assert module.__doc__ and module.__doc__.strip(), f"{namespace} has no docstring"
    assert len(module.__all__) == len(set(module.__all__)), f"{namespace}.__all__ has duplicates"
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{namespace}.{name}"


def test_sub_namespaces_are_attributes_of_the_package():
    for namespace in NAMESPACES[1:]:
        parts = namespace.split(".")
        value = sd
        for part in parts[1:]:
            value = getattr(value, part)
        assert value is importlib.import_module(namespace)


@pytest.mark.parametrize("old", sorted(sd._MOVED))
def test_a_moved_name_warns_and_returns_the_new_object(old):
    module, new = sd._MOVED[old]
    expected = getattr(importlib.import_module(f"spikesde.{module}"), new)
    with pytest.warns(DeprecationWarning, match=re.escape(f"spikesde.{module}.{new}")):
        value = getattr(sd, old)
    assert value is expected
    assert new in importlib.import_module(f"spikesde.{module}").__all__
    assert old not in sd.__all__ and old not in dir(sd)


def test_renamed_classifiers_follow_the_method_suffix_scheme():
    assert sd.estimators.PathwiseClassifier.__name__ == "PathwiseClassifier"
    assert sd.estimators.SurrogateClassifier.__name__ == "SurrogateClassifier"
    for name in ("PathwiseClassifier", "SurrogateClassifier", "ScoreFunctionClassifier", "MultiSampleEMClassifier",
                 "OnlineEMClassifier"):
        assert issubclass(getattr(sd.estimators, name), sd.estimators.AbstractClassifierEstimator), name
    for name in ("PathwiseGradient", "ScoreFunctionGradient", "MaximumLikelihood"):
        assert issubclass(getattr(sd, name), sd.AbstractGradientEstimator), name


def test_an_unknown_name_is_an_attribute_error_that_names_it():
    with pytest.raises(AttributeError, match="not_a_name"):
        sd.not_a_name  # noqa: B018


def test_the_top_level_imports_no_plotting_code():
    import subprocess
    import sys

    code = "import sys, spikesde; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def _own_docstring(value) -> str:
    doc = value.__doc__ or ""
    # dataclasses (and equinox modules) write "Name(field, ...)" when a class has no docstring
    if inspect.isclass(value) and doc.startswith(f"{value.__name__}("):
        return ""
    return doc.strip()


def test_every_public_name_has_a_docstring():
    missing = [f"{namespace}.{name}" for namespace, name, value in _public() if not _own_docstring(value)]
    assert not missing, f"no docstring: {missing}"


def _documented_identifiers() -> set[str]:
    found = set()
    for page in API_PAGES.glob("*.md"):
        found |= set(re.findall(r"^::: *([\w.]+)", page.read_text(), flags=re.MULTILINE))
    return found


def test_every_public_name_appears_in_the_api_reference():
    documented = _documented_identifiers()
    assert documented, f"no '::: identifier' entries under {API_PAGES}"
    by_object = {}
    for namespace, name, value in _public():
        by_object.setdefault(id(value), []).append(f"{namespace}.{name}")
    missing = [spellings for spellings in by_object.values() if not documented.intersection(spellings)]
    assert not missing, f"public names without a reference entry: {missing}"


def test_every_reference_entry_is_a_public_name():
    public = {f"{namespace}.{name}" for namespace, name, _ in _public()} | set(NAMESPACES)
    stale = sorted(_documented_identifiers() - public)
    assert not stale, f"reference entries that are not public names: {stale}"


def test_no_moved_name_is_used_in_the_docs_or_benchmarks():
    root = API_PAGES.parent.parent
    pattern = re.compile(r"\bsd\.(" + "|".join(map(re.escape, sd._MOVED)) + r")\b")
    # the pages of docs/guide that other changes are rewriting are theirs to keep current
    theirs = {"nir.md", "likelihood.md", "particle-filter.md", "distributed.md", "grasshopper.md"}
    pages = [path for path in root.glob("docs/**/*.md") if not (path.parent.name == "guide" and path.name in theirs)]
    files = [*pages, *root.glob("benchmarks/*.py"), root / "README.md"]
    stale = {str(path.relative_to(root)): pattern.findall(path.read_text()) for path in files}
    assert not {path: names for path, names in stale.items() if names}


def test_old_top_level_code_still_runs_with_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from spikesde import ExactGradient, marcus_lift  # noqa: F401
    assert {w.category for w in caught} == {DeprecationWarning}
    assert ExactGradient is sd.estimators.PathwiseClassifier


# Every public name shows a short example in its docstring: an "Example:" section holding one
# fenced ```python block, run here with ``jax``, ``jnp`` (jax.numpy) and ``sd`` (spikesde) imported
# and a temporary folder as the working directory. The names defined in files that other changes
# are editing keep theirs in docs/_ext/examples.py until they move into the docstrings.
_EXAMPLE = re.compile(r"^Example:\n(?:[ \t]*\n)*( +)```python\n(.*?)\n\1```", re.DOTALL | re.MULTILINE)


def _docstring_example(value) -> str | None:
    doc = _own_docstring(value)
    match = _EXAMPLE.search(inspect.cleandoc(doc)) if doc else None
    return textwrap.dedent(match.group(2)) if match else None


def _pending_examples() -> dict[str, str]:
    import importlib.util

    path = API_PAGES.parent / "_ext" / "examples.py"
    spec = importlib.util.spec_from_file_location("_reference_examples", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EXAMPLES


def _examples() -> dict[str, str | None]:
    """The example of every public object (under its first spelling), None where it has none."""
    pending = _pending_examples()
    found: dict[int, tuple[list[str], str | None]] = {}
    for namespace, name, value in _public():
        spellings, code = found.setdefault(id(value), ([], _docstring_example(value)))
        spellings.append(f"{namespace}.{name}")
    examples = {}
    for spellings, code in found.values():
        waiting = [pending[s] for s in spellings if s in pending]
        assert not (code and waiting), f"{spellings[0]}: an example in its docstring and one in docs/_ext/examples.py"
        examples[spellings[0]] = code or (waiting[0] if waiting else None)
    return examples


EXAMPLES = _examples()
# Whole pipelines (seconds to minutes each): run by the slow test, in this order, in one folder (the
# grasshopper run writes the folder the others read).
PIPELINE_EXAMPLES = (
    "spikesde.experiments.run_sweep",
    "spikesde.recipes.grasshopper.select_glm",
    "spikesde.recipes.grasshopper.select_slif",
    "spikesde.recipes.grasshopper.run",
    "spikesde.recipes.grasshopper.results_table",
    "spikesde.recipes.grasshopper.load_run",
    "spikesde.recipes.grasshopper.plot_grasshopper",
    "spikesde.experiments.score_run",
)
# Examples that compile a program of their own (a simulation variant, a training step, a likelihood
# solve: 1.5 to 10 s of CPU each) run with the slow mark; the fast set compiles one simulation and one
# network and stays under ~30 s of CPU on 2 cores.
COMPILING_EXAMPLES = frozenset({
    "spikesde.FitResult", "spikesde.fit", "spikesde.Trainer", "spikesde.forward_value_and_grad",
    "spikesde.ExponentialEuler", "spikesde.GridEventLocation", "spikesde.ParallelEvents", "spikesde.LIF",
    "spikesde.reference_simulate", "spikesde.simulate_spike_trains", "spikesde.Simulated",
    "spikesde.ExpectedSignatureLoss", "spikesde.SignatureKernelMMD",
    "spikesde.estimators.PathwiseClassifier", "spikesde.estimators.SLIFSpikeTrainModel",
    "spikesde.estimators.FirstSpikeLIFNetwork", "spikesde.estimators.OnlineEMResult",
    "spikesde.hardware.LowPrecisionEuler", "spikesde.hardware.Loihi1Stepper", "spikesde.hardware.to_loihi",
    "spikesde.likelihood.LikelihoodFit", "spikesde.likelihood.fit_likelihood", "spikesde.likelihood.ProfileLikelihood",
    "spikesde.likelihood.profile_likelihood", "spikesde.likelihood.log_likelihood", "spikesde.likelihood.StimulusDesign",
    "spikesde.likelihood.buffer_log_likelihood", "spikesde.likelihood.ParticleFilter", "spikesde.likelihood.sample_spikes",
    "spikesde.recipes.yinyang.train", "spikesde.recipes.yinyang.evaluate",
})


def test_every_public_name_has_an_example():
    missing = sorted(identifier for identifier, code in EXAMPLES.items() if not code)
    assert not missing, f"public names without an 'Example:' section in their docstring: {missing}"
    public = {f"{namespace}.{name}" for namespace, name, _ in _public()}
    assert set(_pending_examples()) <= public


def test_examples_use_the_namespaced_spellings():
    pattern = re.compile(r"\bsd\.(" + "|".join(map(re.escape, sd._MOVED)) + r")\b")
    stale = {identifier: pattern.findall(code) for identifier, code in EXAMPLES.items() if code}
    assert not {identifier: names for identifier, names in stale.items() if names}


def _run_example(identifier):
    import jax
    import jax.numpy as jnp

    exec(compile(EXAMPLES[identifier], identifier, "exec"), {"jax": jax, "jnp": jnp, "sd": sd})


@pytest.mark.parametrize("identifier", [
    pytest.param(identifier, marks=[pytest.mark.slow] if identifier in COMPILING_EXAMPLES else [])
    for identifier, code in EXAMPLES.items() if code and identifier not in PIPELINE_EXAMPLES
])
def test_example_runs(identifier, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _run_example(identifier)


@pytest.mark.slow
def test_pipeline_examples_run(tmp_path, monkeypatch):
    assert set(PIPELINE_EXAMPLES) | COMPILING_EXAMPLES <= set(EXAMPLES)
    monkeypatch.chdir(tmp_path)
    for identifier in PIPELINE_EXAMPLES:
        _run_example(identifier)
