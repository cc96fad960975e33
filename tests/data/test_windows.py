import numpy as np
import pytest

from autoseq.data import ForecastData, load_series, resolve_split
from autoseq.exceptions import DataError


@pytest.fixture
def data(series_csv):
    return ForecastData(load_series(series_csv, targets=["y"]), horizon=5)


def test_split_is_chronological_and_sized(data):
    s = data.split
    assert (s.train, s.val, s.test) == (112, 24, 24)
    idx = data.series.frame.index
    assert idx[s.train - 1] < idx[s.train] < idx[s.train + s.val]
    d = data.describe()
    assert d["train"]["end"] < d["val"]["start"] < d["val"]["end"] < d["test"]["start"]


def test_scaler_sees_only_training_rows(series_csv):
    ts = load_series(series_csv, targets=["y"])
    data = ForecastData(ts, horizon=5)
    train = ts.frame.to_numpy()[: data.split.train]
    np.testing.assert_allclose(data.scaler.mean, train.mean(axis=0))
    np.testing.assert_allclose(data.scaler.scale, train.std(axis=0))
    # changing validation/test values does not move the scaler
    ts.frame.iloc[data.split.train:, 0] += 1000.0
    assert np.allclose(ForecastData(ts, horizon=5).scaler.mean, data.scaler.mean)


def test_windows_match_slices_and_never_look_ahead(data):
    lookback = 9
    ds = data.dataset("val", lookback=lookback, batch_size=4)
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds], strict=True)
    x, y = np.concatenate(xs), np.concatenate(ys)
    origins = data.origins("val")
    assert len(x) == len(origins) == data.split.val - data.horizon + 1
    for i, o in enumerate(origins):
        np.testing.assert_array_equal(x[i], data.scaled[o - lookback:o])
        np.testing.assert_array_equal(y[i], data.scaled[o:o + data.horizon, :1])
    val_start, val_stop = data.split.bounds("val")
    assert origins.min() == val_start and origins.max() + data.horizon == val_stop


def test_validation_windows_do_not_depend_on_lookback(data):
    assert np.array_equal(data.origins("val", 3), data.origins("val", 50))
    assert data.origins("train", 50).min() == 50


def test_split_sizes_accept_rows_or_fractions():
    assert resolve_split(200, val_size=30, test_size=0.1, horizon=5).val == 30
    assert resolve_split(200, val_size=30, test_size=0.1, horizon=5).test == 20
    with pytest.raises(DataError, match="at least .* rows are needed"):
        resolve_split(20, val_size=0.3, test_size=0.3, horizon=5)


@pytest.mark.parametrize("buffer_up_to", [20_000, 0])  # shuffle buffer, whole permutations
def test_shuffled_windows_are_a_new_permutation_each_epoch_and_repeat_with_the_seed(
        data, monkeypatch, buffer_up_to):
    import autoseq.data._windows

    monkeypatch.setattr(autoseq.data._windows, "_BUFFER_UP_TO", buffer_up_to)

    def epochs(seed):
        ds = data.dataset("train", lookback=7, batch_size=16, shuffle=True, seed=seed)
        assert ds.cardinality().numpy() == -(-len(data.origins("train", 7)) // 16)
        return [np.concatenate([x.numpy()[:, -1, 0] for x, _ in ds]) for _ in range(2)]

    first, second = epochs(3)
    train = data.scaled[data.origins("train", 7) - 1, 0]  # each window's last input value
    assert np.array_equal(np.sort(first), np.sort(train))  # every window once per epoch
    assert np.array_equal(np.sort(second), np.sort(train))
    assert not np.array_equal(first, second)  # a fresh order every epoch
    again = epochs(3)
    assert np.array_equal(again[0], first) and np.array_equal(again[1], second)
    assert not np.array_equal(epochs(4)[0], first)
    val = data.dataset("val", lookback=7, batch_size=4)  # in order, whole batches then the rest
    got = np.concatenate([y.numpy()[:, 0, 0] for _, y in val])
    np.testing.assert_array_equal(got, data.scaled[data.origins("val"), 0])
