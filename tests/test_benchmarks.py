"""The benchmark harness: `make bench` runs, writes RESULTS.md, and the search analysis is right."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import run_all, search_efficiency  # noqa: E402


def test_run_all_writes_results_with_machine_versions_and_goals(tmp_path):
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--only",
                           "startup", "--quick", "--out", str(out)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    assert "autoseq --help" in proc.stdout  # figures are printed as they are measured
    for expected in ("**Machine**", "usable cores", "GB memory", "tensorflow", "keras-tuner",
                     "optuna", "## Goals", "## 5. Startup", "| autoseq --help |"):
        assert expected in text
    assert "TensorFlow imported by --help | no" in text


def test_render_marks_missed_goals_and_skipped_benchmarks():
    report = {"key": "pipeline", "title": "Data pipeline", "notes": ["a note"], "seconds": 3.0,
              "skipped": None, "figures": [
                  {"name": "peak", "value": 1500.0, "unit": "MB", "goal": "< 1024 MB",
                   "met": False, "detail": "a|b"}]}
    skipped = {"key": "gpu", "title": "GPU", "notes": [], "seconds": 0.0, "figures": [],
               "skipped": "no GPU"}
    meta = {"machine": {"cpu": "X", "cores_usable": 2, "cores_logical": 2, "cores_physical": 1,
                        "memory_gb": 8.0, "os": "Linux"},
            "versions": {"python": "3.11"}, "date": "2026-01-01", "commit": "abc", "args": "",
            "seconds": 60.0, "load_start": [1.0], "load_end": [1.0], "noise": ""}
    text = run_all.render([report, skipped], meta)
    assert "| 2. Data pipeline | peak | 1,500.0 MB | < 1024 MB | **no** |" in text
    assert "a\\|b" in text and "- a note" in text
    assert "Skipped: no GPU." in text


def test_time_to_reach_counts_only_trials_finished_within_the_budget():
    trials = [[5.0, 3.0], [12.0, 1.0], [30.0, 0.5], [70.0, 0.1]]
    assert search_efficiency.best_at(trials, 4.0) == math.inf
    assert search_efficiency.best_at(trials, 60.0) == 0.5  # the 70 s trial ended too late
    assert search_efficiency.time_to_reach(trials, 1.0, 60.0) == 12.0
    assert search_efficiency.time_to_reach(trials, 0.2, 60.0) == math.inf


@pytest.mark.parametrize("value, shown", [(1234567.0, "1,234,567"), (0.394, "0.394"),
                                          (12.34, "12.3"), (None, "n/a"), ("no", "no")])
def test_values_are_formatted_for_people(value, shown):
    from benchmarks._common import format_value

    assert format_value(value) == shown


def test_forecast_suite_scores_a_tiny_series_on_the_same_windows(tmp_path):
    import numpy as np
    import pandas as pd

    from benchmarks import forecast_suite

    def tiny(folder):
        t = np.arange(100)
        rng = np.random.default_rng(0)
        path = folder / "tiny.csv"
        pd.DataFrame({"date": pd.date_range("2024-01-01", periods=len(t), freq="D"),
                      "y": 10 + 3 * np.sin(2 * np.pi * t / 7) + 0.05 * t
                      + rng.normal(0, 0.3, len(t))}).to_csv(path, index=False)
        return path

    missing = forecast_suite.Dataset("absent", "daily", "y", 3, 8, "no file", lambda folder: None)
    ds = forecast_suite.Dataset("tiny", "daily", "y", 3, 8, "last 8 days: 6 origins", tiny)
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## 5. Startup\n\nkept\n")
    report = forecast_suite.run(budget=2, stat_every=6, out=tmp_path / "suite", results=results,
                                datasets=[ds, missing])
    (row,) = report["extra"]["rows"]
    assert (row["origins"], row["stat_origins"]) == (6, 1)  # every 6th of 6 origins: the first
    for key in ("snaive", "snaive_sub", "ets", "arima", "autoseq", "autoseq_sub", "vs_stat",
                "vs_snaive"):
        assert math.isfinite(row[key]), key
    assert row["trials"] >= 1 and not row["notes"]  # predict reproduces the manifest's MAE
    assert report["extra"]["skipped"] == ["absent: source file missing (examples/ or "
                                          "../shared/datasets/)"]
    text = results.read_text()
    assert "## 5. Startup\n\nkept" in text and "| tiny | daily | 3 | 6 (" in text
    assert "autoseq beats the best statistical model on" in text
    cached = json.loads((tmp_path / "suite" / "stat_cache.json").read_text())
    assert [len(v["ets"]) for v in cached.values()] == [1]
