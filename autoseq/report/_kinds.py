"""The one place in the report that knows the kinds of run: a run's task name → its parts.

The task seam (``autoseq/tasks/``) will answer this by asking the run's task object; until then
this table is the only code in the report that reads the task name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autoseq.exceptions import SearchError
from autoseq.report._content import Section
from autoseq.report._evidence import Evidence
from autoseq.report._forecast import (
    evaluate_forecast,
    forecast_headline,
    forecast_sections,
    forecast_skill,
)
from autoseq.report._sequences import (
    evaluate_sequences,
    sequence_headline,
    sequence_sections,
    sequence_skill,
)


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


FORECAST = ReportKind(evaluate_forecast, forecast_headline, forecast_skill, forecast_sections)
SEQUENCES = ReportKind(evaluate_sequences, sequence_headline, sequence_skill, sequence_sections)
_KINDS = {"forecast": FORECAST, "classify": SEQUENCES, "regress": SEQUENCES}


def task_name(settings: dict[str, Any]) -> str:
    """The run's task as ``run.json`` records it (runs made before there were tasks forecast)."""
    return str(settings["task"]) if "task" in settings else "forecast"


def report_kind_for(settings: dict[str, Any]) -> ReportKind:
    """The report's parts for the run whose ``run.json`` settings are ``settings``.

    Raises:
        SearchError: the run's task has no report in this version.
    """
    name = task_name(settings)
    if name not in _KINDS:
        raise SearchError(f"run.json: task '{name}' has no report in this version; known "
                          f"tasks: {', '.join(sorted(_KINDS))}")
    return _KINDS[name]

