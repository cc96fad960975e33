"""Reading a CSV file into a DataFrame, with one clear error for every way a file can be wrong."""

from __future__ import annotations

import csv
import difflib
import gzip
import hashlib
import io
import logging
import re
import zlib
from collections.abc import Callable, Collection
from pathlib import Path

import numpy as np
import pandas as pd

from autoseq.exceptions import DataError

logger = logging.getLogger("autoseq")

_GZIP_MAGIC = b"\x1f\x8b"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Where str.splitlines() breaks a line.
_LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# Files people pass by mistake, recognised by their first bytes.
_NOT_CSV = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx spreadsheet?)"),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls spreadsheet"),
    (b"PAR1", "a Parquet file"),
)


def read_csv_file(
    path: str | Path,
    *,
    text_columns: Callable[[list[str]], Collection[str]] | None = None,
) -> tuple[pd.DataFrame, str]:
    """Read ``path`` as a CSV with a header row.

    Args:
        path: the CSV file (optionally gzip-compressed).
        text_columns: ``None`` reads every cell as text. Otherwise, given the header, the columns
            to keep as text; every other column is parsed as numbers by the CSV reader when all
            its cells are numbers (or empty), and kept as text when not. For large files: a
            million rows of ten columns take ~60 s and 1.5 GB as text, a few seconds as numbers.

    Returns:
        The frame (all columns as read) and the SHA-256 fingerprint of the file's bytes.

    Raises:
        DataError: the file is missing, a folder, empty, not text, or not a well-formed CSV.
    """
    path = Path(path)
    raw = _read_bytes(path)
    fingerprint = hashlib.sha256(raw).hexdigest()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: looks gzip-compressed but cannot be decompressed "
                            f"({_short(exc)}); pass the uncompressed CSV") from None
    for magic, what in _NOT_CSV:
        if raw.startswith(magic):
            raise DataError(f"{path}: is {what}, not a CSV file; export it as CSV (UTF-8, "
                            "comma-separated) and pass that file")
    text = _decode(path, raw)
    if not text.strip():
        raise DataError(f"{path}: the file is empty; pass a CSV with a header row and data rows")
    header = _check_header(path, text)
    _check_rows(path, text, len(header))
    if text_columns is None:
        dtype: type | dict[int, type] = str
    else:
        keep = set(text_columns(header))
        dtype = {i: str for i, name in enumerate(header) if name in keep}
    # The parser reads UTF-8 bytes as they are; a StringIO would copy the text at 4 bytes a
    # character (350 MB for a million rows of ten columns).
    utf16 = raw[:2] in _UTF16_BOMS
    source = io.StringIO(text) if utf16 else io.BytesIO(raw)
    del text
    try:
        frame = pd.read_csv(source, skip_blank_lines=True, dtype=dtype,
                            encoding=None if utf16 else "utf-8-sig", keep_default_na=True,
                            on_bad_lines="error", engine="c",
                            # parsing numbers: one type per column, never mixed by chunk
                            low_memory=text_columns is None)
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: malformed CSV ({_short(exc)}); every row must have "
                        f"{len(header)} fields like the header") from None
    if frame.empty:
        raise DataError(f"{path}: the file has a header but no data rows; add rows below "
                        "the header")
    frame.columns = header
    if header[0] == "":
        frame = _drop_row_index(path, frame)
    return frame, fingerprint


def _drop_row_index(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """Drop an unnamed first column that numbers the rows 0, 1, 2, … (pandas' ``to_csv``)."""
    first = pd.to_numeric(frame.iloc[:, 0], errors="coerce").astype("float64").to_numpy()
    rows = np.arange(len(frame), dtype="float64")
    if not (np.array_equal(first, rows) or np.array_equal(first, rows + 1)):  # pandas, R
        raise DataError(f"{path}: column 1 of the header has no name (an index written by "
                        "pandas' to_csv?); give it a name in the header line, e.g. 'time', or "
                        "write the file without it (to_csv(..., index=False))")
    logger.info("%s: the unnamed first column numbers the rows (a row index written by pandas "
                "or R); ignored it", path)
    return frame.iloc[:, 1:]


def csv_header(path: str | Path) -> list[str] | None:
    """The column names of ``path``'s header line, read from the file's first bytes alone;
    ``None`` when they cannot be read that way (``read_csv_file`` then says why)."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
        if head[:2] == _GZIP_MAGIC:
            with gzip.open(path, "rb") as f:
                head = f.read(1 << 16)
        text = (head.decode("utf-16", errors="ignore") if head[:2] in _UTF16_BOMS
                else head.decode("utf-8-sig", errors="ignore"))
    except (OSError, EOFError, zlib.error):
        return None
    lines = _LINE_BREAK.split(text.lstrip(" \t\r\n"), maxsplit=1)
    if len(lines) < 2 or any(head.startswith(magic) for magic, _ in _NOT_CSV):
        return None  # the header runs past the bytes read, or not a CSV
    header = [h.strip() for h in next(csv.reader([lines[0]]))]
    header = header[1:] if header[:1] == [""] else header  # a pandas row index: dropped
    return header if len(header) > 1 and not lines[0].startswith("#") else None


def suggest_column(name: str, columns: list[str]) -> str:
    """A ``"; did you mean 'x'?"`` suffix naming the closest column, or the list of columns."""
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.5)
    if not close:
        lowered = {c.lower(): c for c in columns}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; columns are: {', '.join(repr(c) for c in columns[:12])}"


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise DataError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a CSV file; pass the path of a .csv file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from None


def _decode(path: Path, raw: bytes) -> str:
    if raw[:2] in _UTF16_BOMS:
        return raw.decode("utf-16")
    if b"\x00" in raw[:4096]:
        raise DataError(f"{path}: contains NUL bytes (binary or UTF-16 without a byte-order mark); "
                        "re-save it as UTF-8 text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}: line {line}: byte 0x{raw[exc.start]:02x} is not valid UTF-8 "
                        "(Latin-1 or Windows-1252?); re-save the file as UTF-8") from None


def _check_header(path: Path, text: str) -> list[str]:
    first = _LINE_BREAK.split(text.lstrip(" \t\r\n"), maxsplit=1)[0]  # not splitlines(): 1M rows
    if first.lower().startswith(("<!doctype", "<html", "<?xml", "<table", "<head", "<body")):
        raise DataError(f"{path}: is an HTML or XML page, not a CSV file (a web page saved "
                        "instead of the data?); download the raw CSV and pass that file")
    if first.startswith("#"):
        raise DataError(f"{path}: line 1 is a comment ({first[:40]!r}); remove the comment lines "
                        "so that the first line is the header")
    header = next(csv.reader([first]))
    header = [h.strip() for h in header]
    if len(header) == 1:
        for delim in (";", "\t", "|", " "):
            if delim in first.strip():
                shown = {"\t": "tab", " ": "space"}.get(delim, delim)
                raise DataError(f"{path}: the header has one column but contains '{shown}'; "
                                "autoseq reads comma-separated files: re-save with ',' separators")
        raise DataError(f"{path}: the header has one column ({header[0]!r}); autoseq needs a time "
                        "column and a value column separated by ','")
    named = [h for h in header if h]
    if len(named) >= 2 and all(_is_number(h) for h in named) and not _consecutive(named):
        raise DataError(f"{path}: line 1 holds numbers ({', '.join(named[:3])}, …), not column "
                        "names: the file has no header row; add one naming the columns (e.g. "
                        "label,t1,t2,… for one sequence per row)")
    # a row index written by pandas' to_csv (or R's write.csv): read_csv_file drops it
    index = 1 if header[0] == "" and all(header[1:]) else 0
    if any(h == "" for h in header[index:]):
        pos = header.index("", index) + 1
        trailing = " (a comma at the end of each line?)" if pos == len(header) else ""
        raise DataError(f"{path}: column {pos} of the header has no name{trailing}; name every "
                        "column")
    seen: set[str] = set()
    for h in header[index:]:
        if h in seen:
            raise DataError(f"{path}: column name '{h}' appears more than once in the header; "
                            "rename one of them")
        seen.add(h)
    return header


def _consecutive(names: list[str]) -> bool:
    """Step names ``0, 1, 2, …`` (``DataFrame.to_csv``) or years ``2019, 2020, …``."""
    try:
        values = [int(n) for n in names]
    except ValueError:
        return False
    return all(b - a == 1 for a, b in zip(values[:-1], values[1:], strict=True))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_rows(path: Path, text: str, n_fields: int) -> None:
    """Every record must have the header's number of fields; name the first line that has not."""
    reader = csv.reader(io.StringIO(text, newline=""))  # a lone '\r' ends a line, as in pandas
    end = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"{path}: line {end + 1}: malformed CSV ({exc}); fix the row") from None
        line, end = end + 1, reader.line_num
        if len(row) <= 1 and not "".join(row).strip():
            continue  # a blank line, skipped by the parser too
        if any("\n" in f or "\r" in f for f in row):
            raise DataError(f"{path}: line {line}: a quoted field runs over several lines (a '\"' "
                            "that is never closed?); fix the row")
        if len(row) != n_fields:
            raise DataError(f"{path}: line {line} has {len(row)} fields but the header has "
                            f"{n_fields}; fix the row so every row has one value per column")


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[-1].rstrip(".")
