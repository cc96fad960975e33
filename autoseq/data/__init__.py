"""Data: CSV → validated series or sequences → split → scaled, lazily windowed or padded data."""

from autoseq.data._frequency import infer_frequency, seasons_for
from autoseq.data._linear import LinearFit, linear_baseline
from autoseq.data._sequence_data import (
    PAD_VALUE,
    TRUNCATION,
    SequenceData,
    pad_sequences,
    stratified_split,
)
from autoseq.data._sequences import SequenceTable, load_sequences, sequences_from_frame
from autoseq.data._series import TimeSeries, load_series
from autoseq.data._split import Scaler, Split, resolve_split
from autoseq.data._targets import resolve_task
from autoseq.data._windows import ForecastData

__all__ = [
    "PAD_VALUE",
    "TRUNCATION",
    "ForecastData",
    "LinearFit",
    "Scaler",
    "SequenceData",
    "SequenceTable",
    "Split",
    "TimeSeries",
    "infer_frequency",
    "linear_baseline",
    "load_sequences",
    "load_series",
    "pad_sequences",
    "resolve_split",
    "resolve_task",
    "seasons_for",
    "sequences_from_frame",
    "stratified_split",
]
