"""Resident memory over a long search: many tiny trials in one process.

Runs one in-process search of ``--trials`` tiny trials (default 200) and prints the resident
memory (RSS) after trial ``--at`` (default 20) and after the last trial, and the growth between
them. The goal is at most 10% growth: a search that runs for hours must not creep towards an
out-of-memory kill.

    python benchmarks/memory_trials.py               # 200 trials (several minutes on 2 CPUs)
    python benchmarks/memory_trials.py --trials 40   # a quicker look
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import psutil  # noqa: E402

GOAL = 0.10
SPACE = """\
name: memory
parameters:
  cell: {type: choice, values: [simple_rnn, lstm, gru]}
  units: {type: int, low: 2, high: 6}
  bidirectional: {type: bool}
  learning_rate: {type: float, low: 1.0e-3, high: 1.0e-2, log: true}
  lookback: {type: choice, values: [5, 7, 14]}
  batch_size: 32
"""


def _write_inputs(folder: Path) -> tuple[Path, Path]:
    t = np.arange(240)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=len(t), freq="D"),
                          "y": 10 + 3 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, len(t))})
    data = folder / "series.csv"
    frame.to_csv(data, index=False)
    space = folder / "space.yaml"
    space.write_text(SPACE)
    return data, space


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200, help="trials in the search")
    parser.add_argument("--at", type=int, default=20, help="trial of the first measurement")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not 1 <= args.at < args.trials:
        parser.error("--at must be at least 1 and below --trials")

    import logging

    import autoseq

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    proc = psutil.Process()
    rss: dict[int, int] = {}
    seen = {"trials": 0}
    start = time.monotonic()

    def on_event(event: dict) -> None:
        if event["kind"] != "trial":
            return
        seen["trials"] += 1
        n = seen["trials"]
        if n in (args.at, args.trials) or n % 20 == 0:
            rss[n] = proc.memory_info().rss
            print(f"trial {n:>4}: RSS {rss[n] / 2**20:7.1f} MiB  "
                  f"({time.monotonic() - start:6.0f} s)", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        data, space = _write_inputs(Path(tmp))
        autoseq.search(data, target="y", horizon=3, space=space, trials=args.trials,
                       max_epochs=1, out=Path(tmp) / "run", seed=args.seed, algorithm="random",
                       on_event=on_event)
    first, last = rss.get(args.at), rss.get(max(rss, default=0))
    if first is None or last is None:
        print("not enough trials finished to measure", file=sys.stderr)
        return 1
    growth = last / first - 1
    verdict = "within" if growth <= GOAL else "OVER"
    print(f"RSS trial {args.at}: {first / 2**20:.1f} MiB, trial {max(rss)}: {last / 2**20:.1f} MiB,"
          f" growth {growth:+.1%} ({verdict} the {GOAL:.0%} goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
