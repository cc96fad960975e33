import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.data import ForecastData, load_series
from autoseq.stat_baselines import (
    CACHE_FILE,
    cached_stat_baselines,
    score_stat_baselines,
    stat_origins,
)

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def data(series_csv):
    return ForecastData(load_series(series_csv, targets=["y"]), horizon=5)


def test_stat_origins_are_an_even_subset_with_both_ends(data):
    every = data.origins("val")
    some = stat_origins(data, "val", max_origins=4)
    assert len(some) == 4 and some[0] == every[0] and some[-1] == every[-1]
    assert set(some) <= set(every)
    assert list(stat_origins(data, "val", max_origins=0)) == list(every)


def test_mstl_baselines_beat_naive_on_a_seasonal_series(data):
    scores = score_stat_baselines(data, "val", max_origins=6)
    names = [s.name for s in scores]
    assert any(n.startswith("mstl_ets(m=7") for n in names)
    assert any(n.startswith("mstl_arima(m=7") for n in names)
    assert all("6 of 20 windows" in n for n in names)
    naive = np.mean(np.abs(np.diff(data.raw[:, 0])))  # one-step naive error, a loose ceiling
    for s in scores:
        assert np.isfinite(s.loss) and 0 < s.mae < 3 * naive


def test_scores_are_cached_in_the_run_folder(data, tmp_path):
    first = cached_stat_baselines(tmp_path, data, "val", max_origins=3)
    assert (tmp_path / CACHE_FILE).is_file()
    (tmp_path / CACHE_FILE).write_text((tmp_path / CACHE_FILE).read_text()
                                       .replace(str(first[0].mae), "123.0"))
    again = cached_stat_baselines(tmp_path, data, "val", max_origins=3)
    assert again[0].mae == 123.0  # read back, not recomputed


def test_search_and_export_show_the_statistical_baselines(series_csv, tmp_path):
    space = autoseq.SearchSpace([autoseq.Choice("cell", ("gru",)), autoseq.Fixed("units", 3),
                                 autoseq.Fixed("lookback", 7)], name="one")
    result = autoseq.search(series_csv, target="y", horizon=5, space=space, trials=1,
                            max_epochs=1, out=tmp_path / "run", stat_origins=4)
    board = pd.read_csv(tmp_path / "run" / "leaderboard.csv")
    stat = board[board.model.str.startswith("mstl_")]
    assert len(stat) == 2 and (stat.state == "baseline").all() and stat["rank"].notna().all()
    res = autoseq.export(result.run_dir)
    metrics = res.manifest["metrics"]
    assert metrics["test_stat_windows"]["windows"] == 4
    assert any(k.startswith("mstl_arima(m=7; 4 of") for k in metrics["test_baselines"])
    # statsforecast's own 80 / 95 % intervals, and the model's, on the same 4 windows
    bands = metrics["test_baselines_intervals"]
    arima = next(v for k, v in bands.items() if k.startswith("mstl_arima(m=7; 4 of"))
    assert set(arima["levels"]) == {"80", "95"}
    assert 0 <= arima["levels"]["95"]["coverage"] <= 1 and arima["levels"]["95"]["width"] > 0
    assert arima["levels"]["95"]["width"] >= arima["levels"]["80"]["width"]
    assert "model (4 of" in " ".join(bands)


def test_no_stat_baselines_leaves_them_out(series_csv, tmp_path):
    space = autoseq.SearchSpace([autoseq.Fixed("units", 2), autoseq.Fixed("lookback", 7)],
                                name="one")
    autoseq.search(series_csv, target="y", horizon=5, space=space, trials=1, max_epochs=1,
                   out=tmp_path / "run", stat_baselines=False)
    board = pd.read_csv(tmp_path / "run" / "leaderboard.csv")
    assert not board.model.str.startswith("mstl_").any()
    assert not (tmp_path / "run" / CACHE_FILE).exists()


def test_seasonal_drift_baseline_is_exact_on_a_trend_plus_season(tmp_path):
    from autoseq.baselines import score_baselines

    t = np.arange(200)
    y = 0.5 * t + 3 * np.sin(2 * np.pi * t / 7)
    pd.DataFrame({"date": pd.date_range("2020-01-01", periods=200, freq="D"), "y": y}).to_csv(
        tmp_path / "trend.csv", index=False)
    data = ForecastData(load_series(tmp_path / "trend.csv", targets=["y"]), horizon=10)
    scores = {s.name: s for s in score_baselines(data, "val", metric="mae")}
    assert scores["seasonal_drift(m=7)"].mae < 1e-4  # float32 data
    # seasonal naive lags the trend by one season (steps 1-7 ahead) or two (8-10): 0.5 * 7 each
    assert scores["seasonal_naive(m=7)"].mae == pytest.approx((7 * 3.5 + 3 * 7) / 10, rel=1e-4)
    assert next(iter(scores)) == "seasonal_drift(m=7)"  # ranked first
