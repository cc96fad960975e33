import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.cli import main
from autoseq.exceptions import DataError, ModelError
from autoseq.exporting._selection import blend_name, weighted_name
from autoseq.run import load_trial_model, open_run

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from tests.conftest import make_series_csv

    tmp = tmp_path_factory.mktemp("export")
    csv = make_series_csv(tmp / "series.csv")
    space = autoseq.SearchSpace([autoseq.Choice("cell", ("gru",)), autoseq.Fixed("units", 4),
                                 autoseq.Choice("anchor", ("seasonal",)),
                                 autoseq.Choice("lookback", ("1x season",))], name="one")
    autoseq.search(csv, target="y", horizon=5, space=space, trials=1, max_epochs=2,
                   out=tmp / "run", seed=0, report=False)
    return tmp / "run"


@pytest.fixture(scope="module")
def exported(run_dir):
    return autoseq.export(run_dir, ensemble=1, refit=False)  # the trial itself, never a blend


def raw_windows(fdata, origins: np.ndarray, lookback: int) -> np.ndarray:
    """Raw (unscaled) float32 input windows ending just before each origin."""
    idx = origins[:, None] + np.arange(-lookback, 0)[None, :]
    return fdata.raw[idx].astype("float32")


def test_savedmodel_on_raw_windows_equals_the_descaled_keras_model(run_dir, exported):
    import tensorflow as tf

    model, config, data = load_trial_model(open_run(run_dir), exported.trial)
    origins = data.origins("test")
    windows = raw_windows(data, origins, config["lookback"])
    scaled = model.predict(data.scaler.transform(windows).astype("float32"), verbose=0)
    expected = data.scaler.inverse(scaled, data.target_idx)
    serve = tf.saved_model.load(str(exported.path)).signatures["serving_default"]
    got = serve(window=tf.constant(windows))["output_0"].numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_export_writes_the_report_with_its_test_scores(run_dir, exported):
    html = (run_dir / "report.html").read_text()
    assert f"{exported.test_metrics['mae']:.4g}"[:4] in html


def test_manifest_describes_the_model(exported):
    m = json.loads((exported.path / "autoseq.json").read_text())
    assert m["task"] == "forecast" and m["inputs"] == ["y", "x"] and m["targets"] == ["y"]
    assert m["lookback"] == 7 and m["horizon"] == 5 and m["frequency"] == "D"
    assert m["signature"]["input_shape"] == [None, 7, 2]
    assert {"autoseq", "keras", "tensorflow"} <= set(m["versions"])
    assert len(m["data"]["fingerprint"]) == 64
    assert "saved_model.pb" in m["files"] and len(m["files"]["saved_model.pb"]) == 64
    assert set(m["metrics"]["test"]) >= {"mae", "rmse", "smape", "mase"}
    assert "seasonal_naive(m=7)" in m["metrics"]["test_baselines"]
    assert m["hyperparameters"]["cell"] == "gru"


def test_predict_all_origins_reproduces_the_test_metrics(run_dir, exported, tmp_path):
    info = open_run(run_dir).info
    csv = info["data"]["source"]
    out = tmp_path / "backtest.csv"
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(exported.path), csv, "--all-origins", "--out", str(out)])
    assert exit_.value.code == 0
    frame = pd.read_csv(out, parse_dates=["origin", "timestamp"])
    index = pd.DatetimeIndex(pd.read_csv(csv, parse_dates=["date"])["date"])
    test_start = index[info["split"]["test"]["rows"] * -1]
    test = frame[(frame.origin >= test_start - pd.Timedelta(days=1))
                 & (frame.origin + pd.Timedelta(days=5) <= index[-1])]
    mae = float(np.mean(np.abs(test["y"] - test["y_actual"])))
    assert len(test) == exported.test_metrics["windows"] * 5
    assert mae == pytest.approx(exported.test_metrics["mae"], rel=1e-5)


def test_predict_default_is_the_next_horizon(exported, run_dir):
    csv = open_run(run_dir).info["data"]["source"]
    frame = autoseq.load_model(exported.path).predict(csv)
    assert list(frame["step"]) == [1, 2, 3, 4, 5]
    last = pd.read_csv(csv, parse_dates=["date"])["date"].iloc[-1]
    assert (frame["origin"] == last).all()
    assert frame["timestamp"].iloc[0] == last + pd.Timedelta(days=1)
    assert np.isfinite(frame["y"]).all() and "y_actual" not in frame


def test_plain_tensorflow_in_a_fresh_process_matches_predict(exported, run_dir):
    csv = open_run(run_dir).info["data"]["source"]
    backtest = autoseq.load_model(exported.path).predict(csv, all_origins=True)
    code = f"""
import sys, json, numpy as np, pandas as pd, tensorflow as tf
m = json.load(open({str(exported.path / 'autoseq.json')!r}))
frame = pd.read_csv({csv!r})
window = frame[m["inputs"]].to_numpy("float32")[50 - m["lookback"]:50][None]
serve = tf.saved_model.load({str(exported.path)!r}).signatures["serving_default"]
print(json.dumps(serve(window=tf.constant(window))["output_0"].numpy()[0, :, 0].tolist()))
assert "autoseq" not in sys.modules
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin"})
    plain = json.loads(res.stdout.strip().splitlines()[-1])
    origin = pd.read_csv(csv, parse_dates=["date"])["date"].iloc[49]
    ours = backtest[backtest.origin == origin]["y"].to_numpy()
    np.testing.assert_allclose(plain, ours, rtol=1e-5)


def test_the_readme_serving_snippet_prints_what_predict_writes(tmp_path):
    """The README's plain-TensorFlow snippet, run as written on a model that takes
    ``origin_step`` (a calendar), gives ``predict``'s forecast."""
    from pathlib import Path

    from tests.conftest import make_series_csv

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    start = readme.index("```python\nimport json", readme.index("TF Serving loads it:"))
    snippet = readme[start + len("```python\n"): readme.index("```", start + 9)]
    csv = make_series_csv(tmp_path / "series.csv")
    space = autoseq.SearchSpace([autoseq.Fixed("cell", "gru"), autoseq.Fixed("units", 2),
                                 autoseq.Fixed("lookback", 7), autoseq.Fixed("calendar", True)],
                                name="cal")
    autoseq.search(csv, target="y", horizon=5, space=space, trials=1, max_epochs=1,
                   out=tmp_path / "run", seed=0, report=False, stat_baselines=False)
    res = autoseq.export(tmp_path / "run", ensemble=1, refit=False, report=False)
    assert "origin_step" in res.manifest["signature"]["inputs"]
    code = snippet.replace("results/airline/export", str(res.path)).replace(
        "examples/airline.csv", str(csv)).replace("print(", "print(json.dumps(").replace(
        '.numpy())', '.numpy().ravel().tolist()))')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin"})
    served = json.loads(out.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(served, autoseq.load_model(res.path).predict(csv)["y"],
                               rtol=1e-5)


def test_altered_model_folder_is_refused(run_dir, tmp_path, capsys):
    res = autoseq.export(run_dir, out=tmp_path / "m", report=False)
    csv = open_run(run_dir).info["data"]["source"]
    (res.path / "saved_model.pb").write_bytes((res.path / "saved_model.pb").read_bytes() + b"x")
    with pytest.raises(ModelError, match="saved_model.pb' does not match its SHA-256"):
        autoseq.load_model(res.path)
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(res.path), csv])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
    # an edited manifest (a lookback that no longer fits the model) is refused the same way
    fresh = autoseq.export(run_dir, out=tmp_path / "n", report=False, refit=False)
    autoseq.load_model(fresh.path)  # as written: accepted
    text = (fresh.path / "autoseq.json").read_text()
    lookback = f'"lookback": {fresh.manifest["lookback"]}'
    assert lookback in text
    (fresh.path / "autoseq.json").write_text(text.replace(lookback, '"lookback": 3', 1))
    with pytest.raises(ModelError, match="autoseq.json: was edited since export"):
        autoseq.load_model(fresh.path)


def test_keras_format_loads_in_safe_mode(run_dir, tmp_path):
    import keras

    res = autoseq.export(run_dir, out=tmp_path / "k", format="keras", report=False)
    model = keras.saving.load_model(res.path / "model.keras", safe_mode=True)
    # output_0 (the point forecast) and the calibrated quantiles (80 and 95 %: four)
    assert model.output_shape == [(None, 5, 1), (None, 5, 1, 4)]
    assert not any(type(layer).__name__ == "Lambda" for layer in model._flatten_layers())


def test_tflite_export_is_checked_for_parity(run_dir, tmp_path):
    res = autoseq.export(run_dir, out=tmp_path / "t", format="tflite", report=False)
    assert (res.path / "model.tflite").stat().st_size > 0
    assert res.manifest["files_extra"]["tflite"] == "model.tflite"
    assert res.manifest["files_extra"]["tflite_outputs"] == ["output_0"]  # no quantiles there


def test_a_forecast_export_is_refitted_on_train_and_validation_by_default(run_dir, exported,
                                                                         tmp_path, caplog):
    """The default export retrains the chosen trial on training + validation rows (the CLI's
    ``--no-refit`` keeps the trial's weights): other weights, the same signature."""
    with caplog.at_level("INFO", logger="autoseq"):
        res = autoseq.export(run_dir, ensemble=1, out=tmp_path / "r", report=False)
    assert res.manifest["refit"] is True and np.isfinite(res.test_metrics["mae"])
    seen = re.search(r"refitted on train \+ validation \((\d+) windows\)", caplog.text)
    lookback = exported.manifest["lookback"]
    assert int(seen[1]) > len(open_run(run_dir).data().origins("train", lookback))
    assert res.manifest["signature"] == exported.manifest["signature"]
    # the intervals are calibrated and scored on validation before the refit
    assert res.manifest["metrics"]["val_intervals"] is not None
    assert res.manifest["metrics"]["val_intervals"] == exported.manifest["metrics"]["val_intervals"]
    assert res.test_metrics["mae"] != pytest.approx(exported.test_metrics["mae"], rel=1e-6)
    with pytest.raises(SystemExit) as exit_:
        main(["export", str(run_dir), "--no-refit", "--ensemble", "1", "--out",
              str(tmp_path / "plain"), "--no-report", "-q"])
    assert exit_.value.code == 0
    plain = json.loads((tmp_path / "plain" / "autoseq.json").read_text())
    assert plain["refit"] is False
    assert plain["metrics"]["test"]["mae"] == pytest.approx(exported.test_metrics["mae"])


def test_a_refit_that_diverges_exports_the_trial_as_trained(run_dir, exported, tmp_path,
                                                            monkeypatch, caplog):
    """Non-finite weights after the retraining must not cost the export: it serves the trial's
    own weights and says so."""
    from autoseq.exporting import _forecast

    def diverged(run, config, fdata, *, epochs):
        model, _, _ = load_trial_model(run, 0)
        model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
        return model

    monkeypatch.setattr(_forecast, "_refit", diverged)
    with caplog.at_level("WARNING", logger="autoseq"):
        res = autoseq.export(run_dir, ensemble=1, out=tmp_path / "d", report=False)
    assert "diverged when retrained" in caplog.text and res.manifest["refit"] is False
    assert res.test_metrics["mae"] == pytest.approx(exported.test_metrics["mae"])


def test_non_finite_weights_are_refused(run_dir):
    from autoseq.exporting._common import check_finite

    model, _, _ = load_trial_model(open_run(run_dir), 0)
    weights = model.get_weights()
    weights[0] = np.full_like(weights[0], np.nan)
    model.set_weights(weights)
    with pytest.raises(ModelError, match="non-finite weights"):
        check_finite(model, 0)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda f: f.drop(columns=["x"]), "column 'x', which the model was trained on, is missing"),
    (lambda f: f.head(5), "needs at least 7"),
    (lambda f: f.iloc[::2], "frequency 2D differs from the model's D"),
])
def test_predict_input_errors(exported, run_dir, tmp_path, capsys, edit, message):
    csv = open_run(run_dir).info["data"]["source"]
    bad = tmp_path / "bad.csv"
    edit(pd.read_csv(csv)).to_csv(bad, index=False)
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(exported.path), str(bad)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and err.count("\n") == 1


def test_predict_takes_a_dataframe_indexed_by_time_and_names_it_in_errors(exported, run_dir):
    model = autoseq.load_model(exported.path)
    csv = open_run(run_dir).info["data"]["source"]
    frame = pd.read_csv(csv, parse_dates=["date"])
    want = model.predict(csv)
    for indexed in (frame.set_index("date"), frame.set_index("date").rename_axis(None),
                    frame.iloc[::-1]):  # named, unnamed timestamps, row labels out of order
        pd.testing.assert_frame_equal(model.predict(indexed), want)
    with pytest.raises(DataError, match=r"^the DataFrame: column 'x', which the model was "):
        model.predict(frame.drop(columns=["x"]))


def test_predict_fills_a_longer_gap_when_asked(exported, run_dir, tmp_path, capsys):
    csv = open_run(run_dir).info["data"]["source"]
    gap = tmp_path / "gap.csv"
    pd.read_csv(csv).drop(index=range(20, 36)).to_csv(gap, index=False)  # 16 missing steps
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(exported.path), str(gap)])
    assert exit_.value.code == 2 and "limit of 12 (--max-gap)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(exported.path), str(gap), "--max-gap", "16", "--out",
              str(tmp_path / "p.csv")])
    assert exit_.value.code == 0
    assert len(pd.read_csv(tmp_path / "p.csv")) == exported.manifest["horizon"]
    # a backtest's actual values are the file's: none where the gap was filled
    with pytest.raises(SystemExit):
        main(["predict", str(exported.path), str(gap), "--max-gap", "16", "--all-origins",
              "--out", str(tmp_path / "b.csv")])
    back = pd.read_csv(tmp_path / "b.csv", parse_dates=["timestamp"])
    dropped = set(pd.to_datetime(pd.read_csv(csv)["date"]).iloc[20:36])
    at_gap = back["timestamp"].isin(dropped)
    assert at_gap.any() and back.loc[at_gap, "y_actual"].isna().all()
    assert back.loc[~at_gap, "y_actual"].notna().mean() > 0.9


def test_ensemble_averages_members_of_different_lookbacks_and_transforms(tmp_path):
    import keras

    from tests.conftest import make_series_csv

    csv = make_series_csv(tmp_path / "series.csv")
    space = autoseq.SearchSpace([autoseq.Choice("cell", ("gru",)), autoseq.Fixed("units", 3),
                                 autoseq.Choice("lookback", ("1x season", "2x season")),
                                 autoseq.Choice("transform", ("none", "mstl")),
                                 autoseq.Fixed("batch_size", 32)], name="mix")
    run = tmp_path / "run"
    autoseq.search(csv, target="y", horizon=5, space=space, trials=4, max_epochs=1, out=run,
                   seed=0, report=False, stat_baselines=False, warm_start=False)
    res = autoseq.export(run, ensemble=3, refit=False, format="keras", report=False)
    assert len(res.members) == 3 and res.trial == res.members[0]
    m = json.loads((res.path / "autoseq.json").read_text())
    lookbacks = [e["lookback"] for e in m["ensemble"]["members"]]
    assert m["lookback"] == max(lookbacks) == m["signature"]["input_shape"][1]
    singles = [autoseq.load_model(autoseq.export(run, trial=n, out=tmp_path / f"t{n}",
                                                 refit=False, report=False).path
                                  ).predict(csv)["y"] for n in res.members]
    ensemble = autoseq.load_model(res.path).predict(csv)["y"]
    np.testing.assert_allclose(ensemble, np.mean(singles, axis=0), rtol=1e-5, atol=1e-5)
    model = keras.saving.load_model(res.path / "model.keras", safe_mode=True)
    assert model.output_shape[0] == (None, 5, 1)  # then the ensemble's calibrated quantiles
    with pytest.raises(ModelError, match="tflite takes one trial"):
        autoseq.export(run, ensemble=2, format="tflite", report=False)
    _check_auto_selection(run, tmp_path)


def _check_auto_selection(run, tmp_path):
    """The default export weighs the best trial and the means of the 3 best (of 4 trials) on
    the validation windows and exports the lower validation MAE, saying so."""
    res = autoseq.export(run, out=tmp_path / "auto", refit=False, report=False)
    sel = res.manifest["selection"]
    nets = {k: sel["val_mae"][k] for k in ("best trial", "mean of 3 best trials")}
    best_net = min(nets, key=nets.get)
    served = list(res.members or (res.trial,))
    if sel["weights"]:  # the weighted ensemble of trials and baselines validated best
        weights = sel["weights"]
        assert sel["chosen"] == weighted_name(weights) and sel["blend"] is None
        assert sum(weights.values()) == pytest.approx(1.0)
        trials = [int(n.removeprefix("trial ")) for n in weights if n.startswith("trial ")]
        assert set(served) == (set(trials) or {served[0]})  # none: the best at weight 0
        assert res.manifest["transforms"][-1]["kind"] == "weighted_mean"
        assert res.manifest["transforms"][-1]["weights"] == weights
    else:
        assert len(served) == sel["size"] == (1 if best_net == "best trial" else 3)
        assert sel["chosen"] == (best_net if sel["blend"] is None
                                 else blend_name(best_net, sel["blend"], sel["weight"]))
    assert sel["val_mae"][sel["chosen"]] == min(sel["val_mae"].values())
    assert sel["best_baseline"]["name"].startswith(("naive", "seasonal", "linear"))
    # The score is the exported model's own on the validation windows.
    assert served_val_mae(res, open_run(run).data()) == pytest.approx(
        sel["val_mae"][sel["chosen"]], rel=1e-4) == res.manifest["metrics"]["val"]["mae"]
    assert set(res.manifest["metrics"]["val_trial"]) == {"loss", "mae"}  # the best trial's


def export_a_weak_network(tmp_path, frame: pd.DataFrame, *, horizon: int):
    """Search one one-epoch, two-unit GRU on ``frame`` (``date``, ``y``) and export it with the
    defaults: ``(ExportResult, run folder)``."""
    frame.to_csv(tmp_path / "series.csv", index=False)
    space = autoseq.SearchSpace([autoseq.Fixed("cell", "gru"), autoseq.Fixed("units", 2),
                                 autoseq.Fixed("lookback", 7)], name="weak")
    run = tmp_path / "run"
    autoseq.search(tmp_path / "series.csv", target="y", horizon=horizon, space=space, trials=1,
                   max_epochs=1, out=run, seed=0, report=False, stat_baselines=False)
    return autoseq.export(run, refit=False, report=False), run


def served_val_mae(res, data) -> float:
    """The exported model's MAE on the raw validation windows of ``data`` (as wide as its
    manifest's lookback)."""
    origins = data.origins("val")
    lookback = res.manifest["lookback"]
    windows = data.raw[origins[:, None] + np.arange(-lookback, 0)[None, :]].astype("float32")
    pred = autoseq.load_model(res.path).predict_windows(windows, origin_steps=origins)
    return float(np.mean(np.abs(pred - data.targets("val", scaled=False))))


def test_export_blends_in_the_baseline_that_beats_the_networks_on_validation(tmp_path):
    """On a straight trend plus a weekly season, seasonal drift is exact and a one-epoch network
    is not: export serves the baseline (the network weighted 0, every blend scored), inside one
    SavedModel that predict reproduces."""
    from tests.test_forecast_features import backtest_mae

    t = np.arange(160)
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=160, freq="D"),
                          "y": 0.5 * t + 3 * np.sin(2 * np.pi * t / 7)})
    res, run = export_a_weak_network(tmp_path, frame, horizon=5)
    sel = res.manifest["selection"]
    assert sel["blend"] == "seasonal_drift(m=7)" and sel["weight"] == 0.0
    assert sel["chosen"] == "seasonal_drift(m=7)"
    assert sel["val_mae"]["best trial + seasonal_drift(m=7)"] > sel["val_mae"]["seasonal_drift(m=7)"]
    assert {"0.75 × best trial + 0.25 × seasonal_drift(m=7)",
            "0.25 × best trial + 0.75 × seasonal_drift(m=7)"} <= set(sel["val_mae"])
    assert sel["val_mae"]["seasonal_drift(m=7)"] < 1e-3 < sel["val_mae"]["best trial"]
    assert res.manifest["lookback"] == 14  # two seasons for the drift
    # the baseline alone: no network in the model, none of a trial's inputs
    assert [t["kind"] for t in res.manifest["transforms"]] == ["weighted_mean"]
    assert res.manifest["transforms"][0]["weights"] == {"seasonal_drift(m=7)": 1.0}
    assert res.manifest["signature"]["inputs"] == ["window"] and "networks" in res.manifest
    data = open_run(run).data()
    origins = data.origins("val")
    windows = data.raw[origins[:, None] + np.arange(-14, 0)[None, :]].astype("float32")
    pred = autoseq.load_model(res.path).predict_windows(windows)
    # float32 in the model, float64 in the selection: MAEs near zero agree to float32's grain
    assert float(np.mean(np.abs(pred - data.targets("val", scaled=False)))) == pytest.approx(
        sel["val_mae"][sel["chosen"]], rel=1e-4, abs=1e-4)
    assert backtest_mae(res.path, run) == pytest.approx(res.test_metrics["mae"], rel=1e-5,
                                                        abs=1e-4)
    # The report's summary names what the export serves, not only the best trial.
    summary = autoseq.write_report(run, importance=False).markdown.read_text()
    assert "The exported model (seasonal\\_drift(m=7)) has MAE" in summary


@pytest.mark.parametrize("manifest, label", [
    ({"trial": 3}, "trial 3"),
    ({"trial": 3, "selection": {"chosen": "best trial"}}, "trial 3"),
    ({"trial": 3, "ensemble": {"trials": [3, 1, 4]},
      "selection": {"chosen": "mean of 3 best trials"}}, "mean of 3 trials (3, 1, 4)"),
    ({"trial": 3, "selection": {"chosen": "0.75 × best trial + 0.25 × linear(L=24)"}},
     "0.75 × trial 3 + 0.25 × linear(L=24)"),
    ({"trial": 3, "selection": {"chosen": "weighted ensemble: 0.6 × trial 3 + 0.4 × naive"}},
     "weighted ensemble: 0.6 × trial 3 + 0.4 × naive"),
    ({"trial": 3, "selection": {"chosen": "seasonal_naive(m=12)"}}, "seasonal_naive(m=12)"),
    ({"trial": 3, "ensemble": {"trials": [3, 1, 4]},
      "selection": {"chosen": "mean of 3 best trials + seasonal_naive(m=7)"}},
     "mean of 3 best trials + seasonal_naive(m=7)"),
])
def test_the_served_model_is_named_as_export_chose_it(manifest, label):
    from autoseq.exporting._manifest import served_label

    assert served_label(manifest) == label


def anchored_trend_run(tmp_path, anchor: str, *, rows: int):
    """A one-trial run of a tiny GRU correcting ``anchor`` after ``mstl``, on a daily series with
    a trend and a weekly season (horizon 5, lookback 21)."""
    t = np.arange(rows)
    noise = np.random.default_rng(0).normal(scale=0.5, size=rows)
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=rows, freq="D"),
                          "y": 0.3 * t + 3 * np.sin(2 * np.pi * t / 7) + noise})
    frame.to_csv(tmp_path / "trend.csv", index=False)
    space = autoseq.SearchSpace([autoseq.Fixed("cell", "gru"), autoseq.Fixed("units", 2),
                                 autoseq.Fixed("lookback", 21), autoseq.Fixed("anchor", anchor),
                                 autoseq.Fixed("transform", "mstl")], name=anchor)
    run = tmp_path / "run"
    autoseq.search(tmp_path / "trend.csv", target="y", horizon=5, space=space, trials=1,
                   max_epochs=2, out=run, seed=0, report=False, stat_baselines=False)
    return run


def test_an_ets_anchored_trial_serves_its_smoothing_from_the_raw_window(tmp_path):
    """``anchor: ets``: the damped-trend weights are fitted on the training windows, recorded in
    the manifest and applied inside the SavedModel, which carries the trend from raw windows in
    plain TensorFlow."""
    run = anchored_trend_run(tmp_path, "ets", rows=200)
    res = autoseq.export(run, ensemble=1, report=False)
    anchor = next(t for t in res.manifest["transforms"] if t["kind"] == "anchor")
    assert anchor["mode"] == "ets" and 0 < anchor["alpha"] <= 1 and 0 <= anchor["phi"] <= 1
    assert_serves_the_trend(run, res)


def assert_serves_the_trend(run, res) -> None:
    """The SavedModel, fed the raw test windows in plain TensorFlow, carries the trend of
    ``anchored_trend_run``'s series: far closer than naive, which lags it by the horizon."""
    import tensorflow as tf

    _, config, data = load_trial_model(open_run(run), res.trial)
    origins = data.origins("test")
    windows = raw_windows(data, origins, config["lookback"])
    serve = tf.saved_model.load(str(res.path)).signatures["serving_default"]
    served = serve(window=tf.constant(windows),
                   origin_step=tf.constant(origins.astype("int32")))["output_0"].numpy()
    truth = data.targets("test", scaled=False)
    assert served.shape == truth.shape
    naive = np.abs(windows[:, -1:, :] - truth).mean()
    assert np.abs(served - truth).mean() < 0.6 * naive


def test_a_weighted_ensemble_of_baselines_alone_serves_no_network(tmp_path):
    """Weighing baselines only, the served model holds no trial: it takes none of the trial's
    inputs (here the calendar's ``origin_step``) and forecasts the weighted baselines."""
    from functools import partial

    from autoseq.exporting._forecast import _Member, _weighted
    from autoseq.exporting._forecast_wrap import wrap_forecaster
    from autoseq.model import forecast_context
    from autoseq.run import load_trial
    from tests.conftest import make_series_csv

    csv = make_series_csv(tmp_path / "series.csv", covariate=False)
    space = autoseq.SearchSpace([autoseq.Fixed("cell", "gru"), autoseq.Fixed("units", 2),
                                 autoseq.Fixed("lookback", 7), autoseq.Fixed("calendar", True)],
                                name="cal")
    autoseq.search(csv, target="y", horizon=5, space=space, trials=1, max_epochs=1,
                   out=tmp_path / "run", seed=0, report=False, stat_baselines=False)
    run = open_run(tmp_path / "run")
    data = run.data()
    net, cfg = load_trial(run, 0, partial(forecast_context, data))
    member = _Member(0, net, cfg, {}, wrap_forecaster(net, data, cfg))
    assert "origin_step" in [i.name for i in member.raw.inputs]
    model, width, extras = _weighted([member], data, {"naive": 0.25, "seasonal_naive(m=7)": 0.75})
    assert extras == () and width == 7 and len(model.inputs) == 1
    origins = data.origins("val")
    window = data.raw[origins[:, None] + np.arange(-7, 0)[None, :]].astype("float32")
    expected = 0.25 * window[:, -1:] + 0.75 * window[:, :5]  # the last value, a week before
    np.testing.assert_allclose(model.predict(window, verbose=0), expected, rtol=1e-5)


def test_statistical_candidates_match_across_folds_by_kind():
    from autoseq.baselines import baseline_kind as _fold_key

    assert _fold_key("mstl_ets_fixed(L=44)") == _fold_key("mstl_ets_fixed(L=48)")
    assert _fold_key("linear(L=10)") == _fold_key("linear(L=24)") != _fold_key("naive")
    assert _fold_key("seasonal_naive(m=7)") != _fold_key("seasonal_naive(m=14)")


def test_a_never_negative_target_is_served_floored_at_zero(tmp_path):
    """Counts with zeros: every output of the exported model (point and bands) is raised to
    zero, the selection scored what the model serves, and a series that crosses zero is
    left as it is."""
    import keras

    from autoseq.exporting._floor import nonnegative

    t = np.arange(200)
    counts = np.random.default_rng(0).poisson(np.maximum(0, 2 + 2 * np.sin(2 * np.pi * t / 7)))
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=200, freq="D"),
                          "y": counts.astype(float)})
    res, run = export_a_weak_network(tmp_path, frame, horizon=5)
    assert res.manifest["transforms"][-1]["kind"] == "floor"
    data = open_run(run).data()
    assert served_val_mae(res, data) == pytest.approx(
        res.manifest["selection"]["val_mae"][res.manifest["selection"]["chosen"]], rel=1e-4)
    backtest = autoseq.load_model(res.path).predict(tmp_path / "series.csv", all_origins=True)
    assert (backtest.filter(regex=r"^y(_lo|_hi|_q|$)").to_numpy() >= 0).all()
    unfloored = autoseq.export(run, out=tmp_path / "raw", refit=False, report=False,
                               floor=False)  # --no-floor
    assert all(t["kind"] != "floor" for t in unfloored.manifest["transforms"])
    frame["y"] -= 1.0  # now below zero at times: not floored
    (tmp_path / "signed").mkdir()
    other, _ = export_a_weak_network(tmp_path / "signed", frame, horizon=5)
    assert all(t["kind"] != "floor" for t in other.manifest["transforms"])
    # the floor itself: a model whose outputs are negative serves zeros
    x = keras.Input((3,))
    model = keras.Model(x, {"a": keras.layers.Dense(2)(x), "b": x - 5.0})
    floored = nonnegative(model, True)
    out = floored.predict(np.ones((4, 3), "float32"), verbose=0)
    assert (out["b"] == 0).all() and (out["a"] >= 0).all()
    assert nonnegative(model, False) is model
