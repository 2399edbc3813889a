"""A griffe extension for the API reference: Sphinx roles in docstrings become Markdown.

The docstrings write references as ``:class:`Network```, ``:func:`~.grasshopper.run```,
``:meth:`to_buffers```. A name documented on one of the reference pages becomes a cross-reference
to its entry (``[`Network`][spikesde.Network]``); any other target becomes inline code.
"""

import pathlib
import re

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|obj|data|exc|const):`~?([^`]+)`")
_ENTRY = re.compile(r"^::: *([\w.]+)", re.MULTILINE)
_PAGES = pathlib.Path(__file__).resolve().parent.parent / "api"


def _entries() -> dict[str, str]:
    """Last name component -> the reference entry's identifier, for names documented once."""
    found: dict[str, set[str]] = {}
    for page in _PAGES.glob("*.md"):
        for identifier in _ENTRY.findall(page.read_text()):
            found.setdefault(identifier.rsplit(".", 1)[-1], set()).add(identifier)
    return {name: ids.pop() for name, ids in found.items() if len(ids) == 1}


class RstRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring as Markdown links or inline code."""

    def __init__(self) -> None:
        super().__init__()
        self._entries = _entries()

    def _replace(self, match: re.Match) -> str:
        target = match.group(1).lstrip(".")
        name = target.rsplit(".", 1)[-1]
        identifier = self._entries.get(name)
        if identifier is not None and (target == name or target.startswith("spikesde.") or "." not in target):
            return f"[`{name}`][{identifier}]"
        return f"`{name if match.group(0).count('~') else target}`"

    def on_object(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None and ":`" in obj.docstring.value:
            obj.docstring.value = _ROLE.sub(self._replace, obj.docstring.value)


def _load_examples():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_reference_examples", pathlib.Path(__file__).with_name("examples.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ReferenceExamples(griffe.Extension):
    """Append the example of ``examples.py`` to the docstring of each name it still holds one for."""

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        if pkg.path != "spikesde":
            return
        examples = _load_examples()
        for identifier in examples.EXAMPLES:
            target = pkg[identifier.removeprefix("spikesde.")]
            target = target.final_target if target.is_alias else target
            code = "\n".join("    " + line if line else "" for line in examples.EXAMPLES[identifier].strip().splitlines())
            text = f"Example:\n    ```python\n{code}\n    ```"
            if target.docstring is None:
                target.docstring = griffe.Docstring(text, parent=target)
            else:
                target.docstring.value = target.docstring.value.rstrip() + "\n\n" + text
