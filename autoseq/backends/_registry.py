"""Which local worker processes of a run folder are alive: one locked file per process.

Each process that runs or watches trials in a run folder holds an exclusive ``flock`` on its own
file ``.workers/<host>-<pid>-<token>.lock`` for as long as it lives; the kernel releases the lock the
moment the process dies, however it dies (SIGKILL included). Another process can therefore tell
a dead local worker from a slow one at once, without waiting for a heartbeat's grace period.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import socket
from pathlib import Path

_DIR = ".workers"


_TOKEN = secrets.token_hex(3)


def worker_id() -> str:
    """``host:pid-token`` of this process: the value stored with every trial it starts.

    The random token keeps two processes apart that share a host name and a pid (containers on
    one host, each with its own pid namespace).
    """
    return f"{socket.gethostname()}:{os.getpid()}-{_TOKEN}"


def _file_name(wid: str) -> str:
    host, _, rest = wid.rpartition(":")
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', host)}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', rest)}.lock"


class WorkerRegistry:
    """This process's entry in a run folder's registry of live workers.

    Args:
        run_dir: the run folder.
    """

    def __init__(self, run_dir: Path):
        self.dir = Path(run_dir) / _DIR
        self.id = worker_id()
        self.host = self.id.rpartition(":")[0]
        self._fd: int | None = None

    def register(self) -> None:
        """Create and lock this process's file (locked before it becomes visible)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / _file_name(self.id)
        tmp = self.dir / f".{path.name}.tmp"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, self.id.encode())
        os.replace(tmp, path)
        self._fd = fd

    def close(self) -> None:
        if self._fd is None:
            return
        (self.dir / _file_name(self.id)).unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None
        try:
            self.dir.rmdir()  # the last one out tidies up
        except OSError:
            pass

    def alive(self, wid: str) -> bool | None:
        """``True``/``False`` when ``wid`` ran on this host and registered here; else ``None``."""
        if wid == self.id:
            return True
        if wid.rpartition(":")[0] != self.host:
            return None
        path = self.dir / _file_name(wid)
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path.unlink(missing_ok=True)  # a dead process's file: tidy it away
            return False
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return True
            raise
        finally:
            os.close(fd)

    def others_alive(self) -> bool:
        """Whether any other process holds a live entry in this run folder."""
        if not self.dir.is_dir():
            return False
        for path in self.dir.glob("*.lock"):
            try:
                wid = path.read_text(encoding="utf-8").strip()
            except OSError:
                continue
            if wid and wid != self.id and self.alive(wid):
                return True
        return False
