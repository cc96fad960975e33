"""A throwaway PostgreSQL server on loopback for the distributed-search tests.

``initdb`` + ``pg_ctl`` in a temporary folder, on 127.0.0.1 and a free port, with password
authentication (so the tests can check that the password never leaks). PostgreSQL refuses to run
as root, so under root (CI) it runs as the ``postgres`` user that Debian's package made.
"""

from __future__ import annotations

import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

USER = "autoseq"
PASSWORD = "Pw-f0r-autoseq-tests"


def find_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` (Debian), else wherever ``initdb`` is."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """Start with ``start()``, stop (and delete everything) with ``stop()``.

    The server runs in the foreground as a child of the test process that dies with it (even on
    SIGKILL), so an interrupted test run never leaves a server behind.
    """

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="autoseq-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None
        self._as = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if self._as is not None:
            os.chown(self.root, self._as.pw_uid, self._as.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def _preexec(self) -> None:
        """In the child: become the postgres user (it refuses root) and die with the parent."""
        if self._as is not None:
            os.setgroups([])
            os.setgid(self._as.pw_gid)
            os.setuid(self._as.pw_uid)
        if sys.platform.startswith("linux"):
            ctypes.CDLL(None).prctl(1, int(signal.SIGQUIT))  # PR_SET_PDEATHSIG: immediate stop

    def start(self, timeout: float = 60) -> PostgresServer:
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self._as is not None:
            os.chown(pwfile, self._as.pw_uid, self._as.pw_gid)
        proc = subprocess.run(
            [str(self.bindir / "initdb"), "-D", str(self.data), "-U", USER,
             f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--no-sync",
             "--no-instructions"], capture_output=True, text=True, timeout=120, cwd=self.root,
            preexec_fn=self._preexec)
        pwfile.unlink()
        if proc.returncode != 0:
            raise RuntimeError(f"initdb failed: {proc.stdout}\n{proc.stderr}")
        with open(self.root / "server.log", "wb") as log:
            self.proc = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(self.data), "-h", "127.0.0.1",
                 "-p", str(self.port), "-k", str(self.root), "-c", "fsync=off",
                 "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                 "-c", "max_connections=100"], stdout=log, stderr=subprocess.STDOUT,
                cwd=self.root, preexec_fn=self._preexec,
                start_new_session=True)  # its shutdown signals its own process group, not ours
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {(self.root / 'server.log').read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                if self._ready():
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("postgres did not start in time")

    def _ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url, connect_timeout=2):
                return True
        except psycopg.OperationalError:  # still starting up
            return False

    def stop(self) -> None:
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)  # fast shutdown
                try:
                    self.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
