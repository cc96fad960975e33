"""Known-future covariates of a panel (``--future-covariates`` with ``--series-col``): reading,
searching with them, export, predict and the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.cli import main
from autoseq.data._panel import load_panel
from autoseq.data._panel_data import PanelData
from autoseq.data._panel_wide import read_panel
from autoseq.exceptions import DataError
from autoseq.run import open_run
from autoseq.space import Bool
from autoseq.tasks import PANEL, DataOptions
from tests.conftest import best_complete, write_csv
from tests.data.test_panel import make_panel_csv

HORIZON = 6
LOOKBACK = 4
SPACE = {"cell": "gru", "units": 8, "lookback": LOOKBACK, "anchor": "last",
         "learning_rate": 0.01, "batch_size": 64, "loss": "mae"}
FUTURE = ["promo", "weather"]


def make_future_csv(path: Path, *, n_series: int = 24, seed: int = 0) -> Path:
    """Series at levels from 1 to 1,000 (3% noise) that jump by half on a promotion day
    (``promo`` 0/1, drawn at random, so no window foretells it), with an irrelevant text
    column ``weather`` (sun / rain); each series ends with ``HORIZON`` rows whose value is
    empty and whose covariates are filled: the steps to forecast."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_series):
        n = int(rng.integers(50, 70))
        promo = (rng.random(n + HORIZON) < 0.3).astype(int)
        value = 10 ** rng.uniform(0, 3) * (1 + 0.5 * promo) * (
            1 + 0.03 * rng.standard_normal(n + HORIZON))
        value[n:] = np.nan
        frames.append(pd.DataFrame({
            "series": f"s{i}", "date": pd.date_range("2024-01-01", periods=n + HORIZON,
                                                      freq="D"),
            "value": value, "promo": promo,
            "weather": np.where(rng.random(n + HORIZON) < 0.5, "sun", "rain")}))
    pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=seed).to_csv(
        path, index=False)
    return path


def _space(future: bool) -> autoseq.SearchSpace:
    # ``past: false``: these models read the covariates over the horizon only
    # (tests/test_panel_past.py reads their past)
    return autoseq.SearchSpace([autoseq.Fixed(k, v) for k, v in SPACE.items()]
                               + [autoseq.Fixed("future", future), autoseq.Fixed("past", False)],
                               name="future_test")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """The same tiny GRU searched with the known-future covariates (CLI, 2 trials) and
    without (1), on a file whose last rows per series hold only the covariates."""
    root = tmp_path_factory.mktemp("future")
    csv = make_future_csv(root / "panel.csv")
    (root / "space.yaml").write_text(_space(True).to_yaml())
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(csv), "--series-col", "series", "--target", "value",
              "--horizon", str(HORIZON), "--future-covariates", ",".join(FUTURE),
              "--space", str(root / "space.yaml"), "--trials", "2", "--max-epochs", "4",
              "--no-stat-baselines", "--no-report", "--quiet", "--out", str(root / "on")])
    assert exit_.value.code == 0
    autoseq.search(csv, series_col="series", target="value", horizon=HORIZON,
                   future_covariates=FUTURE, space=_space(False), trials=1, max_epochs=4,
                   out=root / "off", report=False, stat_baselines=False)
    return {"csv": csv, "on": root / "on", "off": root / "off", "root": root}


# -- reading ---------------------------------------------------------------------------------
def _small(tmp_path: Path) -> Path:
    rows = [("a", f"2024-01-0{d}", v, p, w) for d, v, p, w in (
        (1, 1.0, 10.0, "sun"), (2, 2.0, None, "rain"), (3, 3.0, 30.0, "sun"),
        (4, None, 40.0, "rain"), (5, None, 50.0, "sun"))]
    rows += [("b", f"2024-01-0{d}", v, p, w) for d, v, p, w in (
        (2, 5.0, 7.0, "rain"), (3, 6.0, 8.0, "rain"), (4, None, 9.0, "sun"))]
    return write_csv(tmp_path / "small.csv", pd.DataFrame(
        rows, columns=["series", "date", "value", "temp", "weather"]).iloc[::-1])


def test_future_covariates_are_read_step_by_step(tmp_path):
    panel = load_panel(_small(tmp_path), series_col="series", target="value",
                       future=["temp", "weather"])
    future = panel.future
    assert future.features == ("temp", "weather=rain", "weather=sun")
    assert future.categories == {"weather": ["rain", "sun"]}
    assert list(panel.names) == ["b", "a"]  # in order of first appearance (rows reversed)
    np.testing.assert_allclose(panel.values, [5, 6, 1, 2, 3])  # the rows to forecast are not
    # history; a missing value inside the history is interpolated
    np.testing.assert_allclose(future.values[:, 0], [7, 8, 10, 20, 30])
    np.testing.assert_allclose(future.values[:, 1], [1, 1, 0, 1, 0])
    assert future.ahead.shape == (2, 2, 3)  # series a has two rows to forecast, b one
    np.testing.assert_allclose(future.ahead[1, :, 0], [40, 50])
    assert future.ahead[0, 0, 0] == 9 and np.isnan(future.ahead[0, 1]).all()
    steps = panel.future_steps(np.array([1, 0]), np.array([2, 1]), 3)
    np.testing.assert_allclose(steps[0, :, 0], [30, 40, 50])  # history, then ahead
    np.testing.assert_allclose(steps[1, :2, 0], [8, 9])
    assert np.isnan(steps[1, 2]).all()  # past what the file gives
    capped = load_panel(_small(tmp_path), series_col="series", target="value",
                        future=["temp"], ahead=1)  # at most the horizon's rows are kept
    np.testing.assert_allclose(capped.future.ahead[:, :, 0], [[9], [40]])
    summary = panel.summary()["future"]
    assert summary["features"] == ["temp", "weather=rain", "weather=sun"]


def test_a_series_with_only_rows_to_forecast_is_left_out_by_name(tmp_path, caplog):
    path = _small(tmp_path)
    with open(path, "a") as fh:  # a new store, no history yet: only its rows to forecast
        fh.write("c,2024-01-04,,1.0,sun\nc,2024-01-05,,2.0,sun\n")
    with caplog.at_level("WARNING", logger="autoseq"):
        panel = load_panel(path, series_col="series", target="value", future=["temp", "weather"])
    assert list(panel.names) == ["b", "a"]
    assert "1 series have no value of 'value' and were left out: c" in caplog.text


@pytest.mark.parametrize(("column", "message"), [
    ("value", "--future-covariate 'value' is the --target column"),
    ("series", "--future-covariate 'series' is the --series-col column"),
    ("date", "--future-covariate 'date' is the --time-col column"),
    ("tmp", "--future-covariate 'tmp' is not a column; did you mean 'temp'"),
])
def test_a_future_covariate_must_be_another_column(tmp_path, column, message):
    with pytest.raises(DataError, match=message):
        load_panel(_small(tmp_path), series_col="series", target="value", future=[column])


def test_bad_future_values_are_refused_naming_column_and_row(tmp_path):
    frame = pd.read_csv(_small(tmp_path))
    frame["temp"] = frame["temp"].astype(object)
    frame.loc[frame.index[1], "temp"] = "warm"
    with pytest.raises(DataError, match=r"row 3: 'warm' in --future-covariate 'temp' is not a "
                                        "number"):
        load_panel(write_csv(tmp_path / "bad.csv", frame), series_col="series", target="value",
                   future=["temp"])
    frame = pd.read_csv(_small(tmp_path))
    frame.loc[(frame["series"] == "b") & frame["value"].notna(), ["temp", "weather"]] = np.nan
    for col in ("temp", "weather"):  # a categorical column is named, not its indicators
        with pytest.raises(DataError, match=f"'{col}' has no value in the history of series "
                                            "'b'"):
            load_panel(write_csv(tmp_path / "empty.csv", frame), series_col="series",
                       target="value", future=[col])
    frame["code"] = np.nan
    with pytest.raises(DataError, match="--future-covariate 'code' has no value; fill it in"):
        load_panel(write_csv(tmp_path / "codes.csv", frame), series_col="series", target="value",
                   future=["code"], categorical=["code"])


def test_future_options_name_panel_rules(tmp_path):
    options = {"data": "x.csv", "targets": ("value",), "series_col": "series"}
    with pytest.raises(DataError, match="--future-covariates need the long format"):
        PANEL.check_options(DataOptions(**options, future_covariates=("temp",), format="wide"),
                            metric="owa", folds=1)
    PANEL.check_options(DataOptions(**options, future_covariates=("code",),
                                    categorical=("code",)), metric="owa", folds=1)
    with pytest.raises(DataError, match="a wide panel"):
        read_panel(tmp_path / "w.csv", format="wide", series_col="series", target="value",
                   time_col=None, max_gap=3, future=["temp"])


def test_training_windows_carry_their_horizon_covariates(tmp_path):
    """A covariate equal to the target: each training window's ``future`` must be its raw
    truth, which the normalised truth times the window's scale gives back."""
    frame = pd.read_csv(make_panel_csv(tmp_path / "p.csv", n_series=4))
    frame["copy"] = frame["value"]
    panel = load_panel(write_csv(tmp_path / "c.csv", frame), series_col="series",
                       target="value", future=["copy"])
    data = PanelData(panel, horizon=HORIZON)
    assert data.n_future == 1
    inputs, y = next(iter(data.train_dataset(LOOKBACK, batch_size=64, takes=("future",))))
    x, future = inputs["window"].numpy()[..., 0], inputs["future"].numpy()[..., 0]
    scale = np.abs(future[:, :1]) / np.abs(y.numpy()[:, :1, 0])
    np.testing.assert_allclose(future, y.numpy()[..., 0] * scale, rtol=1e-4)
    np.testing.assert_allclose(np.abs(x * scale).mean(axis=1) / scale[:, 0], 1.0, rtol=1e-4)
    series, position = data.origins("val")
    np.testing.assert_allclose(data.future_values(series, position)[..., 0],
                               data.windows(series, position, LOOKBACK)[1], rtol=1e-6)


def test_the_standardisation_reads_training_rows_only(tmp_path):
    frame = pd.read_csv(make_future_csv(tmp_path / "p.csv", n_series=4))
    kwargs = {"series_col": "series", "target": "value", "future": ["promo"]}
    data = PanelData(load_panel(write_csv(tmp_path / "a.csv", frame), **kwargs), horizon=HORIZON)
    center, scale = data.future_standardisation()
    late = frame.groupby("series")["date"].transform(lambda d: d.rank(ascending=False) <= 12)
    frame.loc[late, "promo"] = 100  # validation, test and the rows to forecast
    moved = PanelData(load_panel(write_csv(tmp_path / "b.csv", frame), **kwargs), horizon=HORIZON)
    assert moved.future_standardisation() == (center, scale)
    assert 0 < center[0] < 1 and 0 < scale[0] < 1


def test_whether_a_trial_uses_future_is_searched_only_when_there_are_some(tmp_path):
    space = autoseq.load_search_space("panel_fast")
    with_future = PanelData(load_panel(make_future_csv(tmp_path / "p.csv", n_series=4),
                                       series_col="series", target="value", future=FUTURE),
                            horizon=HORIZON)
    assert PANEL.adapt_space(space, with_future)["future"] == Bool("future")
    plain = PanelData(load_panel(make_panel_csv(tmp_path / "plain.csv"), series_col="series",
                                 target="value"), horizon=4)
    assert "future" not in PANEL.adapt_space(space, plain).names
    assert PANEL.resolve_config({"future": True}, plain, builder="rnn")["future"] is False


# -- searching, export, predict, report -------------------------------------------------------
def test_the_future_covariates_beat_the_same_network_without_them(runs):
    on, off = best_complete(runs["on"]), best_complete(runs["off"])
    assert "future covariates" in on["model"] and "future covariates" not in off["model"]
    # A promotion lifts the value by half and no window foretells it: the network that reads
    # it forecasts far better (naive's OWA is 1.0).
    # Measured on four draws of the data: 0.50-0.66 times the OWA without them.
    assert on["val_owa"] < 0.75 * off["val_owa"]
    settings = open_run(runs["on"]).settings.data
    assert settings["future_covariates"] == FUTURE
    assert settings["future_categories"] == {"weather": ["rain", "sun"]}


def test_the_saved_model_takes_windows_and_future_rows_in_series_units(runs, tmp_path):
    import tensorflow as tf

    m = autoseq.export(runs["on"], trial=1, out=tmp_path / "model", report=False).manifest
    assert m["signature"]["inputs"] == ["window", "future"]
    assert m["future"]["features"] == ["promo", "weather=rain", "weather=sun"]
    assert m["future"]["shape"] == [None, HORIZON, 3]
    assert m["future_covariates"] == FUTURE
    assert m["roles"]["promo"].startswith("known-future covariate")
    assert any(t["kind"] == "future_standardise" for t in m["transforms"])
    serve = tf.saved_model.load(str(tmp_path / "model")).signatures["serving_default"]
    window = tf.constant(np.full((1, LOOKBACK, 1), 100.0, dtype="float32"))
    promo = np.zeros((1, HORIZON, 3), dtype="float32")
    promo[0, :, 2] = 1.0  # sunny
    promo[0, ::2, 0] = 1.0  # a promotion every other day
    out = serve(window=window, future=tf.constant(promo))["output_0"].numpy()[0, :, 0]
    assert out[::2].mean() > 1.2 * out[1::2].mean()  # the promotion days forecast higher
    big = serve(window=window * 1000.0, future=tf.constant(promo))["output_0"].numpy()[0, :, 0]
    np.testing.assert_allclose(big, out * 1000.0, rtol=1e-4)  # scale-free; covariates raw


def test_predict_reads_the_rows_after_each_series_end(runs, tmp_path, capsys):
    model = autoseq.export(runs["on"], ensemble=2, out=tmp_path / "model", report=False).path
    out = tmp_path / "forecast.csv"
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(model), str(runs["csv"]), "--out", str(out)])
    assert exit_.value.code == 0
    frame = pd.read_csv(out, parse_dates=["timestamp"])
    raw = pd.read_csv(runs["csv"], parse_dates=["date"])
    assert len(frame) == raw["series"].nunique() * HORIZON
    ahead = raw[raw["value"].isna()].rename(columns={"date": "timestamp"})
    merged = frame.merge(ahead, on=["series", "timestamp"], validate="one_to_one")
    level = merged.groupby("series")["value_x"].transform("mean")
    share = merged["value_x"] / level
    assert share[merged["promo"] == 1].mean() > 1.15 * share[merged["promo"] == 0].mean()
    backtest = autoseq.load_model(model).predict(runs["csv"], all_origins=True)
    history = raw[raw["value"].notna()].groupby("series").size()
    # every origin with a full lookback: those within HORIZON steps of the end take the
    # covariates of the rows to forecast
    assert len(backtest) == int((history - LOOKBACK + 1).sum()) * HORIZON
    # A forecast reads only the rows ahead: a file without the covariates' history forecasts
    # the same.
    bare = raw.copy()
    bare.loc[bare["value"].notna(), FUTURE] = np.nan
    again = autoseq.load_model(model).predict(write_csv(tmp_path / "bare.csv", bare))
    np.testing.assert_allclose(again["value"].to_numpy(),
                               pd.read_csv(out)["value"].to_numpy(), rtol=1e-5)
    cut = raw.drop(raw[(raw["series"] == "s3") & raw["value"].isna()].index[:2])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(model), str(write_csv(tmp_path / "cut.csv", cut))])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "series 's3' has no value of known-future covariate 'promo'" in err


def test_an_ensemble_routes_the_future_rows_to_the_members_that_take_them(runs):
    import keras

    from autoseq.exporting._panel_ensemble import _compose, _load_member, raw_forecasts

    on, off = open_run(runs["on"]), open_run(runs["off"])
    data = on.data()
    with_future = _load_member(on, data, 0)
    plain = _load_member(off, data, 0)
    plain = type(plain)(1, plain.config, plain.info,
                        keras.Model(plain.raw.input, plain.raw.output, name="trial_1"))
    assert with_future.takes == ("future",) and plain.takes == ()
    origins = data.origins("val")
    mixed = _compose([with_future, plain], data)
    parts = [raw_forecasts(m.raw, LOOKBACK, data=data, origins=origins)
             for m in (with_future, plain)]
    np.testing.assert_allclose(raw_forecasts(mixed.model, LOOKBACK, data=data, origins=origins),
                               np.mean(parts, axis=0), rtol=1e-4)


def test_the_report_names_what_the_covariates_carry(runs):
    autoseq.export(runs["on"], out=runs["on"] / "export", report=False)
    text = autoseq.write_report(runs["on"]).markdown.read_text()
    section = text[text.index("## What the model looks at"):]
    assert "lags (steps back)" in section  # the window's blocks first
    assert "promo over the next 6 days" in section and "| known ahead |" in section
    assert "Forecast vs promo" in section  # the most important covariate's dependence
    rows = [[c.strip() for c in line.split("|")[1:4]] for line in section.splitlines()
            if "| known ahead |" in line]
    shares = {name: float(share.rstrip("%")) for name, _, share in rows}
    assert shares["promo over the next 6 days"] > 50  # it carries most of the forecast
