"""Reading, splitting and windowing a panel of many series; M4's metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autoseq.data._panel import load_panel
from autoseq.data._panel_data import PanelData, window_scale
from autoseq.exceptions import DataError
from autoseq.panel_metrics import m4_season, m4_smape, mase_scale, naive2, owa, seasonal_indices


def make_panel_csv(path: Path, *, n_series: int = 6, freq: str = "D", seed: int = 0,
                   lengths: tuple[int, int] = (40, 70), shuffle: bool = True) -> Path:
    """Seasonal series (period 7) of different lengths, starts and scales (1 to 10,000)."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_series):
        n = int(rng.integers(*lengths))
        t = np.arange(n)
        level = 10 ** (4 * i / max(n_series - 1, 1))
        value = level * (1 + 0.3 * np.sin(2 * np.pi * t / 7 + i) + 0.03 * rng.standard_normal(n))
        start = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 20)))
        frames.append(pd.DataFrame({"series": f"s{i}", "date": pd.date_range(
            start, periods=n, freq=freq), "value": value}))
    frame = pd.concat(frames, ignore_index=True)
    if shuffle:
        frame = frame.sample(frac=1.0, random_state=seed)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def panel_csv(tmp_path: Path) -> Path:
    return make_panel_csv(tmp_path / "panel.csv")


def test_load_panel_sorts_every_series_and_keeps_its_start(panel_csv):
    panel = load_panel(panel_csv, series_col="series", target="value")
    frame = pd.read_csv(panel_csv, parse_dates=["date"]).sort_values(["series", "date"])
    assert panel.freq == "D"
    assert sorted(panel.names) == sorted(frame["series"].unique())
    for i, name in enumerate(panel.names):
        rows = frame[frame["series"] == name]
        np.testing.assert_allclose(panel.series(i), rows["value"].to_numpy())
        assert panel.first[i] == rows["date"].iloc[0]
        last = panel.timestamps(np.array([i]), np.array([len(rows) - 1]))[0]
        assert last == rows["date"].iloc[-1]


def test_gaps_are_interpolated_per_series(tmp_path):
    frame = pd.DataFrame({"series": ["a"] * 5 + ["b"] * 3,
                          "date": ["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05",
                                   "2024-01-06", "2024-01-03", "2024-01-04", "2024-01-05"],
                          "value": [1.0, 2.0, 4.0, None, 6.0, 100.0, 200.0, 300.0]})
    frame.to_csv(tmp_path / "p.csv", index=False)
    panel = load_panel(tmp_path / "p.csv", series_col="series", target="value")
    np.testing.assert_allclose(panel.series(0), [1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(panel.series(1), [100, 200, 300])
    assert panel.filled == 2
    assert list(panel.observed) == [True, True, False, True, False, True, True, True, True]
    assert list(panel.select(np.array([False, True])).observed) == [True] * 3
    with pytest.raises(DataError, match="series 'a': a gap of 1 steps.*--max-gap"):
        load_panel(tmp_path / "p.csv", series_col="series", target="value", max_gap=0)


def test_duplicate_timestamp_is_refused_naming_series_and_row(tmp_path):
    frame = pd.DataFrame({"series": ["a", "a", "b", "b", "b"],
                          "date": ["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-02",
                                   "2024-01-02"], "value": [1.0, 2, 3, 4, 5]})
    frame.to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(DataError, match=r"row 6: series 'b' has timestamp 2024-01-02.*twice"):
        load_panel(tmp_path / "p.csv", series_col="series", target="value")


def test_series_off_the_shared_grid_is_refused(tmp_path):
    a = pd.DataFrame({"series": "a", "date": pd.date_range("2024-01-01", periods=10, freq="h"),
                      "value": 1.0})
    b = pd.DataFrame({"series": "b", "date": pd.date_range("2024-01-01 00:30", periods=3,
                                                           freq="h"), "value": 2.0})
    pd.concat([a, b]).to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(DataError, match=r"row 12: series 'b' is off the shared h grid"):
        load_panel(tmp_path / "p.csv", series_col="series", target="value")


def test_missing_series_column_suggests_one(panel_csv):
    with pytest.raises(DataError, match="--series-col 'serie' is not a column"):
        load_panel(panel_csv, series_col="serie", target="value")


def test_monthly_panel_with_different_starts(tmp_path):
    rows = [("a", d, float(k)) for k, d in enumerate(pd.date_range("2020-01-01", periods=30,
                                                                    freq="MS"))]
    rows += [("b", d, float(k)) for k, d in enumerate(pd.date_range("2021-06-01", periods=12,
                                                                    freq="MS"))]
    pd.DataFrame(rows, columns=["series", "date", "value"]).to_csv(tmp_path / "m.csv",
                                                                   index=False)
    panel = load_panel(tmp_path / "m.csv", series_col="series", target="value")
    assert panel.freq == "MS" and list(panel.lengths) == [30, 12]
    ahead = panel.timestamps(np.array([1]), np.array([12]))
    assert ahead[0] == pd.Timestamp("2022-06-01")


def test_trading_day_panel_counts_weekdays(tmp_path):
    a = pd.bdate_range("2023-01-02", periods=300).delete([10, 45, 100])  # holidays: gaps
    b = pd.bdate_range("2023-03-01", periods=200).delete([30])
    rows = [("a", d, float(k)) for k, d in enumerate(a)] + [("b", d, float(k))
                                                             for k, d in enumerate(b)]
    pd.DataFrame(rows, columns=["series", "date", "value"]).to_csv(tmp_path / "b.csv",
                                                                   index=False)
    panel = load_panel(tmp_path / "b.csv", series_col="series", target="value")
    assert panel.freq == "B" and list(panel.lengths) == [300, 200]
    ahead = panel.timestamps(np.array([0, 1]), np.array([300, 200]))  # the steps after each end
    assert list(ahead) == [a[-1] + pd.offsets.BDay(1), b[-1] + pd.offsets.BDay(1)]
    assert ahead[0].dayofweek < 5 and ahead[1].dayofweek < 5
    weekend = panel.grid.ordinals(pd.DatetimeIndex(["2023-01-07", "2023-01-09 12:00"]))
    assert (weekend < -(2 ** 61)).all()  # a Saturday, a time of day: off the grid


def test_split_per_series_and_short_series_dropped(tmp_path, caplog):
    path = make_panel_csv(tmp_path / "p.csv", lengths=(40, 70))
    frame = pd.read_csv(path)
    short = pd.DataFrame({"series": "tiny", "date": pd.date_range("2024-01-01", periods=10),
                          "value": 1.0})
    pd.concat([frame, short.astype({"date": str})]).to_csv(path, index=False)
    data = PanelData(load_panel(path, series_col="series", target="value"), horizon=4)
    assert data.dropped == ("tiny",)
    assert "1 series too short" in caplog.text
    assert np.all(data.val == 4) and np.all(data.test == 4)
    np.testing.assert_array_equal(data.train_end, data.lengths - 8)
    for part, start in (("val", data.train_end), ("test", data.train_end + 4)):
        series, position = data.origins(part)
        np.testing.assert_array_equal(series, np.arange(data.n_series))
        np.testing.assert_array_equal(position, start)
    series, position = data.origins("train")
    assert np.all(position + 4 <= data.train_end[series]) and np.all(position >= 1)


def test_fractional_sizes_are_per_series(panel_csv):
    panel = load_panel(panel_csv, series_col="series", target="value")
    data = PanelData(panel, horizon=3, val_size=0.1, test_size=5)
    np.testing.assert_array_equal(data.val, np.maximum(np.round(0.1 * panel.lengths), 3))
    assert np.all(data.test == 5)
    with pytest.raises(DataError, match="--test-size 2 is shorter than --horizon 3"):
        PanelData(panel, horizon=3, test_size=2)


def test_windows_are_padded_and_normalised_by_their_own_scale(panel_csv):
    data = PanelData(load_panel(panel_csv, series_col="series", target="value"), horizon=4)
    series, position = np.array([0, 1]), np.array([2, 20])
    x, y = data.windows(series, position, 5)
    s0 = data.panel.series(0)
    np.testing.assert_allclose(x[0], [s0[0]] * 3 + list(s0[:2]), rtol=1e-6)
    np.testing.assert_allclose(y[1], data.panel.series(1)[20:24], rtol=1e-6)
    xn, yn, scale = data.normalised("val", 8)
    raw, truth = data.windows(*data.origins("val"), 8)
    np.testing.assert_allclose(scale, window_scale(raw))
    np.testing.assert_allclose(np.abs(xn[..., 0]).mean(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(yn[..., 0] * scale[:, None], truth, rtol=1e-5)


def test_train_dataset_draws_a_capped_epoch_of_normalised_windows(panel_csv):
    data = PanelData(load_panel(panel_csv, series_col="series", target="value"), horizon=4,
                     windows_per_epoch=100)
    ds = data.train_dataset(6, batch_size=32, seed=1)
    first = [(x.numpy(), y.numpy()) for x, y in ds]
    assert sum(len(x) for x, _ in first) == 100
    x, y = first[0]
    assert x.shape[1:] == (6, 1) and y.shape[1:] == (4, 1)
    np.testing.assert_allclose(np.abs(x[..., 0]).mean(axis=1), 1.0, rtol=1e-5)
    second = next(iter(ds))[0].numpy()
    assert not np.allclose(second, x)  # a fresh draw each epoch


def test_m4_metrics():
    truth = np.array([[10.0, 20.0]])
    assert m4_smape(np.array([[10.0, 20.0]]), truth)[0] == 0
    np.testing.assert_allclose(m4_smape(np.array([[0.0, 20.0]]), truth), [100.0])
    assert mase_scale(np.array([1.0, 2.0, 4.0, 7.0]), 1) == pytest.approx(2.0)
    assert mase_scale(np.array([1.0, 2.0, 4.0, 7.0]), 2) == pytest.approx(4.0)
    assert m4_season("W-MON") == 1 and m4_season("MS") == 12 and m4_season("h") == 24
    same = np.array([5.0, 7.0])
    assert owa(same, same, same, same) == pytest.approx(1.0)
    assert owa(same / 2, same, same, same) == pytest.approx(0.75)
    # a constant series (MASE undefined) is left out of the sMAPE mean too: its 200% for a
    # forecast of 1e-15 against zeros would outweigh every other series
    smape, mase = np.append(same, 200.0), np.append(same, np.nan)
    assert owa(smape, mase, np.append(same, 0.0), np.append(same, np.nan)) == pytest.approx(1.0)


def test_naive2_adjusts_only_seasonal_series():
    t = np.arange(96)
    seasonal = 100 * (1 + 0.5 * np.sin(2 * np.pi * t / 12))
    idx = seasonal_indices(seasonal, 12)
    assert np.ptp(idx) > 0.5 and idx.mean() == pytest.approx(1.0)
    np.testing.assert_allclose(naive2(seasonal, 12, 12), seasonal[-12:], rtol=0.05)
    noise = 100 + np.random.default_rng(0).standard_normal(96)
    np.testing.assert_allclose(seasonal_indices(noise, 12), np.ones(12))
    np.testing.assert_allclose(naive2(noise, 3, 12), [noise[-1]] * 3)


def test_wide_panel_reads_one_row_per_series_on_a_daily_grid(tmp_path):
    from autoseq.data._panel_wide import load_wide_panel

    path = tmp_path / "wide.csv"
    path.write_text("V1,V2,V3,V4,V5\nW1,1,2,,4\nW2,10,20,30,\nW3,5,,,\n")
    panel = load_wide_panel(path, series_col="V1", target="value", max_gap=2)
    assert list(panel.names) == ["W1", "W2", "W3"] and panel.freq == "D"
    np.testing.assert_allclose(panel.series(0), [1, 2, 3, 4])  # the inner gap interpolated
    np.testing.assert_allclose(panel.series(1), [10, 20, 30])  # trailing empties: shorter
    np.testing.assert_allclose(panel.series(2), [5])
    assert (panel.first == pd.Timestamp("1970-01-01")).all()
    last = panel.timestamps(np.array([1]), np.array([2]))[0]
    assert last == pd.Timestamp("1970-01-03")
    for text, match in (("V1,V2\nW1,1\nW1,2\n", "appears twice"),
                        ("V1,V2,V3\nW1,1,x\n", "row 2, column 'V3': 'x' is not a number"),
                        ("V1,V2\nW1,\nW2,3\n", "row 2: series 'W1' has no values"),
                        ("V1,V2,V3,V4,V5\nW1,1,,,4\n", "a gap of 2 steps before row 2")):
        path.write_text(text)
        with pytest.raises(DataError, match=match):
            load_wide_panel(path, series_col="V1", target="value", max_gap=1)
