"""Score an exported panel model on a panel's test file (M4 weekly, the hourly proxy, any).

Forecasts the ``horizon`` steps after the end of every series of the training file with the
exported model, and the baselines (naive, seasonal naive, Naive2, AutoETS, AutoTheta, and MSTL
+ AutoETS where the frequency has two seasons: hourly 24 and 168) from the same histories, and
scores all of them against the test file (the first ``horizon`` rows of each series) with M4's
sMAPE, MASE (M4's seasonal period: 1 for weekly, 24 for hourly) and OWA against Naive2. Also
times loading, predicting and the statistical baselines.

Usage:
    python benchmarks/panel_score.py MODEL_FOLDER m4_weekly_train.csv m4_weekly_test.csv
    python benchmarks/panel_score.py MODEL_FOLDER hourly_train.csv hourly_test.csv  # hourly_panel.py
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd

from autoseq.data._panel import load_panel
from autoseq.data._panel_data import PanelData
from autoseq.panel_baselines import simple_forecasts, stat_forecasts
from autoseq.panel_metrics import m4_season, mase_scale, owa, panel_scores
from autoseq.predict import load_model


def main(model_dir: str, train_csv: str, test_csv: str) -> dict:
    model = load_model(model_dir)
    m = model.manifest
    start = time.perf_counter()
    panel = load_panel(train_csv, series_col=m["series_col"], target=m["target"],
                       time_col=m["time_col"])
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    frame = model.predict(train_csv)
    predict_s = time.perf_counter() - start
    h = int(m["horizon"])
    test = pd.read_csv(test_csv)
    truth = test.groupby(m["series_col"], sort=False)[m["target"]].apply(
        lambda s: s.to_numpy()[:h]).reindex(panel.names)
    truth = np.stack(truth.to_numpy())
    pred = frame[m["target"] if m["target"] in frame else "value"].to_numpy().reshape(-1, h)
    # The baselines forecast from every series' whole history (its "future" window).
    data = PanelData(panel, horizon=h, val_size=h, test_size=h)
    forecasts = {"autoseq": pred} | simple_forecasts(data, "future")
    start = time.perf_counter()
    forecasts |= stat_forecasts(data, "future")
    stat_s = time.perf_counter() - start
    season = m4_season(panel.freq)
    scales = np.array([mase_scale(panel.series(i), season) for i in range(panel.n_series)])
    idx = np.arange(panel.n_series)
    scores = {k: panel_scores(v, truth, idx, scales, panel.n_series) for k, v in forecasts.items()}
    ref = scores["naive2"]
    table = {k: {"smape": float(np.mean(s["smape"])), "mase": float(np.nanmean(s["mase"])),
                 "owa": owa(s["smape"], s["mase"], ref["smape"], ref["mase"]),
                 "series_won_vs_naive2": float(np.mean(s["mase"] < ref["mase"]))}
             for k, s in scores.items()}
    return {"series": panel.n_series, "rows": panel.rows, "load_s": load_s,
            "series_per_s": panel.n_series / load_s, "predict_s": predict_s, "stat_baselines_s": stat_s, "scores": table}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4]), indent=2))
