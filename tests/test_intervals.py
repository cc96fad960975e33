"""Calibrated forecast intervals: conformal coverage, no crossing, export, predict, bad input."""

import json

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.cli import main
from autoseq.exceptions import ModelError
from autoseq.interval_metrics import quantile_metrics
from autoseq.intervals import IntervalSpec, calibrate, conformal_offsets, interval_spec

pytestmark = pytest.mark.filterwarnings("ignore")


def _simulated(n: int, horizon: int, rng, *, bias: float = 0.0):
    """Windows of a seasonal series with known noise whose volatility changes slowly, and a
    forecaster that knows the mean (plus ``bias``) but nothing of the noise."""
    t = np.arange(n + horizon + 20)
    vol = 1 + 0.8 * np.sin(2 * np.pi * t / 400)
    y = 5 * np.sin(2 * np.pi * t / 12) + vol * rng.normal(size=len(t))
    mean = 5 * np.sin(2 * np.pi * t / 12)
    origins = np.arange(20, 20 + n)
    idx = origins[:, None] + np.arange(horizon)[None, :]
    win = origins[:, None] + np.arange(-20, 0)[None, :]
    return (mean[idx][..., None] + bias, y[idx][..., None],
            (y[win] - mean[win])[..., None])


@pytest.mark.parametrize("bias", [0.0, 1.5])
def test_conformal_coverage_is_near_nominal_on_a_series_with_known_noise(bias):
    rng = np.random.default_rng(0)
    pred, truth, windows = _simulated(6000, 4, rng, bias=bias)
    cal, test = slice(0, 3000), slice(3000, 6000)
    spec = IntervalSpec(levels=(80.0, 95.0))
    calib = calibrate(pred[cal], truth[cal], windows[cal], spec, season=1,
                      floor=np.array([1e-3]))
    scale = np.ones((3000, 1)) if calib.scale == "none" else np.maximum(
        np.abs(np.diff(windows[test], axis=1)).mean(axis=1), 1e-3)
    q = pred[test, ..., None] + scale[:, None, :, None] * calib.offsets[None]
    levels = quantile_metrics(q, truth[test], calib.taus, spec.levels)["levels"]
    assert abs(levels["80"]["coverage"] - 0.80) < 0.04
    assert abs(levels["95"]["coverage"] - 0.95) < 0.03


def test_quantile_offsets_never_cross_even_when_pooled():
    rng = np.random.default_rng(1)
    taus = (0.025, 0.1, 0.5, 0.9, 0.975)
    for n in (12, 500):  # 12 windows per step are too few for 0.025: pooled over the steps
        offsets, pooled = conformal_offsets(rng.standard_t(3, size=(n, 6, 2)), taus)
        assert offsets.shape == (6, 2, 5) and pooled == (n == 12)
        assert np.all(np.diff(offsets, axis=-1) >= 0)


@pytest.mark.parametrize(("levels", "quantiles", "message"), [
    ("80,100", None, "(0, 100)"),
    ("0", None, "(0, 100)"),
    (None, "0.1,1.2", "(0, 1)"),
    (None, "0.9,0.1", "increasing"),
    (None, "0.1,0.1", "twice"),
    ("80,80", None, "twice"),
    ("eighty", None, "comma-separated"),
])
def test_bad_levels_and_quantiles_are_refused(levels, quantiles, message):
    with pytest.raises(ModelError, match=message.replace("(", r"\(").replace(")", r"\)")):
        interval_spec(levels=levels, quantiles=quantiles)


def test_a_level_the_validation_windows_cannot_support():
    pred = np.zeros((20, 1, 1))
    explicit = interval_spec(levels="99")
    with pytest.raises(ModelError, match="99% .*needs 199 validation windows.*--val-size"):
        calibrate(pred, pred + 1, np.zeros((20, 5, 1)), explicit, season=1,
                  floor=np.array([1e-3]))
    kept = calibrate(pred, pred + 1, np.zeros((20, 5, 1)), IntervalSpec(levels=(80.0, 99.0)),
                     season=1, floor=np.array([1e-3]))  # the default: 99 dropped, 80 kept
    assert kept.spec.levels == (80.0,) and kept.taus == (0.1, 0.9)


def _one_trial_export(tmp, name: str, *extra):
    """A one-trial search (a 4-unit GRU anchored on the season, plus ``extra`` parameters) on a
    220-step series, exported with quantiles 0.1, 0.5, 0.9: ``(run, export, csv)``."""
    from tests.conftest import make_series_csv

    csv = make_series_csv(tmp / "series.csv", n=220)
    space = autoseq.SearchSpace([autoseq.Choice("cell", ("gru",)), autoseq.Fixed("units", 4),
                                 autoseq.Choice("anchor", ("seasonal",)), *extra,
                                 autoseq.Choice("lookback", ("2x season",))], name=name)
    autoseq.search(csv, target="y", horizon=5, space=space, trials=1, max_epochs=2,
                   out=tmp / "run", seed=0, report=False, stat_baselines=False)
    res = autoseq.export(tmp / "run", ensemble=1, quantiles="0.1,0.5,0.9", report=False)
    return tmp / "run", res, csv


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    _, res, csv = _one_trial_export(tmp_path_factory.mktemp("intervals"), "one")
    return res, csv


def test_savedmodel_serves_quantiles_beside_the_point_forecast(exported):
    import tensorflow as tf

    res, _ = exported
    m = json.loads((res.path / "autoseq.json").read_text())
    assert m["intervals"]["quantiles"] == [0.025, 0.1, 0.5, 0.9, 0.975]
    assert m["intervals"]["levels"] == [80.0, 95.0]
    assert m["signature"]["outputs"]["quantiles"] == [None, 5, 1, 5]
    test = m["metrics"]["test_intervals"]
    assert set(test["levels"]) == {"80", "95"} and "wql" in test
    assert {"coverage", "width", "msis"} <= set(test["levels"]["95"])
    # Every in-graph baseline the leaderboard gives interval columns: seasonal drift too.
    assert {"naive", "seasonal_naive(m=7)", "seasonal_drift(m=7)"} <= set(
        m["metrics"]["test_baselines_intervals"])
    serve = tf.saved_model.load(str(res.path)).signatures["serving_default"]
    window = np.random.default_rng(0).normal(10, 3, (3, m["lookback"], 2)).astype("float32")
    out = serve(window=tf.constant(window))
    assert out["quantiles"].shape == (3, 5, 1, 5)
    assert np.all(np.diff(out["quantiles"].numpy(), axis=-1) >= 0)


def test_predict_writes_the_savedmodels_quantiles(exported, tmp_path):
    import tensorflow as tf

    res, csv = exported
    out = tmp_path / "pred.csv"
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(res.path), str(csv), "--out", str(out)])
    assert exit_.value.code == 0
    frame = pd.read_csv(out)
    cols = ["y_lo80", "y_hi80", "y_lo95", "y_hi95", "y_q0.1", "y_q0.5", "y_q0.9"]
    assert set(cols) <= set(frame.columns)
    m = json.loads((res.path / "autoseq.json").read_text())
    raw = pd.read_csv(csv)[m["inputs"]].to_numpy("float32")[-m["lookback"]:][None]
    serve = tf.saved_model.load(str(res.path)).signatures["serving_default"]
    q = serve(window=tf.constant(raw))["quantiles"].numpy()[0, :, 0]
    np.testing.assert_allclose(frame[["y_lo95", "y_lo80", "y_q0.5", "y_hi80", "y_hi95"]],
                               q, rtol=1e-5)
    assert np.all(frame["y_lo95"] <= frame["y_lo80"]) and np.all(frame["y_hi80"] <= frame["y_hi95"])


def test_cli_refuses_a_bad_level_in_one_line(exported, capsys):
    res, _ = exported
    run = res.path.parent
    with pytest.raises(SystemExit) as exit_:
        main(["export", str(run), "--levels", "80,120", "--no-report", "-q"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "(0, 100)" in err and "120" in err and len(err.splitlines()) == 1


def test_report_shows_the_bands_and_says_how_they_covered(exported):
    res, _ = exported
    paths = autoseq.write_report(res.path.parent, importance=False)
    md = paths.markdown.read_text()
    assert "Calibrated intervals on the test split" in md
    assert "of the test outcomes fell inside the 95% band" in md
    assert (paths.files / "fan.png").is_file() and (paths.files / "coverage.png").is_file()


def test_interval_sentence_compares_with_the_best_statistical_baseline():
    from autoseq.report._intervals import interval_sentence

    test = {"80": {"coverage": 0.8, "width": 10.0, "msis": 5.0},
            "95": {"coverage": 0.95, "width": 20.0, "msis": 7.0}}
    others = {"mstl_arima(m=48)": {"levels": {"95": {"coverage": 0.78, "width": 16.0,
                                                     "msis": 7.95}}},
              "naive": {"levels": {"95": {"coverage": 0.9, "width": 50.0, "msis": 9.0}}}}
    assert interval_sentence(test, others) == (
        "95% of the test outcomes fell inside the 95% band; it is 25% wider than "
        "mstl_arima(m=48)'s, which covered 78% (MSIS 7 vs 7.95 on the same windows).")


@pytest.mark.parametrize(("scale", "lag"), [("naive", 1), ("seasonal", 4), ("none", 1)])
def test_conformal_bands_layer_computes_the_numpy_window_scale(scale, lag):
    from autoseq.intervals import window_scale
    from autoseq.model.layers_intervals import ConformalBands

    rng = np.random.default_rng(2)
    window = rng.normal(size=(3, 12, 2)).astype("float32")  # target: column 1
    point = rng.normal(size=(3, 5, 1)).astype("float32")
    offsets = np.sort(rng.normal(size=(5, 1, 3)), axis=-1)
    layer = ConformalBands(offsets=offsets.tolist(), target_idx=[1], scale=scale, lag=lag,
                           floor=[0.01])
    got = np.asarray(layer([point, window]))
    s = window_scale(window[..., [1]].astype("float64"), kind=scale, lag=lag,
                     floor=np.array([0.01]))
    np.testing.assert_allclose(got, point[..., None] + s[:, None, :, None] * offsets[None],
                               rtol=1e-5, atol=1e-5)
    clone = ConformalBands.from_config(layer.get_config())
    np.testing.assert_allclose(np.asarray(clone([point, window])), got)


def test_cqr_covers_near_nominal_when_the_networks_quantiles_are_off():
    """Quantiles that follow the noise's volatility but are too narrow and shifted: CQR brings
    their coverage to nominal and keeps their adaptivity (narrower bands than the residual
    conformal's in the same interval score terms)."""
    from autoseq.intervals import band_quantiles, window_scale

    rng = np.random.default_rng(3)
    n, horizon, head = 6000, 3, (0.025, 0.1, 0.5, 0.9, 0.975)
    t = np.arange(n + horizon)
    vol = 0.3 + 2 * (np.sin(2 * np.pi * t / 50) > 0)  # calm and volatile stretches
    idx = np.arange(n)[:, None] + np.arange(horizon)[None, :]
    truth = (vol[idx] * rng.normal(size=idx.shape))[..., None]
    z = np.array([-1.96, -1.2816, 0.0, 1.2816, 1.96])  # the normal's quantiles at ``head``
    q = (0.2 + 0.5 * vol[idx][..., None, None] * z)  # half the true width, shifted
    windows = np.zeros((n, 4, 1))
    cal, test = slice(0, n // 2), slice(n // 2, n)
    spec = IntervalSpec(levels=(80.0, 95.0))
    calib = calibrate(q[cal], truth[cal], windows[cal], spec, season=1, floor=np.array([1e-3]),
                      head_taus=head)
    assert calib.mix is not None
    scale = window_scale(windows[test], kind=calib.scale, lag=calib.lag, floor=calib.floor)
    bands = band_quantiles(q[test] @ calib.mix, scale, calib.offsets)
    assert np.all(np.diff(bands, axis=-1) >= 0)
    cqr = quantile_metrics(bands, truth[test], calib.taus, spec.levels)["levels"]
    assert abs(cqr["80"]["coverage"] - 0.80) < 0.03
    assert abs(cqr["95"]["coverage"] - 0.95) < 0.02
    point = calibrate(q[cal, ..., 2], truth[cal], windows[cal], spec, season=1,
                      floor=np.array([1e-3]), scales=("none",))
    plain = quantile_metrics(q[test, ..., 2, None] + point.offsets[None], truth[test],
                             point.taus, spec.levels)["levels"]
    assert cqr["80"]["width"] < plain["80"]["width"]


def test_monotone_quantile_layer_never_crosses():
    from autoseq.model.layers_intervals import MonotoneQuantiles

    z = np.random.default_rng(0).normal(0, 30, (16, 4, 2, 9)).astype("float32")
    q = np.asarray(MonotoneQuantiles(median=4)(z))
    assert np.all(np.diff(q, axis=-1) >= 0)
    np.testing.assert_allclose(q[..., 4], z[..., 4])


@pytest.fixture(scope="module")
def quantile_run(tmp_path_factory):
    return _one_trial_export(tmp_path_factory.mktemp("quantile_head"), "quantiles",
                             autoseq.Fixed("loss", "pinball"))


def test_a_pinball_trial_is_scored_on_its_median(quantile_run):
    from functools import partial

    from autoseq._run_folder import load_trial
    from autoseq.exporting._forecast_wrap import raw_inputs, wrap_forecaster, wrap_quantiles
    from autoseq.model import forecast_context
    from autoseq.run import open_run

    run_dir, _, _ = quantile_run
    run = open_run(run_dir)
    fdata = run.data()
    model, config = load_trial(run, 0, partial(forecast_context, fdata))
    assert config["head_quantiles"][4] == 0.5
    feed = raw_inputs(fdata, fdata.origins("val"), config)
    point = wrap_forecaster(model, fdata, config).predict(feed, verbose=0)
    q = wrap_quantiles(model, fdata, config).predict(feed, verbose=0)
    assert q.shape[-1] == 9 and np.all(np.diff(q, axis=-1) >= 0)
    np.testing.assert_allclose(point, q[..., 4], rtol=1e-5)
    board = pd.read_csv(run_dir / "leaderboard.csv")
    mae = float(board.loc[board["trial"] == 0, "val_mae"].iloc[0])
    assert mae == pytest.approx(np.mean(np.abs(point - fdata.targets("val", scaled=False))),
                                rel=1e-4)


def test_a_quantile_heads_savedmodel_serves_cqr_bands_that_predict_writes(quantile_run,
                                                                           tmp_path):
    import tensorflow as tf

    _, res, csv = quantile_run
    m = json.loads((res.path / "autoseq.json").read_text())
    assert m["intervals"]["method"].startswith("conformalised quantile regression")
    assert len(m["intervals"]["head_quantiles"]) == 9
    out = tmp_path / "pred.csv"
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(res.path), str(csv), "--out", str(out)])
    assert exit_.value.code == 0
    frame = pd.read_csv(out)
    raw = pd.read_csv(csv)[m["inputs"]].to_numpy("float32")[-m["lookback"]:][None]
    got = tf.saved_model.load(str(res.path)).signatures["serving_default"](
        window=tf.constant(raw))
    q = got["quantiles"].numpy()[0, :, 0]
    assert np.all(np.diff(q, axis=-1) >= 0)
    np.testing.assert_allclose(frame[["y_lo95", "y_lo80", "y_q0.5", "y_hi80", "y_hi95"]],
                               q, rtol=1e-5)
    np.testing.assert_allclose(frame["y"], got["output_0"].numpy()[0, :, 0], rtol=1e-5)


def test_search_ranks_quantile_heads_on_wql_and_refuses_a_point_space(tmp_path, capsys):
    """Also: the search's --levels / --quantiles are export's default."""
    from tests.conftest import make_series_csv

    csv = make_series_csv(tmp_path / "series.csv", n=160)
    space = autoseq.SearchSpace([autoseq.Fixed("cell", "gru"), autoseq.Fixed("units", 4),
                                 autoseq.Fixed("loss", "pinball")], name="quantiles")
    res = autoseq.search(csv, target="y", horizon=3, space=space, trials=1, max_epochs=1,
                         out=tmp_path / "run", seed=0, report=False, stat_baselines=False,
                         metric="wql", levels="80", quantiles="0.5")
    board = pd.read_csv(res.run_dir / "leaderboard.csv")
    assert np.isfinite(board["val_loss"]).all() and (board["val_loss"] > 0).all()
    iv = autoseq.export(res.run_dir, ensemble=1, report=False).manifest["intervals"]
    assert iv["levels"] == [80.0] and iv["requested_quantiles"] == [0.5]
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(csv), "--target", "y", "--horizon", "3", "--metric", "msis",
              "--out", str(tmp_path / "refused"), "--trials", "1"])
    assert exit_.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "loss: {type: choice, values: [pinball]}" in err[0]
