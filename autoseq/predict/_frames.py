"""A DataFrame passed to ``predict`` in place of a CSV: written to a temporary CSV that the
CSV path reads, with its errors naming the DataFrame rather than the temporary file."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from autoseq.exceptions import DataError

_NAME = "the DataFrame"


@contextmanager
def as_csv(data: str | Path | pd.DataFrame, *, time_col: str | None = None
           ) -> Iterator[str | Path]:
    """``data`` itself, or the DataFrame ``data`` as a temporary CSV file for the block.

    A named index (``set_index("date")``) is kept as columns, an unnamed timestamp index as
    ``time_col`` (the model's time column); any other index is row labels, left out.

    Raises:
        DataError: an error of the block, its temporary path replaced by "the DataFrame".
    """
    if not isinstance(data, pd.DataFrame):
        yield data
        return
    index = data.index
    if isinstance(index, pd.DatetimeIndex | pd.PeriodIndex) and index.name is None and time_col \
            and time_col not in data.columns:
        data = data.rename_axis(time_col).reset_index()
    elif named := [n for n in index.names if n is not None and n not in data.columns]:
        data = data.reset_index(level=named)  # set_index("date"), a (series, date) MultiIndex
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frame.csv"
        data.to_csv(path, index=False)
        try:
            yield path
        except DataError as exc:
            raise type(exc)(str(exc).replace(str(path), _NAME)) from None
