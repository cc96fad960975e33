"""The panel report's calibrated-intervals part: how the exported model's bands covered every
series' test window, against the baseline band with the lowest MSIS, and the coverage by
horizon step.

It reads the exported model folder (``export/``) when it serves quantiles; the scores are the
manifest's, computed at export on every series' test windows (MSIS the M4 way, per series).
"""

from __future__ import annotations

from typing import Any

import autoseq.report._format as fmt
from autoseq.report._content import Paragraph, Section
from autoseq.report._evidence import Evidence
from autoseq.report._intervals import (
    coverage_figure,
    coverage_words,
    exported_intervals,
    intervals_table,
    method_note,
)


def panel_intervals_section(ev: Evidence) -> Section | None:
    """The section, or ``None`` when the run has no export with intervals."""
    manifest = exported_intervals(ev)
    if manifest is None:
        return None
    metrics = manifest["metrics"]
    test, others = metrics["test_intervals"], metrics.get("test_baselines_intervals", {})
    sec = Section("intervals", "Calibrated intervals on the test split")
    sec.add(Paragraph(panel_interval_sentence(test, others), kind="key"))
    sec.add(coverage_figure(test["levels"], int(manifest["horizon"])))
    sec.add(intervals_table(test["levels"], others))
    return sec.add(method_note(manifest["intervals"]))


def panel_interval_sentence(test: dict[str, Any], others: dict[str, Any]) -> str:
    """"95% of the test outcomes fell inside the 95% band, over 30 series; MSIS 4.1 vs
    linear(L=14)'s 5.3." — for the widest level, against the baseline band with the lowest
    MSIS there."""
    levels = test["levels"]
    level = max(levels, key=float)
    words = coverage_words(levels, level)
    if test.get("series"):
        words += f", over {fmt.integer(test['series'])} series"
    scored = {n: o["levels"][level]["msis"] for n, o in others.items()
              if o["levels"].get(level, {}).get("msis") is not None}
    rival = min(scored, key=scored.get) if scored else None
    theirs = others[rival]["levels"][level] if rival else {}
    mine = levels[level].get("msis")
    if mine is None or theirs.get("msis") is None:
        return words + "."
    return (f"{words}; MSIS {fmt.num(mine, 3)} vs {rival}'s {fmt.num(theirs['msis'], 3)} "
            f"(which covered {fmt.percent(theirs['coverage'])}).")


__all__ = ["panel_interval_sentence", "panel_intervals_section"]
