"""What the report knows about a run: read from its folder and computed once, for every section."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd

from autoseq._run_folder import RunFolder, RunSettings

if TYPE_CHECKING:
    from autoseq.report._evaluate import Dependence, Importance, PartForecast
    from autoseq.report._lags import LagBlock


@dataclass
class Evidence:
    """Everything read or computed once and shared by the sections.

    The forecast fields (``val`` … ``by_column``) are filled for forecasting runs, ``sequences``
    for classification and regression runs, by the run kind's ``evaluate``.
    """

    run: RunFolder
    """An ``autoseq.run.Run`` (its ``kind`` is the run's task)."""
    board: pd.DataFrame
    study: Any = None
    data: Any = None  # a ForecastData or a SequenceData, as the run folder rebuilds it
    data_note: str = ""
    best: pd.Series | None = None
    config: dict[str, Any] = field(default_factory=dict)
    model_note: str = ""
    val: PartForecast | None = None
    test: PartForecast | None = None
    blocks: list[LagBlock] = field(default_factory=list)
    by_block: Importance | None = None
    by_column: Importance | None = None
    dependence: Dependence | None = None
    sequences: dict[str, Any] = field(default_factory=dict)  # part → SequenceScores

    @property
    def settings(self) -> RunSettings:
        return self.run.settings

    @property
    def freq(self) -> str | None:
        return (self.run.info.get("data") or {}).get("freq")

    @cached_property
    def export_manifest(self) -> dict[str, Any] | None:
        """The manifest of the run's ``export/`` folder as ``export`` wrote it, read once;
        ``{}`` when it cannot be read, ``None`` when the run has no export."""
        from autoseq._io import read_json
        from autoseq.exporting._manifest import MANIFEST

        path = self.run.path / "export" / MANIFEST
        if not path.is_file():
            return None
        try:
            return read_json(path)
        except (OSError, ValueError):
            return {}

    @property
    def trials(self) -> pd.DataFrame:
        return self.board[~self.board["state"].eq("baseline")]

    @property
    def lookback(self) -> int:
        return int(self.config.get("lookback") or 0)
