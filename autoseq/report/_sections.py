"""The report's content: the run folder read and the best model evaluated once (``gather``),
then the run kind's sections assembled into a ``Report`` (``build_report``).

Data flows one way: the run folder (``run.json``, ``leaderboard.csv``, the study, each trial's
weights) → ``Evidence`` → ``Section`` objects; nothing here writes files, and which sections a
kind of run gets is the kind's business (``Task.report``), not this module's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import autoseq.report._format as fmt
from autoseq import __version__
from autoseq.exceptions import AutoseqError
from autoseq.leaderboard import best_trial_row
from autoseq.report._content import Paragraph, Report
from autoseq.report._evidence import Evidence
from autoseq.report._lags import share_sentence
from autoseq.report._shared import winner_words
from autoseq.report._study import load_study
from autoseq.run import Run
from autoseq.tasks import task_of


def gather(run: Run, *, data: str | Path | None = None, importance: bool = True) -> Evidence:
    """Read the run folder and evaluate the best model once (for every section to share)."""
    board = run.leaderboard()
    ev = Evidence(run=run, board=board, study=load_study(run))
    ev.best = best_trial_row(board)
    kind = task_of(run.settings).report
    try:
        ev.data = run.data(data)
    except (AutoseqError, OSError) as exc:
        if data is not None:  # the file the user named is not the run's: say so, write nothing
            raise
        ev.data_note = (f"The training data could not be re-read ({exc}); sections that need "
                        "it are left out. Pass the CSV with --data.")
    if ev.best is not None and ev.data is not None:
        kind.evaluate(ev, importance=importance)
    return ev


def build_report(run: Run, ev: Evidence, *, started: float) -> Report:
    """Assemble every section from the evidence gathered by ``write_report``."""
    kind = task_of(run.settings).report
    info = run.info
    src = Path((info.get("data") or {}).get("source", "data")).name
    targets, what = kind.headline(ev)
    return Report(
        title=f"autoseq report: {src} → {targets}",
        subtitle=(f"{what} · run folder {run.path.name} · search started "
                  f"{fmt.when(info.get('created'))}"),
        summary=summary(ev, kind.skill),
        sections=kind.sections(ev),
        generated=f"autoseq {__version__}, {time.strftime('%Y-%m-%d %H:%M')}",
        seconds=time.perf_counter() - started,
    )


def summary(ev: Evidence, skill: Callable[[Evidence], str]) -> list[Paragraph]:
    """The few sentences a reader needs if they read nothing else; ``skill`` says how the model
    compares with the baselines."""
    if ev.best is None:
        return [Paragraph("No trial produced a result; there is no model to describe.",
                          kind="key")]
    out = [Paragraph(f"{winner_words(ev)} (trial {int(ev.best['trial'])} of "
                     f"{len(ev.trials)}).", lead="Winner:", kind="key"),
           Paragraph(fmt.capital(skill(ev)), lead="Against the baselines:", kind="key")]
    if ev.by_block is not None:
        out.append(Paragraph(share_sentence(ev.by_block.labels, ev.by_block.shares,
                                            what="block of the lookback window"),
                             lead="What it looks at:", kind="key"))
    return out


__all__ = ["Evidence", "build_report", "gather"]
