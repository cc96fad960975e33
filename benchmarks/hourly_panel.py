"""A synthetic hourly panel shaped like M4 hourly: the proxy for the hourly Must show.

We hold no public panel of several hundred hourly series, so this generates one: ``n`` series
(default 200) of 700–960 hourly training steps plus a held-out test of 48 (M4 hourly's lengths
and horizon), each a product of

* a level drawn log-uniformly from 10 to 100,000 (scales differ by four orders of magnitude),
* a linear trend of −30 % … +30 % over the series,
* a daily profile (two to three random harmonics, amplitude 20–80 % of the level, whose
  amplitude and phase wander as daily random walks, so the profile of a month ago is stale;
  a tenth of the series have none),
* a weekly profile (in half the series a weekend factor of 0.7–1.1; in all a random weekly
  harmonic of 0–10 %),
* a level shift (in a third of the series, ±10–40 %, at a random hour; some shortly before
  the end),
* multiplicative AR(1) noise (φ 0–0.8, standard deviation 1–8 %),

floored at 1 % of the level (values stay positive, as in M4). Series start at different hours
of different days on one hourly grid. Everything comes from ``numpy``'s generator with ``seed``.

Usage:
    python benchmarks/hourly_panel.py OUT_DIR [--series 200] [--seed 0]
    # writes OUT_DIR/hourly_train.csv and OUT_DIR/hourly_test.csv (series,timestamp,value)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

HORIZON = 48


def _series(rng: np.random.Generator, n: int, start_hour: int) -> np.ndarray:
    t = np.arange(n, dtype="float64")
    hour = (start_hour + t) % 24
    dow = ((start_hour + t) // 24) % 7
    level = 10 ** rng.uniform(1, 5)
    trend = 1 + rng.uniform(-0.3, 0.3) * t / n
    daily = np.ones(n)
    if rng.random() > 0.1:
        # the profile's amplitude and phase wander from day to day (a random walk per day)
        days = (start_hour + t) // 24
        walk = np.cumsum(rng.normal(0, 0.05, int(days[-1] - days[0]) + 1))
        amp = rng.uniform(0.2, 0.8) * np.exp(walk - walk.mean())[(days - days[0]).astype(int)]
        drift = np.cumsum(rng.normal(0, 0.04, n // 24 + 2))[(t // 24).astype(int)]
        for k in range(1, rng.integers(2, 4) + 1):
            daily += amp / k * rng.uniform(0.3, 1) * np.sin(2 * np.pi * k * hour / 24
                                                            + rng.uniform(0, 2 * np.pi) + drift)
    weekend = rng.uniform(0.7, 1.1) if rng.random() < 0.5 else 1.0
    weekly = np.where(dow >= 5, weekend, 1.0) * (
        1 + rng.uniform(0, 0.1) * np.sin(2 * np.pi * (dow * 24 + hour) / 168
                                          + rng.uniform(0, 2 * np.pi)))
    shift = np.ones(n)
    if rng.random() < 1 / 3:
        at = rng.integers(n // 4, n)
        shift[at:] = 1 + rng.choice([-1, 1]) * rng.uniform(0.1, 0.4)
    phi, sd = rng.uniform(0, 0.8), rng.uniform(0.01, 0.08)
    eps = rng.normal(0, sd * np.sqrt(1 - phi ** 2), n)
    noise = np.zeros(n)
    for i in range(1, n):
        noise[i] = phi * noise[i - 1] + eps[i]
    y = level * trend * np.maximum(daily, 0.05) * weekly * shift * (1 + noise)
    return np.maximum(y, 0.01 * level)


def generate(n_series: int = 200, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(train, test)`` long frames ``series, timestamp, value``; test holds each series' last
    48 steps."""
    rng = np.random.default_rng(seed)
    base = pd.Timestamp("2017-01-01")
    train, test = [], []
    for i in range(n_series):
        length = int(rng.integers(700, 961)) + HORIZON
        start = int(rng.integers(0, 24 * 60))
        y = _series(rng, length, start)
        frame = pd.DataFrame({"series": f"H{i + 1}",
                              "timestamp": base + pd.to_timedelta(start + np.arange(length),
                                                                  unit="h"),
                              "value": np.round(y, 3)})
        train.append(frame.iloc[:-HORIZON])
        test.append(frame.iloc[-HORIZON:])
    return pd.concat(train, ignore_index=True), pd.concat(test, ignore_index=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train, test = generate(args.series, args.seed)
    train.to_csv(out / "hourly_train.csv", index=False)
    test.to_csv(out / "hourly_test.csv", index=False)
    print(f"{out}/hourly_train.csv: {train['series'].nunique()} series, {len(train)} rows; "
          f"hourly_test.csv: {len(test)} rows")


if __name__ == "__main__":
    main()
