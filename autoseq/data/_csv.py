"""Reading a CSV file into a DataFrame, with one clear error for every way a file can be wrong."""

from __future__ import annotations

import csv
import difflib
import gzip
import hashlib
import io
from collections.abc import Callable, Collection
from pathlib import Path

import pandas as pd

from autoseq.exceptions import DataError

_GZIP_MAGIC = b"\x1f\x8b"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


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
        except OSError as exc:
            raise DataError(f"{path}: looks gzip-compressed but cannot be decompressed ({exc}); "
                            "pass the uncompressed CSV") from None
    text = _decode(path, raw)
    if not text.strip():
        raise DataError(f"{path}: the file is empty; pass a CSV with a header row and data rows")
    header = _check_header(path, text)
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
    return frame, fingerprint


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
    first = text.lstrip("\r\n").splitlines()[0]
    header = next(csv.reader([first]))
    header = [h.strip() for h in header]
    if len(header) == 1:
        for delim in (";", "\t", "|"):
            if delim in first:
                shown = {"\t": "tab"}.get(delim, delim)
                raise DataError(f"{path}: the header has one column but contains '{shown}'; "
                                "autoseq reads comma-separated files: re-save with ',' separators")
    if any(h == "" for h in header):
        pos = header.index("") + 1
        raise DataError(f"{path}: column {pos} of the header has no name; name every column")
    seen: set[str] = set()
    for h in header:
        if h in seen:
            raise DataError(f"{path}: column name '{h}' appears more than once in the header; "
                            "rename one of them")
        seen.add(h)
    return header


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[-1].rstrip(".")
