import logging

import numpy as np
import pandas as pd
import pytest

from autoseq.data import infer_frequency, load_series, seasons_for
from autoseq.exceptions import DataError
from tests.conftest import make_series_csv


def test_reads_real_monthly_data(airline_csv):
    ts = load_series(airline_csv, targets=["passengers"])
    assert ts.time_col == "date"
    assert ts.freq == "MS"
    assert len(ts.frame) == 144
    assert ts.missing_steps == 0
    assert ts.covariates == ()


def test_gaps_are_regridded_and_interpolated_in_time(tmp_path, caplog):
    path = make_series_csv(tmp_path / "gaps.csv", n=100, freq="W-SUN", drop=(10, 11, 40))
    with caplog.at_level(logging.INFO, logger="autoseq"):
        ts = load_series(path, targets=["y"])
    assert ts.freq == "W-SUN"
    assert len(ts.frame) == 100
    assert ts.missing_steps == 3
    assert ts.filled == {"y": 3, "x": 3}
    assert not ts.frame.isna().any().any()
    raw = pd.read_csv(path)["y"].to_numpy()  # rows 10 and 11 are missing: raw[9] is step 9
    # time interpolation: steps 10 and 11 lie on the line from step 9 to step 12
    np.testing.assert_allclose(ts.frame["y"].iloc[10:12],
                               raw[9] + (raw[10] - raw[9]) * np.array([1 / 3, 2 / 3]))
    assert "missing time steps" in caplog.text


def test_unsorted_rows_are_sorted_with_a_warning(tmp_path, caplog):
    path = make_series_csv(tmp_path / "s.csv", n=50)
    frame = pd.read_csv(path)
    frame.iloc[::-1].to_csv(path, index=False)
    with caplog.at_level(logging.WARNING, logger="autoseq"):
        ts = load_series(path, targets=["y"])
    assert ts.frame.index.is_monotonic_increasing
    assert "not in time order" in caplog.text


def test_duplicate_timestamp_is_refused_with_its_row(tmp_path):
    path = make_series_csv(tmp_path / "d.csv", n=30)
    frame = pd.read_csv(path)
    frame.loc[5, "date"] = frame.loc[4, "date"]
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"row 7: duplicate timestamp") as daily:
        load_series(path, targets=["y"])
    assert "daylight" not in str(daily.value)
    # local clock times: the hour repeated when summer time ends
    hours = pd.date_range("2021-10-30 12:00", periods=30, freq="h").astype(str).tolist()
    hours.insert(14, hours[13])
    pd.DataFrame({"time": hours, "y": range(31)}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"duplicate timestamp 2021-10-31 01:00:00 .* daylight "
                                        r"saving time ends: write the times in UTC"):
        load_series(path, targets=["y"])


def test_trading_days_with_holidays_stay_trading_days(tmp_path):
    days = pd.bdate_range("2023-01-02", periods=300)
    days = days.delete([10, 45, 100, 170, 250])  # market holidays
    path = tmp_path / "close.csv"
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "close": np.linspace(100, 130, 295)}).to_csv(
        path, index=False)
    ts = load_series(path, targets=["close"])
    assert ts.freq == "B" and len(ts.frame) == 300 and (ts.frame.index.dayofweek < 5).all()
    assert seasons_for("B") == [5, 260]
    with_weekend = pd.date_range("2023-01-02", periods=300).delete([5, 6, 40])
    assert infer_frequency(with_weekend) == "D"
    # a daily model's recent rows may hold no weekend, a trading-day model's a few weekdays
    recent = tmp_path / "recent.csv"
    pd.DataFrame({"date": pd.bdate_range("2024-01-01", periods=30).delete([12]),
                  "close": np.arange(29.0)}).to_csv(recent, index=False)
    assert load_series(recent, targets=["close"]).freq == "B"
    assert len(load_series(recent, targets=["close"], freq="D").frame) == 40
    pd.DataFrame({"date": pd.bdate_range("2024-01-01", periods=4),
                  "close": np.arange(4.0)}).to_csv(recent, index=False)
    assert load_series(recent, targets=["close"], freq="B").freq == "B"
    with pytest.raises(DataError, match="frequency D differs from the model's h"):
        load_series(recent, targets=["close"], freq="h")
    stray = pd.bdate_range("2024-01-01", periods=30).append(pd.DatetimeIndex(["2024-01-13"]))
    pd.DataFrame({"date": stray.sort_values(), "close": np.arange(31.0)}).to_csv(recent,
                                                                                 index=False)
    with pytest.raises(DataError, match=r"row 12: 2024-01-13 00:00:00 is off its grid"):
        load_series(recent, targets=["close"], freq="B")


def test_long_gap_is_refused(tmp_path):
    path = make_series_csv(tmp_path / "g.csv", n=120, drop=tuple(range(30, 45)))
    with pytest.raises(DataError, match=r"gap of 15 steps .* limit of 12 \(--max-gap\)"):
        load_series(path, targets=["y"])
    assert len(load_series(path, targets=["y"], max_gap=20).frame) == 120


def test_mostly_empty_column_is_refused(tmp_path):
    path = make_series_csv(tmp_path / "m.csv", n=40)
    frame = pd.read_csv(path)
    frame.loc[frame.index % 4 != 0, "y"] = np.nan
    frame.to_csv(path, index=False)
    # up to y's last value (row 36): the rows after it are not history
    with pytest.raises(DataError, match=r"column 'y': 27 of 37 values are missing"):
        load_series(path, targets=["y"])


def test_misspelt_target_suggests_the_closest_column(series_csv):
    with pytest.raises(DataError, match=r"target column 'yy' not found; did you mean 'y'\?"):
        load_series(series_csv, targets=["yy"])


def test_time_column_is_detected_or_asked_for(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"when": pd.date_range("2024", periods=20, freq="h").astype(str),
                  "v": range(20)}).to_csv(path, index=False)
    assert load_series(path, targets=["v"]).time_col == "when"
    pd.DataFrame({"a": range(20), "v": range(20)}).to_csv(path, index=False)
    with pytest.raises(DataError, match="pass --time-col"):
        load_series(path, targets=["v"])


def test_irregular_timestamps_are_refused():
    idx = pd.DatetimeIndex(pd.to_datetime(["2024-01-01 00:00", "2024-01-02 00:00", "2024-01-04 05:00",
                                           "2024-01-07 13:00", "2024-01-09 02:00"]))
    with pytest.raises(DataError, match="irregular"):
        infer_frequency(idx, source="x.csv", time_col="date")


@pytest.mark.parametrize(("freq", "seasons"), [("30min", [48, 336]), ("h", [24, 168]),
                                               ("D", [7, 365]), ("W-SUN", [52]), ("MS", [12]),
                                               ("QS", [4]), ("YS", [])])
def test_seasons_follow_the_frequency(freq, seasons):
    assert seasons_for(freq) == seasons


def test_numbers_parsed_by_the_reader_match_numbers_parsed_from_text(tmp_path, caplog):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "when,y,x,flag,note,n\n"
        " 2024-01-01 ,1.5, 7 ,True,a,1\n"
        "2024-01-02,2.25,,False,b,2\n"
        "2024-01-03 ,NA,9,True,c,3\n"
        "2024-01-04,4,10,False,d,4\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="autoseq"):
        ts = load_series(path, targets=["y"], time_col="when")
    assert list(ts.frame.columns) == ["y", "x", "n"]  # flag and note are not numbers: ignored
    assert "'flag' is not numeric" in caplog.text and "'note' is not numeric" in caplog.text
    np.testing.assert_allclose(ts.frame["y"], [1.5, 2.25, 3.125, 4.0])  # NA interpolated
    np.testing.assert_allclose(ts.frame["x"], [7, 8, 9, 10])
    assert ts.frame.index[0] == pd.Timestamp("2024-01-01") and ts.freq == "D"


def test_a_word_among_numbers_is_reported_with_its_row(tmp_path):
    path = tmp_path / "word.csv"
    rows = "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 10))
    path.write_text("date,y\n" + rows + "2024-01-10, n/a?\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"row 11: column 'y' holds 'n/a\?', not a number"):
        load_series(path, targets=["y"])


def test_time_zones_are_checked_in_one_pass(tmp_path, caplog):
    zoned = tmp_path / "zoned.csv"
    zoned.write_text("time,y\n2024-01-01T00:00+01:00,1\n2024-01-01T01:00+01:00,2\n"
                     "2024-01-01T02:00+01:00,3\n2024-01-01T03:00+01:00,4\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="autoseq"):
        ts = load_series(zoned, targets=["y"])
    assert ts.frame.index[0] == pd.Timestamp("2023-12-31 23:00")  # in UTC, zone dropped
    assert "'time' holds UTC offsets: times are read in UTC" in caplog.text
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("time,y\n2024-01-01T00:00Z,1\n2024-01-01T01:00Z,2\n"
                     "2024-01-01T02:00,3\n2024-01-01T03:00Z,4\n", encoding="utf-8")
    with pytest.raises(DataError, match="row 4: 'time' mixes timestamps with and without"):
        load_series(mixed, targets=["y"])


def test_number_headers_and_percentages(tmp_path):
    """A header of consecutive integers names steps (``DataFrame.to_csv``) and is read; a
    first line of other numbers is data without a header; a column whose every cell ends in
    '%' holds numbers, in a panel's columns too (one stray '%' is a typo, refused)."""
    from autoseq.data._categorical import numbers
    from autoseq.data._csv import read_csv_file

    pd.DataFrame(np.arange(12.0).reshape(3, 4)).to_csv(tmp_path / "steps.csv", index=False)
    assert list(read_csv_file(tmp_path / "steps.csv")[0].columns) == ["0", "1", "2", "3"]
    (tmp_path / "bare.csv").write_text("2,0.5,1.5\n1,0.25,0.75\n")
    with pytest.raises(DataError, match="line 1 holds numbers .* no header row"):
        read_csv_file(tmp_path / "bare.csv")
    cells = pd.Series(["10%", "", "2.5%"])
    np.testing.assert_array_equal(numbers("p.csv", cells, "promo", flag="--static-col"),
                                  [10.0, np.nan, 2.5])
    with pytest.raises(DataError, match="row 2: '10%' in --static-col 'promo' is not a number"):
        numbers("p.csv", pd.Series(["10%", "x"]), "promo", flag="--static-col")
