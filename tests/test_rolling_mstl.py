"""The rolling MSTL transform (refitted as time goes on) and the mean anchor, through search →
export → predict, and the SavedModel fed by plain TensorFlow from the manifest's description."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.data import ForecastData, load_series
from autoseq.data._variants import data_variant, rolling_points, rolling_tables
from autoseq.run import open_run
from tests.test_forecast_features import assert_savedmodel_equals_keras_path, backtest_mae

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def data(series_csv):
    return ForecastData(load_series(series_csv, targets=["y"]), horizon=5)


def test_rolling_tables_see_only_the_rows_before_their_point(data):
    v = data_variant(data, transform="rolling_mstl")
    r = v.profile
    assert r.periods == (7,) and r.stride == 7 and r.points[0] == 14
    assert np.all(np.diff(r.points) == 7) and r.points[-1] == len(data.raw) - len(data.raw) % 7
    k = len(r.points) // 2
    changed = data.raw[:, list(data.target_idx)].copy()
    changed[r.points[k]:] += 100.0  # the future of point k
    again = rolling_tables(changed, r.points[: k + 1], periods=r.periods, history=r.history)
    np.testing.assert_allclose(again[k], r.tables[k])
    # an origin uses the last point at or before it
    assert list(r.block(np.array([14, 20, 21]))) == [0, 0, 1]


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
    from autoseq.builder import ModelContext, build_model, resolve_config

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
    return tmp / "run", autoseq.export(tmp / "run")


def test_savedmodel_takes_the_rolling_profile_and_equals_the_keras_path(rolling_run):
    run_dir, exported = rolling_run
    _, config, _ = assert_savedmodel_equals_keras_path(run_dir, exported)
    m = exported.manifest
    assert [d["name"] for d in m["derived_inputs"]] == ["origin_step", "seasonal_profile"]
    spec = m["derived_inputs"][1]
    assert spec["periods"] == [7] and spec["refit_every"] == 7
    assert spec["shape"] == [None, config["lookback"] + 5, 1]
    assert m["transforms"][0]["kind"] == "rolling_mstl_deseasonalise"


def test_predict_computes_the_rolling_profile_and_reproduces_test_metrics(rolling_run):
    run_dir, exported = rolling_run
    assert backtest_mae(exported.path, run_dir) == pytest.approx(exported.test_metrics["mae"],
                                                                 rel=1e-5)


def test_ensemble_of_rolling_members_with_different_lookbacks(rolling_run, tmp_path):
    run_dir, _ = rolling_run
    res = autoseq.export(run_dir, out=tmp_path / "ens", ensemble=2)
    assert res.manifest["derived_inputs"][1]["shape"] == [None, 14 + 5, 1]
    lookbacks = {m["lookback"] for m in res.manifest["ensemble"]["members"]}
    assert lookbacks == {7, 14}
    # predict feeds the ensemble its longest profile and reproduces the export's test score
    assert backtest_mae(res.path, run_dir) == pytest.approx(res.test_metrics["mae"], rel=1e-5)


def test_plain_tensorflow_needs_only_the_manifest(rolling_run):
    """The manifest's words are enough to compute the profile input without autoseq."""
    run_dir, exported = rolling_run
    csv = open_run(run_dir).info["data"]["source"]
    code = f"""
import json, numpy as np, pandas as pd, tensorflow as tf
from statsforecast.mstl import mstl
m = json.load(open({str(exported.path / 'autoseq.json')!r}))
spec = [d for d in m["derived_inputs"] if d["name"] == "seasonal_profile"][0]
frame = pd.read_csv({csv!r}, parse_dates=[m["time_col"]])
y = frame[m["targets"][0]].to_numpy("float64")
L, H, o = m["lookback"], m["horizon"], 120
step = int((frame[m["time_col"]][o] - pd.Timestamp(m["t0"])) // pd.Timedelta(days=1))
p = step - step % spec["refit_every"]
hist = y[max(0, p - spec["history"]):p]
periods = [q for q in spec["periods"] if 2 * q <= len(hist)]
parts = mstl(hist, period=periods)
prof = np.zeros(L + H)
for q in periods:
    comp = parts["seasonal" if len(periods) == 1 else f"seasonal{{q}}"].to_numpy()[-q:]
    table = np.zeros(q)
    table[np.mod(np.arange(p - q, p), q)] = comp
    prof += table[np.mod(np.arange(step - L, step + H), q)]
window = frame[m["inputs"]].to_numpy("float32")[o - L:o][None]
serve = tf.saved_model.load({str(exported.path)!r}).signatures["serving_default"]
out = serve(window=tf.constant(window), origin_step=tf.constant([step], tf.int32),
            seasonal_profile=tf.constant(prof[None, :, None], tf.float32))
print(json.dumps(out["output_0"].numpy()[0, :, 0].tolist()))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin"})
    plain = json.loads(res.stdout.strip().splitlines()[-1])
    ours = autoseq.load_model(exported.path).predict(csv, all_origins=True)
    origin = pd.read_csv(csv, parse_dates=["date"])["date"].iloc[119]
    np.testing.assert_allclose(plain, ours[ours.origin == origin]["y"].to_numpy(), rtol=1e-5)


def test_predict_needs_history_before_a_refit_point(rolling_run, tmp_path):
    from autoseq.exceptions import DataError

    run_dir, exported = rolling_run
    csv = open_run(run_dir).info["data"]["source"]
    short = tmp_path / "short.csv"
    model = autoseq.load_model(exported.path)
    pd.read_csv(csv).iloc[100:116].to_csv(short, index=False)  # first refit point: row 19
    with pytest.raises(DataError, match="give more history before the first forecast origin"):
        model.predict(short)
    # a backtest starts at the first origin with a refit point before it
    pd.read_csv(csv).iloc[100:130].to_csv(short, index=False)
    frame = model.predict(short, all_origins=True)
    first = pd.Timestamp(pd.read_csv(short)["date"].iloc[18])  # the row before row 19
    assert frame.origin.min() == first


def test_refit_points_follow_the_steps_of_the_data():
    assert list(rolling_points(30, stride=7, periods=(7,))) == [14, 21, 28]
    # a slice that starts at step 3: points where the step is a multiple of 7
    assert list(rolling_points(30, stride=7, periods=(7,), first_step=3)) == [18, 25]
