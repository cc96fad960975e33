"""The ``arima`` anchor: AutoARIMA fitted on the training rows, its coefficients fixed, served as
an affine map of the window inside the model."""

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.data._arima_anchor import arima_anchor, arima_operator
from autoseq.model._builder import ModelContext, build_model, resolve_config
from autoseq.run import load_trial_model, open_run
from tests.test_export import anchored_trend_run, assert_serves_the_trend


@pytest.mark.parametrize(("drift", "mean"), [(0.3, 0.0), (0.0, 0.0), (0.0, 5.0)])
def test_the_operator_is_the_fitted_models_forecast_of_any_window(drift, mean):
    """``matrix @ w + bias`` equals statsforecast's ``forward`` of the fixed model on any window:
    another stretch of the series, a rescaled one, noise, and a flat one (which statsforecast
    special-cases, so it must not be what the operator is measured around)."""
    from statsforecast.models import AutoARIMA

    rng = np.random.default_rng(0)
    y = np.cumsum(rng.normal(drift, 1.0, 400)) if mean == 0 else mean + rng.normal(size=400)
    model = AutoARIMA().fit(y)
    matrix, bias = arima_operator(model, lookback=40, horizon=7)
    assert matrix.shape == (7, 40) and bias.shape == (7,)
    for w in (y[-40:], y[-90:-50], 3 * y[-40:] + 11, rng.normal(size=40) * 5):
        np.testing.assert_allclose(matrix @ w + bias, model.forward(y=w, h=7)["mean"],
                                   atol=1e-6 * (1 + np.abs(w).max()))
    flat = np.full(40, 2.0)  # statsforecast: its own forecast; the operator: the model's
    assert np.isfinite(matrix @ flat + bias).all()


def test_a_flat_end_of_training_and_several_targets_are_handled(tmp_path):
    """Training rows that end flat (a stuck sensor) still give the fitted model's operator on
    the windows it will see; data with two targets get the last value (one ARIMA per target is
    not served)."""
    from autoseq.data import ForecastData, load_series

    rng = np.random.default_rng(0)
    y = 0.5 * np.arange(300) + rng.normal(size=300)
    y[160:180] = y[160]  # flat up to the end of the training rows
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=300, freq="D"), "y": y,
                          "z": rng.normal(size=300)})
    frame.to_csv(tmp_path / "flat.csv", index=False)
    config = {"lookback": 20, "transform": "none", "scaler": "standard"}
    data = ForecastData(load_series(tmp_path / "flat.csv", targets=["y"]), horizon=5,
                        val_size=60, test_size=60)
    assert data.split.train == 180
    fitted = arima_anchor(data, config)
    assert fitted["order"] is not None
    model = data.__dict__["_arima"][("none", "standard")]  # the fitted model, fixed
    for end in (200, 230, 260):
        w = data.scaled[end - 20:end, 0].astype("float64")
        np.testing.assert_allclose(fitted["matrix"] @ w + fitted["bias"],
                                   model.forward(y=w, h=5)["mean"], atol=1e-6)
    two = ForecastData(load_series(tmp_path / "flat.csv", targets=["y", "z"]), horizon=5,
                       val_size=60, test_size=60)
    assert arima_anchor(two, config)["order"] is None


def test_an_arima_anchored_network_starts_at_the_anchor_and_it_needs_fitted_weights():
    from autoseq.exceptions import SearchSpaceError

    cfg = resolve_config({"cell": "gru", "units": 2, "anchor": "arima"}, builder="rnn",
                         horizon=3, season=1, max_lookback=10)
    rng = np.random.default_rng(1)
    matrix, bias = rng.normal(size=(3, 6)), np.array([0.5, 1.0, 1.5])
    model = build_model(cfg, ModelContext(lookback=6, n_inputs=2, horizon=3, n_targets=1,
                                          anchor_matrix=matrix, anchor_bias=bias))
    x = rng.normal(size=(4, 6, 2)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0)[..., 0], x[..., 0] @ matrix.T + bias,
                               atol=1e-5)
    with pytest.raises(SearchSpaceError, match="anchor arima"):
        build_model(cfg, ModelContext(lookback=6, n_inputs=1, horizon=3, n_targets=1))


def test_an_arima_anchored_trial_serves_the_fixed_model_from_the_raw_window(tmp_path):
    """Fitted on the training rows (after ``mstl``), recorded in the manifest, served inside the
    SavedModel: a trending series is followed from raw windows in plain TensorFlow, and the
    refit on train + validation refits the ARIMA too."""
    run = anchored_trend_run(tmp_path, "arima", rows=260)
    _, config, data = load_trial_model(open_run(run), 0)
    fitted = arima_anchor(data, config)
    assert fitted["order"] is not None and fitted["matrix"].shape == (5, 21)
    res = autoseq.export(run, ensemble=1, report=False)
    anchor = next(t for t in res.manifest["transforms"] if t["kind"] == "anchor")
    assert anchor["mode"] == "arima" and len(anchor["order"]) == 3
    rows = data.split.train + data.split.val  # refitted with the network on train + validation
    assert res.manifest["refit"] and anchor["fitted_on"].endswith(f"first {rows} rows")
    assert_serves_the_trend(run, res)


def test_export_offers_the_statistical_models_alone_and_serves_the_one_it_chooses(tmp_path):
    """``export`` scores MSTL + the fixed ets / arima anchors (no correction) on validation
    beside the trials; on a clean trend and season the two-epoch trial correcting the last value
    loses to them, so the export serves one (alone or blended), and the SavedModel — through
    ``predict`` on the raw CSV, origin steps computed from the timestamps — scores on test what
    export says it does."""
    from tests.test_forecast_features import backtest_mae

    run = anchored_trend_run(tmp_path, "last", rows=260)
    res = autoseq.export(run, report=False)
    sel = res.manifest["selection"]
    served = sel["weights"] or {sel["blend"]: 1.0}  # blended, or weighted in
    assert {"mstl_ets_fixed(L=28)", "mstl_arima_fixed(L=10)"} & set(served)
    assert all(name in sel["chosen"] for name in served)
    assert sel["val_mae"][sel["chosen"]] < sel["val_mae"]["best trial"]
    assert backtest_mae(res.path, run) == pytest.approx(res.test_metrics["mae"], rel=1e-4)


def test_a_statistical_model_blended_into_a_calendar_free_trial_gets_its_origin_step(tmp_path):
    """The statistical candidates place their MSTL profile by ``origin_step``: served beside a
    trial that takes no such input, the manifest still describes it, so ``predict`` (which
    computes it from the timestamps) serves every origin."""
    from tests.test_forecast_features import backtest_mae

    t = np.arange(260)
    noise = np.random.default_rng(0).normal(scale=0.5, size=260)
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=260, freq="D"),
                  "y": 0.3 * t + 3 * np.sin(2 * np.pi * t / 7) + noise}
                 ).to_csv(tmp_path / "trend.csv", index=False)
    space = autoseq.SearchSpace([autoseq.Fixed("cell", "gru"), autoseq.Fixed("units", 2),
                                 autoseq.Fixed("lookback", 7), autoseq.Fixed("anchor", "last"),
                                 autoseq.Fixed("transform", "none"),
                                 autoseq.Fixed("calendar", False)], name="plain")
    run = tmp_path / "run"
    autoseq.search(tmp_path / "trend.csv", target="y", horizon=5, space=space, trials=1,
                   max_epochs=1, out=run, seed=0, report=False, stat_baselines=False)
    res = autoseq.export(run, refit=False, report=False, levels="none")
    sel = res.manifest["selection"]
    served = sel["weights"] or {sel["blend"]: 1.0}
    assert {"mstl_ets_fixed(L=28)", "mstl_arima_fixed(L=10)"} & set(served)
    assert res.manifest["signature"]["inputs"] == ["window", "origin_step"]
    assert [d["name"] for d in res.manifest["derived_inputs"]] == ["origin_step"]
    assert backtest_mae(res.path, run) == pytest.approx(res.test_metrics["mae"], rel=1e-4)
