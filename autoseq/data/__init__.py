"""Data: CSV → validated ``TimeSeries`` → chronological split → scaled, lazily windowed data."""

from autoseq.data._frequency import infer_frequency, seasons_for
from autoseq.data._series import TimeSeries, load_series
from autoseq.data._split import Scaler, Split, resolve_split
from autoseq.data._windows import ForecastData

__all__ = [
    "ForecastData",
    "Scaler",
    "Split",
    "TimeSeries",
    "infer_frequency",
    "load_series",
    "resolve_split",
    "seasons_for",
]
