"""What an autoseq process writes to its terminal: log lines, and the line it ends on when stopped.

Shared by the CLI and the worker processes of ``--jobs`` (``autoseq.searching._entry``), which
must read alike in a terminal and in a worker's log.
"""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

from autoseq._interrupt import EXIT_TERMINATED, exit_code_of, exit_now

INTERRUPTED_NOTE = "interrupted: finished trials are kept; run the same command to resume"
TERMINATED_NOTE = ("terminated (SIGTERM): the running trial is queued again; finished trials are "
                   "kept")


def exit_stopped(exc: BaseException, *, own: bool) -> NoReturn:
    """End a stopped command: 130 on Ctrl-C, 143 on SIGTERM, after its one-line note.

    ``own``: this is a process of its own (not a caller's in-process use), so SIGTERM ends it at
    once: the study is already consistent and nothing else must run.
    """
    code = exit_code_of(exc)
    if code == EXIT_TERMINATED:
        print(TERMINATED_NOTE, file=sys.stderr)
        if own:
            exit_now(code)
    else:
        print(INTERRUPTED_NOTE, file=sys.stderr)
    sys.exit(code)


def log_to_stderr(quiet: bool) -> None:
    """Send the ``autoseq`` logger to stderr: info and up (warnings and up when ``quiet``)."""
    log = logging.getLogger("autoseq")
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    # Bind to the current stderr each time: an in-process caller (tests, notebooks) may have
    # swapped sys.stderr since the last command, and a handler on a closed stream fails.
    for handler in [h for h in log.handlers if getattr(h, "_autoseq_cli", False)]:
        log.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    handler._autoseq_cli = True
    log.addHandler(handler)
    log.propagate = False


class _Formatter(logging.Formatter):
    """Info as the bare message; warnings and errors as ``warning: …`` / ``error: …``."""

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        return f"{record.levelname.lower()}: {msg}" if record.levelno >= logging.WARNING else msg
