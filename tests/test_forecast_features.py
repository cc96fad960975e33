"""Searched transforms, calendar features and the seq2seq head, through search → export → predict."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.data import ForecastData, load_series
from autoseq.data._calendar import calendar_features, calendar_spec, steps_from
from autoseq.data._variants import data_variant, network_inputs
from autoseq.exceptions import SearchSpaceError
from autoseq.exporting._forecast_wrap import raw_inputs, trial_variant
from autoseq.run import load_trial_model, open_run

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def data(series_csv):
    return ForecastData(load_series(series_csv, targets=["y"]), horizon=5)


@pytest.mark.parametrize("transform", ["none", "mstl"])
@pytest.mark.parametrize("scaler", ["standard", "robust", "minmax"])
def test_every_transform_is_inverted_exactly(data, transform, scaler):
    v = data_variant(data, transform=transform, scaler=scaler)
    origins = data.origins("val")
    idx = origins[:, None] + np.arange(data.horizon)[None, :]
    back = v.to_units(v.values[:, list(data.target_idx)][idx].astype("float64"), origins)
    np.testing.assert_allclose(back, data.targets("val", scaled=False), rtol=1e-5, atol=1e-4)
    assert v.scaler.kind == scaler
    assert (v.profile is not None) == (transform == "mstl")
    assert data_variant(data, transform=transform, scaler=scaler) is v  # cached across trials


def test_mstl_profile_removes_the_weekly_season(data):
    v = data_variant(data, transform="mstl")
    assert v.profile.periods == (7,)
    y = data.raw[: data.split.train, 0]
    z = y - v.profile.at(np.arange(len(y)))[:, 0]
    weekly = lambda s: np.std([s[i::7].mean() for i in range(7)])  # noqa: E731
    assert weekly(z) < 0.2 * weekly(y)


def test_calendar_features_match_the_timestamps():
    t0 = pd.Timestamp("2000-06-05 00:00")  # a Monday
    index = pd.date_range(t0, periods=700, freq="30min")
    spec = calendar_spec("30min", t0)
    assert [c.name for c in spec] == ["hour_of_day", "day_of_week", "day_of_year"]
    feats = calendar_features(spec, np.arange(700))
    hour = (index.hour + index.minute / 60) / 24
    dow = (index.dayofweek + hour) / 7
    doy = (index.dayofyear - 1 + hour) / 365.25
    for k, phase in enumerate([hour, dow, doy]):
        np.testing.assert_allclose(feats[:, 2 * k], np.sin(2 * np.pi * phase), atol=1e-5)
        np.testing.assert_allclose(feats[:, 2 * k + 1], np.cos(2 * np.pi * phase), atol=1e-5)
    assert [c.name for c in calendar_spec("MS", pd.Timestamp("1949-03-01"))] == ["month_of_year"]
    assert [c.name for c in calendar_spec("D", t0)] == ["day_of_week", "day_of_year"]
    days = pd.bdate_range("2000-06-07", periods=40)  # trading days from a Wednesday
    feats = calendar_features(calendar_spec("B", days[0]), np.arange(40))
    np.testing.assert_allclose(feats[:, 0], np.sin(2 * np.pi * days.dayofweek / 5), atol=1e-5)


def test_steps_from_counts_calendar_steps():
    assert steps_from(pd.Timestamp("2000-01-01"), pd.Timestamp("2000-01-02 12:00"), "30min") == 72
    assert steps_from(pd.Timestamp("1949-01-01"), pd.Timestamp("1950-03-01"), "MS") == 14
    assert steps_from(pd.Timestamp("1950-03-01"), pd.Timestamp("1949-01-01"), "MS") == -14
    assert steps_from(pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-09"), "B") == 2


def test_unknown_transform_in_a_space_is_refused(series_csv, tmp_path):
    space = autoseq.SearchSpace([autoseq.Choice("transform", ("none", "boxcox"))], name="bad")
    with pytest.raises(SearchSpaceError, match="parameters.transform: unknown transform 'boxcox'"):
        autoseq.search(series_csv, target="y", horizon=5, space=space, trials=1,
                       out=tmp_path / "r")


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    from tests.conftest import make_series_csv

    tmp = tmp_path_factory.mktemp("features")
    csv = make_series_csv(tmp / "series.csv")
    space = autoseq.SearchSpace([
        autoseq.Fixed("cell", "gru"), autoseq.Fixed("units", 4), autoseq.Fixed("lookback", 7),
        autoseq.Fixed("anchor", "seasonal"), autoseq.Fixed("transform", "mstl"),
        autoseq.Fixed("scaler", "robust"), autoseq.Fixed("calendar", True),
        autoseq.Fixed("head", "seq2seq")], name="all")
    autoseq.search(csv, target="y", horizon=5, space=space, trials=1, max_epochs=2,
                   out=tmp / "run", seed=0, stat_baselines=False)
    return tmp / "run", autoseq.export(tmp / "run", ensemble=1, refit=False)


def test_savedmodel_with_every_transform_equals_the_keras_path(full_run):
    run_dir, exported = full_run
    model, _, _ = assert_savedmodel_equals_keras_path(run_dir, exported)
    assert model.input["origin_step"] is not None  # the trial used calendar features
    m = exported.manifest
    assert [d["name"] for d in m["derived_inputs"]] == ["origin_step"]
    assert m["signature"]["inputs"] == ["window", "origin_step"]
    kinds = [t["kind"] for t in m["transforms"]]
    assert kinds[:3] == ["mstl_deseasonalise", "robust_scale", "inverse_robust_scale"]
    assert "calendar_features" in kinds and m["t0"] == "2024-01-01T00:00:00"


def test_predict_computes_the_origin_step_and_reproduces_test_metrics(full_run):
    run_dir, exported = full_run
    assert backtest_mae(exported.path, run_dir) == pytest.approx(exported.test_metrics["mae"],
                                                                 rel=1e-5)


def test_predict_on_a_later_slice_uses_the_same_calendar(full_run):
    run_dir, exported = full_run
    csv = open_run(run_dir).info["data"]["source"]
    model = autoseq.load_model(exported.path)
    whole = model.predict(csv, all_origins=True)
    tail = model.predict(pd.read_csv(csv).iloc[60:], all_origins=True)
    merged = tail.merge(whole, on=["origin", "step"], suffixes=("", "_whole"))
    assert len(merged) == len(tail)
    np.testing.assert_allclose(merged["y"], merged["y_whole"], rtol=1e-5)


def test_plain_tensorflow_needs_only_the_manifest(full_run):
    run_dir, exported = full_run
    csv = open_run(run_dir).info["data"]["source"]
    code = f"""
import json, numpy as np, pandas as pd, tensorflow as tf
m = json.load(open({str(exported.path / 'autoseq.json')!r}))
frame = pd.read_csv({csv!r}, parse_dates=[m["time_col"]])
window = frame[m["inputs"]].to_numpy("float32")[50 - m["lookback"]:50][None]
step = (frame[m["time_col"]][50] - pd.Timestamp(m["t0"])) // pd.Timedelta(days=1)
serve = tf.saved_model.load({str(exported.path)!r}).signatures["serving_default"]
out = serve(window=tf.constant(window), origin_step=tf.constant([step], tf.int32))
print(json.dumps(out["output_0"].numpy()[0, :, 0].tolist()))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin"})
    plain = json.loads(res.stdout.strip().splitlines()[-1])
    ours = autoseq.load_model(exported.path).predict(csv, all_origins=True)
    origin = pd.read_csv(csv, parse_dates=["date"])["date"].iloc[49]
    np.testing.assert_allclose(plain, ours[ours.origin == origin]["y"].to_numpy(), rtol=1e-5)


def test_folds_expand_the_training_part(data):
    from autoseq.trial._folds import make_folds

    folds = make_folds(data, 3)
    assert folds[-1] is data
    assert [f.split.train for f in folds] == [data.split.train - 2 * data.split.val,
                                              data.split.train - data.split.val, data.split.train]
    assert all(f.split.val == data.split.val for f in folds)
    assert folds[0].origins("val")[-1] + data.horizon <= folds[1].origins("val")[0]
    np.testing.assert_allclose(folds[0].scaler.mean, data.raw[: folds[0].split.train].mean(0))


def test_too_many_folds_is_a_clear_error(data):
    from autoseq.exceptions import DataError
    from autoseq.trial._folds import make_folds

    with pytest.raises(DataError, match="--folds 9 leaves .* training rows in the first fold"):
        make_folds(data, 9)


def test_search_with_folds_and_mae_objective(series_csv, tmp_path):
    space = autoseq.SearchSpace([autoseq.Fixed("cell", "gru"), autoseq.Fixed("units", 2),
                                 autoseq.Fixed("lookback", 7)], name="one")
    result = autoseq.search(series_csv, target="y", horizon=5, space=space, trials=1,
                            max_epochs=1, out=tmp_path / "run", folds=2, metric="mae",
                            stat_origins=2)
    board = result.leaderboard
    scored = board[board.state.isin(["complete", "baseline"])]
    assert (scored["val_folds"] == 2).all()
    # linear's window is chosen on each fold: it is kept by its kind, named as on the last
    assert board["model"].str.startswith("linear(L=").sum() == 1
    np.testing.assert_allclose(scored["val_loss"], scored["val_mae"], rtol=1e-9)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["settings"]["folds"] == 2 and info["settings"]["metric"] == "mae"
    # the earlier fold's forecast is kept, and is the one the trial was scored on
    from autoseq.run import open_run
    from autoseq.trial._folds import make_folds

    run = open_run(tmp_path / "run")
    fold = make_folds(run.data(), 2)[0]
    with np.load(run.trial_dir(0) / "fold_forecasts.npz") as z:
        kept = z["fold0"]
    truth = fold.targets("val", scaled=False)
    assert kept.shape == truth.shape
    last = json.loads((run.trial_dir(0) / "trial.json").read_text())["val_mae"]
    mean = float(board.set_index("trial").loc[0, "val_mae"])
    np.testing.assert_allclose(mean, (last + np.abs(kept - truth).mean()) / 2, rtol=1e-4)
    # export weighs its candidates over both folds' windows
    res = autoseq.export(tmp_path / "run", refit=False, report=False, levels="none")
    sel = res.manifest["selection"]
    assert sel["folds"] == 2 and sel["windows"] == 2 * len(truth)
    assert "all 2 folds" in sel["rule"]


def test_starting_points_are_cut_to_the_space_and_tried_first(series_csv, tmp_path):
    from autoseq.searching._portfolio import starting_points

    space = autoseq.SearchSpace([autoseq.Fixed("cell", "gru"), autoseq.Int("units", 2, 4),
                                 autoseq.Choice("anchor", ("none", "seasonal")),
                                 autoseq.Choice("transform", ("none", "mstl")),
                                 autoseq.Fixed("lookback", 7)], name="cut")
    points = starting_points(space)
    assert points[0] == {"anchor": "seasonal", "transform": "mstl"}  # units 32 is out of range
    result = autoseq.search(series_csv, target="y", horizon=5, space=space, trials=1,
                            max_epochs=1, out=tmp_path / "run", stat_baselines=False)
    first = result.leaderboard.set_index("trial").loc[0]
    assert first["anchor"] == "seasonal" and first["transform"] == "mstl"
    assert 2 <= first["units"] <= 4


def test_refit_refits_the_transforms_on_training_and_validation(full_run, tmp_path):
    run_dir, _ = full_run
    res = autoseq.export(run_dir, out=tmp_path / "r", refit=True)
    info = open_run(run_dir).info
    rows = info["split"]["train"]["rows"] + info["split"]["val"]["rows"]
    profile, scale = res.manifest["transforms"][:2]
    assert profile["fitted_on"].startswith(f"the first {rows} rows")
    assert scale["fitted_on"] == f"the first {rows} rows"
    assert backtest_mae(res.path, run_dir) == pytest.approx(res.test_metrics["mae"], rel=1e-5)


def test_mae_loss_trains_and_reports_a_val_mse(series_csv, tmp_path):
    space = autoseq.SearchSpace([autoseq.Fixed("units", 2), autoseq.Fixed("lookback", 7),
                                 autoseq.Fixed("loss", "mae")], name="mae")
    autoseq.search(series_csv, target="y", horizon=5, space=space, trials=1, max_epochs=2,
                   out=tmp_path / "run", stat_baselines=False)
    model, config, _ = load_trial_model(open_run(tmp_path / "run"), 0)
    assert config["loss"] == "mae" and model.loss == "mae"


def test_report_evaluates_a_transformed_trial_like_export(full_run):
    from autoseq.report._sections import gather

    run_dir, exported = full_run
    ev = gather(open_run(run_dir), importance=True)
    assert ev.model_note == ""
    assert ev.test.mae == pytest.approx(exported.test_metrics["mae"], rel=1e-4)
    assert ev.by_column is not None


def test_several_targets_with_every_transform_export_and_predict(series_csv, tmp_path):
    space = autoseq.SearchSpace([
        autoseq.Fixed("cell", "gru"), autoseq.Fixed("units", 3), autoseq.Fixed("lookback", 7),
        autoseq.Fixed("anchor", "last"), autoseq.Fixed("transform", "mstl"),
        autoseq.Fixed("scaler", "minmax"), autoseq.Fixed("calendar", True)], name="two")
    autoseq.search(series_csv, target=["y", "x"], horizon=5, space=space, trials=1,
                   max_epochs=1, out=tmp_path / "run", stat_origins=2)
    res = autoseq.export(tmp_path / "run", ensemble=1, refit=False)
    _, config, data = assert_savedmodel_equals_keras_path(tmp_path / "run", res)
    assert trial_variant(data, config).profile.tables[0].shape == (7, 2)
    frame = autoseq.load_model(res.path).predict(series_csv)
    assert {"y", "x"} <= set(frame.columns) and len(frame) == 5


def backtest_mae(model_dir, run_dir) -> float:
    """``predict --all-origins`` of the run's CSV, MAE over the test origins (horizon 5)."""
    info = open_run(run_dir).info
    frame = autoseq.load_model(model_dir).predict(info["data"]["source"], all_origins=True)
    test_start = pd.Timestamp(info["split"]["test"]["start"])
    test = frame[(frame.origin >= test_start - pd.Timedelta(days=1)) & frame.y_actual.notna()]
    test = test.groupby("origin").filter(lambda g: len(g) == 5)
    return float(np.mean(np.abs(test["y"] - test["y_actual"])))


def assert_savedmodel_equals_keras_path(run_dir, exported):
    """The exported SavedModel on raw test windows (+ origin steps, + rolling profile) equals
    the trial's network on its transformed windows, brought back to units. Returns the trial's
    ``(model, config, data)``."""
    import tensorflow as tf

    model, config, data = load_trial_model(open_run(run_dir), exported.trial)
    path = exported.path
    origins = data.origins("test")
    v = trial_variant(data, config)
    ds = data.dataset("test", lookback=int(config["lookback"]), batch_size=64, values=v.values,
                      inputs=network_inputs(config, data), origins=origins,
                      rolling=v.rolling)
    expected = v.to_units(model.predict(ds, verbose=0), origins)
    inputs = raw_inputs(data, origins, config)
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    got = serve(**{k: tf.constant(x) for k, x in inputs.items()})["output_0"].numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    return model, config, data
