import numpy as np
import pytest

from autoseq.model._builder import (
    ModelContext,
    build_model,
    cudnn_eligible,
    resolve_config,
    resolve_lookback,
)


@pytest.mark.parametrize(("value", "expected"), [(10, 10), ("2x horizon", 12), ("1x season", 7),
                                                 ("4x season", 20), (500, 20)])
def test_lookback_resolves_against_the_data(value, expected):
    assert resolve_lookback(value, horizon=6, season=7, max_lookback=20) == expected


def test_cudnn_eligibility():
    assert cudnn_eligible({"cell": "gru", "recurrent_dropout": 0.0})
    assert not cudnn_eligible({"cell": "lstm", "recurrent_dropout": 0.1})
    assert not cudnn_eligible({"cell": "simple_rnn", "recurrent_dropout": 0.0})


def test_clipping_reaches_the_optimizer():
    cfg = resolve_config({"cell": "gru", "units": 4, "clipping": "norm", "clipnorm": 0.5},
                         builder="rnn", horizon=3, season=1, max_lookback=10)
    model = build_model(cfg, ModelContext(lookback=cfg["lookback"], n_inputs=2, horizon=3,
                                          n_targets=1))
    assert model.optimizer.clipnorm == pytest.approx(0.5)
    assert model.output_shape == (None, 3, 1)


def test_stacked_bidirectional_model_shapes():
    cfg = resolve_config({"cell": "lstm", "depth": 2, "units": 3, "bidirectional": True},
                         builder="rnn", horizon=4, season=1, max_lookback=10)
    model = build_model(cfg, ModelContext(lookback=6, n_inputs=3, horizon=4, n_targets=2))
    names = [layer.name for layer in model.layers]
    assert names.count("bidirectional_0") == 1 and "bidirectional_1" in names
    assert model.predict(np.zeros((5, 6, 3), "float32"), verbose=0).shape == (5, 4, 2)


def _anchored(anchor, *, horizon, season, n_inputs=1):
    """A tiny GRU correcting ``anchor`` over a 6-step window (its correction starts at zero)."""
    cfg = resolve_config({"cell": "gru", "units": 2, "anchor": anchor}, builder="rnn",
                         horizon=horizon, season=season, max_lookback=10)
    return build_model(cfg, ModelContext(lookback=6, n_inputs=n_inputs, horizon=horizon,
                                         n_targets=1, season=season))


def test_seasonal_anchor_starts_at_the_seasonal_naive_forecast():
    model = _anchored("seasonal", horizon=5, season=3, n_inputs=2)
    x = np.random.default_rng(0).normal(size=(2, 6, 2)).astype("float32")
    expected = x[:, [3, 4, 5, 3, 4], :1]  # same step one season earlier
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-6)


@pytest.mark.parametrize("mode", ["drift", "seasonal_drift"])
def test_trend_anchors_start_at_their_forecast_and_follow_a_line(mode):
    model = _anchored(mode, horizon=5, season=3)
    x = np.random.default_rng(0).normal(size=(2, 6, 1)).astype("float32")
    if mode == "drift":
        expected = x[:, -1:, :] + (x[:, -1:, :] - x[:, :1, :]) / 5 * np.arange(1, 6)[:, None]
    else:  # seasonal naive + the last season's mean minus the one before, once per season ahead
        change = x[:, 3:, :].mean(1, keepdims=True) - x[:, :3, :].mean(1, keepdims=True)
        expected = x[:, [3, 4, 5, 3, 4], :] + change * np.array([1, 1, 1, 2, 2])[:, None]
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
    # On a straight line both are exact: the network starts with zero error on a pure trend.
    line = (2.0 * np.arange(6, dtype="float32") + 1)[None, :, None]
    np.testing.assert_allclose(model.predict(line, verbose=0)[0, :, 0],
                               2.0 * np.arange(6, 11) + 1, atol=1e-4)


@pytest.mark.parametrize("relative", [True, False])
def test_a_relative_network_moves_with_the_level_of_its_window(relative):
    """With ``relative``, the recurrent layers see the targets minus the window's last value, so
    a window shifted by c (a series that trended past the training range) is forecast shifted by
    exactly c; a covariate column is not shifted and still matters. Without it, the shift
    reaches the network's inputs and the correction changes."""
    import keras

    cfg = resolve_config({"cell": "gru", "units": 4, "anchor": "last", "relative": relative},
                         builder="rnn", horizon=3, season=1, max_lookback=10)
    model = build_model(cfg, ModelContext(lookback=6, n_inputs=2, horizon=3, n_targets=1))
    assert ("relative" in [layer.name for layer in model.layers]) is relative
    head = model.get_layer("head")  # a non-zero correction (it starts at zero)
    head.set_weights([np.full_like(w, 0.3) for w in head.get_weights()])
    x = np.random.default_rng(0).normal(size=(2, 6, 2)).astype("float32")
    shifted = x + np.array([5.0, 0.0], "float32")  # the target column up by 5
    moved = model.predict(shifted, verbose=0) - model.predict(x, verbose=0)
    if relative:
        np.testing.assert_allclose(moved, 5.0, atol=1e-4)
        other = x.copy()
        other[:, :, 1] += 1.0
        assert not np.allclose(model.predict(other, verbose=0), model.predict(x, verbose=0))
        reloaded = keras.models.clone_model(model)  # serializable: config round trip
        assert "relative" in [layer.name for layer in reloaded.layers]
    else:
        assert np.abs(moved - 5.0).max() > 1e-2


def test_seasonal_drift_is_seasonal_naive_when_the_window_holds_less_than_two_seasons():
    model = _anchored("seasonal_drift", horizon=4, season=4)
    x = np.random.default_rng(1).normal(size=(2, 6, 1)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), x[:, [2, 3, 4, 5], :], atol=1e-6)


def test_ets_operator_is_the_damped_trend_recursion_and_nests_naive_with_drift():
    from autoseq.data._holt import holt_operator

    y = np.random.default_rng(0).normal(size=20).cumsum()
    a, b, phi = 0.3, 0.1, 0.9
    level, trend = y[0], (y[-1] - y[0]) / 19
    for v in y[1:]:
        new = a * v + (1 - a) * (level + phi * trend)
        trend, level = b * (new - level) + (1 - b) * phi * trend, new
    direct = [level + sum(phi ** i for i in range(1, h + 1)) * trend for h in range(1, 5)]
    np.testing.assert_allclose(holt_operator(a, b, phi, lookback=20, horizon=4) @ y, direct)
    line = 2.0 * np.arange(10) + 5
    np.testing.assert_allclose(holt_operator(1.0, 0.0, 1.0, lookback=10, horizon=3) @ line,
                               [25.0, 27.0, 29.0])
    np.testing.assert_allclose(holt_operator(1.0, 0.0, 0.0, lookback=10, horizon=3) @ line,
                               [23.0] * 3)


def test_ets_fit_follows_a_trend_that_naive_lags():
    """Chosen on noisy trending windows, the damped-trend forecast of fresh windows misses far
    less than naive; on a random walk it is no worse than naive (the grid holds naive)."""
    from autoseq.data._holt import fit_holt, holt_operator

    rng = np.random.default_rng(0)
    t = np.arange(60)

    def windows(n, slope, noise):
        x = rng.normal(size=(n, 1)) * 10 + slope * t + rng.normal(scale=noise, size=(n, 60))
        return x[:, :48, None], x[:, 48:, None]

    x, y = windows(400, 0.5, 1.0)
    op = holt_operator(*fit_holt(x, y), lookback=48, horizon=12)
    fx, fy = windows(200, 0.5, 1.0)
    ets = np.abs(np.einsum("hl,nlt->nht", op, fx) - fy).mean()
    naive = np.abs(fx[:, -1:, :] - fy).mean()
    assert ets < 0.5 * naive
    walk = rng.normal(size=(400, 60)).cumsum(axis=1)[:, :, None]
    op = holt_operator(*fit_holt(walk[:, :48], walk[:, 48:]), lookback=48, horizon=12)
    fit_mae = np.abs(np.einsum("hl,nlt->nht", op, walk[:, :48]) - walk[:, 48:]).mean()
    assert fit_mae <= np.abs(walk[:, 47:48] - walk[:, 48:]).mean() + 1e-9


def test_ets_anchor_starts_at_its_forecast_and_needs_fitted_weights():
    from autoseq.data._holt import holt_operator
    from autoseq.exceptions import SearchSpaceError

    cfg = resolve_config({"cell": "gru", "units": 2, "anchor": "ets"}, builder="rnn", horizon=3,
                         season=1, max_lookback=10)
    op = holt_operator(0.5, 0.1, 0.9, lookback=6, horizon=3)
    model = build_model(cfg, ModelContext(lookback=6, n_inputs=2, horizon=3, n_targets=1,
                                          anchor_matrix=op))
    x = np.random.default_rng(0).normal(size=(4, 6, 2)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0)[..., 0], x[..., 0] @ op.T, atol=1e-5)
    with pytest.raises(SearchSpaceError, match="anchor ets"):
        build_model(cfg, ModelContext(lookback=6, n_inputs=1, horizon=3, n_targets=1))


def test_the_dense_head_learns_a_u_shaped_response_to_a_known_future_covariate():
    """Demand against temperature: heating below a threshold, cooling above it. A head linear in
    the covariate explains none of it (symmetric around zero); the per-step response does."""
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n, horizon = 2048, 4
    window = rng.normal(size=(n, 6, 1)).astype("float32")  # the past tells nothing of the future
    future = rng.uniform(-2, 2, size=(n, horizon, 1)).astype("float32")
    y = future**2 + rng.normal(0, 0.05, size=future.shape).astype("float32")
    cfg = resolve_config({"cell": "gru", "units": 4, "future": True, "learning_rate": 0.01,
                          "loss": "mse"}, builder="rnn", horizon=horizon, season=1, max_lookback=6)
    model = build_model(cfg, ModelContext(lookback=6, n_inputs=1, horizon=horizon, n_targets=1,
                                          n_future=1))
    feed = {"window": window, "future": future}
    model.fit(feed, y, epochs=25, batch_size=64, verbose=0)
    flat = np.c_[future[..., 0], np.ones(n)]  # the best a linear head can do: least squares
    linear = flat @ np.linalg.lstsq(flat, y[..., 0], rcond=None)[0]
    linear_mse = float(np.mean((linear - y[..., 0]) ** 2))
    mse = float(np.mean((model.predict(feed, verbose=0) - y) ** 2))
    assert mse < 0.25 * linear_mse, (mse, linear_mse)
    assert cfg["future_response"] is True, "recorded with the trial"
    before = {k: v for k, v in cfg.items() if k != "future_response"}  # a trial made before it
    rebuilt = build_model(before, ModelContext(lookback=6, n_inputs=1, horizon=horizon,
                                               n_targets=1, n_future=1))
    assert "future_response" not in [layer.name for layer in rebuilt.layers], \
        "rebuilt as it was trained, so its saved weights still load"
