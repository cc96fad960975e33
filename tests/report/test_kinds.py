"""Each task brings its own parts of the report."""

from __future__ import annotations

import pytest

from autoseq.exceptions import DataError
from autoseq.report._forecast import forecast_sections
from autoseq.report._sequences import sequence_sections
from autoseq.tasks import task_of


@pytest.mark.parametrize(("settings", "sections"), [
    ({}, forecast_sections),  # a run made before there were tasks
    ({"task": "forecast"}, forecast_sections),
    ({"task": "classify"}, sequence_sections),
    ({"task": "regress"}, sequence_sections),
])
def test_each_task_gets_its_sections(settings, sections):
    assert task_of(settings).report.sections is sections


def test_an_unknown_task_is_named():
    with pytest.raises(DataError, match="forecast, classify, regress, panel. Received: cluster"):
        task_of({"task": "cluster"})
