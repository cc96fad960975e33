"""The bad-input catalogue: malformed files and settings through the real ``autoseq`` command.

Every case must end with exit code 2, exactly one line on stderr that names the problem, the file
(and the row or column where there is one) and what to do, no traceback, and no run folder.
A few inputs that look odd but are readable (UTF-8 BOM, gzip named .csv, UTF-16 with a BOM, CRLF)
are accepted and must give the same series as the plain file.
"""

from __future__ import annotations

import gzip
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from autoseq.cli import main
from autoseq.data import ForecastData, load_series
from autoseq.exceptions import DataError

N = 40  # rows of the well-formed series every case starts from


def _rows(n: int = N, *, start: str = "2024-01-01", step_days: int = 1) -> list[list[str]]:
    dates = np.datetime64(start) + np.arange(n) * step_days
    t = np.arange(n)
    y = 10 + 3 * np.sin(2 * np.pi * t / 7) + 0.05 * t
    x = np.cos(2 * np.pi * t / 7)
    return [[str(d), f"{a:.3f}", f"{b:.3f}"] for d, a, b in zip(dates, y, x, strict=True)]


def _text(rows: list[list[str]], header: str = "date,y,x") -> str:
    return "\n".join([header] + [",".join(r) for r in rows]) + "\n"


def _edit(cells: dict[tuple[int, int], str], n: int = N) -> str:
    """The good series with some cells replaced: ``{(data_row, column): text}``."""
    rows = _rows(n)
    for (r, c), v in cells.items():
        rows[r][c] = v
    return _text(rows)


@dataclass(frozen=True)
class Case:
    """One malformed input: how to write it, extra CLI arguments, and what the line must say."""

    id: str
    content: str | bytes | Callable[[Path], None] | None
    expect: tuple[str, ...]
    args: tuple[str, ...] = ()
    names_file: bool = True


def _mkdir(p: Path) -> None:
    p.mkdir()


def _gap(start: int, length: int) -> str:
    rows = _rows(N + length)
    return _text(rows[:start] + rows[start + length:])


def _irregular() -> str:
    rng = np.random.default_rng(0)
    days = np.sort(rng.choice(400, size=N, replace=False))
    rows = _rows(N)
    for i, d in enumerate(days):
        rows[i][0] = str(np.datetime64("2024-01-01") + int(d) * np.timedelta64(1, "m") * 37)
    return _text(rows)


def _mostly_empty() -> str:
    rows = _rows()
    for i, r in enumerate(rows):
        if i % 5:
            r[1] = ""
    return _text(rows)


def _all_empty() -> str:
    rows = _rows()
    for r in rows:
        r[1] = ""
    return _text(rows)


def _zones() -> str:
    rows = _rows()
    for i, r in enumerate(rows):
        r[0] = f"{r[0]}T00:00:00" + ("+01:00" if i < 20 else "")
    return _text(rows)


def _ragged(extra: bool) -> str:
    rows = _rows()
    rows[9] = rows[9] + ["7"] if extra else rows[9][:2]
    return _text(rows)


def _delimited(sep: str) -> str:
    return _text(_rows()).replace(",", sep)


def _dates(fmt: str) -> list[list[str]]:
    rows = _rows()
    for r in rows:
        r[0] = np.datetime64(r[0]).astype(object).strftime(fmt)
    return rows


def _unsorted_with_duplicate() -> str:
    rows = _rows()[::-1]
    rows[3][0] = rows[4][0]
    return _text(rows)


GOOD = _text(_rows())

CASES = [
    # -- the file itself ---------------------------------------------------------------------------
    Case("missing_file", None, ("no such file", "check the path")),
    Case("directory", _mkdir, ("is a directory", "pass the path of a .csv file")),
    Case("empty_file", "", ("the file is empty", "pass a CSV with a header row")),
    Case("blank_lines_only", "\n \n\t\n", ("the file is empty",)),
    Case("header_only", "date,y,x\n", ("header but no data rows", "add rows")),
    Case("header_only_crlf", "date,y,x\r\n\r\n", ("header but no data rows",)),
    Case("latin1_bytes", GOOD.replace("date,y,x", "date,y,température").encode("latin-1"),
         ("line 1", "byte 0xe9", "not valid UTF-8", "re-save the file as UTF-8")),
    Case("utf16_without_bom", GOOD.encode("utf-16-le"), ("NUL bytes", "re-save it as UTF-8")),
    Case("binary_png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
         ("NUL bytes",)),
    Case("corrupt_gzip", b"\x1f\x8b\x08\x00" + b"not really gzip" * 4,
         ("gzip", "cannot be decompressed", "pass the uncompressed CSV")),
    Case("html_page", "<!DOCTYPE html>\n<html><head><title>Data</title></head>\n<body>date,y\n"
         "</body></html>\n", ("HTML or XML page", "not a CSV", "download the raw CSV")),
    Case("spreadsheet_xlsx", b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40 + b"[Content_Types].xml",
         ("spreadsheet", "export it as CSV")),
    # -- structure -----------------------------------------------------------------------------
    Case("semicolon_delimiter", _delimited(";"), ("one column", "';'", "re-save with ','")),
    Case("tab_delimiter", _delimited("\t"), ("one column", "'tab'", "re-save with ','")),
    Case("pipe_delimiter", _delimited("|"), ("one column", "'|'",)),
    Case("space_delimiter", _delimited(" "), ("one column", "'space'", "re-save with ','")),
    Case("one_column_file", "y\n1\n2\n3\n", ("the header has one column ('y')",
                                              "needs a time column and a value column")),
    Case("comment_line_first", "# exported 2024-05-01\n" + GOOD,
         ("line 1 is a comment", "remove the comment lines")),
    Case("header_repeated_mid_file", GOOD + GOOD.splitlines()[0] + "\n",
         ("row 42", "'date' in 'date'", "not a timestamp")),
    Case("ragged_row_too_many_fields", _ragged(True),
         ("line 11", "4 fields", "header has 3", "fix the row")),
    Case("ragged_row_too_few_fields", _ragged(False),
         ("line 11", "2 fields", "header has 3", "fix the row")),
    Case("lone_carriage_return", GOOD.replace(",-0.901\n", "\r,-0.901\n", 1),
         ("line 5 has 2 fields", "header has 3")),
    Case("unclosed_quote", _edit({(5, 1): '"12.5'}), ("line 7", "quote", "fix the row")),
    Case("duplicate_column_names", GOOD.replace("date,y,x", "date,y,y"),
         ("column name 'y' appears more than once", "rename one of them")),
    Case("unnamed_column", GOOD.replace("date,y,x", "date,,x"),
         ("column 2 of the header has no name", "name every column")),
    Case("index_and_duplicate_names", "".join(
        f"{i - 1 if i else ''},{line}\n" for i, line in enumerate(
            GOOD.replace("date,y,x", "date,y,y").splitlines())),
         ("column name 'y' appears more than once",)),
    Case("no_header_row", "\n".join(GOOD.splitlines()[1:]).replace("2024-01-01,", "5,", 1)
         + "\n", ("line 1 holds numbers", "no header row", "add one naming the columns")),
    Case("unnamed_time_index", GOOD.replace("date,y,x", ",y,x"),
         ("column 1 of the header has no name", "pandas' to_csv?", "e.g. 'time'")),
    Case("trailing_commas", GOOD.replace("\n", ",\n"),
         ("column 4 of the header has no name", "a comma at the end of each line?")),
    # -- the target --------------------------------------------------------------------------------
    Case("target_missing", GOOD.replace("date,y,x", "date,sales,price"),
         ("target column 'zzz' not found", "columns are", "'sales'"), args=("--target", "zzz")),
    Case("target_misspelt", GOOD.replace("date,y,x", "date,sales,price"),
         ("target column 'sale' not found", "did you mean 'sales'?"), args=("--target", "sale")),
    Case("target_wrong_case", GOOD, ("target column 'Y' not found", "did you mean 'y'?"),
         args=("--target", "Y")),
    Case("target_is_time_column", GOOD, ("column 'date' is the time column",
                                         "cannot be a target"), args=("--target", "date")),
    Case("target_non_numeric", _edit({(6, 1): "abc"}),
         ("row 8", "column 'y'", "'abc'", "not a number", "fix or blank the cell")),
    Case("target_thousands_separator", _edit({(3, 1): '"1,234.5"'}),
         ("row 5", "column 'y'", "'1,234.5'", "not a number")),
    Case("target_formula", _edit({(10, 1): "=1+2"}), ("row 12", "'=1+2'", "not a number")),
    Case("target_boolean", _edit({(0, 1): "True"}), ("row 2", "'True'", "not a number")),
    Case("target_percent", _edit({(7, 1): "12%"}), ("row 9", "'12%'", "not a number")),
    Case("target_all_empty", _all_empty(), ("column 'y'", "no values", "supply the data")),
    Case("target_mostly_empty", _mostly_empty(),
         ("column 'y'", "28 of 36 values are missing", "over 50%")),  # up to its last value
    Case("target_plus_inf", _edit({(4, 1): "inf"}), ("row 6", "column 'y'", "infinite",
                                                      "replace it")),
    Case("target_minus_inf", _edit({(4, 1): "-Infinity"}), ("row 6", "infinite")),
    Case("target_overflow", _edit({(30, 1): "1e999"}), ("row 32", "column 'y'", "infinite")),
    Case("covariate_inf", _edit({(2, 2): "inf"}), ("row 4", "column 'x'", "infinite")),
    Case("gap_too_long", _gap(15, 14), ("column 'y'", "gap of 14 steps", "--max-gap")),
    Case("covariate_not_found", GOOD, ("covariate column 'z' not found",),
         args=("--covariate", "z")),
    Case("covariate_is_the_target", GOOD, ("--covariate column 'y' is a target",
                                           "another column"), args=("--covariate", "y")),
    Case("future_covariate_copies_the_target",
         _text([[r[0], r[1], r[1]] for r in _rows()]) + "2024-02-10,,1.0\n",
         ("known-future covariate 'x' equals the target 'y'", "drop it"),
         args=("--future-covariate", "x")),
    Case("categorical_non_integer", GOOD, ("--categorical column 'x' holds", "not an integer code",
                                           "drop it from --categorical"),
         args=("--categorical", "x")),
    Case("covariate_non_numeric", _edit({(3, 2): "n/a?"}), ("row 5", "column 'x'", "'n/a?'"),
         args=("--covariate", "x")),
    # -- time ---------------------------------------------------------------------------------
    Case("timestamp_unparseable", _edit({(9, 0): "2024-13-45"}),
         ("row 11", "'2024-13-45'", "'date'", "not a timestamp", "ISO 8601")),
    Case("timestamp_text", _edit({(0, 0): "yesterday"}), ("row 2", "'yesterday'")),
    Case("timestamp_empty", _edit({(20, 0): ""}), ("row 22", "empty timestamp")),
    Case("timestamp_epoch_seconds", _text([[str(1704067200 + 86400 * i), r[1], r[2]]
                                           for i, r in enumerate(_rows())]),
         ("row 2", "'1704067200'", "not a timestamp", "ISO 8601")),
    Case("timestamp_zone_name", _text([[f"{r[0]} 00:00 CET", r[1], r[2]] for r in _rows()]),
         ("row 2", "names a time zone ('CET')", "write an offset such as +01:00")),
    Case("times_without_dates", _text([[f"{i % 24:02d}:00", r[1], r[2]]
                                       for i, r in enumerate(_rows())]),
         ("duplicate timestamp",)),
    Case("unsorted_and_duplicate", _unsorted_with_duplicate(), ("duplicate timestamp",)),
    Case("timestamps_mixed_zones", _zones(),
         ("row 22", "mixes timestamps with and without a time zone", "one convention")),
    Case("duplicate_timestamps", _edit({(8, 0): "2024-01-08"}),
         ("row 10", "duplicate timestamp 2024-01-08", "one row per time step")),
    Case("several_series_without_series_col",
         _text([[r[0], r[1], s] for s in ("north", "south") for r in _rows()], "date,y,store"),
         ("duplicate timestamp 2024-01-01", "one series per 'store'", "--series-col store")),
    Case("irregular_frequency", _irregular(),
         ("column 'date'", "irregular", "resample the data to a fixed frequency")),
    Case("no_time_column", GOOD.replace("date,y,x", "a,y,x").replace("2024-", "2024"),
         ("cannot tell which column holds the timestamps", "--time-col")),
    Case("time_col_not_found", GOOD, ("time column 'dt' not found", "did you mean 'date'?"),
         args=("--time-col", "dt")),
    Case("numbers_as_time", GOOD, ("row 2", "'10.000'", "'y'", "not a timestamp"),
         args=("--time-col", "y", "--target", "x")),
    # -- length -----------------------------------------------------------------------------------
    Case("too_few_rows", _text(_rows(12)),
         ("12 rows are too few for horizon 3", "at least 14 rows are needed"), args=("--horizon", "3")),
    Case("two_rows", _text(_rows(2)), ("only 2 rows",)),
    Case("one_row", _text(_rows(1)), ("only 1 row;", "pass a longer series")),
    Case("horizon_too_long", GOOD, ("40 rows are too few for horizon 48", "at least 194 rows are needed",
                   "lower --horizon"),
         args=("--horizon", "48")),
    Case("val_size_too_big", GOOD, ("at least 103 rows", "82 for validation", "--val-size 0.8",
                   "lower --horizon/--val-size"),
         args=("--val-size", "0.8")),
]

SETTINGS_CASES = [
    Case("unknown_space_name", GOOD, ("unknown search space 'fastt'", "did you mean 'fast'?"),
         args=("--space", "fastt"), names_file=False),
    Case("space_file_missing", GOOD, ("search-space file not found",),
         args=("--space", "{tmp}/nope.yaml"), names_file=False),
    Case("space_file_broken_yaml", GOOD, ("space.yaml", "not valid YAML at line 3"),
         args=("--space", "{tmp}/space.yaml"), names_file=False),
    Case("space_file_unknown_type", GOOD, ("space.yaml", "parameters.units.type",
                                           "must be one of"),
         args=("--space", "{tmp}/space.yaml"), names_file=False),
    Case("space_file_unknown_cell", GOOD, ("space.yaml", "unknown cell 'transformer'"),
         args=("--space", "{tmp}/space.yaml"), names_file=False),
    Case("space_file_not_mapping", GOOD, ("space.yaml", "must be a mapping"),
         args=("--space", "{tmp}/space.yaml"), names_file=False),
    Case("storage_unreachable", GOOD, ("storage", "postgresql://u:***@127.0.0.1:1/db"),
         args=("--storage", "postgresql://u:secret@127.0.0.1:1/db"), names_file=False),
    Case("storage_sqlite_unopenable", GOOD, ("cannot reach storage", "unable to open database"),
         args=("--storage", "sqlite:////nonexistent/folder/study.db"), names_file=False),
    Case("storage_unknown_scheme", GOOD, ("storage", "nosuchdb://"),
         args=("--storage", "nosuchdb://u:secret@host/db"), names_file=False),
    Case("val_size_zero", GOOD, ("--val-size", "Received: 0"), args=("--val-size", "0"),
         names_file=False),
    Case("val_size_negative", GOOD, ("--val-size", "Received: -5"), args=("--val-size", "-5"),
         names_file=False),
    Case("val_size_text", GOOD, ("--val-size", "'ten'", "row count or a fraction"),
         args=("--val-size", "ten"), names_file=False),
    Case("val_size_fractional_rows", GOOD, ("--val-size", "whole number of rows",
                                            "Received: 2.5"),
         args=("--val-size", "2.5"), names_file=False),
    Case("test_size_text", GOOD, ("--test-size", "'1/3'"), args=("--test-size", "1/3"),
         names_file=False),
    Case("horizon_zero", GOOD, ("--horizon", "0"), args=("--horizon", "0"), names_file=False),
    Case("trials_zero", GOOD, ("--trials", "at least 1", "Received: 0"), args=("--trials", "0"),
         names_file=False),
    Case("max_epochs_zero", GOOD, ("--max-epochs", "at least 1"), args=("--max-epochs", "0"),
         names_file=False),
    Case("algorithm_unknown", GOOD, ("--algorithm", "tpe, random", "Received: annealing"),
         args=("--algorithm", "annealing"), names_file=False),
    Case("backend_unknown", GOOD, ("--backend", "Received: sklearn"),
         args=("--backend", "sklearn"), names_file=False),
    Case("option_misspelt", GOOD, ("--trails", "--trials"), args=("--trails", "3"),
         names_file=False),
    Case("out_is_a_file", GOOD, ("exists and is a file", "pass a folder to --out"),
         args=("--out", "{tmp}/taken"), names_file=False),
]

_SPACES = {
    "space_file_broken_yaml": "parameters:\n  cell: [lstm, gru\n  units: 4\n",
    "space_file_unknown_type": "parameters:\n  units: {type: integer, low: 2, high: 4}\n",
    "space_file_unknown_cell": "parameters:\n  cell: {type: choice, values: [gru, transformer]}\n",
    "space_file_not_mapping": "- cell\n- units\n",
}


def _write(case: Case, tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    if case.content is None:
        return path
    if callable(case.content):
        case.content(path)
    elif isinstance(case.content, bytes):
        path.write_bytes(case.content)
    else:
        path.write_bytes(case.content.encode("utf-8"))
    if case.id in _SPACES:
        (tmp_path / "space.yaml").write_text(_SPACES[case.id], encoding="utf-8")
    if case.id == "out_is_a_file":
        (tmp_path / "taken").write_text("not a folder")
    return path


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    cap = capsys.readouterr()
    return exit_.value.code, cap.out, cap.err


def _argv(case: Case, data: Path, out: Path, tmp_path: Path) -> list[str]:
    args = [a.replace("{tmp}", str(tmp_path)) for a in case.args]
    base = ["search", str(data), "--target", "y", "--horizon", "2", "--trials", "1",
            "--max-epochs", "1", "--out", str(out)]
    for flag in ("--target", "--out"):
        if flag in args:
            i = base.index(flag)
            del base[i:i + 2]
    return base + args


@pytest.fixture(autouse=True)
def _no_stale_log_handlers():
    # The CLI installs its stderr log handler once per process; start every case without one.
    log = logging.getLogger("autoseq")
    saved = log.handlers[:]
    log.handlers.clear()
    yield
    log.handlers[:] = saved


@pytest.mark.parametrize("case", CASES + SETTINGS_CASES, ids=lambda c: c.id)
def test_bad_input_gets_one_line_and_exit_2(case: Case, tmp_path: Path, capsys):
    data = _write(case, tmp_path)
    out = tmp_path / "run"
    code, stdout, err = _run(_argv(case, data, out, tmp_path), capsys)
    assert code == 2, err
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    line = err.strip()
    assert line.startswith("error: ")
    if case.names_file:
        assert str(data) in line, line
    for part in case.expect:
        assert part in line, f"{part!r} not in {line!r}"
    assert "secret" not in line
    assert stdout == ""
    assert not out.exists(), "a run folder was left behind"


def test_the_catalogue_is_large_enough():
    assert len(CASES) + len(SETTINGS_CASES) >= 40
    assert len({c.id for c in CASES + SETTINGS_CASES}) == len(CASES) + len(SETTINGS_CASES)


def test_debug_shows_the_traceback(tmp_path: Path, capsys):
    data = tmp_path / "data.csv"
    data.write_text(_edit({(6, 1): "abc"}))
    code, _, err = _run(["search", str(data), "--target", "y", "--out", str(tmp_path / "r"),
                         "--debug"], capsys)
    assert code == 2
    assert "Traceback (most recent call last)" in err and "DataError" in err
    assert err.strip().splitlines()[-1].startswith("error: ")
    assert not (tmp_path / "r").exists()


# -- inputs that look odd but are readable: accepted, with the same result as the plain file ------

def _plain(tmp_path: Path):
    path = tmp_path / "plain.csv"
    path.write_text(GOOD, encoding="utf-8")
    return load_series(path, targets=["y"])


@pytest.mark.parametrize("variant", ["utf8_bom", "gzip_named_csv", "utf16_with_bom", "crlf",
                                     "spaces_around_names", "quoted_fields", "trailing_blank_lines",
                                     "unsorted_rows", "day_first_dates", "month_first_dates",
                                     "utc_suffix", "pandas_row_index", "r_row_names",
                                     "percent_column", "rows_after_the_last_value"])
def test_readable_oddities_are_accepted(variant: str, tmp_path: Path):
    text = GOOD
    path = tmp_path / "odd.csv"
    if variant == "utf8_bom":
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    elif variant == "gzip_named_csv":
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    elif variant == "utf16_with_bom":
        path.write_bytes(text.encode("utf-16"))
    elif variant == "crlf":
        path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    elif variant == "spaces_around_names":
        path.write_text(text.replace("date,y,x", " date , y , x "), encoding="utf-8")
    elif variant == "quoted_fields":
        lines = text.splitlines()
        quoted = [",".join(f'"{c}"' for c in line.split(",")) for line in lines]
        path.write_text("\n".join(quoted) + "\n", encoding="utf-8")
    elif variant == "trailing_blank_lines":
        path.write_text(text + "\n\n\n", encoding="utf-8")
    elif variant == "day_first_dates":  # 01/02/2024 must be read as 1 February, like 13/01/2024
        path.write_text(_text(_dates("%d/%m/%Y")), encoding="utf-8")
    elif variant == "utc_suffix":  # BigQuery-style "2024-01-01 00:00:00 UTC"
        path.write_text(_text([[f"{r[0]} 00:00:00 UTC", r[1], r[2]] for r in _rows()]))
    elif variant == "percent_column":  # "-0.901%" in every cell of x: the number -0.901
        lines = text.splitlines()
        path.write_text("\n".join(lines[:1] + [f"{line}%" for line in lines[1:]]) + "\n")
    elif variant == "rows_after_the_last_value":  # empty rows at the end: not history
        path.write_text(text + "2024-02-10,,\n2024-02-11,,\n")
    elif variant in ("pandas_row_index", "r_row_names"):  # to_csv() without index=False
        lines, first = text.splitlines(), int(variant == "r_row_names")  # write.csv: 1, 2, …
        numbered = [f",{lines[0]}"] + [f"{i + first},{line}" for i, line in enumerate(lines[1:])]
        path.write_text("\n".join(numbered) + "\n", encoding="utf-8")
    elif variant == "month_first_dates":
        path.write_text(_text(_dates("%m/%d/%Y")), encoding="utf-8")
    else:
        lines = text.splitlines()
        path.write_text("\n".join([lines[0]] + lines[1:][::-1]) + "\n", encoding="utf-8")
    got = load_series(path, targets=["y"])
    want = _plain(tmp_path)
    assert got.time_col == "date" and got.columns == ("y", "x")
    assert got.freq == want.freq == "D"
    np.testing.assert_array_equal(got.frame.to_numpy(), want.frame.to_numpy())
    assert list(got.frame.index) == list(want.frame.index)


def test_constant_target_is_a_warning_and_the_data_are_usable(tmp_path: Path, caplog):
    rows = _rows()
    for r in rows:
        r[1] = "5"
    path = tmp_path / "flat.csv"
    path.write_text(_text(rows), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="autoseq"):
        series = load_series(path, targets=["y"])
    assert "target 'y' is constant (5)" in caplog.text
    data = ForecastData(series, horizon=2)
    assert np.isfinite(data.scaled).all()  # the scaler does not divide by a zero spread
    assert np.all(data.scaled[:, 0] == 0.0)


def test_randomly_damaged_files_are_read_or_refused_with_a_specific_line(tmp_path: Path):
    """Files nobody wrote by hand: every one is either read or refused with one line."""
    rng = random.Random(0)
    pieces = list(',;"\n\r\t x09.-+eE:TZ/<>=@#\x00') + ["nan", "inf", "NA", "2024-01-01", "\ufeff"]
    path = tmp_path / "damaged.csv"
    outcomes = {"read": 0, "refused": 0}
    for _ in range(300):
        text = GOOD
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(text))
            op = rng.random()
            if op < 0.4:
                text = text[:pos] + rng.choice(pieces) + text[pos:]
            elif op < 0.7:
                text = text[:pos] + text[pos + rng.randint(1, 12):]
            else:
                lines = text.split("\n")
                lines.insert(rng.randrange(len(lines)), lines[rng.randrange(len(lines))])
                text = "\n".join(lines)
        path.write_bytes(text.encode(rng.choice(["utf-8", "latin-1"]), errors="replace"))
        try:
            ForecastData(load_series(path, targets=["y"]), horizon=2)
            outcomes["read"] += 1
        except DataError as exc:
            message = str(exc)
            assert "\n" not in message and message.startswith(str(path)), message
            assert "cannot be read as a time series" not in message, (message, text)
            outcomes["refused"] += 1
    assert outcomes["read"] > 0 and outcomes["refused"] > 0, outcomes


def test_a_real_autoseq_process_writes_one_line_for_bad_input(tmp_path: Path):
    """The whole process, fd 2 included (TensorFlow's C++ start-up notes would land there)."""
    import os
    import subprocess
    import sys

    data = tmp_path / "data.csv"
    data.write_text(_ragged(True), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "autoseq.cli", "search", str(data), "-t", "y",
                           "--out", str(tmp_path / "run")], capture_output=True, text=True,
                          timeout=300, env=os.environ | {"CUDA_VISIBLE_DEVICES": ""})
    assert done.returncode == 2
    assert done.stderr == f"error: {data}: line 11 has 4 fields but the header has 3; fix the " \
                          "row so every row has one value per column\n"
    assert done.stdout == "" and not (tmp_path / "run").exists()


def test_html_in_a_header_is_data_not_an_error(tmp_path):
    """A column may be named like markup: the report escapes it (issue 4) instead of refusing."""
    from autoseq.data import load_series

    path = tmp_path / "html.csv"
    path.write_text(GOOD.replace("date,y,x", "date,y,<script>alert(1)</script>"))
    series = load_series(path, targets=["y"])
    assert series.covariates == ("<script>alert(1)</script>",)
    path.write_text(GOOD.replace("date,y,x", "date,y,=1+1"))  # escaped in every CSV we write
    assert load_series(path, targets=["y"]).covariates == ("=1+1",)
