"""Calibrated intervals of a panel export: coverage on a simulated panel, no crossing, predict's
columns, the manifest, the report's sentence, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.cli import main

pytestmark = pytest.mark.filterwarnings("ignore")

N_SERIES, LENGTH, HORIZON, PART = 60, 300, 4, 80
"""60 series, each with 77 validation and 77 test windows (4,620 of each, 4,800 noise draws):
the test coverage of a calibration on validation is within a point of nominal whatever the
network learnt in its two epochs (measured over panels drawn with seeds 0-3: 79.7-80.5% for
the 80% band, 94.8-95.3% for the 95% one; with 40 series of 240 steps it was 78.2-80.4%)."""


def _simulated_panel(path: Path) -> Path:
    """Weekly-seasonal series of levels 1 to 10,000 with Gaussian noise of a known spread
    relative to the level (5% of the mean), stationary: every series' windows divided by their
    scale look alike, and validation and test are exchangeable."""
    rng = np.random.default_rng(0)
    t = np.arange(LENGTH)
    frames = []
    for i in range(N_SERIES):
        level = 10 ** (4 * i / (N_SERIES - 1))
        value = level * (2 + np.sin(2 * np.pi * t / 7 + i) + 0.1 * rng.standard_normal(LENGTH))
        frames.append(pd.DataFrame({"series": f"s{i:02d}", "value": value, "date": pd.date_range(
            "2024-01-01", periods=LENGTH, freq="D")}))
    pd.concat(frames, ignore_index=True).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path, dict]:
    """One trial of a tiny GRU (2 epochs), searched with ``--quantiles 0.1,0.5,0.9`` (so the
    default export serves 80 and 95 % and those), exported to the run's ``export/``."""
    tmp = tmp_path_factory.mktemp("panel_intervals")
    csv = _simulated_panel(tmp / "panel.csv")
    space = autoseq.SearchSpace([
        autoseq.Fixed("cell", "gru"), autoseq.Fixed("depth", 1), autoseq.Fixed("units", 8),
        autoseq.Fixed("learning_rate", 0.01), autoseq.Choice("lookback", ("4x horizon",)),
        autoseq.Fixed("batch_size", 64), autoseq.Choice("anchor", ("last",)),
        autoseq.Fixed("loss", "mae")], name="tiny_panel")
    autoseq.search(csv, target="value", series_col="series", horizon=HORIZON, val_size=PART,
                   test_size=PART, space=space, trials=1, max_epochs=2, out=tmp / "run", seed=0,
                   report=False, stat_baselines=False, quantiles="0.1,0.5,0.9")
    res = autoseq.export(tmp / "run", report=False)
    return tmp / "run", csv, res.manifest


def test_the_bands_cover_the_test_windows_near_their_levels(exported):
    _, _, m = exported
    iv = m["intervals"]
    assert iv["levels"] == [80.0, 95.0] and iv["requested_quantiles"] == [0.1, 0.5, 0.9]
    assert iv["quantiles"] == [0.025, 0.1, 0.5, 0.9, 0.975]
    assert iv["windows"] == N_SERIES * (PART - HORIZON + 1)
    assert m["signature"]["outputs"] == {"output_0": [None, HORIZON, 1],
                                         "quantiles": [None, HORIZON, 1, 5]}
    test = m["metrics"]["test_intervals"]
    assert test["series"] == N_SERIES
    assert abs(test["levels"]["80"]["coverage"] - 0.80) < 0.03
    assert abs(test["levels"]["95"]["coverage"] - 0.95) < 0.02
    assert len(test["levels"]["95"]["coverage_by_step"]) == HORIZON
    assert {"msis", "width"} <= set(test["levels"]["95"]) and test["wql"] > 0
    assert set(m["metrics"]["val_intervals"]["levels"]) == {"80", "95"}
    baselines = m["metrics"]["test_baselines_intervals"]
    linear = {n for n in baselines if n.startswith("linear(L=")}
    assert set(baselines) - linear == {"naive", "seasonal_naive(m=7)"} and len(linear) == 1
    assert abs(baselines["seasonal_naive(m=7)"]["levels"]["95"]["coverage"] - 0.95) < 0.03


def test_predict_writes_the_savedmodels_quantiles_which_never_cross(exported, tmp_path):
    import tensorflow as tf

    run, csv, m = exported
    out = tmp_path / "pred.csv"
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(run / "export"), str(csv), "--out", str(out)])
    assert exit_.value.code == 0
    frame = pd.read_csv(out).sort_values(["series", "step"])
    bands = ["value_lo95", "value_lo80", "value_q0.5", "value_hi80", "value_hi95"]
    assert list(frame.columns) == ["series", "origin", "step", "timestamp", "value",
                                   "value_lo80", "value_hi80", "value_lo95", "value_hi95",
                                   "value_q0.1", "value_q0.5", "value_q0.9"]
    np.testing.assert_allclose(frame["value_q0.1"], frame["value_lo80"])
    raw = pd.read_csv(csv).sort_values(["series", "date"])
    windows = np.stack([rows["value"].to_numpy("float32")[-m["lookback"]:]
                        for _, rows in raw.groupby("series")])
    serve = tf.saved_model.load(str(run / "export")).signatures["serving_default"]
    q = serve(window=tf.constant(windows[..., None]))["quantiles"].numpy()[:, :, 0]
    np.testing.assert_allclose(frame[bands].to_numpy().reshape(N_SERIES, HORIZON, 5), q,
                               rtol=1e-5)
    # Series of any size, even a flat one: sorted quantiles, in the window's own units.
    rng = np.random.default_rng(1)
    odd = (rng.lognormal(0, 4, (64, 1, 1)) * rng.normal(1, 0.3, (64, m["lookback"], 1)))
    odd[0] = 5.0
    q = serve(window=tf.constant(odd.astype("float32")))["quantiles"].numpy()
    assert np.all(np.diff(q, axis=-1) >= 0) and np.all(np.isfinite(q))


def test_a_backtest_has_the_bands_and_reproduces_the_test_coverage(exported):
    run, csv, m = exported
    frame = autoseq.load_model(run / "export").predict(csv, all_origins=True)
    dates = pd.date_range("2024-01-01", periods=LENGTH, freq="D")
    origin = pd.to_datetime(frame["origin"])
    test = frame[(origin >= dates[LENGTH - PART - 1]) & (origin <= dates[-HORIZON - 1])]
    assert len(test) == N_SERIES * (PART - HORIZON + 1) * HORIZON
    for level in ("80", "95"):
        inside = test["value_actual"].between(test[f"value_lo{level}"], test[f"value_hi{level}"])
        assert inside.mean() == pytest.approx(
            m["metrics"]["test_intervals"]["levels"][level]["coverage"], abs=1e-3)
    assert (frame["value_lo95"] <= frame["value_lo80"]).all()
    assert (frame["value_hi80"] <= frame["value_hi95"]).all()


def test_the_report_says_how_the_bands_covered_every_series(exported):
    run, _, m = exported
    md = autoseq.write_report(run, importance=False).markdown.read_text().replace("\\_", "_")
    assert "Calibrated intervals on the test split" in md
    assert f"of the test outcomes fell inside the 95% band, over {N_SERIES} series; MSIS" in md
    # beside the baseline band with the lowest MSIS
    bands = m["metrics"]["test_baselines_intervals"]
    rival = min(bands, key=lambda n: bands[n]["levels"]["95"]["msis"])
    assert re.search(re.escape(f"vs {rival}'s ") + r"[\d.]+ \(which covered \d+%\)", md)
    assert (run / "report_files" / "coverage.png").is_file()


def test_cli_refuses_a_bad_level_in_one_line(exported, capsys):
    run, _, _ = exported
    with pytest.raises(SystemExit) as exit_:
        main(["export", str(run), "--levels", "80,120", "--no-report", "-q"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "(0, 100)" in err and "120" in err and len(err.splitlines()) == 1
    assert json.loads((run / "export" / "autoseq.json").read_text())["intervals"]


def test_msis_is_averaged_per_series_then_over_series():
    from autoseq.panel_metrics import panel_msis

    truth = np.array([[1.0], [1.0], [5.0]])
    lo, hi = truth - 1, truth + 1  # width 2, every outcome inside
    series, scales = np.array([0, 0, 1]), np.array([1.0, 2.0])
    assert panel_msis(lo, hi, truth, 95.0, series=series, scales=scales) == pytest.approx(1.5)
    flat = np.array([1.0, np.nan])  # a constant series has no scale: left out
    assert panel_msis(lo, hi, truth, 95.0, series=series, scales=flat) == pytest.approx(2.0)
