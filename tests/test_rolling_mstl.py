"""The rolling MSTL transform (refitted at every origin, as a matrix) and the mean anchor,
through search → export → predict, and the SavedModel fed by plain TensorFlow with raw rows."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.data import ForecastData, load_series
from autoseq.data._mstl import (
    decompose,
    extended_rows,
    mstl_operator,
    relative_tables,
    window_rows,
)
from autoseq.data._variants import data_variant, rolling_spec
from autoseq.exporting._forecast_wrap import raw_inputs
from autoseq.run import load_trial_model, open_run
from tests.test_forecast_features import assert_savedmodel_equals_keras_path, backtest_mae

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def data(series_csv):
    return ForecastData(load_series(series_csv, targets=["y"]), horizon=5)


def test_rolling_tables_see_only_the_rows_before_their_point(data, series_csv):
    r = data_variant(data, transform="rolling_mstl").profile
    assert r.periods == (7,) and r.history == 42 and r.points[0] == 14
    assert np.all(np.diff(r.points) == 1) and r.points[-1] == len(data.raw)
    k = 60 - 14  # point 60: a whole history before it
    changed = ForecastData(load_series(series_csv, targets=["y"]), horizon=5)
    changed.raw[60:, 0] += 100.0  # the future of point 60
    again = data_variant(changed, transform="rolling_mstl").profile
    np.testing.assert_allclose(again.tables[: k + 1], r.tables[: k + 1], atol=1e-9)
    assert not np.allclose(again.tables[k + 1], r.tables[k + 1])
    # the table is MSTL of the 42 rows before the point, indexed by row mod 7
    last = decompose(data.raw[60 - 42:60, 0], (7,))[0][-7:]
    np.testing.assert_allclose(r.tables[k][np.mod(np.arange(53, 60), 7), 0], last, atol=1e-9)
    assert list(r.block(np.array([14, 20, 21]))) == [0, 6, 7]


def test_the_operator_is_mstl_and_close_to_statsforecast_s():
    from statsforecast.mstl import mstl

    y = np.random.default_rng(3).normal(size=84).cumsum() + 3 * np.sin(np.arange(84))
    op = mstl_operator((4, 12), 84)
    comps = decompose(y, (4, 12))
    np.testing.assert_allclose(op @ y, np.concatenate([comps[0][-4:], comps[1][-12:]]),
                               atol=1e-9)
    ref = mstl(y, period=[4, 12])  # statsforecast evaluates every point (no LOESS jumps)
    for m, comp in zip((4, 12), comps, strict=True):
        gap = np.abs(comp - ref[f"seasonal{m}"].to_numpy()).max()
        assert gap < 0.15 * np.abs(ref[f"seasonal{m}"]).max()


def test_rolling_spec_and_a_short_history_extended_by_whole_cycles():
    assert rolling_spec([48, 336], 17_520) == ((48, 336), 2016)
    assert rolling_spec([48, 336], 900) == ((48,), 288)  # the week is not held three times
    assert rolling_spec([12], 30) is None
    points = np.array([4, 10])  # no point has the whole history before it: all extended
    tables = relative_tables(np.arange(12.0)[:, None], points, np.eye(4, 16), 16, cycle=4)
    assert tables.shape == (2, 4, 1) and list(tables[1, :, 0]) == [2, 3, 0, 1]
    # 10 rows exist: all kept; the first cycle (rows 0-3) stands for the 6 missing, phase kept
    rows = extended_rows(10, 16, 4)
    assert list(rows) == [2, 3, 0, 1, 2, 3, *range(10)]
    assert np.all(np.mod(rows, 4) == np.mod(np.arange(-6, 10), 4))


def test_a_series_shorter_than_the_history_gets_a_history_it_holds(tmp_path):
    """40 days of hourly rows (M4 hourly's length) hold the week five times, not the six of a
    full history: the history is the five weeks, so a served window fits in the series."""
    t = np.arange(960)
    y = 100 + 10 * np.sin(2 * np.pi * t / 24) + 5 * np.sin(2 * np.pi * t / 168) + 0.01 * t
    path = tmp_path / "hourly.csv"
    pd.DataFrame({"time": pd.date_range("2022-01-01", periods=960, freq="h"), "y": y}).to_csv(
        path, index=False)
    short = ForecastData(load_series(path, targets=["y"]), horizon=24)
    r = data_variant(short, transform="rolling_mstl").profile
    assert r.periods == (24, 168) and r.history == 840
    assert rolling_spec([24, 168], 1008)[1] == 1008
    assert r.points[0] == 336 and r.points[-1] == 960 and np.isfinite(r.tables).all()
    # validation origins start at 672 < 840: the served windows read no row at or after the
    # origin (they used to wrap to the series' end), the rows the profile was trained on
    origins = short.origins("val")
    rows = window_rows(origins, 840, 168)
    assert origins[0] < 840 and (rows < origins[:, None]).all() and (rows >= 0).all()
    served = raw_inputs(short, origins, {"lookback": 48, "transform": "rolling_mstl"},
                        extras=(), width=840)
    np.testing.assert_array_equal(served, short.raw[rows].astype("float32"))
    for o in origins[:3]:
        np.testing.assert_array_equal(rows[origins == o][0], extended_rows(int(o), 840, 168))
        np.testing.assert_array_equal(window_rows(np.array([o]), 1000, 168)[0, -840:],
                                      extended_rows(int(o), 840, 168))
    # every row that exists is itself (the network's last rows as in training)
    real = origins[:, None] + np.arange(-840, 0)
    np.testing.assert_array_equal(rows[real >= 0], real[real >= 0])


def test_rolling_windows_are_deseasonalised_per_origin_and_inverted_exactly(data):
    v = data_variant(data, transform="rolling_mstl", scaler="robust")
    origins = data.origins("val")
    ds = data.dataset("val", lookback=7, batch_size=len(origins), values=v.values,
                      rolling=v.rolling)
    x, y = next(iter(ds))
    prof = v.profile.around(origins, 7, data.horizon)
    window = data.raw[origins[:, None] + np.arange(-7, 0)[None, :]]
    window[:, :, list(data.target_idx)] -= prof[:, :7]  # the covariate x is left as it is
    np.testing.assert_allclose(x.numpy(), (window - v.scaler.mean) / v.scaler.scale, atol=1e-4)
    np.testing.assert_allclose(v.to_units(y.numpy(), origins),
                               data.targets("val", scaled=False), rtol=1e-5)
    # training origins before the first refit point are left out
    train = data.dataset("train", lookback=7, batch_size=1000, values=v.values,
                         rolling=v.rolling)
    assert len(next(iter(train))[0]) == len(data.origins("train", 7)) - (14 - 7)


def test_mean_anchor_repeats_the_mean_of_the_last_season():
    from autoseq.model._builder import ModelContext, build_model, resolve_config

    cfg = resolve_config({"cell": "gru", "units": 2, "lookback": 10, "anchor": "mean"},
                         builder="rnn", horizon=4, season=7, max_lookback=20)
    model = build_model(cfg, ModelContext(lookback=10, n_inputs=2, horizon=4, n_targets=1,
                                          season=7))
    x = np.random.default_rng(0).normal(size=(3, 10, 2)).astype("float32")
    anchor = model.get_layer("anchor")(x).numpy()
    np.testing.assert_allclose(anchor, np.repeat(x[:, -7:, :1].mean(1, keepdims=True), 4, 1),
                               rtol=1e-6)


@pytest.fixture(scope="module")
def rolling_run(tmp_path_factory):
    from tests.conftest import make_series_csv

    tmp = tmp_path_factory.mktemp("rolling")
    csv = make_series_csv(tmp / "series.csv")
    space = autoseq.SearchSpace([
        autoseq.Fixed("cell", "gru"), autoseq.Fixed("units", 4),
        autoseq.Choice("lookback", (7, 14)), autoseq.Fixed("anchor", "mean"),
        autoseq.Fixed("transform", "rolling_mstl"), autoseq.Fixed("calendar", True)],
        name="rolling")
    autoseq.search(csv, target="y", horizon=5, space=space, trials=2, max_epochs=2,
                   out=tmp / "run", seed=0, stat_baselines=False)
    return tmp / "run", autoseq.export(tmp / "run", ensemble=1, refit=False)


def test_savedmodel_refits_the_profile_inside_and_equals_the_keras_path(rolling_run):
    run_dir, exported = rolling_run
    assert_savedmodel_equals_keras_path(run_dir, exported)
    m = exported.manifest
    assert [d["name"] for d in m["derived_inputs"]] == ["origin_step"]  # calendar features
    assert m["lookback"] == 42 and m["signature"]["input_shape"] == [None, 42, 2]
    assert m["transforms"][0]["kind"] == "rolling_mstl_deseasonalise"
    assert m["transforms"][0]["history"] == 42


def test_predict_reproduces_test_metrics(rolling_run):
    run_dir, exported = rolling_run
    assert backtest_mae(exported.path, run_dir) == pytest.approx(exported.test_metrics["mae"],
                                                                 rel=1e-5)


def test_ensemble_of_rolling_members_with_different_lookbacks(rolling_run, tmp_path):
    run_dir, _ = rolling_run
    res = autoseq.export(run_dir, out=tmp_path / "ens", ensemble=2)
    assert res.manifest["lookback"] == 42
    lookbacks = {m["lookback"] for m in res.manifest["ensemble"]["members"]}
    assert lookbacks == {7, 14}
    assert backtest_mae(res.path, run_dir) == pytest.approx(res.test_metrics["mae"], rel=1e-5)


def test_tflite_refuses_a_rolling_trial_before_any_work(rolling_run, tmp_path):
    from autoseq.exceptions import ModelError

    run_dir, _ = rolling_run
    with pytest.raises(ModelError, match="--format tflite cannot serve trial .: its "
                                         "rolling_mstl transform"):
        autoseq.export(run_dir, out=tmp_path / "t", format="tflite", report=False)
    assert not (tmp_path / "t").exists()


def test_plain_tensorflow_serves_the_raw_window(rolling_run):
    """Raw rows and the step from the timestamps are all the SavedModel takes: no autoseq, no
    statsforecast in the serving process."""
    run_dir, exported = rolling_run
    csv = open_run(run_dir).info["data"]["source"]
    code = f"""
import json, sys, numpy as np, pandas as pd, tensorflow as tf
m = json.load(open({str(exported.path / 'autoseq.json')!r}))
frame = pd.read_csv({csv!r}, parse_dates=[m["time_col"]])
W, o = m["lookback"], 120
step = int((frame[m["time_col"]][o] - pd.Timestamp(m["t0"])) // pd.Timedelta(days=1))
window = frame[m["inputs"]].to_numpy("float32")[o - W:o][None]
serve = tf.saved_model.load({str(exported.path)!r}).signatures["serving_default"]
out = serve(window=tf.constant(window), origin_step=tf.constant([step], tf.int32))
assert not [k for k in sys.modules if k.startswith(("statsforecast", "autoseq"))]
print(json.dumps(out["output_0"].numpy()[0, :, 0].tolist()))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin"})
    plain = json.loads(res.stdout.strip().splitlines()[-1])
    ours = autoseq.load_model(exported.path).predict(csv, all_origins=True)
    origin = pd.read_csv(csv, parse_dates=["date"])["date"].iloc[119]
    np.testing.assert_allclose(plain, ours[ours.origin == origin]["y"].to_numpy(), rtol=1e-5)


def test_predict_needs_the_model_s_window_of_history(rolling_run, tmp_path):
    from autoseq.exceptions import DataError

    run_dir, exported = rolling_run
    csv = open_run(run_dir).info["data"]["source"]
    short = tmp_path / "short.csv"
    model = autoseq.load_model(exported.path)
    pd.read_csv(csv).iloc[100:130].to_csv(short, index=False)
    with pytest.raises(DataError, match="needs at least 42"):
        model.predict(short)
    pd.read_csv(csv).iloc[100:150].to_csv(short, index=False)
    frame = model.predict(short, all_origins=True)
    assert frame.origin.min() == pd.Timestamp(pd.read_csv(short)["date"].iloc[41])


def test_the_half_hourly_operator_ships_with_autoseq(tmp_path, monkeypatch):
    from autoseq.data import _mstl

    monkeypatch.setenv("AUTOSEQ_CACHE", str(tmp_path))
    op = mstl_operator((48, 336), 2016)  # loads and checks one column: no 2016 decompositions
    assert op.shape == (384, 2016) and not list(tmp_path.iterdir())
    assert (_mstl.SHIPPED / "mstl-48-336-h2016-v1.npy").is_file()
    # a stored operator that is not this decomposition is not used
    bad = tmp_path / "mstl-7-h42-v1.npy"
    np.save(bad, np.zeros((7, 42)))
    assert _mstl._load(bad, (7,), 42) is None


def test_the_report_s_view_of_a_rolling_trial_sees_its_window(rolling_run):
    """Permutation importance shuffles the lookback window: for a rolling-MSTL trial (whose
    model reads a longer window) the shuffled rows must reach the network, else every lag's
    share is zero."""
    from autoseq.exporting._forecast_wrap import StandardScaledView

    run_dir, exported = rolling_run
    model, config, data = load_trial_model(open_run(run_dir), exported.trial)
    view = StandardScaledView(model, data, config)
    lookback = int(config["lookback"])
    origins = data.origins("val")
    x = data.scaled[origins[:, None] + np.arange(-lookback, 0)[None, :]]
    raw = data.scaler.inverse(np.asarray(exported_raw(exported, data, origins, config)),
                              data.target_idx)
    np.testing.assert_allclose(data.scaler.inverse(view.predict_on_batch(x, origins),
                                                   data.target_idx), raw, rtol=1e-4, atol=1e-4)
    shuffled = x[np.random.default_rng(0).permutation(len(x))]
    assert not np.allclose(view.predict_on_batch(shuffled, origins),
                           view.predict_on_batch(x, origins))


def exported_raw(exported, data, origins, config):
    """The exported SavedModel's forecasts for ``origins``, in the common standard scaling."""
    import tensorflow as tf

    feed = raw_inputs(data, origins, config)
    serve = tf.saved_model.load(str(exported.path)).signatures["serving_default"]
    out = serve(**{k: tf.constant(v) for k, v in (feed if isinstance(feed, dict)
                                                  else {"window": feed}).items()})
    s, t = data.scaler, list(data.target_idx)
    return (out["output_0"].numpy() - s.mean[t]) / s.scale[t]
