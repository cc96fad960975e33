"""The ``linear`` baseline and anchor: a direct linear autoregression of the window, fitted on
the training rows, unit-free, served inside the exported model."""

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.baselines import baseline_forecasts, score_baselines
from autoseq.data import ForecastData, linear_baseline, load_series
from autoseq.data._linear import fit_linear, fit_matrix
from autoseq.run import open_run
from tests.test_export import export_a_weak_network, served_val_mae

pytestmark = pytest.mark.filterwarnings("ignore")


def _ar_season(n: int, *, seed: int = 0, trend: float = 0.0) -> np.ndarray:
    """A weekly season plus AR(1) noise (phi 0.9) and an optional trend: seasonal naive doubles
    the noise, naive misses the season, the linear autoregression does neither."""
    rng = np.random.default_rng(seed)
    noise = np.zeros(n)
    for t in range(1, n):
        noise[t] = 0.9 * noise[t - 1] + rng.normal()
    t = np.arange(n)
    return 50 + trend * t + 5 * np.sin(2 * np.pi * t / 7) + noise


def _data(tmp_path, y: np.ndarray, *, horizon: int = 3) -> ForecastData:
    frame = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=len(y), freq="D"), "y": y})
    frame.to_csv(tmp_path / "ar.csv", index=False)
    return ForecastData(load_series(tmp_path / "ar.csv", targets=["y"]), horizon=horizon)


def test_the_matrix_is_the_last_value_plus_a_ridge_fit_and_its_rows_sum_to_one():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 10)).cumsum(axis=1)
    y = x[:, -1:] + 0.5 * (x[:, -1:] - x[:, -2:-1]) * np.arange(1, 4)  # momentum, 3 steps
    m = fit_matrix(x, y, 1e-6)
    np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(x @ m.T, y, atol=1e-4)
    # shifting and scaling a window shifts and scales its forecast: the fit is unit-free
    np.testing.assert_allclose((3 * x + 100) @ m.T, 3 * (x @ m.T) + 100, atol=1e-6)


def test_linear_beats_the_naive_baselines_on_a_noisy_season(tmp_path):
    data = _data(tmp_path, _ar_season(400, trend=0.05))
    fit = linear_baseline(data)
    assert fit is not None and fit.name in baseline_forecasts(data, "val")
    scores = {s.name: s.mae for s in score_baselines(data, "val", metric="mae")}
    others = [v for k, v in scores.items() if not k.startswith("linear")]
    assert scores[fit.name] < 0.8 * min(others)
    assert next(iter(scores)) == fit.name  # ranked first


def test_linear_is_fitted_on_the_training_rows_alone(tmp_path):
    y = _ar_season(400)
    data = _data(tmp_path, y)
    train = data.split.train
    changed = y.copy()
    changed[train:] = 10 * changed[train:] + 7  # validation and test rows rewritten
    (tmp_path / "b").mkdir()
    moved = _data(tmp_path / "b", changed)
    a, b = linear_baseline(data), linear_baseline(moved)
    assert (a.lookback, a.ridge) == (b.lookback, b.ridge)
    np.testing.assert_allclose(a.matrix, b.matrix, rtol=1e-6, atol=1e-9)


def test_too_little_history_leaves_no_linear_baseline():
    assert fit_linear(np.arange(20.0)[:, None], 15, 3, [7]) is None


@pytest.fixture
def without_statistical_candidates(monkeypatch):
    """Export's candidates without the statistical models alone (``mstl_*_fixed``), which beat
    ``linear`` on these seasonal series: the tests below are about the linear blend."""
    monkeypatch.setattr("autoseq.exporting._forecast.statistical_names", lambda fdata: [])


def test_an_export_serves_the_linear_baseline_from_raw_windows(tmp_path, without_statistical_candidates):
    """On a noisy season the linear baseline beats a one-epoch network and every other baseline
    on validation: export blends it in, weighs it in or serves it alone inside one SavedModel, whose
    forecasts of raw validation windows give the validation MAE the selection measured."""
    frame = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=400, freq="D"),
                          "y": _ar_season(400)})
    res, run = export_a_weak_network(tmp_path, frame, horizon=3)
    sel = res.manifest["selection"]
    data = open_run(run).data()
    fit = linear_baseline(data)
    assert fit.name in (sel["weights"] or {sel["blend"]: 1.0})  # blended, or weighted in
    assert sel["val_mae"][sel["chosen"]] <= sel["val_mae"][fit.name] < sel["val_mae"]["best trial"]
    assert res.manifest["lookback"] >= fit.lookback
    assert served_val_mae(res, data) == pytest.approx(sel["val_mae"][sel["chosen"]], rel=1e-4)


def test_a_linear_anchored_trial_starts_at_its_forecast_and_records_it(tmp_path):
    """``anchor: linear``: the trial corrects the linear autoregression of its own window,
    fitted on its variant's training windows; the manifest says so."""
    from autoseq.data._linear_anchor import linear_anchor
    from autoseq.model._builder import ModelContext, build_model, resolve_config

    data = _data(tmp_path, _ar_season(300, trend=0.05))
    cfg = resolve_config({"cell": "gru", "units": 2, "anchor": "linear", "lookback": 14},
                         builder="rnn", horizon=3, season=7, max_lookback=data.max_lookback)
    matrix = linear_anchor(data, cfg)["matrix"]
    assert matrix.shape == (3, 14)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-9)
    model = build_model(cfg, ModelContext(lookback=14, n_inputs=1, horizon=3, n_targets=1,
                                          anchor_matrix=matrix))
    x = np.random.default_rng(0).normal(size=(4, 14, 1)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0)[..., 0], x[..., 0] @ matrix.T,
                               atol=1e-4)

    csv = tmp_path / "ar.csv"
    space = autoseq.SearchSpace([autoseq.Fixed("cell", "gru"), autoseq.Fixed("units", 2),
                                 autoseq.Fixed("lookback", 14), autoseq.Fixed("anchor", "linear")],
                                name="linear")
    run = tmp_path / "run"
    autoseq.search(csv, target="y", horizon=3, space=space, trials=1, max_epochs=2, out=run,
                   seed=0, report=False, stat_baselines=False)
    res = autoseq.export(run, ensemble=1, refit=False, report=False)
    anchor = next(t for t in res.manifest["transforms"] if t["kind"] == "anchor")
    assert anchor["mode"] == "linear" and anchor["ridge"] > 0
    truth = data.targets("test", scaled=False)
    naive = np.abs(data.raw[data.origins("test") - 1][:, None, :] - truth).mean()
    assert res.test_metrics["mae"] < naive


def test_a_refitted_export_keeps_the_chosen_window_and_refits_the_weights(tmp_path, without_statistical_candidates):
    """``export --refit`` refits the blended linear baseline on training + validation rows over
    the window length chosen on validation (another length may win on the longer history)."""
    frame = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=400, freq="D"),
                          "y": _ar_season(400)})
    res, run = export_a_weak_network(tmp_path, frame, horizon=3)
    name = res.manifest["selection"]["blend"]
    refit = autoseq.export(run, out=tmp_path / "refit", refit=True, report=False)
    assert refit.manifest["selection"]["blend"] == name
    assert refit.manifest["lookback"] == res.manifest["lookback"]
    data = open_run(run).data()
    assert served_val_mae(refit, data) != pytest.approx(served_val_mae(res, data), rel=1e-6)
    assert refit.test_metrics["mae"] < 1.5 * res.test_metrics["mae"]


def test_linear_at_a_given_window_length(tmp_path):
    data = _data(tmp_path, _ar_season(400))
    chosen = linear_baseline(data)
    assert linear_baseline(data, chosen.lookback) is chosen
    other = linear_baseline(data, 10)
    assert other.lookback == 10 and other.matrix.shape == (3, 10)
    assert linear_baseline(data) is chosen
