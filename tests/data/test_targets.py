import logging

import numpy as np
import pytest

from autoseq.data import SequenceData, load_sequences, resolve_task
from autoseq.data._targets import (
    TASK_TARGETS,
    ClassTargets,
    NumericTargets,
    sort_classes,
    target_encoding,
)
from autoseq.exceptions import DataError
from tests.conftest import make_sequences_csv


def _classes(labels=("up", "down", "up", "down", "left")):
    return ClassTargets.from_training(labels, source="train.csv", target="y")


def _numbers(labels=("1.5", "2", "-0.5", "3")):
    return NumericTargets.from_training(labels, source="train.csv", target="y")


def test_each_task_names_its_encoding():
    assert {name: kind.task for name, kind in TASK_TARGETS.items()} == {
        "classify": "classify", "regress": "regress"}
    assert ClassTargets.metric_columns == ("val_accuracy", "val_f1")
    assert NumericTargets.metric_columns == ("val_rmse",)


def test_classes_are_sorted_numerically_when_all_are_numbers():
    assert sort_classes(["10", "9", "2", "9"]) == ("2", "9", "10")
    assert sort_classes(["b", "a", "10", "9"]) == ("10", "9", "a", "b")


def test_class_targets_index_stratify_and_weigh_by_class():
    enc = _classes()
    assert enc.classes == ("down", "left", "up") and enc.scaler is None
    y = enc.encode(("up", "down", "up", "down", "left"), source="train.csv")
    assert y.dtype == np.int64 and y.tolist() == [2, 0, 2, 0, 1]
    assert enc.strata(y) is y and enc.targets(y, scaled=False) is y
    assert enc.fitted(y) is enc
    np.testing.assert_allclose(enc.class_weights(y), [5 / 6, 5 / 3, 5 / 6])
    weights = enc.sequence_weights(y, np.array([1, 2]))
    assert weights.dtype == np.float32 and weights.tolist() == pytest.approx([5 / 3, 5 / 6])
    assert enc.describe_part(y) == {"classes": {"down": 2, "left": 1, "up": 2}}
    assert enc.describe() == {}


def test_class_targets_refuse_one_class_unknown_classes_and_empty_training_classes():
    with pytest.raises(DataError, match="a.csv: target 'y' has a single class 'x'; classif"):
        ClassTargets.from_training(("x", "x"), source="a.csv", target="y")
    with pytest.raises(DataError, match="test.csv: class 'right' of 'y' does not occur in the "
                                        "training file train.csv"):
        _classes().encode(("up", "right"), source="test.csv")
    with pytest.raises(DataError, match="train.csv: class 'left' has no training sequence"):
        _classes().fitted(np.array([0, 2, 2]))


def test_class_targets_score_probabilities_by_log_loss():
    prob = np.array([[0.8, 0.1, 0.1], [0.2, 0.2, 0.6]])
    loss, metrics = _classes().evaluate(prob, np.array([0, 2]))
    assert loss == metrics["log_loss"] == pytest.approx(-np.mean(np.log([0.8, 0.6])))
    assert metrics["accuracy"] == 1.0


def test_numeric_targets_scale_on_the_training_targets_only():
    enc = _numbers()
    y = enc.encode(("1.5", "2", "-0.5", "3"), source="train.csv")
    assert y.dtype == np.float64 and enc.scaler is None and enc.classes == ()
    fitted = enc.fitted(y[:2])
    assert enc.scaler is None  # fitting returns a copy
    np.testing.assert_allclose(fitted.scaler.mean, [1.75])
    np.testing.assert_allclose(fitted.scaler.scale, [0.25])
    scaled = fitted.targets(y)
    assert scaled.dtype == np.float32 and scaled[:, 0].tolist() == [-1, 1, -9, 5]
    assert fitted.targets(y, scaled=False).tolist() == [[1.5], [2], [-0.5], [3]]
    assert fitted.sequence_weights(y, y) is None
    assert fitted.describe_part(y) == {}
    assert fitted.describe() == {"target_scaler": fitted.scaler.to_dict()}


def test_numeric_targets_stratify_by_quintile():
    y = np.arange(10, dtype="float64")
    assert _numbers().strata(y).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_numeric_targets_score_scaled_mse_and_unit_metrics():
    y = np.array([1.0, 3.0])
    enc = _numbers().fitted(y)  # mean 2, scale 1
    loss, metrics = enc.evaluate(np.array([[0.0], [0.0]], dtype="float32"), y)
    assert loss == pytest.approx(1.0)
    assert metrics == pytest.approx({"mae": 1.0, "rmse": 1.0})


def test_numeric_targets_refuse_text_and_have_no_class_weights():
    with pytest.raises(DataError, match="test.csv: target 'y' holds 'cat', not a finite number"):
        _numbers().encode(("1", "cat"), source="test.csv")
    with pytest.raises(TypeError, match="class weights need classes"):
        _numbers().class_weights(np.array([1.0]))


def test_unknown_task_is_refused_with_the_choices():
    with pytest.raises(DataError, match=r"^--task must be one of classify, regress for sequences\. "
                                        "Received: forecast$"):
        resolve_task(("a", "b"), "forecast")
    with pytest.raises(DataError, match="Received: forecast"):
        target_encoding(("a", "b"), "forecast", source="a.csv", target="y")


def test_inferred_task_is_logged_with_the_other_choice(caplog):
    with caplog.at_level(logging.INFO, logger="autoseq"):
        enc = target_encoding(("0.5", "1.25", "2.5"), None, source="a.csv", target="y")
    assert isinstance(enc, NumericTargets)
    assert "a.csv: task inferred as regress (3 distinct numeric targets); pass --task classify" \
        in caplog.text


def test_given_task_overrides_inference():
    labels = ("1", "2") * 10
    assert isinstance(target_encoding(labels, None, source="a", target="y"), ClassTargets)
    assert isinstance(target_encoding(labels, "regress", source="a", target="y"), NumericTargets)


def test_sequence_data_delegates_to_its_encoding(tmp_path):
    path = make_sequences_csv(tmp_path / "r.csv", n=40, regress=True)
    data = SequenceData(load_sequences(path, target="label", id_col="seq", step_col="t"))
    assert isinstance(data.encoding, NumericTargets)
    assert data.task == "regress" and data.classes == () and data.n_classes == 0
    assert data.target_scaler is data.encoding.scaler
    np.testing.assert_allclose(data.target_scaler.mean, [data.y[data.parts["train"]].mean()])
    assert data.metric_columns == ("val_rmse",)
    assert "target_scaler" in data.describe() and "classes" not in data.describe()["train"]
