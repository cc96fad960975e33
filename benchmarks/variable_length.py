"""Variable length: sequences/s training a GRU classifier with length bucketing vs padding to the maximum.

The set: synthetic multivariate sequences whose lengths are log-uniform between ``min_len`` and
``max_len`` (most are short, a few long, as in real event logs or sensor recordings). The same
masked GRU model trains one epoch per measurement on batches that are (1) padded to the longest
sequence of the whole set, (2) padded to the longest of each batch, (3) bucketed by length
(``tf.data.Dataset.bucket_by_sequence_length``) and padded to the longest of each bucket's batch.
Measurements alternate, after one warm-up epoch each, in the same process.

TODO(lead): autoseq's own sequence pipeline (``autoseq/data/_sequences.py``, branch ``classify``)
was not on main when this was written, so the pipelines are built with tf.data directly here;
switch (3) to autoseq's bucketed batches once it is merged.
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


def _model():
    import keras

    model = keras.Sequential([
        keras.Input((None, FEATURES)),
        keras.layers.Masking(0.0),
        keras.layers.GRU(UNITS),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def run(*, n: int = 1000, min_len: int = 20, max_len: int = 400,
        repeats: int = 3) -> dict[str, Any]:
    """Sequences per second of one training epoch under each batching."""
    common.quiet_tensorflow()
    import warnings

    import keras
    import numpy as np

    # Unknown cardinality: Keras warns "ran out of data" at the end of every one-epoch fit.
    warnings.filterwarnings("ignore", message="Your input ran out of data")

    report = common.Report("variable_length", "Variable length")
    seqs, labels, lengths = make_set(n, min_len, max_len)
    pipelines = _pipelines(seqs, labels, lengths, max_len)
    keras.utils.set_random_seed(0)
    models = {name: _model() for name in pipelines}  # one per pipeline: same shape, own trace
    candidates = {name: (lambda m=models[name], ds=ds: m.fit(ds, epochs=1, shuffle=False,
                                                             verbose=0))
                  for name, ds in pipelines.items()}
    t = common.interleaved(candidates, repeats=repeats)
    sps = {name: [n / s for s in t.wall[name]] for name in pipelines}
    for name in pipelines:
        report.add(f"{name}: sequences/s", common.median(sps[name]), "seq/s",
                   detail=f"median of {repeats} epochs")
    ratios = common.paired_ratios(sps["bucketing"], sps["pad to max"])
    ratio = common.median(ratios)
    report.add("speed-up bucketing / pad to max", ratio, "x", goal=f"≥ {GOAL:g}",
               met=ratio >= GOAL,
               detail="median of paired ratios: " + ", ".join(f"{r:.2f}" for r in ratios))
    per_batch = common.median(common.paired_ratios(sps["bucketing"], sps["pad per batch"]))
    report.add("speed-up bucketing / pad per batch", per_batch, "x")
    report.note(f"{n} sequences of {FEATURES} features, lengths log-uniform in "
                f"[{min_len}, {max_len}] (mean {np.mean(lengths):.0f}); masked GRU({UNITS}), "
                f"batch {BATCH}; padding to the maximum computes {max_len / np.mean(lengths):.1f}x "
                "the steps of the real lengths")
    report.note("measured with tf.data directly (bucket_by_sequence_length / padded_batch): "
                "autoseq's sequence pipeline (branch 'classify') was not on main yet")
    return report.to_dict()


if __name__ == "__main__":
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--sequences", type=int)
    p.add_argument("--repeats", type=int)
    a = p.parse_args()
    common.main("Variable length", run, a, n=a.sequences or (400 if a.quick else 1000),
                repeats=a.repeats or (2 if a.quick else 3))
