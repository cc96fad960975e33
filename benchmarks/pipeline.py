"""Data pipeline: a 1,000,000-row, 10-column CSV with lookback 336 — load time, peak memory, windows/s.

Each measurement runs in a fresh Python process (so peak memory is this pipeline's alone, above
a baseline taken after importing TensorFlow):

* end to end: ``load_series`` → ``ForecastData`` → one shuffled epoch of
  ``ForecastData.dataset("train", ...)``; peak RSS above the baseline, load time, and
  ``pandas.read_csv`` of the same file (no checks at all) as the reference for the load.
* speed: windows per second over whole shuffled epochs of ``ForecastData.dataset`` against a NumPy
  reference that slices a ``sliding_window_view`` per batch (same origins, same batch size, same
  ``[batch, lookback, columns]`` layout), alternated, in the same process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    from benchmarks import _common as common
except ModuleNotFoundError:  # run as a script: python benchmarks/pipeline.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import _common as common

ROWS, COLUMNS, LOOKBACK, HORIZON = 1_000_000, 10, 336, 24
MEMORY_GOAL_MB = 1024


def ensure_csv(rows: int = ROWS, columns: int = COLUMNS) -> Path:
    """An hourly CSV (time column + ``columns`` noisy daily/weekly waves), made once and kept."""
    path = common.WORK / f"hourly_{rows}x{columns}.csv"
    if path.exists():
        return path
    import numpy as np
    import pandas as pd

    from autoseq._io import write_with_atomic

    print(f"  generating {path.relative_to(common.ROOT)} (once)", flush=True)
    rng = np.random.default_rng(0)
    t = np.arange(rows)
    frame = pd.DataFrame({"time": pd.date_range("1900-01-01", periods=rows, freq="h")})
    for j in range(columns):
        wave = 10 * np.sin(2 * np.pi * t / 24 + j) + 5 * np.sin(2 * np.pi * t / 168 + j / 2)
        frame[f"x{j}"] = np.round(wave + rng.normal(0, 1, rows), 3)
    write_with_atomic(path, lambda p: frame.to_csv(p, index=False,
                                                   date_format="%Y-%m-%d %H:%M:%S"))
    return path


def _child_e2e(csv: Path, batch_size: int) -> dict[str, Any]:
    common.quiet_tensorflow()
    import gc

    from autoseq.data import ForecastData, load_series

    gc.collect()
    with common.PeakRSS() as total:
        with common.PeakRSS() as load_mem:
            load_s, series = common.timed(lambda: load_series(csv, targets=["x0"]))
        data = ForecastData(series, horizon=HORIZON)
        ds = data.dataset("train", lookback=LOOKBACK, batch_size=batch_size, shuffle=True,
                          seed=0)
        windows = sum(int(x.shape[0]) for x, _ in ds)
    import pandas as pd

    read_s, _ = common.timed(lambda: pd.read_csv(csv))
    n_all = len(series.frame) - LOOKBACK - HORIZON + 1
    return {"load_s": load_s, "pandas_read_csv_s": read_s, "load_peak_mb": load_mem.delta_mb,
            "total_peak_mb": total.delta_mb, "windows": windows, "rows": len(series.frame),
            "inputs": data.n_inputs,
            "materialised_gb": n_all * LOOKBACK * data.n_inputs * 4 / 1e9}


def _child_speed(csv: Path, batch_size: int, rounds: int) -> dict[str, Any]:
    common.quiet_tensorflow()
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    from autoseq.data import ForecastData, load_series

    data = ForecastData(load_series(csv, targets=["x0"]), horizon=HORIZON)
    origins = data.origins("train", LOOKBACK)
    # [windows, columns, lookback] views: no copy until a batch is sliced out of them
    inputs = sliding_window_view(data.scaled, LOOKBACK, axis=0)
    targets = sliding_window_view(data.scaled[:, data.target_idx], HORIZON, axis=0)
    seed = [0]

    def autoseq_epoch(batches: int | None = None) -> int:
        seed[0] += 1
        ds = data.dataset("train", lookback=LOOKBACK, batch_size=batch_size, shuffle=True,
                          seed=seed[0])
        return sum(int(x.shape[0]) for x, _ in (ds.take(batches) if batches else ds))

    def numpy_epoch(batches: int | None = None) -> int:
        seed[0] += 1
        order = np.random.default_rng(seed[0]).permutation(origins)
        if batches:
            order = order[:batches * batch_size]
        n = 0
        for i in range(0, len(order), batch_size):
            o = order[i:i + batch_size]
            x = np.ascontiguousarray(inputs[o - LOOKBACK].transpose(0, 2, 1))
            y = np.ascontiguousarray(targets[o].transpose(0, 2, 1))
            n += len(x) + 0 * len(y)
        return n

    out: dict[str, list[float]] = {"autoseq_s": [], "numpy_s": [], "autoseq_mb": [],
                                   "numpy_mb": []}
    candidates = {"autoseq": autoseq_epoch, "numpy": numpy_epoch}
    for warm_up in candidates.values():  # first use: tracing, thread pools, page faults
        warm_up(200)
    for r in range(rounds):
        for name in (("autoseq", "numpy") if r % 2 == 0 else ("numpy", "autoseq")):
            with common.PeakRSS() as mem:
                seconds, n = common.timed(candidates[name])
            assert n == len(origins), (name, n, len(origins))
            out[f"{name}_s"].append(seconds)
            out[f"{name}_mb"].append(mem.delta_mb)
    return {**out, "windows": len(origins)}


def _in_child(mode: str, csv: Path, **kwargs: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="autoseq-bench-") as tmp:
        out = Path(tmp) / "out.json"
        args = [sys.executable, __file__, "--child", mode, "--csv", str(csv), "--out", str(out)]
        for k, v in kwargs.items():
            args += [f"--{k.replace('_', '-')}", str(v)]
        subprocess.run(args, check=True)
        return json.loads(out.read_text())


def run(*, batch_size: int = 64, rounds: int = 3) -> dict[str, Any]:
    """Measure the pipeline in fresh processes and compare it with the NumPy reference."""
    report = common.Report("pipeline", "Data pipeline")
    csv = ensure_csv()
    e2e = _in_child("e2e", csv, batch_size=batch_size)
    speed = _in_child("speed", csv, batch_size=batch_size, rounds=rounds)
    wps = [speed["windows"] / s for s in speed["autoseq_s"]]
    ref = [speed["windows"] / s for s in speed["numpy_s"]]
    ratios = common.paired_ratios(wps, ref)
    ratio = common.median(ratios)
    report.add("CSV load (load_series)", e2e["load_s"], "s",
               detail=f"{e2e['rows']:,} rows x {e2e['inputs']} columns + time, with every check")
    report.add("CSV load, pandas.read_csv of the same file (reference, no checks)",
               e2e["pandas_read_csv_s"], "s")
    report.add("peak memory of load_series", e2e["load_peak_mb"], "MB",
               detail="RSS above the baseline after importing TensorFlow")
    report.add("peak memory, CSV to one shuffled epoch of windows", e2e["total_peak_mb"], "MB",
               goal=f"< {MEMORY_GOAL_MB} MB", met=e2e["total_peak_mb"] < MEMORY_GOAL_MB,
               detail=f"lookback {LOOKBACK}, horizon {HORIZON}, batch {batch_size}; "
                      f"materialising every window would take {e2e['materialised_gb']:.1f} GB")
    report.add("windows/s, ForecastData.dataset (shuffled)", common.median(wps), "windows/s",
               detail=f"median of {rounds} whole epochs of {speed['windows']:,} windows")
    report.add("windows/s, NumPy sliding_window_view per batch", common.median(ref),
               "windows/s", detail=f"median of {rounds} epochs")
    report.add("speed ratio autoseq / NumPy", ratio, "", goal="≥ 1.0", met=ratio >= 1.0,
               detail="median of paired ratios: " + ", ".join(f"{r:.2f}" for r in ratios))
    report.add("peak memory during an epoch: autoseq / NumPy",
               f"{common.median(speed['autoseq_mb']):.0f} / {common.median(speed['numpy_mb']):.0f}",
               "MB", detail="RSS above the process's level before the epoch")
    report.extra.update(e2e=e2e, speed=speed)
    return report.to_dict()


def _child_main(argv: list[str]) -> None:
    import argparse

    p = argparse.ArgumentParser()
    p.add_argument("--child", required=True)
    p.add_argument("--csv", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args(argv)
    start = time.perf_counter()
    if a.child == "e2e":
        result = _child_e2e(a.csv, a.batch_size)
    else:
        result = _child_speed(a.csv, a.batch_size, a.rounds)
    result["child_seconds"] = time.perf_counter() - start
    a.out.write_text(json.dumps(result))


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child_main(sys.argv[1:])
    else:
        p = common.parser(__doc__.splitlines()[0])
        p.add_argument("--batch-size", type=int, default=64)
        p.add_argument("--rounds", type=int)
        a = p.parse_args()
        common.main("Data pipeline", run, a, batch_size=a.batch_size,
                    rounds=a.rounds or (1 if a.quick else 3))
