"""The one table that maps a run's task to the report's parts for it."""

from __future__ import annotations

import pytest

from autoseq.exceptions import SearchError
from autoseq.report._forecast import forecast_sections
from autoseq.report._kinds import report_kind_for
from autoseq.report._sequences import sequence_sections


@pytest.mark.parametrize(("settings", "sections"), [
    ({}, forecast_sections),  # a run made before there were tasks
    ({"task": "forecast"}, forecast_sections),
    ({"task": "classify"}, sequence_sections),
    ({"task": "regress"}, sequence_sections),
])
def test_each_task_gets_its_sections(settings, sections):
    assert report_kind_for(settings).sections is sections


def test_an_unknown_task_is_named():
    with pytest.raises(SearchError, match="task 'cluster' has no report.*forecast, regress"):
        report_kind_for({"task": "cluster"})
