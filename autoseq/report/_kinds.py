"""What a kind of run brings to the report (``ReportKind``); each task holds one (``Task.report``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from autoseq.report._content import Section
from autoseq.report._evidence import Evidence


@dataclass(frozen=True)
class ReportKind:
    """What one kind of run brings to the report; each member reads the gathered evidence.

    Attributes:
        evaluate: ``evaluate(ev, importance=...)`` scores the best network into ``ev``.
        headline: ``(targets, what the model does)`` for the title and subtitle.
        skill: the summary's sentence on the model against the baselines.
        sections: every section of the report, in order.
    """

    evaluate: Callable[..., None]
    headline: Callable[[Evidence], tuple[str, str]]
    skill: Callable[[Evidence], str]
    sections: Callable[[Evidence], list[Section]]
