"""Hourly panels: M4's hourly season, MSTL + AutoETS per series, seasonal anchors and week-long
lookbacks, on a few series of the synthetic hourly proxy (benchmarks/hourly_panel.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.data._panel import load_panel
from autoseq.data._panel_data import PanelData
from autoseq.exceptions import SearchSpaceError
from autoseq.panel_baselines import mstl_seasons, stat_forecasts
from autoseq.panel_metrics import m4_season
from autoseq.tasks import PANEL
from benchmarks.hourly_panel import generate
from tests.data.test_panel import make_panel_csv


@pytest.fixture(scope="module")
def hourly(tmp_path_factory) -> PanelData:
    train, _ = generate(3, seed=1)
    path = tmp_path_factory.mktemp("hourly") / "hourly.csv"
    train.to_csv(path, index=False)
    return PanelData(load_panel(path, series_col="series", target="value"), horizon=48)


def test_m4_season_is_the_daily_cycle_below_a_day():
    assert [m4_season(f) for f in ("h", "2h", "30min", "W-MON", "MS", "D")] == [24, 12, 48, 1,
                                                                                  12, 1]


def test_an_hourly_panel_has_two_seasons_and_a_week_of_lookback(hourly):
    assert hourly.panel.freq == "h" and hourly.seasons == [24, 168] and hourly.m4_season == 24
    assert hourly.max_lookback >= 168
    config = PANEL.resolve_config({"lookback": "7x season", "anchor": "seasonal"},
                                            hourly, builder="rnn")
    assert config["lookback"] == 168
    # the seasonal anchor corrects the longest season its lookback holds (twice for drift)
    assert hourly.anchor_season(config) == 168
    assert hourly.anchor_season(config | {"anchor": "seasonal_drift"}) == 24
    assert hourly.anchor_season({"lookback": 96, "anchor": "seasonal"}) == 24


def test_mstl_with_autoets_forecasts_every_hourly_series(hourly):
    out = stat_forecasts(hourly, "val")
    assert {"autoets", "autotheta", "mstl_ets(m=24,168)"} <= set(out)
    assert out["mstl_ets(m=24,168)"].shape == (3, 48)
    assert np.isfinite(out["mstl_ets(m=24,168)"]).all()


def test_a_run_folder_keeps_the_statistical_forecasts(tmp_path: Path, monkeypatch):
    """Fitted once per window, they are kept in the run folder: the report and export after a
    search read them back, and windows of another split are fitted again."""
    import autoseq.panel_baselines as pb

    csv = make_panel_csv(tmp_path / "p.csv")
    data = PanelData(load_panel(csv, series_col="series", target="value"), horizon=4)
    PANEL.attach(data, tmp_path)
    first = stat_forecasts(data, "test")
    assert (tmp_path / "panel_stat_test.npz").is_file() and "autoets" in first

    def refit(*_):
        raise AssertionError("fitted again")

    monkeypatch.setattr(pb, "_stat_forecasts", refit)
    again = PanelData(load_panel(csv, series_col="series", target="value"), horizon=4)
    PANEL.attach(again, tmp_path)
    read = stat_forecasts(again, "test")
    assert read.keys() == first.keys()
    for name in first:
        np.testing.assert_array_equal(read[name], first[name])
    other = PanelData(load_panel(csv, series_col="series", target="value"), horizon=4,
                      test_size=6)
    PANEL.attach(other, tmp_path)
    with pytest.raises(AssertionError, match="fitted again"):
        stat_forecasts(other, "test")
    monkeypatch.undo()
    (tmp_path / "panel_stat_test.npz").write_bytes(b"not a zip")  # unreadable: fitted again
    broken = PanelData(load_panel(csv, series_col="series", target="value"), horizon=4)
    PANEL.attach(broken, tmp_path)
    np.testing.assert_allclose(stat_forecasts(broken, "test")["autoets"], first["autoets"])


def test_no_mstl_for_one_season(tmp_path: Path):
    data = PanelData(load_panel(make_panel_csv(tmp_path / "p.csv", freq="MS"),
                                series_col="series", target="value"), horizon=4)
    assert mstl_seasons(data, [data.panel.series(0)]) == []


def test_seasonal_anchors_are_searched_only_where_seasonal_naive_helps(hourly, tmp_path):
    from autoseq.space import load_search_space

    space = load_search_space("panel")
    anchors = {p.name: p for p in PANEL.adapt_space(space, hourly).parameters}["anchor"].values
    assert "seasonal" in anchors and "seasonal_drift" in anchors
    rng = np.random.default_rng(0)
    walks = pd.DataFrame({"series": np.repeat(["a", "b", "c"], 60),
                          "date": np.tile(pd.date_range("2024-01-01", periods=60), 3),
                          "value": 100 + np.cumsum(rng.normal(0, 3, 180))})
    walks.to_csv(tmp_path / "walks.csv", index=False)
    data = PanelData(load_panel(tmp_path / "walks.csv", series_col="series", target="value"),
                     horizon=7)
    anchors = {p.name: p for p in PANEL.adapt_space(space, data).parameters}["anchor"].values
    assert set(anchors) == {"last", "none", "drift", "linear"}


def test_a_panel_drops_the_single_series_anchors_of_a_space_that_offers_them(hourly):
    """The ``default`` space offers ``arima`` (fitted on one series' training rows): a panel run
    with it searches the anchors a panel can fit instead of failing those trials."""
    from autoseq.space import load_search_space

    space = load_search_space("default")
    assert "arima" in {p.name: p for p in space.parameters}["anchor"].values
    anchors = {p.name: p for p in PANEL.adapt_space(space, hourly).parameters}["anchor"].values
    assert "arima" not in anchors and "ets" not in anchors and "seasonal" in anchors
    only = autoseq.SearchSpace([autoseq.Choice("anchor", ("ets", "arima"))], name="single")
    with pytest.raises(SearchSpaceError, match="panel cannot use them"):
        PANEL.adapt_space(only, hourly)


def test_a_long_part_fits_the_statistical_models_on_spaced_windows(tmp_path, monkeypatch):
    """Fitted once per window, AutoETS and AutoTheta on a long validation part took minutes: a
    series' windows beyond ``STAT_WINDOWS_PER_SERIES`` are thinned, evenly spaced with its
    first and last kept, and the baselines are scored on those windows alone."""
    import autoseq.panel_baselines as pb

    csv = make_panel_csv(tmp_path / "p.csv", n_series=3, lengths=(90, 100))
    data = PanelData(load_panel(csv, series_col="series", target="value"), horizon=4,
                     val_size=40)
    monkeypatch.setattr(pb, "STAT_WINDOWS_PER_SERIES", 5)
    series, _ = data.origins("val")
    pick = pb.stat_windows(data, "val")
    assert len(series) == 3 * 37 and len(pick) == 15
    for s in range(3):  # five per series, its first and last window among them
        mine = np.flatnonzero(series == s)
        assert set(pick[series[pick] == s]) >= {mine[0], mine[-1]}
        assert (series[pick] == s).sum() == 5
    monkeypatch.setattr(pb, "STAT_MAX_WINDOWS", 6)  # many series: fewer each, one at least
    assert len(pb.stat_windows(data, "val")) == 6

    monkeypatch.setattr(pb, "STAT_MAX_WINDOWS", 1000)
    out = pb.stat_forecasts(data, "val")
    assert set(out) == {"autoets", "autotheta"}
    fitted = out["autoets"]
    assert np.isfinite(fitted[pick]).all() and np.isnan(np.delete(fitted, pick, axis=0)).all()
    thin, label = pb.thinned(data, "val")
    np.testing.assert_array_equal(thin, pick)
    assert label == "15 of 111 windows"
    # scored on its windows, Naive2 on the same ones: the OWA of Naive2's own forecasts is 1
    naive2 = pb.naive2_forecasts(data, "val")
    assert pb.score(data, "val", naive2, windows=pick)["owa"] == pytest.approx(1.0)
    board = {b.name: b for b in pb.score_panel_baselines(data, "val", metric="owa")}
    ets = board["autoets(15 of 111 windows)"]  # the leaderboard's name says so
    assert np.isfinite(ets.loss)
    assert ets.loss == pytest.approx(pb.score(data, "val", fitted, windows=pick)["owa"])
    assert board["naive2"].loss == pytest.approx(1.0)
    # the simple baselines on every window
    snaive = pb.simple_forecasts(data, "val")["seasonal_naive(m=7)"]
    assert board["seasonal_naive(m=7)"].loss == pytest.approx(pb.score(data, "val", snaive)["owa"])


def test_export_and_report_put_the_network_beside_thinned_baselines(tmp_path, monkeypatch):
    """Validation and test thinned to different counts: export's test scores and the report's
    table name the statistical baselines on their windows and score the network there too."""
    import autoseq.panel_baselines as pb
    from autoseq.report import write_report

    monkeypatch.setattr(pb, "STAT_WINDOWS_PER_SERIES", 5)
    csv = make_panel_csv(tmp_path / "p.csv", n_series=3, lengths=(90, 100))
    out = tmp_path / "run"
    autoseq.search(csv, series_col="series", target="value", horizon=4, val_size=40,
                   test_size=30, space="panel_fast", trials=1, max_epochs=1, out=out,
                   report=False, jobs=1)
    board = pd.read_csv(out / "leaderboard.csv")
    assert "autoets(15 of 111 windows)" in set(board["model"])
    metrics = autoseq.export(out, report=False).manifest["metrics"]
    ets = metrics["test_baselines"]["autoets(15 of 81 windows)"]
    stat = metrics["test_stat_windows"]
    assert (stat["windows"], stat["of"]) == (15, 81) and metrics["test"]["windows"] == 81
    assert np.isfinite(ets["owa"]) and np.isfinite(stat["model"]["owa"])
    assert stat["model"]["owa"] != metrics["test"]["owa"]  # the network on those 15 windows
    text = Path(write_report(out, importance=False).markdown).read_text()
    assert "| autoets\\* |" in text and "| the same model, on the windows marked \\* |" in text
    assert "on 15 of 111 windows of validation and 15 of 81 windows of test" in text


def test_the_report_compares_a_thinned_best_baseline_on_its_own_windows():
    from autoseq.report._evidence import Evidence
    from autoseq.report._panel import PanelScores, panel_skill

    subset = {"label": "15 of 81 windows", "names": ["autoets"], "model": {"owa": 0.95}}
    ev = Evidence.__new__(Evidence)
    ev.sequences = {"panel": {"test": PanelScores(
        "test", {"owa": 0.9}, {"autoets": {"owa": 0.92}, "naive2": {"owa": 1.0}},
        {"naive2": 0.7}, [], subset=subset, label="exported best trial")}}
    # 0.9 on every window, but 0.95 where autoets (0.92) was fitted: no better than it
    assert ("scores OWA 0.9 (Naive2 = 1); on the 15 of 81 windows the best baseline, autoets, "
            "was fitted on, it scores 0.95, no better than autoets (0.92);") in panel_skill(ev)
