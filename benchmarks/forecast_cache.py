"""What caching the data variants saves, what the rolling MSTL costs (its fits once, its
per-origin profile in every epoch), and what the statistical baselines cost.

Run: ``python benchmarks/forecast_cache.py [CSV TARGET HORIZON]`` (default: the half-hourly
electricity example, 48 steps). Prints one line per measurement; numbers depend on the machine
(the figures in the README were taken on 2 shared CPU cores).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main(argv: list[str]) -> None:
    from autoseq.data import ForecastData, load_series
    from autoseq.data._variants import data_variant
    from autoseq.stat_baselines import stat_forecasts

    csv = argv[0] if argv else str(ROOT / "examples" / "electricity_halfhourly.csv")
    target = argv[1] if len(argv) > 1 else "demand_mw"
    horizon = int(argv[2]) if len(argv) > 2 else 48
    data = ForecastData(load_series(csv, targets=[target]), horizon=horizon, test_size=336)
    print(f"{csv}: {len(data.raw)} rows, seasons {data.seasons}, horizon {horizon}")
    for transform in ("none", "mstl", "rolling_mstl"):
        for scaler in ("standard", "robust", "minmax"):
            _, first = _timed(lambda t=transform, s=scaler: data_variant(data, transform=t,
                                                                          scaler=s))
            _, again = _timed(lambda t=transform, s=scaler: data_variant(data, transform=t,
                                                                          scaler=s))
            print(f"variant {transform:>12}/{scaler:<8}: first {first * 1e3:8.1f} ms, "
                  f"cached {again * 1e6:6.1f} µs (a trial per pair would pay 'first' each time)")
    epochs = {}
    for transform in ("mstl", "rolling_mstl", "mstl", "rolling_mstl"):  # alternated, best kept
        v = data_variant(data, transform=transform)
        _, seconds = _timed(lambda v=v: list(data.dataset(
            "train", lookback=96, batch_size=64, values=v.values, inputs=("origin_step",),
            rolling=v.rolling)))
        epochs[transform] = min(seconds, epochs.get(transform, seconds))
    print(f"one epoch of lazily gathered train windows (lookback 96): mstl "
          f"{epochs['mstl']:.2f} s, rolling_mstl {epochs['rolling_mstl']:.2f} s "
          f"(ratio {epochs['rolling_mstl'] / epochs['mstl']:.2f})")
    for n in (4, 12):
        res = stat_forecasts(data, "val", max_origins=n)
        print(f"statistical baselines on {n} of {res.total_origins} val windows: "
              f"{res.seconds:.1f} s ({res.seconds / n:.2f} s per window for both models)")


if __name__ == "__main__":
    main(sys.argv[1:])
