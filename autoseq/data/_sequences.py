"""Labelled sequences for classification and regression: CSV (long or wide) → ``SequenceTable``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from autoseq.data._csv import read_csv_file, suggest_column
from autoseq.data._series import _numeric_columns
from autoseq.exceptions import DataError

logger = logging.getLogger("autoseq")

FORMATS = ("long", "wide")
WIDE_FEATURE = "value"


@dataclass(frozen=True)
class SequenceTable:
    """Sequences of different lengths, one label each, as read from one file.

    Attributes:
        ids: the sequence ids as text, in order of first appearance in the file.
        sequences: one float64 array ``[length, n_features]`` per sequence, in step order.
        labels: each sequence's target as text, or ``None`` when the file has no target column.
        features: the feature columns (``("value",)`` for the wide format).
        target: the target column.
        id_col: the id column (``None`` in the wide format without one: ids are row numbers).
        step_col: the column that orders the steps of a sequence (``None``: file order).
        format: ``long`` (one row per step) or ``wide`` (one row per sequence).
        source: the CSV path.
        fingerprint: SHA-256 of the CSV file.
        filled: feature values filled by interpolation within their sequence.
    """

    ids: tuple[str, ...]
    sequences: tuple[np.ndarray, ...]
    labels: tuple[str, ...] | None
    features: tuple[str, ...]
    target: str | None
    id_col: str | None
    step_col: str | None
    format: str
    source: str
    fingerprint: str
    filled: int = 0

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.sequences], dtype="int64")

    def summary(self) -> dict:
        """A JSON-ready description (for run.json, the manifest and the report)."""
        lengths = self.lengths
        return {"source": self.source, "fingerprint": self.fingerprint, "format": self.format,
                "sequences": len(self.ids), "rows": int(lengths.sum()),
                "features": list(self.features), "target": self.target, "id_col": self.id_col,
                "step_col": self.step_col, "filled": self.filled, "lengths": length_summary(lengths)}


def length_summary(lengths: np.ndarray) -> dict:
    """Shortest, median and longest sequence length."""
    if len(lengths) == 0:
        return {"min": 0, "median": 0, "max": 0}
    return {"min": int(lengths.min()), "median": float(np.median(lengths)),
            "max": int(lengths.max())}


def load_sequences(
    path: str | Path,
    *,
    target: str | None,
    id_col: str | None = None,
    step_col: str | None = None,
    features: list[str] | tuple[str, ...] | None = None,
    format: str = "long",
) -> SequenceTable:
    """Read a CSV of labelled sequences.

    Long format: one row per (sequence, step); ``id_col`` names the sequence, ``step_col`` (a
    number or a timestamp) orders its steps, the target is constant within a sequence and the
    other numeric columns are features. Wide format: one row per sequence, one column per step
    (UCR style); trailing empty cells make a sequence shorter.

    Args:
        path: the CSV file.
        target: the label column (``None`` reads unlabelled sequences, for prediction).
        id_col: the sequence id column (required in the long format).
        step_col: the column ordering the steps (default: file order).
        features: feature columns (long format; default every other numeric column).
        format: ``long`` or ``wide``.

    Raises:
        DataError: one line naming the file, the column or sequence at fault and what to do.

    Example:
        >>> table = load_sequences("examples/italypowerdemand_train.csv", target="label",
        ...                        id_col="sequence_id", step_col="step")
    """
    frame, fingerprint = read_csv_file(path)
    return sequences_from_frame(frame, source=str(path), fingerprint=fingerprint, target=target,
                                id_col=id_col, step_col=step_col, features=features, format=format)


def sequences_from_frame(frame: pd.DataFrame, *, source: str, fingerprint: str,
                         target: str | None, id_col: str | None = None,
                         step_col: str | None = None,
                         features: list[str] | tuple[str, ...] | None = None,
                         format: str = "long") -> SequenceTable:
    """``load_sequences`` on a frame already read by ``read_csv_file`` (all cells as text)."""
    if format not in FORMATS:
        raise DataError(f"--format must be one of {', '.join(FORMATS)}. Received: {format}")
    columns = list(frame.columns)
    named = {"--target": target, "--id-col": id_col, "--step-col": step_col}
    for flag, col in named.items():
        if col is not None and col not in columns:
            raise DataError(f"{source}: {flag} column '{col}' not found"
                            f"{suggest_column(col, columns)}")
    used = [c for c in (target, id_col, step_col) if c is not None]
    if len(set(used)) != len(used):
        raise DataError(f"{source}: --target, --id-col and --step-col must be different columns. "
                        f"Received: {', '.join(used)}")
    if format == "long":
        if id_col is None:
            raise DataError(f"{source}: the long format needs --id-col naming the column that "
                            "identifies each sequence (or pass --format wide)")
        return _long(frame, source, fingerprint, target, id_col, step_col, features)
    if step_col is not None:
        raise DataError(f"{source}: --step-col is for the long format; in the wide format each "
                        "column after the id and target is one step")
    return _wide(frame, source, fingerprint, target, id_col)


def _long(frame: pd.DataFrame, src: str, fingerprint: str, target: str | None, id_col: str,
          step_col: str | None, features) -> SequenceTable:
    ids = _ids(src, frame[id_col], id_col)
    codes, uniques = pd.factorize(ids, sort=False)
    order = np.arange(len(frame))
    if step_col is not None:
        steps = _steps(src, frame[step_col], step_col)
        order = np.lexsort((steps, codes))
        dup = (np.diff(codes[order]) == 0) & (np.diff(steps[order]) == 0)
        if dup.any():
            row = order[int(np.flatnonzero(dup)[0]) + 1]
            raise DataError(f"{src}: row {row + 2}: sequence '{ids[row]}' has step "
                            f"'{frame[step_col].iloc[row]}' twice in '{step_col}'; keep one row per "
                            "step")
    else:
        order = np.argsort(codes, kind="stable")
    skip = [c for c in (step_col, target) if c is not None]
    used = [id_col, *skip]
    for c in features or ():
        if c not in frame.columns or c in skip or c == id_col:
            raise DataError(f"{src}: feature column '{c}' not found among the columns besides "
                            f"the id, step and target"
                            f"{suggest_column(c, [x for x in frame.columns if x not in used])}")
    notes: list[tuple] = []  # warnings wait until the file passes every check
    values = _numeric_columns(src, frame.drop(columns=skip), id_col, [], features, notes)
    if values.shape[1] == 0:
        raise DataError(f"{src}: no numeric feature columns besides '{id_col}'"
                        f"{f' and {target!r}' if target else ''}; sequences need at least one")
    labels = None
    if target is not None:
        labels = _sequence_labels(src, frame[target], codes, uniques, target, id_col)
    counts = np.bincount(codes, minlength=len(uniques))
    sorted_values = values.to_numpy("float64")[order]
    chunks = np.split(sorted_values, np.cumsum(counts)[:-1])
    sequences, filled = _fill_sequences(src, chunks, list(uniques), tuple(values.columns))
    for note in notes:
        logger.warning(*note)
    return SequenceTable(ids=tuple(str(u) for u in uniques), sequences=tuple(sequences),
                         labels=labels, features=tuple(values.columns), target=target,
                         id_col=id_col, step_col=step_col, format="long", source=src,
                         fingerprint=fingerprint, filled=filled)


def _wide(frame: pd.DataFrame, src: str, fingerprint: str, target: str | None,
          id_col: str | None) -> SequenceTable:
    step_cols = [c for c in frame.columns if c not in (id_col, target)]
    if not step_cols:
        raise DataError(f"{src}: no step columns besides the id and target; the wide format has "
                        "one column per step")
    if id_col is not None:
        ids = _ids(src, frame[id_col], id_col)
        dup = pd.Series(ids).duplicated().to_numpy()
        if dup.any():
            row = int(np.flatnonzero(dup)[0])
            raise DataError(f"{src}: row {row + 2}: sequence id '{ids[row]}' appears twice in "
                            f"'{id_col}'; the wide format has one row per sequence")
    else:
        ids = np.array([str(i) for i in range(len(frame))], dtype=object)
    values = np.empty((len(frame), len(step_cols)))
    for j, col in enumerate(step_cols):
        text = frame[col].str.strip()
        num = pd.to_numeric(text, errors="coerce")
        bad = num.isna() & text.notna() & (text != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{src}: row {row + 2}: column '{col}' holds '{text.iloc[row]}', not a "
                            "number; in the wide format every column besides the id and target is "
                            "a step")
        values[:, j] = num.to_numpy("float64")
    if np.isinf(values).any():
        row = int(np.flatnonzero(np.isinf(values).any(axis=1))[0])
        raise DataError(f"{src}: row {row + 2}: an infinite value; replace it with a number")
    labels = None
    if target is not None:
        codes = np.arange(len(frame))
        labels = _sequence_labels(src, frame[target], codes, ids, target, id_col or "row")
    chunks = []
    for i, row in enumerate(values):
        present = np.flatnonzero(~np.isnan(row))
        if len(present) == 0:
            raise DataError(f"{src}: row {i + 2}: sequence '{ids[i]}' has no values; drop the row")
        chunks.append(row[: present[-1] + 1, None])  # trailing blanks: a shorter sequence
    sequences, filled = _fill_sequences(src, chunks, list(ids), (WIDE_FEATURE,))
    return SequenceTable(ids=tuple(str(i) for i in ids), sequences=tuple(sequences),
                         labels=labels, features=(WIDE_FEATURE,), target=target, id_col=id_col,
                         step_col=None, format="wide", source=src, fingerprint=fingerprint,
                         filled=filled)


def _filled(src: str, col: pd.Series, name: str, what: str) -> pd.Series:
    """The column's stripped text; an empty cell is refused naming its row."""
    text = col.str.strip()
    blank = (text.isna() | (text == "")).to_numpy()
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise DataError(f"{src}: row {row + 2}: empty {what} in '{name}'; every row needs one")
    return text


def _ids(src: str, col: pd.Series, name: str) -> np.ndarray:
    return _filled(src, col, name, "sequence id").to_numpy(dtype=object)


def _steps(src: str, col: pd.Series, name: str) -> np.ndarray:
    text = _filled(src, col, name, "step")
    num = pd.to_numeric(text, errors="coerce")
    if num.notna().all():
        return num.to_numpy("float64")
    if num.notna().mean() >= 0.5:  # numbered steps with a stray cell
        row = int(np.flatnonzero(num.isna().to_numpy())[0])
        raise DataError(f"{src}: row {row + 2}: '{text.iloc[row]}' in '{name}' is not a number "
                        "like the column's other steps; fix the cell (the step column orders "
                        "the steps of each sequence)")
    times = pd.to_datetime(text, errors="coerce", format="mixed")
    bad = times.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"{src}: row {row + 2}: '{text.iloc[row]}' in '{name}' is neither a number "
                        "nor a timestamp; the step column orders the steps of each sequence")
    return times.astype("int64").to_numpy().astype("float64")


def _sequence_labels(src: str, col: pd.Series, codes: np.ndarray, uniques, target: str,
                     id_col: str) -> tuple[str, ...]:
    text = col.str.strip()
    blank = (text.isna() | (text == "")).to_numpy()
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise DataError(f"{src}: row {row + 2}: sequence '{uniques[codes[row]]}' has no "
                        f"'{target}'; every sequence needs its label")
    values = text.to_numpy(dtype=object)
    first = np.full(len(uniques), -1)
    first[codes[::-1]] = np.arange(len(codes))[::-1]  # the first row of each sequence
    labels = values[first]
    differs = values != labels[codes]
    if differs.any():
        row = int(np.flatnonzero(differs)[0])
        seq = codes[row]
        raise DataError(f"{src}: row {row + 2}: sequence '{uniques[seq]}' has '{target}' "
                        f"'{values[row]}' after '{labels[seq]}'; the target must be constant "
                        f"within a sequence (one label per '{id_col}')")
    _warn_case_variants(src, target, labels)
    return tuple(str(v) for v in labels)


def _warn_case_variants(src: str, target: str, labels) -> None:
    """Say when labels differ only in letter case ('Walk', 'walk'): separate classes to the
    model, rarely what the data mean."""
    by_fold: dict[str, set[str]] = {}
    for lab in map(str, labels):
        by_fold.setdefault(lab.casefold(), set()).add(lab)
    variants = [sorted(v) for v in by_fold.values() if len(v) > 1]
    if variants:
        shown = "; ".join(" / ".join(repr(x) for x in v) for v in variants[:3])
        logger.warning("%s: labels of '%s' that differ only in case are separate classes: %s; "
                       "write each class one way if they are the same", src, target, shown)


def _fill_sequences(src: str, chunks: list[np.ndarray], ids: list, features: tuple[str, ...]
                    ) -> tuple[list[np.ndarray], int]:
    """Interpolate missing feature values within each sequence (linearly along its steps)."""
    out, filled = [], 0
    for seq_id, chunk in zip(ids, chunks, strict=True):
        missing = np.isnan(chunk)
        if missing.any():
            empty = missing.all(axis=0)
            if empty.any():
                col = features[int(np.flatnonzero(empty)[0])]
                raise DataError(f"{src}: sequence '{seq_id}': column '{col}' is empty for the "
                                "whole sequence; fill it or drop the sequence")
            chunk = pd.DataFrame(chunk).interpolate(limit_direction="both").to_numpy()
            filled += int(missing.sum())
        out.append(chunk)
    if filled:
        logger.info("%s: filled %d missing values by interpolation within their sequence",
                    src, filled)
    return out, filled
