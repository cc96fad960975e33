"""Sequence classification and regression through search, export and predict."""

import json

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.cli import main
from autoseq.data import SequenceData, load_sequences
from autoseq.exceptions import DataError, ModelError
from autoseq.metrics import classification_metrics
from autoseq.model._builder import build_model, sequence_context
from autoseq.run import load_trial_model, open_run
from autoseq.tasks import SEQUENCES
from tests.conftest import make_sequences_csv

pytestmark = pytest.mark.filterwarnings("ignore")

OPTIONS = {"target": "label", "id_col": "seq", "step_col": "t"}


def _tiny(pooling=("last", "mean")):
    return autoseq.SearchSpace([autoseq.Choice("cell", ("gru",)), autoseq.Int("units", 3, 6),
                                autoseq.Choice("pooling", pooling),
                                autoseq.Choice("class_weight", ("none", "balanced")),
                                autoseq.Fixed("learning_rate", 0.01),
                                autoseq.Fixed("batch_size", 16)], name="tiny_seq")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("classify")
    return (make_sequences_csv(tmp / "train.csv", n=48, min_len=4, max_len=16),
            make_sequences_csv(tmp / "test.csv", n=20, min_len=4, max_len=16, seed=1))


@pytest.fixture(scope="module")
def run_dir(files):
    train, test = files
    out = train.parent / "run"
    autoseq.search(train, id_col="seq", step_col="t", target="label", test_file=test,
                   space=_tiny(), trials=2, max_epochs=2, out=out, seed=0)
    return out


@pytest.fixture(scope="module")
def exported(run_dir):
    return autoseq.export(run_dir)


def test_leaderboard_ranks_trials_next_to_the_majority_class(run_dir):
    board = pd.read_csv(run_dir / "leaderboard.csv")
    columns = list(board.columns)
    assert columns[:8] == ["rank", "model", "trial", "state", "val_loss", "val_mae",
                           "val_accuracy", "val_f1"]
    assert {"pooling", "class_weight", "cell", "epochs", "cudnn_eligible"} <= set(columns)
    base = board[board.state == "baseline"].iloc[0]
    assert base["model"] == "majority_class" and base["val_loss"] == pytest.approx(np.log(2),
                                                                                  abs=0.02)
    trials = board[board.state.isin(["complete", "pruned"])]
    assert len(trials) == 2 and trials["val_accuracy"].between(0, 1).all()
    info = json.loads((run_dir / "run.json").read_text())
    s = info["settings"]
    assert s["task"] == "classify" and s["id_col"] == "seq" and s["features"] == ["a", "b"]
    assert info["split"]["test"]["sequences"] == 20 and info["split"]["max_length"] == 16


def test_run_rebuilds_the_same_data(run_dir, files):
    data = open_run(run_dir).data()
    again = SequenceData(load_sequences(files[0], **OPTIONS),
                         test=load_sequences(files[1], **OPTIONS), val_size=7)
    assert all(np.array_equal(data.parts[p], again.parts[p]) for p in ("train", "val", "test"))
    np.testing.assert_allclose(data.scaler.mean, again.scaler.mean)


def test_savedmodel_probabilities_equal_the_keras_model(run_dir, exported):
    import tensorflow as tf

    from autoseq.probability_calibration import temper

    model, _, data = load_trial_model(open_run(run_dir), exported.trial)
    raw = data.padded("test")
    # The exported model also carries the temperature fitted on validation.
    expected = temper(model.predict(data.padded("test", scaled=True), verbose=0),
                      exported.manifest["calibration"]["temperature"])
    serve = tf.saved_model.load(str(exported.path)).signatures["serving_default"]
    got = serve(sequences=tf.constant(raw))["output_0"].numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_manifest_describes_padding_classes_and_test_metrics(exported):
    m = json.loads((exported.path / "autoseq.json").read_text())
    assert m["task"] == "classify" and m["classes"] == ["down", "up"]
    assert m["inputs"] == ["a", "b"] and m["id_col"] == "seq" and m["step_col"] == "t"
    assert m["padding"]["value"] == "NaN" and m["padding"]["side"] == "right"
    assert m["max_length"] == 16 and m["truncation"] == "keep the last max_length steps"
    assert m["signature"]["input_shape"] == [None, None, 2]
    assert m["signature"]["output_shape"] == [None, 2]
    assert set(m["metrics"]["test"]) >= {"accuracy", "f1", "log_loss", "sequences"}
    assert m["metrics"]["test"]["sequences"] == 20
    assert set(m["metrics"]["test_baselines"]) == {"majority_class"}
    report = m["metrics"]["test_report"]
    assert np.sum(report["confusion_matrix"]) == 20 and set(report["per_class"]) == {"down", "up"}
    assert m["lengths"]["test"]["max"] <= 16


def test_predict_writes_ids_classes_and_probabilities(exported, files, tmp_path):
    out = tmp_path / "pred.csv"
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(exported.path), str(files[1]), "--out", str(out)])
    assert exit_.value.code == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["id", "prediction", "prob_down", "prob_up", "actual"]
    assert len(frame) == 20 and set(frame["prediction"]) <= {"down", "up"}
    np.testing.assert_allclose(frame[["prob_down", "prob_up"]].sum(axis=1), 1.0, atol=1e-5)
    accuracy = float(np.mean(frame["prediction"] == frame["actual"]))
    assert accuracy == pytest.approx(exported.test_metrics["accuracy"])


def test_predict_without_labels_and_missing_columns(exported, files, tmp_path, capsys):
    frame = pd.read_csv(files[1])
    unlabelled = tmp_path / "unlabelled.csv"
    frame.drop(columns=["label"]).to_csv(unlabelled, index=False)
    pred = autoseq.load_model(exported.path).predict(unlabelled)
    assert list(pred.columns) == ["id", "prediction", "prob_down", "prob_up"]
    # new data exported with an empty label column (all, or some sequences') is predicted
    blank = tmp_path / "blank.csv"
    frame.assign(label="").to_csv(blank, index=False)
    pd.testing.assert_frame_equal(autoseq.load_model(exported.path).predict(blank), pred)
    frame.assign(label=np.where(frame["seq"] == frame["seq"].iloc[0], "", frame["label"])
                 ).to_csv(blank, index=False)
    pd.testing.assert_frame_equal(autoseq.load_model(exported.path).predict(blank), pred)
    bad = tmp_path / "bad.csv"
    frame.drop(columns=["b"]).to_csv(bad, index=False)
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(exported.path), str(bad)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1
    assert "column 'b', which the model was trained on, is missing" in err


def test_sequence_file_mistakes_are_named(files, tmp_path, caplog):
    from autoseq.data._sequence_data import stratified_split

    frame = pd.read_csv(files[0])
    bad = frame.astype({"t": object})
    bad.loc[3, "t"] = "abc"  # a stray cell among numbered steps: named at its own row
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match=r"row 5: 'abc' in 't' is not a number like"):
        load_sequences(tmp_path / "bad.csv", **OPTIONS)
    # labels that differ only in case stay classes, with a warning
    first = frame["seq"] == frame["seq"].iloc[0]
    frame.loc[first, "label"] = frame.loc[first, "label"].str.upper()
    frame.to_csv(tmp_path / "case.csv", index=False)
    with caplog.at_level("WARNING", logger="autoseq"):
        load_sequences(tmp_path / "case.csv", **OPTIONS)
    assert "differ only in case" in caplog.text
    # one class per sequence (floats read as classes): the split says why it takes none
    with pytest.raises(DataError, match="is a class of its own.*--task regress"):
        stratified_split(np.arange(60), 0.15, flag="--test-size", source="x.csv", seed=0)


def test_padding_does_not_change_a_prediction(files):
    data = SequenceData(load_sequences(files[0], **OPTIONS))
    seqs = [data.scaled[i] for i in data.indices("train")[::12]]
    padded = np.full((len(seqs), 40, 2), np.nan, "float32")
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
    for cell, pooling, bidirectional in (("lstm", "last", True), ("gru", "mean", False),
                                         ("lstm", "max", True), ("simple_rnn", "last", False)):
        cfg = SEQUENCES.resolve_config({"cell": cell, "units": 4, "pooling": pooling,
                                        "bidirectional": bidirectional}, data, builder="rnn")
        model = build_model(cfg, sequence_context(data))
        alone = np.concatenate([model(s[None], training=False).numpy() for s in seqs])
        np.testing.assert_allclose(model(padded, training=False).numpy(), alone, atol=1e-5,
                                   err_msg=f"{cell} pooling={pooling} bi={bidirectional}")


def test_keras_format_loads_in_safe_mode(run_dir, tmp_path, files):
    import keras

    res = autoseq.export(run_dir, out=tmp_path / "k", format="keras")
    model = keras.saving.load_model(res.path / "model.keras", safe_mode=True)
    data = open_run(run_dir).data()
    expected = autoseq.load_model(res.path).predict_sequences([data.raw[i] for i in
                                                              data.indices("test")])
    np.testing.assert_allclose(model.predict(data.padded("test"), verbose=0), expected,
                               atol=1e-5)
    with pytest.raises(ModelError, match="tflite is for forecasting models"):
        autoseq.export(run_dir, out=tmp_path / "t", format="tflite")


def test_ensemble_averages_the_best_trials(run_dir, tmp_path):
    import tensorflow as tf

    from autoseq.probability_calibration import temper

    res = autoseq.export(run_dir, out=tmp_path / "e", ensemble=2)
    run = open_run(run_dir)
    board = run.leaderboard()
    best_two = board[board.state == "complete"].sort_values("rank")["trial"].astype(int).tolist()
    assert list(res.members) == best_two and res.manifest["ensemble"]["trials"] == best_two
    assert res.trial == best_two[0] and len(res.manifest["ensemble"]["members"]) == 2
    data = run.data()
    scaled = data.padded("test", scaled=True)
    expected = np.mean([load_trial_model(run, t, data)[0].predict(scaled, verbose=0)
                        for t in best_two], axis=0)
    expected = temper(expected, res.manifest["calibration"]["temperature"])  # the ensemble's
    serve = tf.saved_model.load(str(res.path)).signatures["serving_default"]
    got = serve(sequences=tf.constant(data.padded("test")))["output_0"].numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # metrics.val is the served ensemble's own on the validation sequences
    val = serve(sequences=tf.constant(data.padded("val")))["output_0"].numpy()
    loss, scores = data.evaluate(val, "val")
    assert res.manifest["metrics"]["val"]["loss"] == pytest.approx(loss, rel=1e-4)
    assert res.manifest["metrics"]["val"]["accuracy"] == pytest.approx(scores["accuracy"])
    assert res.manifest["metrics"]["val_trial"]["loss"] == pytest.approx(
        float(board.set_index("trial").loc[best_two[0], "val_loss"]), rel=1e-6)
    with pytest.raises(ModelError, match="--trial and --ensemble exclude each other"):
        autoseq.export(run_dir, out=tmp_path / "x", ensemble=2, trial=best_two[0])


def test_refit_trains_on_train_and_validation(run_dir, tmp_path):
    res = autoseq.export(run_dir, out=tmp_path / "r", refit=True)
    assert res.manifest["refit"] is True and 0 <= res.test_metrics["accuracy"] <= 1


def test_regression_round_trip(tmp_path):
    csv = make_sequences_csv(tmp_path / "reg.csv", n=40, regress=True)
    space = autoseq.SearchSpace([autoseq.Choice("cell", ("gru",)), autoseq.Fixed("units", 4),
                                 autoseq.Fixed("pooling", "mean")], name="reg")
    result = autoseq.search(csv, id_col="seq", step_col="t", target="label", space=space,
                            trials=1, max_epochs=2, out=tmp_path / "run", seed=0)
    board = result.leaderboard
    assert "val_rmse" in board.columns and "val_accuracy" not in board.columns
    assert board.loc[board.state == "baseline", "model"].tolist() == ["train_mean"]
    res = autoseq.export(tmp_path / "run")
    m = res.manifest
    assert m["task"] == "regress" and m["classes"] is None
    assert set(m["metrics"]["test"]) >= {"mae", "rmse"} and "train_mean" in m["metrics"][
        "test_baselines"]
    pred = autoseq.load_model(res.path).predict(csv)
    assert list(pred.columns) == ["id", "prediction", "actual"]
    model, _, data = load_trial_model(open_run(tmp_path / "run"), res.trial)
    scaled = model.predict(data.padded("test", scaled=True), verbose=0)
    expected = data.target_scaler.inverse(scaled, [0])[:, 0]
    ids = [data.ids[i] for i in data.indices("test")]
    got = pred.set_index("id").loc[ids, "prediction"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    mae = float(np.mean(np.abs(got - pred.set_index("id").loc[ids, "actual"].to_numpy())))
    assert mae == pytest.approx(res.test_metrics["mae"], rel=1e-4)
    md = (tmp_path / "run" / "report.md").read_text()
    assert "Predicted against actual" in md and "train\\_mean" in md
    assert (tmp_path / "run" / "report_files" / "predicted.png").stat().st_size > 0


def test_task_options_are_checked(files, tmp_path):
    with pytest.raises(DataError, match="--task classify needs sequences"):
        autoseq.search(files[0], target="label", task="classify", out=tmp_path / "a")
    with pytest.raises(DataError, match="--task forecast reads one series"):
        autoseq.search(files[0], target="label", id_col="seq", task="forecast",
                       out=tmp_path / "b")


def test_classification_metrics_match_scikit_learn():
    from sklearn.metrics import accuracy_score, f1_score, log_loss

    rng = np.random.default_rng(0)
    prob = rng.dirichlet(np.ones(3), size=50)
    truth = rng.integers(0, 3, 50)
    got = classification_metrics(prob, truth)
    assert got["accuracy"] == pytest.approx(accuracy_score(truth, prob.argmax(1)))
    assert got["f1"] == pytest.approx(f1_score(truth, prob.argmax(1), average="macro"))
    assert got["log_loss"] == pytest.approx(log_loss(truth, prob, labels=[0, 1, 2]))


def test_jobs_2_workers_rebuild_the_sequences_and_reach_the_total(files, tmp_path):
    train, test = files
    space_file = tmp_path / "tiny_seq.yaml"
    space_file.write_text(_tiny().to_yaml())
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(train), "--id-col", "seq", "--step-col", "t", "--target", "label",
              "--test-file", str(test), "--space", str(space_file), "--trials", "3",
              "--max-epochs", "1", "--jobs", "2", "--out", str(run), "--no-report"])
    assert exit_.value.code == 0
    board = open_run(run).leaderboard()
    assert board.state.isin(["complete", "pruned"]).sum() == 3
    logs = " ".join(p.read_text() for p in (run / "workers").iterdir())
    assert "not the data of study" not in logs


def test_report_shows_the_confusion_matrix_and_per_class_metrics(run_dir, exported):
    paths = autoseq.write_report(run_dir)
    md = paths.markdown.read_text()
    assert "Confusion matrix on the test sequences" in md and "majority\\_class" in md
    per_class = pd.read_csv(paths.files / "per_class.csv")
    assert per_class["class"].astype(str).tolist() == ["down", "up"]
    report = exported.manifest["metrics"]["test_report"]
    assert per_class["test sequences"].tolist() == [report["per_class"][c]["support"]
                                                    for c in ("down", "up")]
    metrics = pd.read_csv(paths.files / "metrics.csv")
    acc = float(metrics.loc[metrics.model == "best model", "test accuracy"].iloc[0])
    assert acc == pytest.approx(exported.test_metrics["accuracy"], abs=1e-4)
    assert paths.figures >= 4 and "forecast" not in md.split("\n")[2]
    assert "Reliability of the test probabilities" in md and "temperature-scaled" in md


def test_probabilities_are_temperature_scaled_on_validation(exported):
    """The temperature lowers the validation log loss it was fitted on; the manifest records
    the expected calibration error before and after, and the reliability bins."""
    cal = exported.manifest["calibration"]
    assert cal["method"] == "temperature scaling" and 0.05 <= cal["temperature"] <= 20
    assert set(cal["ece"]) == {"val", "test"}
    assert cal["ece"]["val"]["after"] <= cal["ece"]["val"]["before"] + 0.05
    bins = cal["reliability"]["test"]["after"]
    assert sum(b["count"] for b in bins) == 20


def test_fit_temperature_recovers_an_overconfident_model():
    from autoseq.probability_calibration import (
        expected_calibration_error,
        fit_temperature,
        temper,
    )

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4000, 3)) * 2
    true = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(3, p=p) for p in true])
    sharp = temper(true, 0.4)  # the model is too sure: its logits are 2.5 times too large
    t = fit_temperature(sharp, labels)
    assert 2.2 < t < 2.8
    assert expected_calibration_error(temper(sharp, t), labels) < \
        expected_calibration_error(sharp, labels) / 2
    # every validation sequence right: no scaling, though sharper would lower the log loss
    right = np.eye(3)[labels] * 0.5 + 0.5 / 3
    assert fit_temperature(right, labels) == 1.0
    # a bold model scaled sharper stops at the bound
    one_wrong = right.copy()
    one_wrong[0] = np.roll(one_wrong[0], 1)
    assert fit_temperature(one_wrong, labels) == pytest.approx(0.25, abs=1e-3)


def test_levels_are_refused_for_sequence_runs(run_dir, tmp_path):
    with pytest.raises(ModelError, match="--levels and --quantiles are for forecasting runs"):
        autoseq.export(run_dir, out=tmp_path / "l", levels="80")
