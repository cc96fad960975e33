"""Variable length: sequences/s training a GRU classifier with length bucketing vs padding to the maximum.

The set: synthetic multivariate sequences whose lengths are log-uniform between ``min_len`` and
``max_len`` (most are short, a few long, as in real event logs or sensor recordings). The same
masked GRU model trains one epoch per measurement on batches that are (1) padded to the longest
sequence of the whole set, (2) padded to the longest of each batch, (3) bucketed by length
(``tf.data.Dataset.bucket_by_sequence_length``) and padded to the longest of each bucket's batch,
and (4) autoseq's own training batches (``SequenceData.dataset(..., shuffle=True)``: the set read
from a long-format CSV, NaN-padded, sorted by length within runs of batches, masked by autoseq's
``PaddingMask``). The goal compares (4) with (1). Measurements alternate, after one warm-up epoch
each, in the same process.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

try:
    from benchmarks import _common as common
except ModuleNotFoundError:  # run as a script: python benchmarks/variable_length.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import _common as common

GOAL = 2.0
FEATURES, CLASSES, UNITS, BATCH = 3, 4, 32, 32


def make_set(n: int, min_len: int, max_len: int, seed: int = 0):
    """``n`` sequences ``[length, FEATURES]`` (no exact zeros: zero is the padding) and labels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    lengths = np.exp(rng.uniform(np.log(min_len), np.log(max_len + 1), n)).astype(int)
    lengths = np.clip(lengths, min_len, max_len)
    seqs = [rng.normal(0, 1, (k, FEATURES)).astype("float32") + 3.0 for k in lengths]
    labels = np.array([int(s[:, 0].mean() * 10) % CLASSES for s in seqs], dtype="int32")
    return seqs, labels, lengths


def _pipelines(seqs, labels, lengths, max_len: int) -> dict[str, Any]:
    import numpy as np
    import tensorflow as tf

    ragged = tf.RaggedTensor.from_row_lengths(np.concatenate(seqs), lengths)
    base = tf.data.Dataset.from_tensor_slices((ragged, labels)).map(
        lambda x, y: (x, y))  # ragged rows → dense [length, FEATURES]
    n = len(seqs)
    shuffled = base.shuffle(n, seed=0, reshuffle_each_iteration=True)
    boundaries = [b for b in (32, 64, 128, 256, 512, 1024) if b < max_len]
    return {
        "pad to max": shuffled.padded_batch(BATCH, padded_shapes=([max_len, FEATURES], [])),
        "pad per batch": shuffled.padded_batch(BATCH),
        "bucketing": shuffled.bucket_by_sequence_length(
            lambda x, y: tf.shape(x)[0], bucket_boundaries=boundaries,
            bucket_batch_sizes=[BATCH] * (len(boundaries) + 1)),
    }


def _autoseq_batches(seqs, labels, folder: Path):
    """autoseq's shuffled, length-bucketed training batches of the set (and how many sequences
    they hold: a small stratified validation and test share is held out)."""
    import pandas as pd

    from autoseq.data import SequenceData, load_sequences

    rows = [pd.DataFrame(x, columns=[f"f{j}" for j in range(FEATURES)]).assign(
        seq=i, step=range(len(x)), label=int(y)) for i, (x, y) in enumerate(zip(seqs, labels, strict=True))]
    csv = folder / "sequences.csv"
    pd.concat(rows).to_csv(csv, index=False)
    data = SequenceData(load_sequences(csv, target="label", id_col="seq", step_col="step"),
                        task="classify", val_size=0.05, test_size=0.05)
    return data.dataset("train", batch_size=BATCH, shuffle=True, seed=0), len(data.parts["train"])


def _model(nan_padding: bool = False):
    import keras

    from autoseq.model.layers import PaddingMask

    model = keras.Sequential([
        keras.Input((None, FEATURES)),
        PaddingMask() if nan_padding else keras.layers.Masking(0.0),
        keras.layers.GRU(UNITS),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def run(*, n: int = 1000, min_len: int = 20, max_len: int = 400,
        repeats: int = 3) -> dict[str, Any]:
    """Sequences per second of one training epoch under each batching."""
    common.quiet_tensorflow()
    import tempfile
    import warnings

    import keras
    import numpy as np

    # Unknown cardinality: Keras warns "ran out of data" at the end of every one-epoch fit.
    warnings.filterwarnings("ignore", message="Your input ran out of data")

    report = common.Report("variable_length", "Variable length")
    seqs, labels, lengths = make_set(n, min_len, max_len)
    pipelines = _pipelines(seqs, labels, lengths, max_len)
    sizes = dict.fromkeys(pipelines, n)
    with tempfile.TemporaryDirectory() as tmp:
        pipelines["autoseq"], sizes["autoseq"] = _autoseq_batches(seqs, labels, Path(tmp))
    keras.utils.set_random_seed(0)
    # one model per pipeline: same shape, own trace
    models = {name: _model(nan_padding=name == "autoseq") for name in pipelines}
    candidates = {name: (lambda m=models[name], ds=ds: m.fit(ds, epochs=1, shuffle=False,
                                                             verbose=0))
                  for name, ds in pipelines.items()}
    t = common.interleaved(candidates, repeats=repeats)
    sps = {name: [sizes[name] / s for s in t.wall[name]] for name in pipelines}
    for name in pipelines:
        report.add(f"{name}: sequences/s", common.median(sps[name]), "seq/s",
                   detail=f"median of {repeats} epochs")
    ratios = common.paired_ratios(sps["autoseq"], sps["pad to max"])
    ratio = common.median(ratios)
    report.add("speed-up autoseq's bucketed batches / pad to max", ratio, "x",
               goal=f"≥ {GOAL:g}", met=ratio >= GOAL,
               detail="median of paired ratios: " + ", ".join(f"{r:.2f}" for r in ratios))
    for other in ("bucketing", "pad per batch"):
        report.add(f"speed-up autoseq / {other}",
                   common.median(common.paired_ratios(sps["autoseq"], sps[other])), "x")
    report.note(f"{n} sequences of {FEATURES} features, lengths log-uniform in "
                f"[{min_len}, {max_len}] (mean {np.mean(lengths):.0f}); masked GRU({UNITS}), "
                f"batch {BATCH}; padding to the maximum computes {max_len / np.mean(lengths):.1f}x "
                "the steps of the real lengths")
    report.note(f"autoseq trains on {sizes['autoseq']} of the {n} sequences (a stratified 5% "
                "validation and 5% test share held out); the references on all of them")
    return report.to_dict()


if __name__ == "__main__":
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--sequences", type=int)
    p.add_argument("--repeats", type=int)
    a = p.parse_args()
    common.main("Variable length", run, a, n=a.sequences or (400 if a.quick else 1000),
                repeats=a.repeats or (2 if a.quick else 3))
