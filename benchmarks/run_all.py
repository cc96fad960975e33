"""Run every benchmark, each in a fresh process, and write ``benchmarks/RESULTS.md``.

    python benchmarks/run_all.py            # everything (about 25 minutes on 2 CPU cores)
    python benchmarks/run_all.py --quick    # fewer repeats, shorter searches (about 8 minutes)
    python benchmarks/run_all.py --only startup --only pipeline

The raw figures (with per-repeat timings) go to ``benchmarks/_work/results.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    from benchmarks import _common as common
except ModuleNotFoundError:  # run as a script: python benchmarks/run_all.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import _common as common

# (script, section title, what the figure means)
BENCHMARKS = {
    "trial_overhead": ("1. Trial overhead",
                       "Wall time of one autoseq trial (`run_trial`: build, fit with validation, "
                       "best-epoch bookkeeping, weights and history written) over a hand-written "
                       "Keras `fit` of the same LSTM on the same windows for the same epochs, "
                       "alternated in one process; plus a whole `search()` against a loop of "
                       "hand-written fits."),
    "pipeline": ("2. Data pipeline",
                 "A generated 1,000,000-row, 10-column hourly CSV, lookback 336: load time, peak "
                 "memory from CSV to a shuffled epoch of windows (fresh process, RSS above the "
                 "level after importing TensorFlow), and windows/s of "
                 "`ForecastData.dataset(...)` against slicing a NumPy `sliding_window_view` "
                 "per batch."),
    "search_efficiency": ("3. Search efficiency",
                          "Best validation loss (scaled MSE on the same validation windows) "
                          "against wall time for (a) autoseq's defaults, (b) random search "
                          "without pruning, (c) KerasTuner `RandomSearch` over a hand-written "
                          "LSTM/GRU hypermodel, same budget, several seeds."),
    "variable_length": ("4. Variable length",
                        "Sequences/s training a masked GRU classifier on variable-length "
                        "sequences with length bucketing against padding every batch to the "
                        "longest sequence."),
    "startup": ("5. Startup", "Wall time of `autoseq --help` in a fresh process; TensorFlow must "
                              "not be imported for it."),
    "gpu": ("6. GPU", "Seconds per epoch for cuDNN-eligible and recurrent-dropout LSTMs, mixed "
                      "precision off and on, and search trials per hour on one GPU."),
    "soak": ("7. Soak", "One in-process search of 200 one-epoch trials (40 with `--quick`) of "
                        "tiny models, its study in PostgreSQL on loopback when a server can be "
                        "started (else SQLite): resident memory, open file descriptors and "
                        "database connections sampled after every trial stay flat."),
}


def _git_commit() -> str:
    try:
        git = ["git", "-C", str(common.ROOT)]
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "--", "autoseq", "benchmarks"],
                               capture_output=True, text=True).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _run_one(name: str, extra: list[str]) -> dict[str, Any]:
    """Run one benchmark script in a fresh process, its output streamed to ours."""
    title = BENCHMARKS[name][0]
    with tempfile.TemporaryDirectory(prefix="autoseq-bench-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = [sys.executable, str(common.ROOT / "benchmarks" / f"{name}.py"), "--json",
               str(out), *extra]
        start = time.perf_counter()
        proc = subprocess.run(cmd)  # paths are absolute: any working directory will do
        if proc.returncode != 0 or not out.exists():
            return common.Report(name, title, skipped=f"failed (exit {proc.returncode})",
                                 seconds=time.perf_counter() - start).to_dict()
        return json.loads(out.read_text())


def _args_for(name: str, a: argparse.Namespace) -> list[str]:
    extra = ["--quick"] if a.quick else []
    if name == "search_efficiency":
        if a.search_budget:
            extra += ["--budget", str(a.search_budget)]
        if a.search_seeds:
            extra += ["--seeds", str(a.search_seeds)]
    return extra


def _cell(text: Any) -> str:
    return common.format_value(text).replace("|", "\\|").replace("\n", " ")


def render(reports: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """The Markdown of RESULTS.md."""
    m, v = meta["machine"], meta["versions"]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`benchmarks/run_all.py{meta['args']}`) on {meta['date']}, "
        f"autoseq commit {meta['commit']}, in {meta['seconds'] / 60:.1f} minutes.",
        "",
        f"- **Machine**: {m['cpu']}; {m['cores_usable']} usable cores ({m['cores_logical']} "
        f"logical, {m['cores_physical']} physical); {m['memory_gb']} GB memory; {m['os']}",
        f"- **Load average** (1, 5, 15 min) at the start: {meta['load_start']}, at the end: "
        f"{meta['load_end']}",
        "- **Versions**: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "",
        "Timings are medians of repeats; each figure that has a reference (hand-written Keras, "
        "NumPy, a bare interpreter, KerasTuner) measures it in the same run, alternating with "
        "the candidate, so that other load on the machine hits both alike. Absolute times "
        "depend on the machine and on what else runs on it; ratios much less so. "
        + (meta["noise"] or ""),
        "",
        "## Goals",
        "",
        "| benchmark | figure | value | goal | met |",
        "|---|---|---|---|---|",
    ]
    for r in reports:
        title = BENCHMARKS.get(r["key"], (r["title"],))[0]
        if r.get("skipped"):
            lines.append(f"| {title} | — | {_cell(r['skipped'])} | | |")
        for f in r["figures"]:
            if f["goal"]:
                met = "n/a" if f["met"] is None else ("yes" if f["met"] else "**no**")
                lines.append(f"| {title} | {_cell(f['name'])} | {_cell(f['value'])} "
                             f"{f['unit']} | {_cell(f['goal'])} | {met} |")
    for r in reports:
        title, what = BENCHMARKS.get(r["key"], (r["title"], ""))
        lines += ["", f"## {title}", "", what, ""]
        if r.get("skipped"):
            lines += [f"Skipped: {r['skipped']}.", ""]
            continue
        lines += ["| figure | value | unit | goal | detail |", "|---|---|---|---|---|"]
        for f in r["figures"]:
            goal = f"{f['goal']} ({'met' if f['met'] else 'not met'})" if f["goal"] else ""
            lines.append(f"| {_cell(f['name'])} | {_cell(f['value'])} | {_cell(f['unit'])} | "
                         f"{_cell(goal)} | {_cell(f['detail'])} |")
        lines.append("")
        lines += [f"- {n}" for n in r["notes"]]
        lines.append(f"- ran in {r.get('seconds', 0):.0f} s")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats, shorter searches")
    p.add_argument("--only", action="append", choices=list(BENCHMARKS),
                   help="run only this benchmark (repeatable)")
    p.add_argument("--search-budget", type=float, help="seconds per search in benchmark 3")
    p.add_argument("--search-seeds", type=int, help="seeds per method in benchmark 3")
    p.add_argument("--out", type=Path, default=common.ROOT / "benchmarks" / "RESULTS.md")
    p.add_argument("--noise", default="", help="a sentence about the machine's load, for the "
                                               "results file")
    a = p.parse_args(argv)
    from autoseq._io import write_json_atomic, write_text_atomic

    names = a.only or list(BENCHMARKS)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    start = time.perf_counter()
    reports = [_run_one(name, _args_for(name, a)) for name in names]
    args = "".join(f" {x}" for x in (argv if argv is not None else sys.argv[1:]))
    meta = {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "commit": _git_commit(),
        "machine": common.machine(),
        "versions": common.versions(),
        "load_start": [round(x, 2) for x in load] if load else None,
        "load_end": [round(x, 2) for x in os.getloadavg()] if load else None,
        "seconds": time.perf_counter() - start,
        "args": args,
        "noise": a.noise,
    }
    write_text_atomic(a.out, render(reports, meta))
    write_json_atomic(common.WORK / "results.json", {"meta": meta, "reports": reports})
    failed = [r["key"] for r in reports if (r.get("skipped") or "").startswith("failed")]
    missed = [f"{r['key']}: {f['name']}" for r in reports for f in r["figures"]
              if f["goal"] and f["met"] is False]
    print(f"\nwrote {a.out} ({meta['seconds'] / 60:.1f} min)")
    if missed:
        print("goals not met: " + "; ".join(missed))
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
