"""What a sequence's label is: a class to predict, or a number to regress.

``SequenceData`` holds one target encoding and asks it everything that depends on the kind of
label (how labels become ``y``, how the split is stratified, the loss, the metrics), so no code
outside compares the name of the task.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd

from autoseq.data._split import Scaler
from autoseq.exceptions import DataError
from autoseq.metrics import classification_metrics, regression_metrics

logger = logging.getLogger("autoseq")

_MAX_INFERRED_CLASSES = 20


class TargetEncoding(Protocol):
    """How labels become model targets, strata, a loss and metrics.

    ``y`` is the encoded labels of the sequences in question: class indices ``[n]`` (int64) or
    numbers ``[n]`` (float64), as ``encode`` returns them.
    """

    task: ClassVar[str]
    metric_columns: ClassVar[tuple[str, ...]]
    source: str
    target: str

    @property
    def classes(self) -> tuple[str, ...]: ...

    @property
    def scaler(self) -> Scaler | None: ...

    @classmethod
    def check_labels(cls, labels: tuple[str, ...], *, source: str, target: str) -> None: ...

    @classmethod
    def from_training(cls, labels: tuple[str, ...], *, source: str,
                      target: str) -> TargetEncoding: ...

    def encode(self, labels: tuple[str, ...], *, source: str) -> np.ndarray: ...

    def strata(self, y: np.ndarray) -> np.ndarray: ...

    def fitted(self, y_train: np.ndarray) -> TargetEncoding: ...

    def targets(self, y: np.ndarray, *, scaled: bool = True) -> np.ndarray: ...

    def class_weights(self, y_train: np.ndarray) -> np.ndarray: ...

    def sequence_weights(self, y_train: np.ndarray, y: np.ndarray) -> np.ndarray | None: ...

    def evaluate(self, pred: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, float]]: ...

    def describe_part(self, y: np.ndarray) -> dict[str, Any]: ...

    def describe(self) -> dict[str, Any]: ...


@dataclasses.dataclass(frozen=True)
class ClassTargets:
    """Labels as classes: sorted, indexed, stratified by class, scored by log loss.

    Example:
        >>> enc = ClassTargets.from_training(("up", "down", "up"), source="a.csv", target="y")
        >>> enc.encode(("down", "up"), source="a.csv")
        array([0, 1])
    """

    task: ClassVar[str] = "classify"
    metric_columns: ClassVar[tuple[str, ...]] = ("val_accuracy", "val_f1")
    classes: tuple[str, ...]
    source: str
    target: str

    @property
    def scaler(self) -> None:
        """Class indices are not scaled."""
        return None

    @classmethod
    def check_labels(cls, labels: tuple[str, ...], *, source: str, target: str) -> None:
        """Any label can be a class."""

    @classmethod
    def from_training(cls, labels: tuple[str, ...], *, source: str, target: str) -> ClassTargets:
        """The classes of the training labels.

        Raises:
            DataError: the training labels hold a single class.
        """
        classes = sort_classes(labels)
        if len(classes) < 2:
            raise DataError(f"{source}: target '{target}' has a single class '{classes[0]}'; "
                            "classification needs at least two classes")
        return cls(classes=classes, source=source, target=target)

    def encode(self, labels: tuple[str, ...], *, source: str) -> np.ndarray:
        """Class indices (int64) of ``labels`` read from ``source``.

        Raises:
            DataError: a label is not a training class.
        """
        index = {c: i for i, c in enumerate(self.classes)}
        unknown = [lab for lab in labels if lab not in index]
        if unknown:
            raise DataError(f"{source}: class '{unknown[0]}' of '{self.target}' does not occur in "
                            f"the training file {self.source}; the model can only predict the "
                            "training classes: drop those sequences, or add examples of the "
                            "class to the training file")
        return np.array([index[lab] for lab in labels], dtype="int64")

    def strata(self, y: np.ndarray) -> np.ndarray:
        """The class of each sequence."""
        return y

    def fitted(self, y_train: np.ndarray) -> ClassTargets:
        """``self``, once every class keeps a training sequence.

        Raises:
            DataError: a class has no training sequence.
        """
        missing = [c for i, c in enumerate(self.classes) if not (y_train == i).any()]
        if missing:
            raise DataError(f"{self.source}: class '{missing[0]}' has no training sequence left "
                            "after the validation split; add sequences of it")
        return self

    def targets(self, y: np.ndarray, *, scaled: bool = True) -> np.ndarray:
        """Class indices ``[n]`` (``scaled`` does not apply)."""
        return y

    def class_weights(self, y_train: np.ndarray) -> np.ndarray:
        """Balanced weights ``n / (n_classes · n_c)`` from the training class counts."""
        counts = np.bincount(y_train, minlength=len(self.classes))
        return counts.sum() / (len(self.classes) * np.maximum(counts, 1))

    def sequence_weights(self, y_train: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The balanced weight (float32) of each sequence's class."""
        return self.class_weights(y_train)[y].astype("float32")

    def evaluate(self, pred: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, float]]:
        """Log loss, and accuracy, macro F1 and log loss of probabilities ``[n, n_classes]``."""
        metrics = classification_metrics(pred, y)
        return metrics["log_loss"], metrics

    def describe_part(self, y: np.ndarray) -> dict[str, Any]:
        """Sequences per class."""
        counts = np.bincount(y, minlength=len(self.classes))
        return {"classes": {c: int(n) for c, n in zip(self.classes, counts, strict=True)}}

    def describe(self) -> dict[str, Any]:
        """Nothing beyond the classes (``SequenceData.describe`` lists them)."""
        return {}


@dataclasses.dataclass(frozen=True)
class NumericTargets:
    """Labels as numbers: scaled on the training sequences, stratified by quintile, scored by MSE.

    ``scaler`` is None until ``fitted`` fits it on the training targets.

    Example:
        >>> enc = NumericTargets.from_training(("1.5", "2"), source="a.csv", target="y")
        >>> enc.fitted(enc.encode(("1.5", "2"), source="a.csv")).scaler.mean
        array([1.75])
    """

    task: ClassVar[str] = "regress"
    metric_columns: ClassVar[tuple[str, ...]] = ("val_rmse",)
    source: str
    target: str
    scaler: Scaler | None = None

    @property
    def classes(self) -> tuple[str, ...]:
        """No classes."""
        return ()

    @classmethod
    def check_labels(cls, labels: tuple[str, ...], *, source: str, target: str) -> None:
        """Refuse a label that is not a finite number.

        Raises:
            DataError: naming the first such label.
        """
        numbers = pd.to_numeric(pd.Series(labels), errors="coerce").to_numpy()
        bad = np.isnan(numbers) | np.isinf(numbers)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{source}: target '{target}' holds '{labels[i]}', not a finite "
                            "number; --task regress needs numeric targets")

    @classmethod
    def from_training(cls, labels: tuple[str, ...], *, source: str, target: str) -> NumericTargets:
        """An unfitted encoding (``resolve_task`` has checked the training labels)."""
        return cls(source=source, target=target)

    def encode(self, labels: tuple[str, ...], *, source: str) -> np.ndarray:
        """``labels`` read from ``source`` as float64.

        Raises:
            DataError: a label is not a finite number.
        """
        self.check_labels(labels, source=source, target=self.target)
        return np.asarray(labels, dtype="float64")

    def strata(self, y: np.ndarray) -> np.ndarray:
        """The quintile of each target."""
        edges = np.quantile(y, [0.2, 0.4, 0.6, 0.8])
        return np.searchsorted(edges, y, side="right")

    def fitted(self, y_train: np.ndarray) -> NumericTargets:
        """A copy whose target scaler is fitted on the training targets."""
        return dataclasses.replace(self, scaler=Scaler.fit(y_train[:, None]))

    def targets(self, y: np.ndarray, *, scaled: bool = True) -> np.ndarray:
        """Targets ``[n, 1]``: scaled (float32) or in units."""
        y = y[:, None]
        return self.scaler.transform(y).astype("float32") if scaled else y

    def class_weights(self, y_train: np.ndarray) -> np.ndarray:
        """Raises ``TypeError``: numeric targets have no classes."""
        raise TypeError(f"{self.source}: target '{self.target}' is regressed; class weights "
                        "need classes")

    def sequence_weights(self, y_train: np.ndarray, y: np.ndarray) -> None:
        """None: every sequence weighs the same."""
        return None

    def evaluate(self, pred: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, float]]:
        """MSE of scaled predictions ``[n, 1]``, and MAE and RMSE in units."""
        loss = float(np.mean((pred - self.targets(y)) ** 2))
        units = self.scaler.inverse(pred, [0])
        return loss, regression_metrics(units, self.targets(y, scaled=False))

    def describe_part(self, y: np.ndarray) -> dict[str, Any]:
        """Nothing per part."""
        return {}

    def describe(self) -> dict[str, Any]:
        """The target scaler, once fitted."""
        return {} if self.scaler is None else {"target_scaler": self.scaler.to_dict()}


TASK_TARGETS: dict[str, type[TargetEncoding]] = {ClassTargets.task: ClassTargets,
                                                 NumericTargets.task: NumericTargets}
"""The target encoding of each ``--task`` of sequences."""
TASKS = tuple(TASK_TARGETS)


def resolve_task(labels: tuple[str, ...], task: str | None, *, source: str = "",
                 target: str = "") -> str:
    """``classify`` or ``regress``: ``task`` if given, else inferred from the labels.

    Non-numeric labels, or few distinct integers (at most 20, and at most half the number of
    sequences), mean classification; other numbers mean regression.

    Raises:
        DataError: ``task`` is unknown, or regression is asked for non-numeric labels.
    """
    return _encoding_kind(labels, task, source=source, target=target).task


def target_encoding(labels: tuple[str, ...], task: str | None, *, source: str,
                    target: str) -> TargetEncoding:
    """The encoding of the training ``labels`` for ``task`` (inferred when None).

    Raises:
        DataError: as ``resolve_task``, or the labels do not fit the task.
    """
    kind = _encoding_kind(labels, task, source=source, target=target)
    return kind.from_training(labels, source=source, target=target)


def _encoding_kind(labels: tuple[str, ...], task: str | None, *, source: str,
                   target: str) -> type[TargetEncoding]:
    if task is None:
        return _infer(labels, source)
    kind = TASK_TARGETS.get(task) if isinstance(task, str) else None
    if kind is None:
        raise DataError(f"--task must be one of {', '.join(TASKS)} for sequences. "
                        f"Received: {task}")
    kind.check_labels(labels, source=source, target=target)
    return kind


def _infer(labels: tuple[str, ...], source: str) -> type[TargetEncoding]:
    numbers = pd.to_numeric(pd.Series(labels), errors="coerce").to_numpy()
    n_unique = len(set(labels))
    kind: type[TargetEncoding] = ClassTargets
    if np.isnan(numbers).any():
        how = "labels are not all numbers"
    elif (np.all(numbers == np.round(numbers)) and n_unique <= _MAX_INFERRED_CLASSES
          and n_unique <= max(2, len(labels) // 2)):
        how = f"{n_unique} distinct integer labels"
    else:
        how = f"{n_unique} distinct numeric targets"
        kind = NumericTargets
    other = next(name for name in TASK_TARGETS if name != kind.task)
    logger.info("%s: task inferred as %s (%s); pass --task %s to change it", source, kind.task,
                how, other)
    return kind


def sort_classes(labels) -> tuple[str, ...]:
    """Distinct labels, in numeric order when all are numbers, else in text order."""
    unique = sorted(set(labels))
    numbers = pd.to_numeric(pd.Series(unique), errors="coerce")
    if numbers.notna().all():
        unique = [u for _, u in sorted(zip(numbers, unique, strict=True))]
    return tuple(unique)
