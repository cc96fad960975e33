"""Writing the report of a run folder: gather, assemble, render (the report's driver)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger("autoseq")


@dataclass(frozen=True)
class ReportPaths:
    """Where a report was written, and what it took."""

    html: Path
    markdown: Path
    files: Path
    figures: int
    seconds: float


def write_report(run_dir: str | Path, *, data: str | Path | None = None,
                 importance: bool = True) -> ReportPaths:
    """Write the report of a run folder made by ``search``.

    The best trial's network is rebuilt from its saved weights and scored on the validation and
    test splits (the test split's first use: the search never saw it); its reliance on each
    block of the lookback window and each input column is measured by permutation on the
    validation windows.

    Args:
        run_dir: the run folder (``--out`` of the search).
        data: the training CSV when it has moved since the search (checked by fingerprint).
        importance: measure what the model looks at (the slowest part; off skips it).

    Returns:
        The paths of ``report.html``, ``report.md`` and ``report_files/``.

    Raises:
        SearchError: ``run_dir`` is not a run folder or has no leaderboard yet.

    Example:
        >>> paths = autoseq.write_report("results/airline")
        >>> paths.html
        PosixPath('results/airline/report.html')
    """
    from autoseq.report._render import write
    from autoseq.report._sections import build_report, gather
    from autoseq.run import open_run

    started = time.perf_counter()
    run = open_run(run_dir)
    evidence = gather(run, data=data, importance=importance)
    report = build_report(run, evidence, started=started)
    html, md, files = write(report, run.path)
    seconds = time.perf_counter() - started
    logger.info("report written: %s (%d figures, %.1f s)", html, len(report.figures), seconds)
    return ReportPaths(html=html, markdown=md, files=files, figures=len(report.figures),
                       seconds=seconds)


def try_write_report(run_dir: str | Path, *, data: str | Path | None = None) -> Path | None:
    """Write the report as a by-product of ``search`` or ``export``: a failure is logged as a
    warning and never fails the command that produced the results."""
    quiet = _DataNotes()  # the search or export already said what reading the data found
    logger.addFilter(quiet)
    try:
        return write_report(run_dir, data=data).html
    except Exception as exc:  # noqa: BLE001 - any report error only costs the report
        logger.warning(
            "report not written (%s: %s); run 'autoseq report %s' to retry",
            type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "", run_dir)
        return None
    finally:
        logger.removeFilter(quiet)


class _DataNotes(logging.Filter):
    """Drops the notes of reading the data again (``autoseq.data``): said once already."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "/autoseq/data/" not in record.pathname.replace("\\", "/")
