"""The worker processes of ``--jobs``: parse the worker's options, run it, end as a CLI would.

``_parallel`` starts each worker as ``python -c`` calling ``main`` here, so the library never
runs its own CLI. The process contract is ``autoseq worker``'s: exit 0 when done (after one
``worker done: …`` line), 2 with one ``error: …`` line on bad input, 130 on Ctrl-C, 143 on
SIGTERM (``autoseq._interrupt``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from autoseq._console import exit_stopped, log_to_stderr
from autoseq._interrupt import (
    DEFAULT_GRACE,
    terminate_immediately,
)
from autoseq.backends import DEFAULT_STUDY
from autoseq.exceptions import AutoseqError
from autoseq.searching._devices import PRECISIONS
from autoseq.searching._parallel import STORAGE_ENV
from autoseq.searching._worker import run_worker, summary_line
from autoseq.trial._objective import COMPILE_MODES


def main(argv: list[str] | None = None) -> None:
    """Run one worker with the options in ``argv`` (default: this process's arguments).

    Example:
        >>> main(["--study", "airline", "--run-dir", "results/airline", "--worker-index", "0"])
    """
    own = argv is None  # a process of its own (not a caller's in-process use)
    if own:
        terminate_immediately()
    args = _parser().parse_args(sys.argv[1:] if own else argv)
    log_to_stderr(args.quiet)
    try:
        summary = run_worker(args.storage, study=args.study, run_dir=args.run_dir,
                             data=args.data, trials=args.trials, timeout=args.timeout,
                             max_failures=args.max_failures, precision=args.precision,
                             compile=args.compile, seed=args.seed, grace=args.grace,
                             worker_index=args.worker_index)
    except AutoseqError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        exit_stopped(exc, own=own)
    print(summary_line(summary, study=args.study))
    sys.exit(0)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one ``error:`` line and exit 2, as the CLI does
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="autoseq worker", description="One worker of a search's study.")
    storage = os.environ.get(STORAGE_ENV)
    p.add_argument("--storage", default=storage, required=storage is None,
                   help=f"the study's storage [default: env {STORAGE_ENV}]")
    p.add_argument("--study", default=DEFAULT_STUDY)
    p.add_argument("--run-dir")
    p.add_argument("--data")
    p.add_argument("--trials", type=_at_least(int, 1))
    p.add_argument("--timeout", type=_at_least(float, 0))
    p.add_argument("--max-failures", type=_at_least(int, 1), default=10)
    p.add_argument("--precision", choices=PRECISIONS)
    p.add_argument("--compile", choices=COMPILE_MODES)
    p.add_argument("--seed", type=int)
    p.add_argument("--grace", type=_at_least(float, 0), default=DEFAULT_GRACE)
    p.add_argument("--worker-index", type=_at_least(int, 0))
    p.add_argument("--quiet", "-q", action="store_true")
    return p


def _at_least(kind: type, low: float) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}. Received: {text}")
        return value

    return convert
