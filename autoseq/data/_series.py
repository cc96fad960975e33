"""A validated, regular, gap-filled time series: CSV → ``TimeSeries``."""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from autoseq.data._categorical import is_text, one_hot, without_percent
from autoseq.data._csv import read_csv_file, suggest_column
from autoseq.data._frequency import infer_frequency, same_frequency
from autoseq.exceptions import DataError

logger = logging.getLogger("autoseq")

# Time zone suffix, and leading/trailing white space, on any line of the joined column.
_ZONE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$", re.MULTILINE)
_EDGE_SPACE = re.compile(r"^[^\S\n]|[^\S\n]$", re.MULTILINE)
_ZONE_NAME = re.compile(r"\s([A-Za-z]{2,5})$", re.MULTILINE)
_TIME_NAMES = ("date", "time", "timestamp", "datetime", "ds", "period", "month", "week", "day")


@dataclass(frozen=True)
class TimeSeries:
    """A regular time series ready for windowing.

    Attributes:
        frame: float64 columns ``targets + covariates + future`` on a regular
            ``DatetimeIndex``, up to the last row with a target value.
        targets: names of the forecast columns.
        covariates: names of the past-covariate columns.
        freq: pandas frequency string of the index.
        source: the CSV path.
        time_col: the CSV column the index came from.
        fingerprint: SHA-256 of the CSV file.
        filled: values filled by interpolation, per column (missing steps included).
        missing_steps: steps absent from the file and added by re-gridding.
        future: the known-future covariate columns (a categorical one as its indicator columns).
        future_columns: the file's known-future covariate columns, as the user named them.
        ahead: the known-future columns on the rows after the last target value (the steps to
            forecast), on the series' grid; empty when the file ends with a target value.
        categories: each categorical column's categories (its indicator columns, in order).
        observed: ``[rows, targets]`` whether the file held each target value (not filled).
    """

    frame: pd.DataFrame
    targets: tuple[str, ...]
    covariates: tuple[str, ...]
    freq: str
    source: str
    time_col: str
    fingerprint: str
    filled: dict[str, int] = field(default_factory=dict)
    missing_steps: int = 0
    future: tuple[str, ...] = ()
    future_columns: tuple[str, ...] = ()
    ahead: pd.DataFrame | None = None
    categories: dict[str, list[str]] = field(default_factory=dict)
    observed: np.ndarray | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Model input columns in order: targets, past covariates, known-future covariates."""
        return self.targets + self.covariates + self.future

    @property
    def covariate_columns(self) -> tuple[str, ...]:
        """The file's past-covariate columns (a categorical one once, not its indicators)."""
        return tuple(dict.fromkeys(_source_of(c, self.categories) for c in self.covariates))

    def summary(self) -> dict:
        """A JSON-ready description of the series (for run.json and the report)."""
        idx = self.frame.index
        return {
            "source": self.source,
            "fingerprint": self.fingerprint,
            "rows": len(self.frame),
            "start": idx[0].isoformat(),
            "end": idx[-1].isoformat(),
            "freq": self.freq,
            "time_col": self.time_col,
            "targets": list(self.targets),
            "covariates": list(self.covariates),
            "future_covariates": list(self.future_columns),
            "future": list(self.future),
            "categories": dict(self.categories),
            "rows_ahead": 0 if self.ahead is None else len(self.ahead),
            "missing_steps": self.missing_steps,
            "filled": dict(self.filled),
        }


def load_series(
    path: str | Path,
    *,
    targets: list[str] | tuple[str, ...],
    time_col: str | None = None,
    covariates: list[str] | tuple[str, ...] | None = None,
    max_gap: int = 12,
    max_missing: float = 0.5,
    future: list[str] | tuple[str, ...] | None = None,
    categorical: list[str] | tuple[str, ...] | None = None,
    categories: dict[str, list[str]] | None = None,
    freq: str | None = None,
) -> TimeSeries:
    """Read a forecasting CSV into a validated, regular ``TimeSeries``.

    Args:
        path: CSV file with a header row, a time column and numeric columns.
        targets: column(s) to forecast.
        time_col: the timestamp column; detected when obvious.
        covariates: past covariates; default all other numeric columns.
        max_gap: longest run of consecutive missing steps that may be interpolated.
        max_missing: largest fraction of missing values allowed in a column.
        future: known-future covariates: columns known for the steps to forecast too. Rows
            after the last target value may hold only these (the steps to forecast): they are
            kept apart (``TimeSeries.ahead``).
        categorical: columns to one-hot encode although they hold numbers (text columns among
            ``covariates`` and ``future`` always are).
        categories: the categories to encode each categorical column with (a model's).
        freq: the frequency the rows must have (a model's or a run's). Inferred as trading
            days ``B`` or days ``D`` where the other is expected, rows on the expected grid are
            read on it: a few recent days may have no weekend row.

    Returns:
        The series, sorted, re-gridded to its frequency and with gaps interpolated in time.

    Raises:
        DataError: with the file, column and row at fault and what to do.

    Example:
        >>> ts = load_series("examples/airline.csv", targets=["passengers"])
    """
    try:
        return _load_series(str(path), path, targets=targets, time_col=time_col,
                            covariates=covariates, max_gap=max_gap, max_missing=max_missing,
                            roles=_Roles(tuple(future or ()), tuple(categorical or ()),
                                         dict(categories or {})), freq=freq)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever else a malformed file trips is bad input too
        text = (str(exc).strip().splitlines() or [""])[0][:200]
        raise DataError(f"{path}: cannot be read as a time series ({type(exc).__name__}: {text}); "
                        "check that it is a comma-separated file with a header, a time column "
                        "and numeric columns (--debug shows where it failed)") from exc


@dataclass(frozen=True)
class _Roles:
    """Known-future and categorical columns, as asked for."""

    future: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    categories: dict[str, list[str]] = field(default_factory=dict)


def _load_series(src: str, path: str | Path, *, targets, time_col, covariates, max_gap,
                 max_missing, roles: _Roles = _Roles(), freq: str | None = None) -> TimeSeries:
    raw, fingerprint = read_csv_file(path, text_columns=lambda header: _time_candidates(
        header, time_col))
    columns = list(raw.columns)
    if not targets:
        raise DataError(f"{src}: no target given; pass --target with one of: "
                        f"{', '.join(columns)}")
    time_col = _pick_time_col(src, raw, time_col)
    for t in targets:
        if t not in columns:
            raise DataError(f"{src}: target column '{t}' not found{suggest_column(t, columns)}")
        if t == time_col:
            raise DataError(f"{src}: column '{t}' is the time column and cannot be a target")
    _check_roles(src, columns, time_col, targets, covariates, roles)
    # Warnings wait until the data have passed every check: a refused file gets one line.
    notes: list[tuple] = []
    times = _parse_times(src, raw[time_col], time_col, notes)
    values, categories = _input_columns(src, raw, time_col, list(targets), covariates, roles,
                                        notes)
    values.index = times
    if not times.is_monotonic_increasing:
        notes.append(("%s: rows are not in time order; sorted them by '%s'", src, time_col))
        values = values.sort_index(kind="stable")
    dup = values.index.duplicated()
    if dup.any():
        first = values.index[dup][0]
        row = int(np.flatnonzero(times == first)[1]) + 2
        raise DataError(f"{src}: row {row}: duplicate timestamp {first} in '{time_col}'; "
                        f"keep one row per time step (aggregate duplicates first){dst_hint(first)}"
                        f"{_panel_hint(raw, np.asarray(times == first), time_col)}")
    future = tuple(c for c in values.columns if _source_of(c, categories) in roles.future)
    rows = len(values)
    values, ahead = _split_ahead(values, list(targets), future)
    after = rows - len(values) if ahead is None else 0  # rows with no target: not history
    _refuse_copies(src, values, list(targets), future)
    if len(values) < 3:
        raise DataError(f"{src}: only {len(values)} row{'s' if len(values) != 1 else ''}; a series needs at least 3 to show its "
                        "frequency and many more to train on: pass a longer series")
    freq = _expected(infer_frequency(values.index, source=src, time_col=time_col), freq,
                     values.index, src, times)
    grid = pd.date_range(values.index[0], values.index[-1], freq=freq)
    missing_steps = len(grid) - len(values)
    values = values.reindex(grid)
    observed = values[list(targets)].notna().to_numpy()
    ahead = _ahead_on_grid(src, ahead, grid, freq, time_col)
    filled = _fill(src, values, max_gap=max_gap, max_missing=max_missing)
    _log_notes(src, notes, missing_steps, freq, filled)
    if after:
        logger.info("%s: %d row(s) after the last value of %s hold no target: left out (rows "
                    "of known-future covariates? name them with --future-covariates)", src,
                    after, ", ".join(repr(t) for t in targets))
    for t in targets:
        if float(values[t].std()) == 0.0:
            logger.warning("%s: target '%s' is constant (%g); every model will predict it "
                           "trivially", src, t, values[t].iloc[0])
    covs = tuple(c for c in values.columns if c not in targets and c not in future)
    constant = [c for c in covs if float(values[c].std()) == 0.0]
    if constant:
        logger.info("%s: covariate(s) %s are constant: they carry no information (name the "
                    "useful ones with --covariates)", src, ", ".join(repr(c) for c in constant))
    return TimeSeries(
        frame=values[list(targets) + list(covs) + list(future)],
        observed=observed,
        targets=tuple(targets),
        covariates=covs,
        freq=freq,
        source=src,
        time_col=time_col,
        fingerprint=fingerprint,
        filled=filled,
        missing_steps=missing_steps,
        future=future,
        future_columns=roles.future,
        ahead=ahead,
        categories=categories,
    )


def _log_notes(src: str, notes: list[tuple], missing_steps: int, freq: str,
               filled: dict[str, int]) -> None:
    for note in notes:
        logger.warning(*note)
    if missing_steps:
        logger.info("%s: %d missing time steps re-gridded at frequency %s", src, missing_steps, freq)
    for col, n in filled.items():
        if n:
            logger.info("%s: column '%s': filled %d missing values by time interpolation",
                        src, col, n)


def _panel_hint(raw: pd.DataFrame, rows: np.ndarray, time_col: str) -> str:
    """For rows sharing a timestamp that a text column tells apart: the ``--series-col`` hint
    (several series in one file), else ``""``."""
    for c in raw.columns:
        if c != time_col and not pd.api.types.is_numeric_dtype(raw[c]) \
                and raw.loc[rows, c].nunique() > 1:
            return (f"; or, if the file holds one series per '{c}', forecast them all with "
                    f"--series-col {c}")
    return ""


def _check_roles(src: str, columns: list[str], time_col: str, targets, covariates,
                 roles: _Roles) -> None:
    """Refuse a known-future or categorical column that is unknown, the time column, a target,
    or (for a known-future one) also a past covariate."""
    for flag, names in (("--future-covariate", roles.future), ("--categorical", roles.categorical)):
        for c in names:
            if c not in columns:
                raise DataError(f"{src}: {flag} column '{c}' not found"
                                f"{suggest_column(c, columns)}")
            if c == time_col or c in targets:
                role = "the time column" if c == time_col else "a target"
                raise DataError(f"{src}: {flag} column '{c}' is {role}; a covariate must be "
                                "another column")
    for c in covariates or ():
        if c == time_col or c in targets:
            role = "the time column" if c == time_col else "a target"
            raise DataError(f"{src}: --covariate column '{c}' is {role}; a covariate must be "
                            "another column (a target's past is always an input)")
    for c in roles.future:
        if covariates is not None and c in covariates:
            raise DataError(f"{src}: column '{c}' is listed both as a past covariate and as a "
                            "known-future covariate; a known-future covariate's past is used "
                            "too: list it once, with --future-covariate")
    for c in roles.categorical:
        if covariates is not None and c not in covariates and c not in roles.future:
            raise DataError(f"{src}: --categorical column '{c}' is not an input; list it with "
                            "--covariate or --future-covariate too")


def _source_of(column: str, categories: dict[str, list[str]]) -> str:
    """The file's column an input column comes from (an indicator column's categorical)."""
    for name, cats in categories.items():
        if column.startswith(f"{name}=") and column[len(name) + 1:] in cats:
            return name
    return column


def _refuse_copies(src: str, values: pd.DataFrame, targets: list[str],
                   future: tuple[str, ...]) -> None:
    """Refuse a known-future covariate that repeats a target over the history: a leak (the
    forecast would be read off it; its rows ahead are the unknown future itself)."""
    for c in future:
        for t in targets:
            both = values[[c, t]].dropna()
            if len(both) > 2 and np.allclose(both[c], both[t], rtol=1e-9, atol=0.0):
                raise DataError(f"{src}: known-future covariate '{c}' equals the target '{t}' "
                                "on every row of the history: a forecast cannot know the "
                                "target ahead; drop it from --future-covariates")


def _split_ahead(values: pd.DataFrame, targets: list[str], future: tuple[str, ...]
                 ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Rows after the last target value (the steps to forecast) apart: with known-future
    covariates, their values there (their other columns dropped); without, left out (a
    series' history ends at its last value: nothing after it is interpolated)."""
    seen = np.flatnonzero(values[targets].notna().any(axis=1).to_numpy())
    last = int(seen[-1]) + 1 if len(seen) else len(values)
    if not future:
        return values.iloc[:last], None
    return values.iloc[:last], values.iloc[last:][list(future)]


def _ahead_on_grid(src: str, ahead: pd.DataFrame | None, grid: pd.DatetimeIndex, freq: str,
                   time_col: str) -> pd.DataFrame | None:
    """The rows to forecast on the steps after ``grid`` (missing steps as empty rows)."""
    if ahead is None:
        return None
    if ahead.empty:
        return ahead
    steps = pd.date_range(grid[-1], ahead.index[-1], freq=freq)[1:]
    off = ~ahead.index.isin(steps)
    if off.any():
        raise DataError(f"{src}: '{time_col}' {ahead.index[off][0]}, after the last target "
                        f"value, is not on the series' {freq} grid; give the steps to forecast "
                        "at the same frequency")
    return ahead.reindex(steps)


def _pick_time_col(src: str, raw: pd.DataFrame, time_col: str | None) -> str:
    columns = list(raw.columns)
    if time_col is not None:
        if time_col not in columns:
            raise DataError(f"{src}: time column '{time_col}' not found"
                            f"{suggest_column(time_col, columns)}")
        return time_col
    named = [c for c in columns if c.strip().lower() in _TIME_NAMES]
    if len(named) == 1:
        return named[0]
    first = columns[0]
    sample = raw[first].dropna().head(50)
    if len(sample) and pd.to_numeric(sample, errors="coerce").isna().all():
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
        if parsed.notna().mean() > 0.9:
            return first
    raise DataError(f"{src}: cannot tell which column holds the timestamps; pass --time-col "
                    f"(columns: {', '.join(columns[:12])})")


def _time_candidates(header: list[str], time_col: str | None) -> set[str]:
    """Columns that ``_pick_time_col`` may choose: read as text, the others as numbers."""
    named = {c for c in header if c.strip().lower() in _TIME_NAMES}
    return named | {header[0]} | ({time_col} if time_col else set())


def _expected(inferred: str, expected: str | None, index: pd.DatetimeIndex, src: str,
              times: pd.DatetimeIndex) -> str:
    """``inferred``, or the ``expected`` frequency where the rows are ambiguous between days
    and trading days and lie on its grid.

    Raises:
        DataError: the rows have another frequency than the expected one (naming the first row
            off its grid, when some are on it).
    """
    if expected is None or same_frequency(inferred, expected):
        return inferred
    off = _off_grid(index, expected)
    if {inferred, expected} <= {"B", "D"} and off is not None and not off.any():
        return expected
    where = ""
    if off is not None and 0 < off.mean() < 0.5:  # a few stray rows (a Saturday, say)
        row = int(np.flatnonzero(times == index[off][0])[0]) + 2
        where = f" (row {row}: {index[off][0]} is off its grid)"
    raise DataError(f"{src}: frequency {inferred} differs from the model's {expected}{where}; "
                    f"resample the data to {expected}")


def _off_grid(index: pd.DatetimeIndex, freq: str) -> np.ndarray | None:
    """Which timestamps lie off ``freq``'s grid from the first; ``None`` when that grid would
    be far longer than the data (a per-second model given daily rows: nothing to name)."""
    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except (ValueError, TypeError):
        step = None  # calendar offsets (B, W, ME…): at most one grid point a day
    if step is not None and (index[-1] - index[0]) / step > 10 * len(index):
        return None
    return ~index.isin(pd.date_range(index[0], index[-1], freq=freq))


def dst_hint(when: pd.Timestamp) -> str:
    """What a repeated time of day may mean: local clock times across the end of summer time."""
    if when == when.normalize():
        return ""
    return ("; local clock times repeat an hour when daylight saving time ends: write the "
            "times in UTC or with their offset (2024-10-27T01:00+01:00)")


def _parse_times(src: str, col: pd.Series, name: str,
                 notes: list[tuple] | None = None) -> pd.DatetimeIndex:
    """The parsed times; times with a UTC offset are converted to UTC, which ``notes`` (or the
    log, without them) then says."""
    if col.isna().any():
        row = int(np.flatnonzero(col.isna().to_numpy())[0]) + 2
        raise DataError(f"{src}: row {row}: empty timestamp in '{name}'; every row needs a time")
    text = col.str.strip() if _EDGE_SPACE.search("\n".join(col.tolist())) else col
    text = _utc_names(src, text, name)
    zoned = len(_ZONE.findall("\n".join(text.tolist())))  # one pass in C, not a call per row
    has_zone = zoned > 0
    if zoned not in (0, len(text)):  # some rows have a zone: find the first without one
        flags = text.str.contains(_ZONE.pattern, regex=True)
        has_zone = bool(flags.all())
        if flags.any() and not has_zone:
            row = int(np.flatnonzero((~flags).to_numpy())[0]) + 2
            raise DataError(f"{src}: row {row}: '{name}' mixes timestamps with and without a "
                            "time zone; use one convention for every row")
    try:
        parsed = _to_datetime(text, utc=has_zone)
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataError(f"{src}: column '{name}': timestamps cannot be parsed ({exc}); use ISO "
                        "8601 such as 2024-01-31 13:00") from None
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"{src}: row {row + 2}: '{text.iloc[row]}' in '{name}' is not a "
                        "timestamp; use ISO 8601 such as 2024-01-31 13:00")
    if has_zone:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        note = ("%s: '%s' holds UTC offsets: times are read in UTC (calendar features and "
                "forecast timestamps too)", src, name)
        if notes is None:
            logger.info(*note)
        else:
            notes.append(note)
    return pd.DatetimeIndex(parsed)


def _utc_names(src: str, text: pd.Series, name: str) -> pd.Series:
    """``... UTC`` / ``... GMT`` on every row become offsets; other zone names are refused.

    pandas versions disagree on names such as ``CET`` (one drops them silently, the next refuses
    them), and ``CET``/``CEST`` hide daylight-saving jumps: an offset says what is meant.
    """
    if not _ZONE_NAME.search("\n".join(text.tolist())):  # the usual case, in one pass
        return text
    zone = text.str.extract(_ZONE_NAME.pattern, expand=False)
    zone = zone.where(~zone.str.upper().isin(["AM", "PM"]))
    if not zone.notna().any():
        return text
    utc = zone.str.upper().isin(["UTC", "GMT"])
    if utc.all():
        return text.str.replace(r"\s[A-Za-z]{3}$", "+00:00", regex=True)
    row = int(np.flatnonzero((zone.notna() & ~utc).to_numpy())[0]) if (zone.notna() & ~utc).any() \
        else int(np.flatnonzero(zone.isna().to_numpy())[0])
    raise DataError(f"{src}: row {row + 2}: '{text.iloc[row]}' in '{name}' names a time zone "
                    f"('{zone.dropna().iloc[0]}') that autoseq cannot read; write an offset such as "
                    "+01:00 on every row, or no zone at all")


def _to_datetime(text: pd.Series, *, utc: bool) -> pd.Series:
    """Parse with one format for the whole column when one fits, else element by element.

    Element-wise parsing reads ``13/01/2024`` day-first but ``01/02/2024`` month-first in the
    same column; one format guessed from the first row (month-first, then day-first) does not.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns when it guesses day-first
        formats = dict.fromkeys(guess_datetime_format(text.iloc[0], dayfirst=d)
                                for d in (False, True))
        fits = []
        for fmt in filter(None, formats):
            parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=utc)
            if parsed.notna().all():
                fits.append(parsed)
        if fits:  # day and month both ≤ 12 everywhere: prefer the reading in time order
            return next((p for p in fits if p.is_monotonic_increasing), fits[0])
        return pd.to_datetime(text, errors="coerce", format="mixed", utc=utc)


def _covariate_columns(src: str, raw: pd.DataFrame, skip: str, taken: list[str],
                       covariates: list[str] | tuple[str, ...] | None) -> list[str]:
    """The past covariates: ``covariates`` (each must be a column), or every column but
    ``skip`` and those ``taken`` by another role."""
    others = [c for c in raw.columns if c != skip and c not in taken]
    if covariates is None:
        return others
    for c in covariates:
        if c not in raw.columns or c == skip:
            raise DataError(f"{src}: covariate column '{c}' not found"
                            f"{suggest_column(c, others)}")
    return [c for c in others if c in covariates]


def _input_columns(src: str, raw: pd.DataFrame, time_col: str, targets: list[str],
                   covariates: list[str] | tuple[str, ...] | None, roles: _Roles,
                   notes: list[tuple]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The targets, past covariates and known-future covariates as float columns (a categorical
    one as its indicator columns), and each categorical column's categories."""
    others = _covariate_columns(src, raw, time_col, [*targets, *roles.future], covariates)
    out: dict[str, np.ndarray] = {}
    categories: dict[str, list[str]] = {}
    for col in targets + others + list(roles.future):
        asked = col in targets or covariates is not None or col in roles.future
        if col not in targets and (col in roles.categorical or col in roles.categories
                                   or (asked and is_text(raw[col]))):
            frame, categories[col] = one_hot(src, raw[col], col, roles.categories.get(col))
            out.update({c: frame[c].to_numpy() for c in frame.columns})
            continue
        num = _numeric_column(src, raw[col], col, asked=asked, notes=notes)
        if num is not None:
            out[col] = num
    return pd.DataFrame(out), categories


def _numeric_columns(src: str, raw: pd.DataFrame, skip: str, targets: list[str],
                     covariates: list[str] | tuple[str, ...] | None,
                     notes: list[tuple]) -> pd.DataFrame:
    """``targets`` and ``covariates`` (default: every other column but ``skip``) as float
    columns, with no categorical encoding (sequence features)."""
    others = _covariate_columns(src, raw, skip, targets, covariates)
    out = {}
    for col in targets + others:
        num = _numeric_column(src, raw[col], col, asked=col in targets or covariates is not None,
                              notes=notes, hint="sequence features are numbers: encode it as "
                                                "0/1 columns, one per category")
        if num is not None:
            out[col] = num
    return pd.DataFrame(out)


def _numeric_column(src: str, column: pd.Series, col: str, *, asked: bool,
                    notes: list[tuple], hint: str = "a categorical input: --categorical"
                    ) -> np.ndarray | None:
    """A column as float64; ``None`` (with a note) for a column nobody asked for that holds text
    or nothing. An infinite value, or text in a column asked for, is refused."""
    num, text = _to_numbers(column)
    bad = num.isna() & text.notna() & (text != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        if asked:
            raise DataError(f"{src}: row {row + 2}: column '{col}' holds '{text.iloc[row]}', "
                            "not a number; fix or blank the cell")
        notes.append(("%s: column '%s' is not numeric (row %d: %r); ignored (%s)", src, col,
                      row + 2, text.iloc[row], hint))
        return None
    num = num.astype("float64")
    if not asked and num.isna().all():
        notes.append(("%s: column '%s' has no values; ignored", src, col))
        return None
    inf = np.isinf(num.to_numpy())
    if inf.any():
        row = int(np.flatnonzero(inf)[0])
        raise DataError(f"{src}: row {row + 2}: column '{col}' holds an infinite value; "
                        "replace it with a number or blank it")
    return num.to_numpy()


def _to_numbers(column: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The column as numbers, and as stripped text where it was read as text (else all NaN)."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column, pd.Series(np.nan, index=column.index)  # the CSV reader parsed every cell
    if not pd.api.types.is_string_dtype(column):  # e.g. text with empty (NaN) cells
        column = column.astype(str).where(column.notna())
    text = column.str.strip()
    percent = without_percent(text)
    if percent is not text:  # "12%" in every cell: 12, a percentage
        num = pd.to_numeric(percent, errors="coerce")
        return num, text.where(num.isna())  # a cell that is still not a number stays text
    num = pd.to_numeric(text, errors="coerce")
    overflow = text.str.fullmatch(r"[-+]?[\d.]+[eE][-+]?\d+", na=False) & num.isna()
    return num.where(~overflow, np.inf), text  # "1e999": pandas 2 reads NaN, pandas 3 inf


def _fill(src: str, values: pd.DataFrame, *, max_gap: int, max_missing: float) -> dict[str, int]:
    filled: dict[str, int] = {}
    for col in values.columns:
        miss = values[col].isna().to_numpy()
        n = int(miss.sum())
        filled[col] = n
        if not n:
            continue
        if n == len(miss):
            raise DataError(f"{src}: column '{col}' has no values (every cell is empty); supply "
                            "the data or choose another column")
        if n / len(miss) > max_missing:
            raise DataError(f"{src}: column '{col}': {n} of {len(miss)} values are missing "
                            f"(over {max_missing:.0%}); supply the data or choose another column")
        run = _longest_run(miss)
        if run > max_gap:
            start = values.index[_run_start(miss, run)]
            raise DataError(f"{src}: column '{col}': a gap of {run} steps from {start} is longer "
                            f"than the limit of {max_gap} (--max-gap); fill it or raise the limit")
        values[col] = values[col].interpolate(method="time", limit_direction="both")
    return filled


def _longest_run(mask: np.ndarray) -> int:
    best = cur = 0
    for m in mask:
        cur = cur + 1 if m else 0
        best = max(best, cur)
    return best


def _run_start(mask: np.ndarray, length: int) -> int:
    cur = 0
    for i, m in enumerate(mask):
        cur = cur + 1 if m else 0
        if cur == length:
            return i - length + 1
    return 0
