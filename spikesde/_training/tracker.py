"""Trackers: where the metrics of each step go. Any object with ``log(step, record)`` and ``close()``.

The default, :class:`JsonLinesTracker`, appends one JSON object per step to a file. A run that is
killed and resumed keeps every step exactly once: :func:`repair_metrics` drops the lines of steps
at or after the checkpoint (they are about to be redone), drops torn or garbled lines wherever
they are, and keeps every valid line before the checkpoint, including those after a torn one.
"""

import json
import os
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Tracker(Protocol):
    """Receives one record (a JSON-able dict of metrics) per step."""

    def log(self, step: int, record: dict) -> None: ...

    def close(self) -> None: ...


def to_json(tree):
    """Arrays and NumPy scalars as plain Python numbers and lists."""
    if isinstance(tree, dict):
        return {str(k): to_json(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [to_json(v) for v in tree]
    if hasattr(tree, "dtype") or isinstance(tree, np.generic):
        return np.asarray(tree).tolist()
    return tree


class JsonLinesTracker:
    """Appends ``{"step": step, **record}`` as one line of JSON to ``path`` and flushes it.

    Example:
        ```python
        tracker = sd.JsonLinesTracker("metrics.jsonl")
        tracker.log(0, {"loss": 0.5})   # appends {"step": 0, "loss": 0.5}; fit(..., tracker=tracker)
        tracker.close()
        ```
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._file = None

    def log(self, step: int, record: dict) -> None:
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")
        self._file.write(json.dumps({"step": int(step), **to_json(record)}) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_metrics(path: str | Path) -> list[dict]:
    """The valid records of a metrics file in order, one per step (torn lines skipped)."""
    path = Path(path)
    if not path.exists():
        return []
    records, seen = [], set()
    with open(path, "rb") as file:
        for line in file:
            record = _parse(line)
            if record is not None and record["step"] not in seen:
                seen.add(record["step"])
                records.append(record)
    return records


def _parse(line: bytes) -> dict | None:
    try:
        record = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("step"), int) or not line.endswith(b"\n"):
        return None  # a line without its newline was cut off by a kill
    return record


def repair_metrics(path: str | Path, before_step: int) -> list[dict]:
    """Keep the valid records of steps ``< before_step`` (atomically rewritten); return them."""
    path = Path(path)
    records = [r for r in read_metrics(path) if r["step"] < before_step]
    if path.exists() or records:
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as file:
            file.writelines(json.dumps(r) + "\n" for r in records)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    return records
