"""Labelled sequences split by stratum, scaled on the training sequences, padded per batch."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from autoseq.data._sequences import SequenceTable, length_summary
from autoseq.data._split import DEFAULT_TEST_SIZE, DEFAULT_VAL_SIZE, Scaler
from autoseq.data._targets import TargetEncoding, target_encoding
from autoseq.exceptions import DataError

logger = logging.getLogger("autoseq")

PAD_VALUE = float("nan")
"""Padding of every sequence tensor: NaN can never be data (missing values are filled or refused),
so it marks padding unambiguously before and after scaling."""
TRUNCATION = "keep the last max_length steps"
SPLIT_SEED = 0
BUCKET_BATCHES = 16


def stratified_split(strata: np.ndarray, size: float | int, *, flag: str, seed: int = SPLIT_SEED,
                     source: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Split positions ``0..n-1`` into ``(keep, take)`` with ``take`` drawn alike from each stratum.

    ``size`` is a count (≥ 1) or a fraction in (0, 1) of ``n``. Each stratum gives its share
    (largest remainders round it) and always keeps at least one member.

    Raises:
        DataError: invalid ``size`` or one that leaves nothing to keep.
    """
    n = len(strata)
    count = _count(n, size, flag)
    groups = [np.flatnonzero(strata == s) for s in pd.unique(strata)]
    quota = np.array([len(g) * count / n for g in groups])
    take = np.minimum(np.floor(quota).astype(int), [len(g) - 1 for g in groups])
    for i in np.argsort(-(quota - np.floor(quota)), kind="stable"):
        if take.sum() >= count:
            break
        if take[i] < len(groups[i]) - 1:
            take[i] += 1
    if take.sum() == 0 and count > 0 and all(len(g) == 1 for g in groups):
        raise DataError(f"{source}: {flag} {size} takes no sequence: each of the {n} sequences "
                        "is a class of its own, and every class keeps one to train on (a "
                        "numeric target to predict? pass --task regress)")
    if take.sum() == 0 or take.sum() >= n:
        raise DataError(f"{source}: {flag} {size} takes {int(take.sum())} of {n} sequences; it "
                        "must leave at least one sequence on each side")
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([rng.choice(g, size=k, replace=False) for g, k in
                             zip(groups, take, strict=True)]).astype("int64")
    mask = np.zeros(n, bool)
    mask[chosen] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def _count(n: int, size: float | int, flag: str) -> int:
    if isinstance(size, bool) or size <= 0:
        raise DataError(f"{flag} must be a sequence count ≥ 1 or a fraction in (0, 1). "
                        f"Received: {size}")
    if size < 1:
        return max(1, int(round(n * size)))
    if not float(size).is_integer():
        raise DataError(f"{flag} must be a whole number of sequences or a fraction in (0, 1). "
                        f"Received: {size}")
    return int(size)


class SequenceData:
    """Labelled sequences split into train / validation / test, scaled, padded lazily per batch.

    Validation is carved from the training file by stratified sampling (by class, or by target
    quintile for regression); the test part is the ``test`` table when given, else another
    stratified share of the training file. The feature scaler (and, for regression, the target
    scaler) is fitted on the training sequences only. Sequences longer than ``max_length`` keep
    their last ``max_length`` steps. Batches are right-padded with NaN (``PAD_VALUE``) to their
    longest member; training batches are bucketed by length so short sequences are not padded to
    the longest of the data.

    Example:
        >>> data = SequenceData(load_sequences("train.csv", target="label", id_col="id"))
        >>> ds = data.dataset("train", batch_size=32, shuffle=True, seed=0)
    """

    def __init__(self, table: SequenceTable, *, test: SequenceTable | None = None,
                 task: str | None = None, val_size: float | int | None = None,
                 test_size: float | int | None = None, max_length: int | None = None):
        self.table = table
        self.test_table = test
        self.source = table.source
        if table.labels is None:
            raise DataError(f"{table.source}: no target column; pass --target")
        if test is not None and test_size is not None:
            raise DataError("--test-size and --test-file exclude each other: the test file is "
                            "the test part")
        self.encoding: TargetEncoding = target_encoding(table.labels, task, source=table.source,
                                                        target=table.target)
        labels = table.labels + (test.labels if test is not None else ())
        self.y = self.encoding.encode(labels, source=test.source if test else table.source)
        self.ids = table.ids + (test.ids if test is not None else ())
        self.split_seed = SPLIT_SEED
        self.parts = self._split(len(table.ids), val_size, test_size)
        self.encoding = self.encoding.fitted(self.y[self.parts["train"]])
        train_file_max = int(table.lengths.max())
        self.max_length = int(max_length) if max_length is not None else train_file_max
        if self.max_length < 1:
            raise DataError(f"--max-length must be at least 1. Received: {max_length}")
        raw = list(table.sequences) + (list(test.sequences) if test is not None else [])
        self.truncated = sum(len(s) > self.max_length for s in raw)
        if self.truncated:
            level = logging.INFO if max_length is not None else logging.WARNING
            logger.log(level, "%d sequences longer than %d steps keep their last %d steps",
                       self.truncated, self.max_length, self.max_length)
        self.raw = [s[-self.max_length:] for s in raw]
        self.lengths = np.array([len(s) for s in self.raw], dtype="int64")
        train = self.parts["train"]
        self.scaler = Scaler.fit(np.concatenate([self.raw[i] for i in train]))
        self.scaled = [self.scaler.transform(s).astype("float32") for s in self.raw]

    # -- facts the trial, builder, baselines and export need --------------------------------------
    @property
    def task(self) -> str:
        """``classify`` or ``regress``: the kind of target (``encoding.task``)."""
        return self.encoding.task

    @property
    def classes(self) -> tuple[str, ...]:
        """The training classes in order (empty for regression)."""
        return self.encoding.classes

    @property
    def target_scaler(self) -> Scaler | None:
        """The target scaler fitted on the training sequences (None for classification)."""
        return self.encoding.scaler

    @property
    def n_inputs(self) -> int:
        return len(self.table.features)

    @property
    def n_classes(self) -> int:
        """Number of classes (0 for regression)."""
        return len(self.classes)

    @property
    def metric_columns(self) -> tuple[str, ...]:
        """Leaderboard columns beside ``val_loss`` and ``val_mae``."""
        return self.encoding.metric_columns

    def _strata(self, positions: np.ndarray) -> np.ndarray:
        return self.encoding.strata(self.y[positions])

    def _split(self, n_file: int, val_size, test_size) -> dict[str, np.ndarray]:
        pool = np.arange(n_file)
        if self.test_table is not None:
            test = np.arange(n_file, len(self.ids))
        else:
            keep, take = stratified_split(self._strata(pool),
                                          DEFAULT_TEST_SIZE if test_size is None else test_size,
                                          flag="--test-size", seed=self.split_seed,
                                          source=self.source)
            pool, test = pool[keep], pool[take]
        # a fraction is of the whole training file, as for the test part
        val_count = _count(n_file, DEFAULT_VAL_SIZE if val_size is None else val_size,
                           "--val-size")
        keep, take = stratified_split(self._strata(pool), val_count, flag="--val-size",
                                      seed=self.split_seed + 1, source=self.source)
        return {"train": pool[keep], "val": pool[take], "test": test}

    def indices(self, part: str) -> np.ndarray:
        """Positions of the sequences of ``part`` (``train``, ``val``, ``test``, ``train+val``),
        shortest first: consecutive sequences have similar lengths."""
        if part == "train+val":
            idx = np.concatenate([self.parts["train"], self.parts["val"]])
        elif part in self.parts:
            idx = self.parts[part]
        else:
            raise ValueError(f"part must be train, val, test or train+val. Received: part={part!r}")
        return idx[np.argsort(self.lengths[idx], kind="stable")]

    def targets(self, part: str, *, scaled: bool = True) -> np.ndarray:
        """Class indices ``[n]``, or regression targets ``[n, 1]`` (scaled or in units)."""
        return self.encoding.targets(self.y[self.indices(part)], scaled=scaled)

    def class_weights(self) -> np.ndarray:
        """Balanced weights ``n / (n_classes · n_c)`` from the training class counts."""
        return self.encoding.class_weights(self.y[self.parts["train"]])

    def padded(self, part: str, *, scaled: bool = False) -> np.ndarray:
        """Every sequence of ``part`` in one float32 array padded with NaN to the part's longest."""
        idx = self.indices(part)
        src = self.scaled if scaled else self.raw
        return pad_sequences([src[i] for i in idx])

    # -- batches -----------------------------------------------------------------------------------
    def dataset(self, part: str, *, batch_size: int, shuffle: bool = False, seed: int | None = None,
                class_weight: str | None = None, scaled: bool = True, targets: bool = True):
        """A ``tf.data.Dataset`` of ``(sequences, targets[, weights])`` batches of ``part``.

        Each batch is right-padded with NaN to its longest sequence. Unshuffled batches follow
        ``indices(part)`` (shortest first), so predictions line up with ``targets(part)``.
        Shuffled (training) batches are bucketed by length: every epoch the sequences are
        shuffled, each run of ``BUCKET_BATCHES`` batches' worth is sorted by length and cut into
        batches, and the batches are shuffled again — so a batch holds sequences of similar
        length, and there are always ``ceil(n / batch_size)`` batches.

        Args:
            class_weight: ``balanced`` adds per-sequence weights (classification).
            scaled: feed scaled sequences (the trained network) or raw ones (an exported model).
            targets: include the targets (``False``: sequences only).
        """
        import tensorflow as tf

        idx = self.indices(part)
        src = self.scaled if scaled else self.raw
        lengths = self.lengths[idx]
        values = np.concatenate([src[i] for i in idx]).astype("float32")
        ragged = tf.RaggedTensor.from_row_lengths(values, lengths)
        columns = []
        if targets:
            columns.append(tf.constant(self.targets(part)))
            weights = (self.encoding.sequence_weights(self.y[self.parts["train"]], self.y[idx])
                       if class_weight == "balanced" else None)
            if weights is not None:
                columns.append(tf.constant(weights))

        def gather(pos):
            x = tf.gather(ragged, pos).to_tensor(default_value=PAD_VALUE)
            return (x, *[tf.gather(c, pos) for c in columns]) if columns else x

        n = len(idx)
        ds = tf.data.Dataset.range(n)
        if shuffle:
            length_of = tf.constant(lengths)

            def by_length(pos):
                return tf.gather(pos, tf.argsort(tf.gather(length_of, pos), stable=True))

            ds = (ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
                  .batch(batch_size * BUCKET_BATCHES).map(by_length).unbatch()
                  .batch(batch_size)
                  .shuffle(BUCKET_BATCHES, seed=seed, reshuffle_each_iteration=True))
            ds = ds.apply(tf.data.experimental.assert_cardinality(-(-n // batch_size)))
        else:
            ds = ds.batch(batch_size)
        return ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    def batches(self, part: str, config: dict[str, Any], *, batch_size: int | None = None,
                shuffle: bool = False, seed: int | None = None):
        """The dataset a trial with resolved ``config`` trains (``shuffle``) or is scored on."""
        return self.dataset(part, batch_size=batch_size or int(config["batch_size"]),
                            shuffle=shuffle, seed=seed,
                            class_weight=config.get("class_weight") if shuffle else None)

    # -- scoring -----------------------------------------------------------------------------------
    def evaluate(self, pred: np.ndarray, part: str) -> tuple[float, dict[str, float]]:
        """Score the network's outputs on ``part`` (in ``indices(part)`` order).

        Args:
            pred: class probabilities ``[n, n_classes]``, or scaled values ``[n, 1]``.

        Returns:
            ``(loss, metrics)``: the loss the search minimises (log loss; MSE on the scaled
            target) and the metrics (accuracy, macro F1, log loss; MAE and RMSE in units).
        """
        return self.encoding.evaluate(pred, self.y[self.indices(part)])

    def describe(self) -> dict[str, Any]:
        """JSON-ready split description: sizes, class counts, lengths, scalers."""
        out: dict[str, Any] = {"task": self.task, "classes": list(self.classes),
                               "max_length": self.max_length, "truncation": TRUNCATION,
                               "truncated": int(self.truncated), "split_seed": self.split_seed,
                               "test_from": "test file" if self.test_table is not None
                               else "stratified share of the training file"}
        for part in ("train", "val", "test"):
            idx = self.parts[part]
            entry: dict[str, Any] = {"sequences": int(len(idx)),
                                     "lengths": length_summary(self.lengths[idx])}
            out[part] = entry | self.encoding.describe_part(self.y[idx])
        out["scaler"] = self.scaler.to_dict()
        return out | self.encoding.describe()


def pad_sequences(sequences: list[np.ndarray], length: int | None = None) -> np.ndarray:
    """Right-pad ``[length_i, n]`` arrays with NaN into one float32 ``[batch, length, n]``."""
    length = length or max(len(s) for s in sequences)
    n = sequences[0].shape[1]
    out = np.full((len(sequences), length, n), PAD_VALUE, dtype="float32")
    for i, s in enumerate(sequences):
        out[i, : len(s)] = s
    return out
