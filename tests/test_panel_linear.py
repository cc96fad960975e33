"""A panel's ``linear`` baseline: one linear autoregression over every series' normalised
training windows, in the leaderboard, as an export's blend and as a network's anchor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import autoseq
from autoseq.data._panel import load_panel
from autoseq.data._panel_data import PanelData
from tests.data.test_panel import make_panel_csv

HORIZON = 4


def _panel(path: Path, *, scale_first: float = 1.0, future: float = 1.0) -> PanelData:
    """Eight seasonal series (period 7, levels 1 to 10,000) of 60-90 daily steps: the first
    multiplied by ``scale_first``, every series' last ``2 * HORIZON`` steps (validation and
    test) by ``future``."""
    frame = pd.read_csv(make_panel_csv(path, n_series=8, lengths=(60, 90), shuffle=False))
    frame.loc[frame["series"] == "s0", "value"] *= scale_first
    tail = frame.groupby("series").cumcount(ascending=False) < 2 * HORIZON
    frame.loc[tail, "value"] *= future
    frame.to_csv(path, index=False)
    return PanelData(load_panel(path, series_col="series", target="value"), horizon=HORIZON)


def test_the_fit_is_scale_free_and_reads_only_training_steps(tmp_path):
    data = _panel(tmp_path / "a.csv")
    fit = data.linear_fit()
    assert fit is not None and fit.name == f"linear(L={fit.lookback})"
    assert fit.lookback in data.linear_lookbacks and fit.matrix.shape == (HORIZON, fit.lookback)
    np.testing.assert_allclose(fit.matrix.sum(axis=1), 1.0, atol=1e-9)
    # A series a thousand times larger is the same series to a window-normalised fit ...
    bigger = _panel(tmp_path / "b.csv", scale_first=1000.0).linear_fit()
    assert bigger.lookback == fit.lookback
    np.testing.assert_allclose(bigger.matrix, fit.matrix, atol=1e-6)
    # ... and validation and test steps are never read.
    moved = _panel(tmp_path / "c.csv", future=5.0).linear_fit()
    np.testing.assert_allclose(moved.matrix, fit.matrix, atol=1e-12)
    assert data.linear_fit(fit.lookback) is fit


def test_it_forecasts_the_seasonal_panel_better_than_naive(tmp_path):
    from autoseq.panel_baselines import score, simple_forecasts

    data = _panel(tmp_path / "p.csv")
    forecasts = simple_forecasts(data, "test")
    name = data.linear_fit().name
    assert name in forecasts
    x, _ = data.windows(*data.origins("test"), data.linear_fit().lookback, targets=False)
    np.testing.assert_allclose(forecasts[name], x @ data.linear_fit().matrix.T, rtol=1e-6)
    assert score(data, "test", forecasts[name])["owa"] < 0.5 * score(
        data, "test", forecasts["naive"])["owa"]


def test_the_in_graph_baseline_forecasts_raw_windows_as_the_fit_does(tmp_path):
    from autoseq.exporting._forecast_wrap import baseline_forecaster

    data = _panel(tmp_path / "p.csv")
    fit = data.linear_fit()
    model, width = baseline_forecaster(data, fit.name)
    assert width == fit.lookback
    x, _ = data.windows(*data.origins("val"), width, targets=False)
    np.testing.assert_allclose(model.predict(x[..., None], verbose=0)[..., 0],
                               x @ fit.matrix.T, rtol=1e-4, atol=1e-3)


def test_a_linear_anchored_panel_network_starts_at_the_linear_forecast(tmp_path):
    """``anchor: linear`` for a panel: the head starts at zero, so an untrained network's
    forecast of a raw window is the panel's linear forecast over the trial's lookback."""
    from autoseq.model import build_model, panel_context, resolve_config
    from autoseq.model.layers_panel import scale_free

    data = _panel(tmp_path / "p.csv")
    cfg = resolve_config({"cell": "gru", "units": 2, "anchor": "linear", "lookback": 10},
                         builder="rnn", horizon=HORIZON, season=7,
                         max_lookback=data.max_lookback)
    ctx = panel_context(data, cfg)
    np.testing.assert_allclose(ctx.anchor_matrix, data.linear_fit(10).matrix)
    raw = scale_free(build_model(cfg, ctx), lookback=10)
    x, _ = data.windows(*data.origins("test"), 10, targets=False)
    np.testing.assert_allclose(raw.predict(x[..., None], verbose=0)[..., 0],
                               x @ data.linear_fit(10).matrix.T, rtol=1e-4, atol=1e-2)


def test_a_search_ranks_it_and_export_may_blend_it(tmp_path):
    csv = make_panel_csv(tmp_path / "panel.csv", n_series=8, lengths=(60, 90))
    space = autoseq.SearchSpace([autoseq.Fixed("cell", "gru"), autoseq.Fixed("units", 4),
                                 autoseq.Fixed("lookback", 8), autoseq.Fixed("anchor", "linear")],
                                name="linear_panel")
    run = tmp_path / "run"
    autoseq.search(csv, series_col="series", target="value", horizon=HORIZON, space=space,
                   trials=1, max_epochs=1, out=run, seed=0, report=False,
                   stat_baselines=False)
    board = autoseq.open_run(run).leaderboard()
    linear = board[(board["state"] == "baseline") & board["model"].str.startswith("linear(L=")]
    assert len(linear) == 1 and np.isfinite(linear["val_loss"].iloc[0])
    res = autoseq.export(run, report=False)
    sel = res.manifest["selection"]
    assert sel["baseline"]["name"].startswith("linear(L=")  # it beats naive and seasonal naive
    if sel["blend"]:  # the manifest says what the served linear part is
        blend = next(t for t in res.manifest["transforms"] if t["kind"] == "blend_mean")
        assert blend["linear"]["lookback"] == int(sel["blend"][len("linear(L="):-1])
    assert res.manifest["lookback"] >= 8 and np.isfinite(res.manifest["metrics"]["test"]["owa"])


def test_too_little_history_leaves_no_fit_and_no_linear_anchor(tmp_path):
    from autoseq.space import load_search_space
    from autoseq.tasks import get_task

    csv = make_panel_csv(tmp_path / "short.csv", n_series=4, lengths=(13, 15))
    data = PanelData(load_panel(csv, series_col="series", target="value"), horizon=HORIZON)
    assert data.linear_fit() is None
    space = get_task("panel").adapt_space(load_search_space("panel"), data)
    anchors = {p.name: p for p in space.parameters}["anchor"].values
    assert "linear" not in anchors and "last" in anchors


def test_the_reports_examples_stand_beside_the_best_baseline(tmp_path):
    from autoseq.report._panel import score_part

    data = _panel(tmp_path / "p.csv")
    data.stat_baselines = False
    x, _ = data.windows(*data.origins("test"), 1, targets=False)
    scores = score_part(np.repeat(x, HORIZON, axis=1).astype("float64"), data, "test")
    best = min((k for k in scores.baselines if k != "naive2"),
               key=lambda k: scores.baselines[k]["owa"])
    assert best == data.linear_fit().name  # on this seasonal panel
    assert {e.baseline_name for e in scores.examples} == {best}
