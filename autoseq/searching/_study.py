"""A search's run folder and its study: ``run.json``, the folder check, names and storage."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from autoseq import __version__
from autoseq._io import write_json_atomic
from autoseq.backends import default_storage, is_journal, redact_url
from autoseq.backends._base import check_meta
from autoseq.exceptions import SearchError
from autoseq.run import RUN_FILE, open_run

JOURNAL = "study.journal"
SQLITE = "study.db"
_RUN_DIR_REFUSAL = ("{owner}: this run folder holds a search with different {what} ({detail}); "
                    "{new_search} to start another search")


def write_run_file(run_dir: Path, meta: dict[str, Any], *, storage: str, study: str,
                   algorithm: str | None, backend: str = "optuna",
                   extra: dict[str, Any] | None = None,
                   more: dict[str, Any] | None = None) -> None:
    """Write ``run.json``: the search's meta and how it ran (the storage's password redacted).

    ``extra`` goes into the ``backend`` entry, ``more`` at the top level.
    """
    write_json_atomic(run_dir / RUN_FILE, meta | {
        "autoseq_version": __version__,
        "backend": {"name": backend, "algorithm": algorithm, "storage": redact_url(storage),
                    "study": study} | dict(extra or {}),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    } | dict(more or {}))


def check_run_dir(run_dir: Path, meta: dict[str, Any], backend: str) -> None:
    """Refuse a run folder that is a file, or holds another search (other meta or backend).

    Raises:
        SearchError: naming what differs.
    """
    if not (run_dir / RUN_FILE).exists():
        if run_dir.exists() and run_dir.is_file():
            raise SearchError(f"{run_dir}: exists and is a file; pass a folder to --out")
        return
    old = open_run(run_dir).info
    check_meta(old, meta, owner=str(run_dir), new_search="pass a new --out",
               refusal=_RUN_DIR_REFUSAL)
    # Each backend keeps its own trials: another one here would hide them and reuse their numbers.
    old_backend = (old.get("backend") or {}).get("name", backend)
    if old_backend != backend:
        raise SearchError(f"{run_dir}: this run folder holds a search made with --backend "
                          f"{old_backend}; resume it with that backend or pass a new --out. "
                          f"Received: --backend {backend}")


def default_name(data: str | Path, targets: list[str]) -> str:
    """The run folder's default name: ``<file>-<target>``, safe as a folder name."""
    name = f"{Path(data).stem}-{'-'.join(targets)}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80]


def resolve_storage(storage: str | None, run_dir: Path, *, spawn: bool) -> str:
    """The default storage: SQLite for one process, a journal file when several share it.

    A run folder keeps the storage it started with: a journal found there is always used.
    """
    journal, db = run_dir / JOURNAL, run_dir / SQLITE
    if storage is None:
        if journal.exists():
            return str(journal.resolve())
        if spawn and not db.exists():
            return str(journal.resolve())
        if spawn:
            raise SearchError(f"{run_dir}: this search's study is in SQLite ({SQLITE}), which "
                              "several processes cannot share safely; resume it with --jobs 1, "
                              "or start the parallel search in a new --out folder")
        return default_storage(run_dir)
    if spawn and storage.startswith("sqlite"):
        raise SearchError("--jobs/--gpus with SQLite storage: SQLite is unsafe when several "
                          "processes write to it; leave --storage out (a journal file in the "
                          "run folder is used) or pass a postgresql:// URL")
    return storage


def worker_run_dir(run_dir: str | Path | None, storage: str, *, default: str) -> Path:
    """A worker's run folder: ``run_dir``, else ``results/<default>``; a journal's own folder."""
    if is_journal(storage):
        # Local processes sharing a journal file must share its folder: that is where they see
        # each other alive (a journal has no heartbeats).
        home = Path(storage).resolve().parent
        if run_dir is not None and Path(run_dir).resolve() != home:
            raise SearchError(f"--run-dir {run_dir}: a worker on the journal file {storage} "
                              f"must use its folder {home}; leave --run-dir out")
        return home
    return Path(run_dir) if run_dir else Path("results") / default


def remove_if_empty(run_dir: Path) -> None:
    """Leave no empty folder behind a search that could not start."""
    for folder in (run_dir / ".workers", run_dir):
        try:
            folder.rmdir()  # only when empty
        except OSError:
            pass
