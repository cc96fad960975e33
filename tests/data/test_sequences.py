import math

import numpy as np
import pandas as pd
import pytest

from autoseq.cli import main
from autoseq.data import SequenceData, load_sequences, resolve_task, stratified_split
from autoseq.data._sequence_data import BUCKET_BATCHES
from autoseq.exceptions import DataError
from tests.conftest import EXAMPLES, make_sequences_csv


def _load(path, **kwargs):
    return load_sequences(path, **{"target": "label", "id_col": "seq", "step_col": "t"} | kwargs)


def test_long_format_groups_and_orders_the_steps(sequences_csv):
    table = _load(sequences_csv)
    frame = pd.read_csv(sequences_csv)
    assert len(table.ids) == 60 and table.features == ("a", "b")
    first = frame[frame.seq == table.ids[0]].sort_values("t")
    np.testing.assert_allclose(table.sequences[0], first[["a", "b"]].to_numpy())
    assert table.labels[0] == first["label"].iloc[0]
    assert list(table.lengths) == [len(frame[frame.seq == i]) for i in table.ids]


def test_label_varying_within_a_sequence_is_one_line_exit_2(sequences_csv, tmp_path, capsys):
    frame = pd.read_csv(sequences_csv)
    rows = frame.index[frame.seq == "s7"]
    frame.loc[rows[1:2], "label"] = "sideways"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(bad), "--id-col", "seq", "--step-col", "t", "--target", "label",
              "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and err.count("\n") == 0
    assert "sequence 's7'" in err and "constant within a sequence" in err
    assert not (tmp_path / "r").exists()


def test_single_class_is_refused(tmp_path):
    path = make_sequences_csv(tmp_path / "one.csv", classes=("only",))
    with pytest.raises(DataError, match="single class 'only'; classification needs at least two"):
        SequenceData(_load(path))


def test_stratified_split_keeps_class_shares(tmp_path):
    path = make_sequences_csv(tmp_path / "s.csv", n=100, classes=("a", "b", "c", "d"))
    data = SequenceData(_load(path), val_size=0.2, test_size=0.2)
    parts = data.parts
    assert sorted(np.concatenate(list(parts.values()))) == list(range(100))
    for part, size in (("val", 20), ("test", 20)):
        assert len(parts[part]) == size
        assert np.bincount(data.y[parts[part]], minlength=4).tolist() == [5, 5, 5, 5]
    again = SequenceData(_load(path), val_size=0.2, test_size=0.2)
    assert all(np.array_equal(parts[p], again.parts[p]) for p in parts)


def test_stratified_split_counts_and_limits():
    strata = np.array([0] * 30 + [1] * 10)
    keep, take = stratified_split(strata, 8, flag="--val-size")
    assert len(take) == 8 and np.bincount(strata[take]).tolist() == [6, 2]
    assert len(np.intersect1d(keep, take)) == 0
    with pytest.raises(DataError, match="--val-size 0.99 takes"):
        stratified_split(np.array([0, 1]), 0.99, flag="--val-size")


def test_test_file_is_the_test_part_and_validation_comes_from_training(tmp_path):
    train = _load(make_sequences_csv(tmp_path / "train.csv", n=40))
    test = _load(make_sequences_csv(tmp_path / "test.csv", n=30, seed=1))
    data = SequenceData(train, test=test)
    assert list(data.parts["test"]) == list(range(40, 70))
    assert data.parts["val"].max() < 40 and len(data.parts["val"]) == 6
    with pytest.raises(DataError, match="exclude each other"):
        SequenceData(train, test=test, test_size=0.2)


def test_scaler_sees_only_training_sequences(sequences_csv):
    data = SequenceData(_load(sequences_csv))
    train = np.concatenate([data.raw[i] for i in data.parts["train"]])
    np.testing.assert_allclose(data.scaler.mean, train.mean(axis=0))
    everything = np.concatenate(data.raw)
    assert not np.allclose(data.scaler.mean, everything.mean(axis=0))


def test_unshuffled_batches_are_padded_with_nan_and_line_up_with_targets(sequences_csv):
    data = SequenceData(_load(sequences_csv))
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in data.dataset("train", batch_size=8)],
                 strict=True)
    order = data.indices("train")
    assert np.array_equal(np.concatenate(ys), data.targets("train"))
    seen = 0
    for x in xs:
        for row in x:
            real = ~np.isnan(row).all(axis=1)
            length = data.lengths[order[seen]]
            assert real.sum() == length and real[:length].all()  # right padding, never empty
            np.testing.assert_allclose(row[:length], data.scaled[order[seen]])
            seen += 1
        assert x.shape[1] == max(data.lengths[order[seen - len(x):seen]])


def test_bucketing_bounds_the_padding_and_keeps_the_batch_count(tmp_path):
    path = make_sequences_csv(tmp_path / "long.csv", n=400, min_len=1, max_len=100)
    data = SequenceData(_load(path), val_size=20, test_size=20)
    n, batch = len(data.parts["train"]), 8
    epochs = [[(x.numpy(), y.numpy()) for x, y in data.dataset("train", batch_size=batch,
                                                               shuffle=True, seed=s)]
              for s in (0, 1)]
    padding = []
    for batches in epochs:
        assert len(batches) == math.ceil(n / batch)
        assert sum(len(y) for _, y in batches) == n
        for x, _ in batches:
            lengths = (~np.isnan(x).all(axis=2)).sum(axis=1)
            assert lengths.min() >= 1
            padding.append(x.shape[1] - lengths.min())
    # a batch is cut from BUCKET_BATCHES · batch shuffled sequences sorted by length: its spread
    # is a small share of the 1..100 range, where random batches would spread over most of it
    assert BUCKET_BATCHES * batch < n
    assert np.mean(padding) < 10 and np.max(padding) < 40
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(*epochs, strict=True))


def test_max_length_keeps_the_last_steps(sequences_csv):
    table = _load(sequences_csv)
    data = SequenceData(table, max_length=6)
    longest = int(np.argmax(table.lengths))
    assert data.lengths.max() == 6 and data.truncated == int((table.lengths > 6).sum())
    np.testing.assert_allclose(data.raw[longest], table.sequences[longest][-6:])


def test_wide_format_trailing_blanks_make_shorter_sequences(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("name,label,s0,s1,s2,s3\nx,1,0.5,1.5,,\ny,2,1,,3,4\nz,1,2,2,2,2\n")
    table = load_sequences(path, target="label", id_col="name", format="wide")
    assert table.ids == ("x", "y", "z") and table.features == ("value",)
    assert list(table.lengths) == [2, 4, 4]
    np.testing.assert_allclose(table.sequences[1][:, 0], [1, 2, 3, 4])  # inner gap interpolated
    assert table.filled == 1


@pytest.mark.parametrize(("labels", "expected"), [
    (("cat", "dog") * 10, "classify"),
    (("1", "2", "3") * 10, "classify"),
    (tuple(f"{x:.3f}" for x in np.linspace(0, 1, 30)), "regress"),
    (tuple(str(i) for i in range(30)), "regress"),
])
def test_task_is_inferred_from_the_labels(labels, expected):
    assert resolve_task(labels, None) == expected


def test_regression_of_text_labels_is_refused():
    with pytest.raises(DataError, match="holds 'cat', not a finite number"):
        resolve_task(("1.5", "cat"), "regress", target="y")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda f: f.assign(t=f["t"].where(f.index != f.index[f.seq == "s3"][0], 99)).pipe(
        lambda g: pd.concat([g, g[g.seq == "s3"].head(1)])), "has step '99' twice in 't'"),
    (lambda f: f.assign(seq=f["seq"].where(f.index != 5, "")), "empty sequence id in 'seq'"),
    (lambda f: f.assign(a=f["a"].where(f.seq != "s2")), "sequence 's2': column 'a' is empty"),
    (lambda f: f.assign(label=f["label"].where(f.index != 5)), "has no 'label'"),
])
def test_malformed_sequences_are_named(sequences_csv, tmp_path, edit, message):
    bad = tmp_path / "bad.csv"
    edit(pd.read_csv(sequences_csv)).to_csv(bad, index=False)
    with pytest.raises(DataError, match=message):
        _load(bad)


def test_missing_values_are_interpolated_within_their_sequence(sequences_csv, tmp_path):
    frame = pd.read_csv(sequences_csv)
    s1 = frame[frame.seq == "s1"].sort_values("t")
    frame.loc[s1.index[2], "a"] = np.nan
    path = tmp_path / "gap.csv"
    frame.to_csv(path, index=False)
    table = _load(path)
    seq = table.sequences[table.ids.index("s1")]
    assert table.filled == 1
    assert seq[2, 0] == pytest.approx((s1["a"].iloc[1] + s1["a"].iloc[3]) / 2)


def test_test_classes_must_occur_in_training(tmp_path):
    train = _load(make_sequences_csv(tmp_path / "train.csv"))
    test = _load(make_sequences_csv(tmp_path / "test.csv", classes=("down", "left")))
    with pytest.raises(DataError, match="class 'left' of 'label' does not occur in the training"):
        SequenceData(train, test=test)


@pytest.fixture
def truncated_ipd(tmp_path):
    """ItalyPowerDemand's 67 training days, each cut to a random length of 6 to 24 hours."""
    frame = pd.read_csv(EXAMPLES / "italypowerdemand_train.csv")
    rng = np.random.default_rng(0)
    keep = {i: int(rng.integers(6, 25)) for i in frame.sequence_id.unique()}
    frame = frame[frame.step < frame.sequence_id.map(keep)]
    frame.to_csv(tmp_path / "ipd.csv", index=False)
    return tmp_path / "ipd.csv", keep


def test_real_sequences_cut_to_random_lengths(truncated_ipd):
    path, keep = truncated_ipd
    table = load_sequences(path, target="label", id_col="sequence_id", step_col="step")
    assert [len(s) for s in table.sequences] == [keep[int(i)] for i in table.ids]
    data = SequenceData(table)
    assert data.task == "classify" and data.classes == ("1", "2")
    assert data.max_length == max(keep.values())
    padded = data.padded("val")
    lengths = data.lengths[data.indices("val")]
    assert padded.shape == (len(lengths), lengths.max(), 1)
    for row, n in zip(padded, lengths, strict=True):
        assert not np.isnan(row[:n]).any() and np.isnan(row[n:]).all()
