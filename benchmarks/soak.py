"""Soak: a long search of tiny trials in one process must not leak memory, files or connections.

One in-process ``autoseq.search`` of ``--trials`` tiny trials (default 200; one epoch each) on a
small generated series, its study in PostgreSQL when a server can be started here (the tests'
throwaway loopback server), else SQLite. After every trial it samples the process's resident
memory (RSS), its open file descriptors and its database connections (PostgreSQL: this process's
sessions in ``pg_stat_activity``; SQLite: its descriptors on the study's files), and prints the
first (after ``--at`` trials, default 20, once TensorFlow is warm), last and highest of each;
resident memory may grow by at most 10% (a search that runs for hours must not creep towards an
out-of-memory kill), descriptors and connections not at all.

    python benchmarks/soak.py                   # 200 trials (about 10 minutes on 2 CPU cores)
    python benchmarks/soak.py --quick           # 40 trials
    python benchmarks/soak.py --storage sqlite
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    from benchmarks import _common as common
except ModuleNotFoundError:  # run as a script: python benchmarks/soak.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import _common as common

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

RSS_GOAL = 0.10
SPACE = """\
name: soak
parameters:
  cell: {type: choice, values: [simple_rnn, lstm, gru]}
  units: {type: int, low: 2, high: 6}
  learning_rate: {type: float, low: 1.0e-3, high: 1.0e-2, log: true}
  lookback: {type: choice, values: [5, 7, 14]}
  batch_size: 32
"""


def _inputs(folder: Path) -> tuple[Path, Path]:
    import numpy as np
    import pandas as pd

    t = np.arange(240)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=len(t), freq="D"),
                          "y": 10 + 3 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, len(t))})
    frame.to_csv(folder / "series.csv", index=False)
    (folder / "space.yaml").write_text(SPACE)
    return folder / "series.csv", folder / "space.yaml"


class _Postgres:
    """The tests' throwaway PostgreSQL server, and a count of this process's sessions on it."""

    def __init__(self):
        sys.path.insert(0, str(common.ROOT))
        from tests._postgres import PostgresServer, find_bindir

        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed")
        import psycopg  # noqa: F401 - the driver must be there too

        self.server = PostgresServer(bindir).start()
        self.url = self.server.url

    def connections(self) -> int:
        import psycopg

        with psycopg.connect(self.url, application_name="soak-probe") as con:
            return con.execute("SELECT count(*) FROM pg_stat_activity WHERE pid <> "
                               "pg_backend_pid() AND application_name = 'autoseq'").fetchone()[0]

    def close(self) -> None:
        self.server.stop()


def _sqlite_connections(proc, run: Path) -> int:
    return sum(Path(f.path).name.startswith("study.db") and Path(f.path).parent == run
               for f in proc.open_files())


def run(*, trials: int = 200, at: int = 20, storage: str = "auto") -> dict[str, Any]:
    """Run the soak search and report the first/last/max of RSS, descriptors and connections."""
    import logging

    import psutil

    import autoseq

    report = common.Report("soak", "Soak")
    common.quiet_tensorflow()
    logging.getLogger("autoseq").setLevel(logging.WARNING)
    pg = None
    if storage in ("auto", "postgres"):
        try:
            pg = _Postgres()
        except Exception as exc:  # noqa: BLE001 - any reason means: SQLite instead
            if storage == "postgres":
                raise
            report.note(f"PostgreSQL unavailable ({exc}); the study is in SQLite")
    proc = psutil.Process()
    samples: list[tuple[int, float, int, int]] = []
    start = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="autoseq-soak-") as tmp:
            data, space = _inputs(Path(tmp))
            out = Path(tmp) / "run"

            def on_event(event: dict) -> None:
                if event["kind"] != "trial":
                    return
                n = len(samples) + 1
                conns = pg.connections() if pg else _sqlite_connections(proc, out.resolve())
                samples.append((n, proc.memory_info().rss / 2**20, proc.num_fds(), conns))
                if n == 1 or n % 20 == 0 or n == trials:
                    print(f"  trial {n:>4}: RSS {samples[-1][1]:7.1f} MiB, {samples[-1][2]} fds, "
                          f"{conns} db connections ({time.monotonic() - start:5.0f} s)",
                          flush=True)

            autoseq.search(data, target="y", horizon=3, space=space, trials=trials,
                           max_epochs=1, out=out, seed=0, storage=pg.url if pg else None,
                           stat_baselines=False, warm_start=False, report=False,
                           on_event=on_event)
    finally:
        if pg is not None:
            pg.close()
    _figures(report, samples, at=min(at, max(1, len(samples) - 1)))
    report.note(f"{len(samples)} trials of one epoch in {time.monotonic() - start:.0f} s, study "
                f"in {'PostgreSQL (loopback)' if pg else 'SQLite'}; first = after trial "
                f"{min(at, len(samples))}, once TensorFlow and the storage are warm")
    return report.to_dict()


def _figures(report, samples, *, at: int) -> None:
    if len(samples) < 2:
        report.skipped = "fewer than two trials finished"
        return
    first, last = samples[at - 1], samples[-1]
    for i, (name, unit) in enumerate((("RSS", "MiB"), ("open file descriptors", ""),
                                      ("database connections", "")), start=1):
        top = max(s[i] for s in samples[at - 1:])
        detail = f"first {first[i]:.0f}, last {last[i]:.0f}, max {top:.0f} (trials {at}–{last[0]})"
        if i == 1:
            growth = last[i] / first[i] - 1
            report.add(f"{name} growth", f"{growth:+.1%}", goal=f"≤ {RSS_GOAL:.0%}",
                       met=growth <= RSS_GOAL, detail=detail + " MiB")
        else:
            report.add(f"{name}, last − first", last[i] - first[i], unit, goal="≤ 0",
                       met=last[i] - first[i] <= 0, detail=detail)


if __name__ == "__main__":
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--trials", type=int)
    p.add_argument("--at", type=int, default=20, help="trial of the first sample")
    p.add_argument("--storage", choices=["auto", "postgres", "sqlite"], default="auto")
    a = p.parse_args()
    common.main("Soak", run, a, trials=a.trials or (40 if a.quick else 200), at=a.at,
                storage=a.storage)
