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
    with pytest.raises(DataError, match=r"row 7: duplicate timestamp"):
        load_series(path, targets=["y"])


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
    with pytest.raises(DataError, match=r"column 'y': 30 of 40 values are missing"):
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
