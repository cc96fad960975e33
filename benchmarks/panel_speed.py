"""Panel speed and memory: a synthetic panel of 10,000 series, from CSV to forecasts.

Prints, as it measures them:

* loading: series per second of ``load_panel`` on a long CSV of 10,000 daily series (50–300
  steps each, different starts and scales), and ``pandas.read_csv`` of the same file for
  reference (the ratio is what the checks, the sort and the gap filling cost on top);
* training: windows per second of one epoch (8,192 windows drawn per epoch, the default) of a
  GRU(32) on ``PanelData.train_dataset``, after one warm-up epoch (tracing);
* predicting: seconds to cut the last window of all 10,000 series and forecast them with the
  scale-free model (the exported model's graph);
* the panel's ``linear`` baseline: seconds to choose and fit it (``PanelData.linear_fit``: a
  fixed number of windows drawn, whatever the number of series);
* memory: peak RSS growth (``VmHWM``; ``resource`` elsewhere) of loading a panel, above a
  baseline taken after the imports, each in a fresh process, for 1,000 and for 10,000 series: the growth per CSV byte of each, and the
  ratio of the two growths against the ratio of the file sizes (about 1 when memory grows
  linearly with the data).

Absolute figures move with the machine and its load; the ratios much less. No test times this.

Usage:
    python benchmarks/panel_speed.py [--series 10000] [--small 1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"
HORIZON, LOOKBACK = 14, 28


def make_csv(path: Path, n_series: int, *, seed: int = 0) -> Path:
    """Daily series with a weekly cycle, 50–300 steps, random starts and scales (1 to 10^4)."""
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    lengths = rng.integers(50, 300, n_series)
    series = np.repeat(np.arange(n_series), lengths)
    step = np.arange(lengths.sum()) - np.repeat(np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    start = rng.integers(0, 365, n_series)[series]
    level = (10 ** rng.uniform(0, 4, n_series))[series]
    value = level * (1 + 0.3 * np.sin(2 * np.pi * step / 7) + 0.05 * rng.standard_normal(len(step)))
    dates = pd.Timestamp("2020-01-01") + pd.to_timedelta(start + step, unit="D")
    frame = pd.DataFrame({"series": np.char.add("s", series.astype(str)), "date": dates,
                          "value": value.round(3)})
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, date_format="%Y-%m-%d")
    return path


def _load(path: Path):
    from autoseq.data._panel import load_panel

    return load_panel(path, series_col="series", target="value")


def loading(path: Path) -> dict:
    start = time.perf_counter()
    pd.read_csv(path)
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    panel = _load(path)
    load_s = time.perf_counter() - start
    return {"series": panel.n_series, "rows": panel.rows, "load_s": load_s,
            "series_per_s": panel.n_series / load_s, "read_csv_s": read_s,
            "load_over_read_csv": load_s / read_s}, panel


def _network():
    import keras

    window = keras.Input((LOOKBACK, 1))
    state = keras.layers.GRU(32)(window)
    out = keras.layers.Reshape((HORIZON, 1))(keras.layers.Dense(HORIZON)(state))
    model = keras.Model(window, out)
    model.compile(optimizer="adam", loss="mae")
    return model


def training_and_predict(panel) -> dict:
    from autoseq.data._panel_data import PanelData
    from autoseq.model.layers_panel import scale_free

    data = PanelData(panel, horizon=HORIZON)
    model = _network()
    train = data.train_dataset(LOOKBACK, batch_size=128, seed=0)
    model.fit(train, epochs=1, verbose=0)  # traces the graph
    start = time.perf_counter()
    model.fit(train, epochs=1, verbose=0)
    epoch_s = time.perf_counter() - start
    raw = scale_free(model, lookback=LOOKBACK)
    raw.predict(np.zeros((8, LOOKBACK, 1), "float32"), verbose=0)
    start = time.perf_counter()
    x, _ = data.windows(*data.origins("future"), LOOKBACK, targets=False)
    pred = raw.predict(x[..., None], batch_size=4096, verbose=0)
    predict_s = time.perf_counter() - start
    start = time.perf_counter()
    fit = data.linear_fit()
    linear_s = time.perf_counter() - start
    return {"linear_fit_s": linear_s, "linear_lookback": fit.lookback if fit else None,
            "linear_candidates": list(data.linear_lookbacks),
            "windows_per_epoch": data.windows_per_epoch, "epoch_s": epoch_s,
            "train_windows_per_s": data.windows_per_epoch / epoch_s,
            "predict_series": int(len(pred)), "predict_s": predict_s,
            "predicted_series_per_s": len(pred) / predict_s}


def _peak_rss() -> int:
    """This process's peak resident memory (bytes). ``VmHWM`` where Linux has it: ``ru_maxrss``
    survives exec, so a child started from a large parent would report the parent's peak."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _child(path: str) -> None:
    """In a fresh process: peak RSS growth of loading ``path`` above the imports (bytes)."""
    import autoseq.data._panel  # noqa: F401 - the imports are the baseline

    before = _peak_rss()
    _load(Path(path))
    print(json.dumps({"growth": _peak_rss() - before}))


def memory(small: Path, large: Path) -> dict:
    out = {}
    for name, path in (("small", small), ("large", large)):
        proc = subprocess.run([sys.executable, __file__, "--child", str(path)], check=True,
                              capture_output=True, text=True, cwd=ROOT)
        growth = json.loads(proc.stdout.strip().splitlines()[-1])["growth"]
        out[name] = {"csv_bytes": path.stat().st_size, "rss_growth_bytes": growth,
                     "growth_per_csv_byte": growth / path.stat().st_size}
    size = out["large"]["csv_bytes"] / out["small"]["csv_bytes"]
    grow = out["large"]["rss_growth_bytes"] / max(out["small"]["rss_growth_bytes"], 1)
    out["growth_ratio_over_size_ratio"] = grow / size
    return out


def run(*, series: int = 10_000, small: int = 1_000) -> dict:
    large_csv = make_csv(WORK / f"panel_{series}.csv", series)
    small_csv = make_csv(WORK / f"panel_{small}.csv", small)
    result = {}
    result["loading"], panel = loading(large_csv)
    print("loading:", json.dumps(result["loading"]), flush=True)
    result["training_and_predict"] = training_and_predict(panel)
    print("training and predict:", json.dumps(result["training_and_predict"]), flush=True)
    result["memory"] = memory(small_csv, large_csv)
    print("memory:", json.dumps(result["memory"]), flush=True)
    return result


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        _child(sys.argv[2])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    print(json.dumps(run(series=args.series, small=args.small), indent=2))
