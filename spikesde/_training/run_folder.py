"""The run folder: checked before anything is written, owned files only, one process at a time.

A run folder holds ``run.json`` (what made it a run folder, with the run's fingerprint),
``metrics.jsonl``, ``checkpoint.eqx``, ``final.json`` and, while a process works in it, ``.lock``
(created with ``O_CREAT | O_EXCL``, holding the pid). :func:`fit` never deletes a file that is not
one of these, refuses a non-empty folder that is not a run folder, and takes over a lock only when
the process that holds it is dead.
"""

import json
import os
from pathlib import Path

from .errors import RunFolderError

RUN_FILE = "run.json"
LOCK_FILE = ".lock"
OWNED_FILES = ("metrics.jsonl", "checkpoint.eqx", "final.json", RUN_FILE)
_TEMPORARY = tuple(name + ".tmp" for name in OWNED_FILES)


def read_run_file(folder: Path) -> dict:
    """The contents of ``run.json``, or a :class:`RunFolderError` naming it."""
    path = folder / RUN_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(info, dict) or info.get("spikesde_run") != 1 or not isinstance(info.get("fingerprint"), dict):
            raise ValueError
    except (OSError, UnicodeDecodeError, ValueError):
        raise RunFolderError(path, "is corrupted or not a spikesde run file; move the folder aside and start a new run") from None
    return info


def check_out_dir(folder: str | Path, *, resume: bool, overwrite: bool) -> str:
    """Check ``folder`` without touching it: ``"new"``, ``"resume"`` or ``"overwrite"``, or a :class:`RunFolderError`."""
    folder = Path(folder)
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other")
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(folder, "is a file, not a folder; choose a folder for the run")
    if not folder.exists():
        parent = next(p for p in folder.absolute().parents if p.exists())
        if not parent.is_dir():
            raise RunFolderError(parent, "is a file, not a folder; choose another output folder")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise RunFolderError(parent, "is not writable; choose another output folder")
        return "new"
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RunFolderError(folder, "is not writable; choose another output folder")
    contents = [p.name for p in folder.iterdir()]
    if not contents:
        return "new"
    if RUN_FILE not in contents:
        raise RunFolderError(
            folder, "is not empty and is not a spikesde run folder; choose an empty or new folder (nothing was changed)"
        )
    read_run_file(folder)
    if resume:
        return "resume"
    if overwrite:
        return "overwrite"
    raise RunFolderError(folder, "already holds a run; pass resume=True to continue it or overwrite=True to replace it")


def remove_owned_files(folder: Path) -> None:
    """Delete the files a run writes (and only those), to start the run again in ``folder``."""
    for name in OWNED_FILES + _TEMPORARY:
        (folder / name).unlink(missing_ok=True)


def write_run_file(folder: Path, fingerprint: dict[str, str]) -> None:
    info = {"spikesde_run": 1, "fingerprint": fingerprint}
    tmp = folder / (RUN_FILE + ".tmp")
    tmp.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, folder / RUN_FILE)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a live process of another user
    return True


class RunLock:
    """Exclusive use of a run folder by this process (a context manager)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self._held = False

    def acquire(self) -> "RunLock":
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid = self._holder()
                if pid is not None and _alive(pid):
                    raise RunFolderError(
                        self.folder, f"is in use by process {pid} (lock file {LOCK_FILE}); wait for it to finish"
                    ) from None
                self.path.unlink(missing_ok=True)  # the holder died: take the lock over
                continue
            except OSError as error:
                raise RunFolderError(self.folder, f"cannot create the lock file ({error.strerror})") from None
            with os.fdopen(fd, "w") as file:
                file.write(f"{os.getpid()}\n")
            self._held = True
            return self
        raise RunFolderError(self.folder, "another process keeps taking the lock; try again")

    def _holder(self) -> int | None:
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None  # gone meanwhile, or written by a process killed mid-write

    def release(self) -> None:
        if self._held:
            self.path.unlink(missing_ok=True)
            self._held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
