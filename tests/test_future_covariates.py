"""Known-future covariates: read (with the rows to forecast), windowed, searched, exported,
predicted from the rows after the last target value, and weighed in the report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.cli import main
from autoseq.data import ForecastData, load_series
from autoseq.data._windows import FUTURE, STEP, WINDOW
from autoseq.exceptions import DataError

pytestmark = pytest.mark.filterwarnings("ignore")

HORIZON = 6


def _frame(n: int = 420, seed: int = 0) -> pd.DataFrame:
    """Demand that follows today's temperature (unforeseeable from the past: white noise) and a
    category, plus a weak daily cycle: only a model that knows them ahead can forecast it."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    temp = rng.normal(20, 5, n)
    sky = rng.choice(["clear", "rain"], n)
    demand = 100 + 4 * temp - 15 * (sky == "rain") + 3 * np.sin(2 * np.pi * t / 24)
    return pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"),
                         "demand": demand + rng.normal(0, 1, n), "temp": temp, "sky": sky})


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "demand.csv"
    _frame().to_csv(path, index=False)
    return path


def _with_rows_ahead(frame: pd.DataFrame, ahead: int) -> pd.DataFrame:
    """The first rows as history, then ``ahead`` rows with the target blanked."""
    out = frame.copy()
    out.loc[len(out) - ahead:, "demand"] = np.nan
    return out


def test_rows_after_the_last_target_value_are_kept_apart(tmp_path):
    path = tmp_path / "ahead.csv"
    _with_rows_ahead(_frame(), 10).to_csv(path, index=False)
    series = load_series(path, targets=["demand"], future=["temp", "sky"])
    assert len(series.frame) == 410 and len(series.ahead) == 10
    assert series.future == ("temp", "sky=clear", "sky=rain")
    assert series.categories == {"sky": ["clear", "rain"]}
    assert series.columns == ("demand", "temp", "sky=clear", "sky=rain")
    assert set(series.frame["sky=rain"].unique()) == {0.0, 1.0}
    assert not series.ahead.isna().any().any()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"future": ["demand"]}, "--future-covariate column 'demand' is a target"),
    ({"future": ["tmep"]}, "--future-covariate column 'tmep' not found"),
    ({"future": ["temp"], "covariates": ["temp"]}, "both as a past covariate and as a known-future"),
    ({"categorical": ["temp"], "covariates": []}, "--categorical column 'temp' is not an input"),
    ({"future": ["sky"], "categories": {"sky": ["clear"]}}, "'rain', a category the model was not"),
])
def test_bad_roles_are_one_line_errors(csv, kwargs, message):
    with pytest.raises(DataError, match=message):
        load_series(csv, targets=["demand"], **kwargs)


def test_windows_carry_the_covariates_of_the_forecast_steps(csv):
    data = ForecastData(load_series(csv, targets=["demand"], future=["temp"]), horizon=HORIZON)
    origins = data.origins("val")[:4]
    ds = data.dataset("val", lookback=12, batch_size=4, origins=origins, inputs=(STEP, FUTURE))
    feed, target = next(iter(ds))
    assert set(feed) == {WINDOW, STEP, FUTURE}
    assert feed[FUTURE].shape == (4, HORIZON, 1)
    rows = origins[:, None] + np.arange(HORIZON)[None, :]
    np.testing.assert_allclose(feed[FUTURE].numpy()[..., 0], data.scaled[rows, 1], rtol=1e-6)
    np.testing.assert_allclose(data.future_values(origins)[..., 0], data.raw[rows, 1])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("future")
    csv = tmp / "demand.csv"
    _frame().to_csv(csv, index=False)
    space = autoseq.SearchSpace([
        autoseq.Fixed("cell", "gru"), autoseq.Fixed("units", 8), autoseq.Fixed("lookback", 24),
        autoseq.Fixed("anchor", "none"), autoseq.Fixed("calendar", True),
        autoseq.Choice("head", ("dense", "seq2seq")), autoseq.Fixed("learning_rate", 0.01),
        autoseq.Fixed("batch_size", 16), autoseq.Fixed("future", True)], name="future")
    autoseq.search(csv, target="demand", horizon=HORIZON, space=space, trials=2, max_epochs=12,
                   out=tmp / "run", seed=0, stat_baselines=False, report=False,
                   future_covariates=["temp", "sky"])
    return csv, tmp / "run", autoseq.export(tmp / "run", ensemble=1)


def test_the_search_offers_the_covariates_as_a_choice(csv):
    from autoseq.space import Bool, load_search_space
    from autoseq.tasks import FORECAST

    fast = load_search_space("fast")
    with_future = ForecastData(load_series(csv, targets=["demand"], future=["temp"]),
                               horizon=HORIZON)
    searched = FORECAST.adapt_space(fast, with_future)
    assert searched["future"] == Bool("future")  # the leaderboard shows what they are worth
    assert FORECAST.adapt_space(fast, ForecastData(load_series(csv, targets=["demand"]),
                                                   horizon=HORIZON)) is fast
    config = FORECAST.resolve_config({"future": True}, with_future, builder="rnn")
    assert config["future"] is True
    plain = ForecastData(load_series(csv, targets=["demand"], covariates=["temp"]),
                         horizon=HORIZON)
    assert FORECAST.resolve_config({"future": True}, plain, builder="rnn")["future"] is False


def test_the_run_records_the_roles(exported):
    _, run_dir, _ = exported
    board = pd.read_csv(run_dir / "leaderboard.csv")
    assert board["future"].dropna().astype(bool).all()
    settings = json.loads((run_dir / "run.json").read_text())["settings"]
    assert settings["future_covariates"] == ["temp", "sky"]
    assert settings["categories"] == {"sky": ["clear", "rain"]}


def test_savedmodel_takes_the_raw_future_and_beats_every_baseline(exported):
    _, _, result = exported
    m = result.manifest
    assert m["signature"]["inputs"] == ["window", "origin_step", "future"]
    assert m["future_input"]["shape"] == [None, HORIZON, 3]
    assert m["future_covariates"] == ["temp", "sky"]
    assert m["roles"]["sky=rain"].startswith("known-future")
    # Demand is 4 × temperature + noise: no baseline can know it, the model reads it ahead.
    best_base = min(v["mae"] for v in m["metrics"]["test_baselines"].values())
    assert m["metrics"]["test"]["mae"] < 0.5 * best_base


def test_predict_reads_the_rows_to_forecast_and_matches_the_savedmodel(exported, tmp_path):
    import tensorflow as tf

    csv, _, result = exported
    frame = _with_rows_ahead(pd.read_csv(csv), HORIZON)
    path = tmp_path / "ahead.csv"
    frame.to_csv(path, index=False)
    model = autoseq.load_model(result.path)
    got = model.predict(path)
    assert len(got) == HORIZON and got["timestamp"].iloc[0] == pd.Timestamp(frame["time"].iloc[-HORIZON])
    m = result.manifest
    n = len(frame) - HORIZON
    window = frame[["demand", "temp"]].to_numpy("float32")[n - m["lookback"]:n]
    sky = frame["sky"].to_numpy()
    rows = np.c_[window, sky[n - m["lookback"]:n] == "clear", sky[n - m["lookback"]:n] == "rain"]
    ahead = np.c_[frame["temp"].to_numpy()[n:], sky[n:] == "clear", sky[n:] == "rain"]
    serve = tf.saved_model.load(str(result.path)).signatures["serving_default"]
    step = n  # the history starts at the training data's t0
    out = serve(window=tf.constant(rows[None], tf.float32), origin_step=tf.constant([step]),
                future=tf.constant(ahead[None], tf.float32))["output_0"].numpy()
    np.testing.assert_allclose(got["demand"].to_numpy(), out[0, :, 0], rtol=1e-5)


def test_a_missing_value_ahead_is_a_one_line_error(exported, tmp_path, capsys):
    csv, _, result = exported
    frame = _with_rows_ahead(pd.read_csv(csv), HORIZON)
    frame.loc[len(frame) - 2, "temp"] = np.nan
    path = tmp_path / "gap.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(result.path), str(path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "known-future covariate 'temp' has no value at" in err[0]


def test_report_weighs_the_covariates_ahead(exported):
    _, run_dir, _ = exported
    autoseq.write_report(run_dir)
    text = (run_dir / "report.md").read_text()
    assert "temp over the next 6 hours" in text and "known ahead" in text
    assert "Forecast vs temp" in text or "Forecast vs sky" in text
    assert (run_dir / "report_files" / "dependence.png").exists()
