"""A panel run end to end: CLI search with --series-col, export, predict, the task's checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from autoseq.cli import cli
from autoseq.exceptions import DataError, SearchError
from autoseq.tasks import PANEL, DataOptions, get_task, task_for_options
from tests.data.test_panel import make_panel_csv


@pytest.fixture(scope="module")
def panel_run(tmp_path_factory) -> tuple[Path, Path]:
    """One tiny search over a 6-series panel (2 trials of 2 epochs), shared by the tests."""
    root = tmp_path_factory.mktemp("panel")
    csv = make_panel_csv(root / "panel.csv")
    out = root / "run"
    result = CliRunner().invoke(cli, [
        "search", str(csv), "--series-col", "series", "--target", "value", "--horizon", "4",
        "--trials", "2", "--max-epochs", "2", "--space", "panel_fast", "--out", str(out),
        "--no-report", "--quiet"])
    assert result.exit_code == 0, result.output
    return csv, out


def test_search_ranks_the_network_with_m4_baselines(panel_run):
    _, out = panel_run
    board = pd.read_csv(out / "leaderboard.csv")
    baselines = set(board.loc[board["state"] == "baseline", "model"])
    assert {"naive", "naive2", "seasonal_naive(m=7)", "autoets", "autotheta"} <= baselines
    assert (board["state"] == "complete").sum() == 2
    naive2 = board[board["model"] == "naive2"].iloc[0]
    assert naive2["val_loss"] == pytest.approx(1.0)  # OWA against itself
    assert board["val_owa"].notna().all() and board["val_mase"].notna().all()


def test_export_and_predict_agree_with_the_saved_model(panel_run, tmp_path):
    import tensorflow as tf

    import autoseq
    from autoseq.run import load_trial_model, open_run

    csv, out = panel_run
    # The best trial alone (the default may pick an ensemble or a blend): compared with its
    # network below.
    res = autoseq.export(out, out=tmp_path / "model", ensemble=1)
    m = res.manifest
    assert m["task"] == "panel" and m["signature"]["input_shape"] == [None, m["lookback"], 1]
    assert set(m["metrics"]["test"]) >= {"smape", "mase", "owa"}
    model = autoseq.load_model(tmp_path / "model")
    frame = model.predict(csv)
    raw = pd.read_csv(csv, parse_dates=["date"]).sort_values(["series", "date"])
    # 6 series' validation windows support the default 80% band, not the 95% one (dropped).
    assert list(frame.columns) == ["series", "origin", "step", "timestamp", "value",
                                   "value_lo80", "value_hi80"]
    assert len(frame) == raw["series"].nunique() * 4
    lookback = m["lookback"]
    windows, names = [], []
    for name, rows in raw.groupby("series", sort=False):
        v = rows["value"].to_numpy("float32")
        windows.append(np.r_[np.repeat(v[0], max(0, lookback - len(v))), v][-lookback:])
        names.append(name)
        got = frame[frame["series"] == name]
        assert (got["origin"] == rows["date"].iloc[-1]).all()
        assert list(got["timestamp"]) == list(pd.date_range(rows["date"].iloc[-1], periods=5,
                                                            freq="D")[1:])
    serve = tf.saved_model.load(str(tmp_path / "model")).signatures["serving_default"]
    direct = serve(window=tf.constant(np.stack(windows)[..., None]))["output_0"].numpy()
    mine = np.stack([frame[frame["series"] == n]["value"].to_numpy() for n in names])
    np.testing.assert_allclose(mine, direct[..., 0], rtol=1e-5)
    # The exported model is the trained network between the window's scale and its inverse.
    net, _, _ = load_trial_model(open_run(out), res.trial)
    x = np.stack(windows)[..., None]
    scale = np.maximum(np.abs(x).mean(axis=1, keepdims=True), 1e-6)
    np.testing.assert_allclose(net.predict(x / scale, verbose=0) * scale, direct, rtol=1e-4)


def test_series_col_selects_the_panel_task(tmp_path):
    options = DataOptions(tmp_path / "x.csv", ("value",), series_col="series")
    assert task_for_options(options) is PANEL and get_task("panel") is PANEL
    PANEL.check_options(options, metric="mse", folds=1)
    with pytest.raises(DataError, match="a panel forecasts one --target per series"):
        PANEL.check_options(DataOptions("x.csv", ("value", "other"), series_col="series"),
                            metric="mse", folds=1)
    with pytest.raises(SearchError, match="--metric mae"):
        PANEL.check_options(options, metric="mae", folds=1)
    with pytest.raises(SearchError, match="--folds 2"):
        PANEL.check_options(options, metric="mse", folds=2)


@pytest.fixture(scope="module")
def panel_model(panel_run, tmp_path_factory) -> Path:
    import autoseq

    _, out = panel_run
    return autoseq.export(out, out=tmp_path_factory.mktemp("panel_model") / "model").path


def test_predict_all_origins_is_a_backtest_of_every_full_window(panel_run, panel_model):
    import autoseq

    csv, _ = panel_run
    model = autoseq.load_model(panel_model)
    lookback, h = model.lookback, model.horizon
    frame = model.predict(csv, all_origins=True)
    assert list(frame.columns) == ["series", "origin", "step", "timestamp", "value",
                                   "value_actual", "value_lo80", "value_hi80"]
    raw = pd.read_csv(csv, parse_dates=["date"]).sort_values(["series", "date"])
    windows, values = [], []
    for name, rows in raw.groupby("series"):
        v, dates = rows["value"].to_numpy(), rows["date"].reset_index(drop=True)
        got = frame[frame["series"] == name]
        assert len(got) == (len(v) - lookback + 1) * h  # every origin with a full lookback
        assert got["origin"].iloc[0] == dates[lookback - 1]
        assert got["origin"].iloc[-1] == dates.iloc[-1]  # the last one forecasts the future
        first = got[got["origin"] == dates[lookback - 1]]
        np.testing.assert_allclose(first["value_actual"], v[lookback:lookback + h])
        assert got[got["origin"] == dates.iloc[-1]]["value_actual"].isna().all()
        windows.append(v[-lookback:])
        values.append(got["value"].to_numpy()[-h:])
    # The last origin of each series is the ordinary forecast.
    direct = model.predict_windows(np.stack(windows))
    np.testing.assert_allclose(np.stack(values), direct, rtol=1e-5)
    short = raw.groupby("series").head(lookback - 1)
    with pytest.raises(DataError, match="^the DataFrame: no series has the"):
        model.predict(short, all_origins=True)
    # a column the model reads is named as the model's need, not as a search option
    with pytest.raises(DataError, match="^the DataFrame: column 'series', which the model was "
                                        "trained on, is missing; did you mean 'store'\\?$"):
        model.predict(raw.rename(columns={"series": "store"}))


def test_a_wide_panel_searches_exports_and_predicts(tmp_path):
    import autoseq

    long = pd.read_csv(make_panel_csv(tmp_path / "long.csv", n_series=4))
    long["k"] = long.sort_values("date").groupby("series").cumcount()
    wide = long.pivot(index="series", columns="k", values="value")
    wide.columns = [f"V{k + 2}" for k in wide.columns]
    wide.rename_axis("V1").reset_index().to_csv(tmp_path / "wide.csv", index=False)
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, [
        "search", str(tmp_path / "wide.csv"), "--series-col", "V1", "--format", "wide",
        "--target", "value", "--horizon", "4", "--trials", "1", "--max-epochs", "1",
        "--space", "panel_fast", "--no-stat-baselines", "--out", str(out), "--no-report",
        "--quiet"])
    assert result.exit_code == 0, result.output
    board = pd.read_csv(out / "leaderboard.csv")
    assert "naive2" in set(board["model"])  # --no-stat-baselines: no AutoETS, no AutoTheta
    assert not {"autoets", "autotheta"} & set(board["model"])
    res = autoseq.export(out, out=tmp_path / "model")
    assert res.manifest["format"] == "wide" and res.manifest["frequency"] == "D"
    frame = autoseq.load_model(tmp_path / "model").predict(tmp_path / "wide.csv")
    lengths = long.groupby("series").size()
    last = frame.groupby("series")["origin"].first()
    # No timestamps in a wide file: step k of a row is day k from 1970-01-01.
    expected = pd.Timestamp("1970-01-01") + pd.to_timedelta(lengths - 1, unit="D")
    assert (pd.to_datetime(last).sort_index() == expected.sort_index()).all()
    with pytest.raises(DataError, match="--time-col is for the long format"):
        PANEL.check_options(DataOptions("x.csv", ("value",), series_col="V1", format="wide",
                                        time_col="date"), metric="mse", folds=1)


def test_the_report_shows_example_series_and_the_skill_of_every_series(panel_run):
    from autoseq.report import write_report

    _, out = panel_run
    paths = write_report(out, importance=False)
    text = Path(paths.markdown).read_text()
    assert "Forecasts per series" in text and "% of series (test MASE" in text
    assert "The model beats Naive2 on" in text
    files = {p.name for p in (out / "report_files").iterdir()}
    assert {"panel_examples.png", "panel_skill.png"} <= files


def test_the_report_says_which_blocks_of_the_window_the_network_reads(panel_run):
    from autoseq.report import write_report

    _, out = panel_run
    paths = write_report(out)
    text = Path(paths.markdown).read_text()
    section = text[text.index("## What the model looks at"):]
    assert "the last day" in section and "lags (steps back)" in section
    assert "| known ahead |" not in section  # no covariates: the window's blocks alone
    assert "What it looks at:" in text[:text.index("## What the model looks at")]  # summary
    shares = pd.read_csv(out / "report_files" / "lag_importance.csv")
    percents = shares["share of the prediction"].str.rstrip("%").astype(float)
    # rounded shares of the whole (all 0 when no block's shuffle raises the error)
    assert percents.sum() == 0 or abs(percents.sum() - 100) <= len(percents)


def test_a_panel_is_floored_at_zero_only_when_no_series_goes_below_it(tmp_path):
    from autoseq.data._panel import load_panel
    from autoseq.data._panel_data import PanelData
    from autoseq.exporting._floor import panel_never_negative

    def floored(edit) -> bool:
        frame = pd.read_csv(make_panel_csv(tmp_path / "p.csv"))
        edit(frame)
        frame.to_csv(tmp_path / "q.csv", index=False)
        panel = load_panel(tmp_path / "q.csv", series_col="series", target="value")
        return panel_never_negative(PanelData(panel, horizon=4))

    def shift_s0(frame: pd.DataFrame, *, clip: bool) -> None:
        s0 = frame["series"] == "s0"  # level 1: shifted down by 1, it reaches zero
        down = frame.loc[s0, "value"] - 1.0
        frame.loc[s0, "value"] = np.maximum(down, 0) if clip else down

    assert not floored(lambda f: None)  # every series far above zero
    assert floored(lambda f: shift_s0(f, clip=True))  # counts: s0 touches zero
    assert not floored(lambda f: shift_s0(f, clip=False))  # s0 goes below zero
