"""Kinds of run behind one seam (``Task``): forecasting, and labelled sequences.

Everything that differs between kinds of run lives in a task; the rest of autoseq asks the
run's task (``task_of``) and never compares a task name. A new kind of run is a module here and
an entry in ``_TASKS``.

Example:
    >>> from autoseq.tasks import get_task
    >>> get_task("forecast").default_space
    'default'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autoseq._run_folder import RunSettings
from autoseq.exceptions import DataError
from autoseq.tasks._base import DataOptions, Task, check_same_data
from autoseq.tasks.forecast import ForecastTask
from autoseq.tasks.panel import PanelTask
from autoseq.tasks.sequences import SequenceTask

FORECAST = ForecastTask()
SEQUENCES = SequenceTask()
PANEL = PanelTask()
_TASKS: dict[str, Task] = {name: task for task in (FORECAST, SEQUENCES, PANEL)
                           for name in task.names}
_DEFAULT = "forecast"  # runs, studies and manifests made before the task was recorded
FORMATS = ("long", "wide")


def get_task(name: str) -> Task:
    """The task serving ``name`` (``forecast``, ``classify``, ``regress``).

    Raises:
        DataError: no task has that name.
    """
    task = _TASKS.get(name)
    if task is None:
        raise DataError(f"--task must be one of {', '.join(_TASKS)}. Received: {name}")
    return task


def task_name(record: RunSettings | Mapping[str, Any]) -> str:
    """The task named by run settings, a settings dict, a study's meta or a model manifest."""
    if isinstance(record, RunSettings):
        return record.task
    return record.get("task") or _DEFAULT


def task_of(record: RunSettings | Mapping[str, Any]) -> Task:
    """The task of run settings, a settings dict or a model manifest (``task_name``)."""
    return get_task(task_name(record))


def task_of_data(data) -> Task:
    """The task of a data object (``ForecastData``, ``SequenceData``…)."""
    return get_task(data.task)


def task_for_options(options: DataOptions) -> Task:
    """The task the search's options describe: a panel with ``series_col``, sequences with
    ``id_col`` or ``format="wide"``, else forecasting; then the task checks the rest of the
    options it cannot use.

    Raises:
        DataError: an unknown ``--task`` or ``--format``, or options of the other kind of run.
    """
    if options.format not in FORMATS:
        raise DataError(f"--format must be long or wide. Received: {options.format}")
    if options.task is not None:
        get_task(options.task)
    if options.static_cols and options.series_col is None:
        raise DataError("--static-col names a column constant within each series of a panel: "
                        "pass --series-col too. Received: --static-col "
                        f"{', '.join(options.static_cols)}")
    if options.series_col is not None:
        return PANEL
    sequences = options.id_col is not None or options.format == "wide"
    return SEQUENCES if sequences else FORECAST


__all__ = ["FORECAST", "PANEL", "SEQUENCES", "DataOptions", "Task", "check_same_data", "get_task",
           "task_for_options", "task_name", "task_of", "task_of_data"]
