"""Checkpoints: the train state and the fingerprint of the run that wrote it, written atomically.

File layout: a magic line, one JSON header line (format, step, fingerprint by component), then
the leaves of ``(step, params, opt_state, key data)`` in equinox's serialisation. A resume reads the
header first and refuses a checkpoint whose fingerprint differs from the run's, naming the
components that differ (model, learn, loss, optimizer, simulation, training, data, test, key).
"""

import io
import json
import os
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from .errors import CheckpointError
from .trainer import TrainState

MAGIC = b"spikesde-checkpoint\n"
FORMAT = 1


def _tree(state: TrainState) -> dict:
    return {"step": state.step, "params": state.params, "opt_state": state.opt_state, "key": jax.random.key_data(state.key)}


def save_checkpoint(path: str | Path, state: TrainState, fingerprint: dict[str, str]) -> None:
    """Write ``state`` and ``fingerprint`` to ``path``; a run killed meanwhile leaves the old file whole."""
    path = Path(path)
    header = {"format": FORMAT, "step": int(state.step), "fingerprint": fingerprint}
    buffer = io.BytesIO()
    buffer.write(MAGIC)
    buffer.write(json.dumps(header, sort_keys=True).encode() + b"\n")
    eqx.tree_serialise_leaves(buffer, _tree(state))
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as file:
        file.write(buffer.getvalue())
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)


def read_header(path: str | Path) -> dict:
    """The header of the checkpoint at ``path``, or a :class:`CheckpointError` naming the file."""
    path = Path(path)
    try:
        with open(path, "rb") as file:
            magic = file.read(len(MAGIC))
            line = file.readline()
    except OSError as error:
        raise CheckpointError(path, f"cannot be read ({error.strerror})") from None
    if not magic:
        raise CheckpointError(path, "is empty; delete it to start the run afresh")
    if magic != MAGIC:
        raise CheckpointError(path, "is not a spikesde checkpoint")
    try:
        header = json.loads(line)
        int(header["step"]), dict(header["fingerprint"])
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(path, "is truncated or corrupted (unreadable header)") from None
    if header.get("format") != FORMAT:
        raise CheckpointError(path, f"has format {header.get('format')!r}; this version reads format {FORMAT}")
    return header


def check_fingerprint(path: str | Path, header: dict, fingerprint: dict[str, str]) -> None:
    """Refuse a checkpoint written by a run of another configuration, naming what differs."""
    stored = header["fingerprint"]
    differs = sorted(k for k in set(stored) | set(fingerprint) if stored.get(k) != fingerprint.get(k))
    if differs:
        raise CheckpointError(
            path,
            f"was written by a run of another configuration (different {', '.join(differs)}); resume with the "
            "same settings, or use another output folder",
        )


def load_checkpoint(path: str | Path, like: TrainState, fingerprint: dict[str, str]) -> TrainState:
    """The state saved at ``path``, checked against ``fingerprint`` and shaped like ``like``."""
    path = Path(path)
    header = read_header(path)
    check_fingerprint(path, header, fingerprint)
    with open(path, "rb") as file:
        file.read(len(MAGIC))
        file.readline()
        try:
            tree = eqx.tree_deserialise_leaves(file, _tree(like))
        except Exception:  # numpy raises several kinds on a short or garbled file
            raise CheckpointError(path, "is truncated or corrupted (its arrays cannot be read)") from None
        if file.read(1):
            raise CheckpointError(path, "is corrupted (unexpected bytes after the arrays)")
    if int(tree["step"]) != header["step"] or not all(
        np.all(np.isfinite(np.asarray(leaf))) for leaf in jax.tree_util.tree_leaves(tree["params"])
    ):
        raise CheckpointError(path, "is corrupted (its step or parameters do not match its header)")
    key = jax.random.wrap_key_data(tree["key"], impl=jax.random.key_impl(like.key))
    return TrainState(tree["step"], tree["params"], tree["opt_state"], key)
