"""A throwaway PostgreSQL server on loopback for the distributed-search tests.

``initdb`` + ``pg_ctl`` in a temporary folder, on 127.0.0.1 and a free port, with password
authentication (so the tests can check that the password never leaks). PostgreSQL refuses to run
as root, so under root (CI) the server runs as the ``postgres`` user that Debian's package made.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
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
    """Start with ``start()``, stop (and delete everything) with ``stop()``."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="autoseq-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as = None
        if os.geteuid() == 0:
            self._as = pwd.getpwnam("postgres")
            os.chown(self.root, self._as.pw_uid, self._as.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as is not None:
            cmd = ["runuser", "-u", self._as.pw_name, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=self.root)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:1])} failed: {proc.stdout}\n{proc.stderr}")

    def start(self) -> PostgresServer:
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self._as is not None:
            os.chown(pwfile, self._as.pw_uid, self._as.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}",
                  "--auth=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions")
        pwfile.unlink()
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-t", "60", "-o",
                  f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off "
                  "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100",
                  "start")
        return self

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
