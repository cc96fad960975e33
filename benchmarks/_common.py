"""Shared helpers for the benchmark scripts: figures, timing, machine description, CLI."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"
EXAMPLES = ROOT / "examples"

# Benchmarks time TensorFlow's own work, not its start-up chatter.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@dataclass
class Figure:
    """One measured number, with the goal it is held to (``met`` is None when no goal applies)."""

    name: str
    value: float | str | None
    unit: str = ""
    goal: str = ""
    met: bool | None = None
    detail: str = ""

    def line(self) -> str:
        value = format_value(self.value)
        goal = f"  (goal {self.goal}: {'met' if self.met else 'NOT met'})" if self.goal and \
            self.met is not None else (f"  (goal {self.goal})" if self.goal else "")
        detail = f"  [{self.detail}]" if self.detail else ""
        return f"  {self.name}: {value}{(' ' + self.unit) if self.unit else ''}{goal}{detail}"


@dataclass
class Report:
    """What one benchmark script returns: its figures, notes, and a reason when it was skipped."""

    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, value: float | str | None, unit: str = "", *, goal: str = "",
            met: bool | None = None, detail: str = "") -> Figure:
        fig = Figure(name, value, unit, goal, met, detail)
        self.figures.append(fig)
        print(fig.line(), flush=True)
        return fig

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def format_value(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if abs(value) >= 1e4:
            return f"{value:,.0f}"
        if value == 0 or abs(value) >= 0.01:
            return f"{value:.3g}" if abs(value) < 10 else f"{value:,.1f}"
        return f"{value:.3e}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """``(seconds, result)`` of one call, on the monotonic high-resolution clock."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def interleaved(candidates: dict[str, Callable[[], Any]], repeats: int, *, warmup: int = 1,
                setup: dict[str, Callable[[], Any]] | None = None) -> Timings:
    """Time each candidate ``repeats`` times, alternating them (ABAB…, order flipped every round)
    so that a slow spell of a shared machine hits every candidate alike.

    ``setup[name]`` (untimed) runs before each call of candidate ``name``. A candidate that
    runs its work in another process returns ``Elsewhere``: its CPU seconds are that process's.
    """
    names = list(candidates)
    setup = setup or {}
    for _ in range(warmup):
        for name in names:
            setup.get(name, _nothing)()
            candidates[name]()
    out = Timings({n: [] for n in names}, {n: [] for n in names})
    for r in range(repeats):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            setup.get(name, _nothing)()
            cpu0 = time.process_time()
            seconds, result = timed(candidates[name])
            out.wall[name].append(seconds)
            out.cpu[name].append(result.cpu if isinstance(result, Elsewhere)
                                 else time.process_time() - cpu0)
    return out


@dataclass(frozen=True)
class Elsewhere:
    """What a candidate timed in another process returns: that process's CPU seconds."""

    cpu: float


@dataclass
class Timings:
    """Wall-clock and process CPU seconds of each candidate, one entry per repeat."""

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]


def _nothing() -> None:
    return None


def paired_ratios(num: list[float], den: list[float]) -> list[float]:
    """Ratios of the i-th timing of ``num`` to the i-th of ``den`` (measured side by side)."""
    return [a / b for a, b in zip(num, den, strict=True)]


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, load and accelerator of this machine."""
    import psutil

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu": cpu or platform.machine(),
        "cores_logical": os.cpu_count(),
        "cores_usable": affinity,
        "cores_physical": psutil.cpu_count(logical=False),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average": [round(x, 2) for x in load] if load else None,
        "os": f"{platform.system()} {platform.release()}",
    }


def versions() -> dict[str, str]:
    """Versions of Python and the libraries the figures depend on (read without importing them)."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("autoseq", "tensorflow", "keras", "optuna", "keras-tuner", "numpy", "pandas"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            try:
                out[dist] = metadata.version(f"{dist}-cpu")  # tensorflow-cpu
            except metadata.PackageNotFoundError:
                out[dist] = "not installed"
    return out


def quiet_tensorflow() -> None:
    """Import TensorFlow without its start-up chatter (as the autoseq CLI does)."""
    from autoseq._tf import import_tensorflow_quietly, quiet_tensorflow_logger

    import_tensorflow_quietly()
    quiet_tensorflow_logger()


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="fewer repeats / smaller sizes")
    p.add_argument("--json", type=Path, help="also write the report as JSON to this file")
    return p


def main(title: str, run: Callable[..., dict[str, Any]], args: argparse.Namespace,
         **kwargs: Any) -> None:
    """Run a benchmark as a script: print its figures, optionally write its JSON report."""
    print(f"== {title}", flush=True)
    start = time.perf_counter()
    report = run(**kwargs)
    report["seconds"] = time.perf_counter() - start
    if args.json:
        from autoseq._io import write_json_atomic

        write_json_atomic(args.json, report)
    print(f"  ({report['seconds']:.0f} s)", flush=True)
    sys.stdout.flush()


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=str)


class PeakRSS:
    """The highest resident set size of this process while the block runs, above its start.

    A thread samples the RSS every ``interval`` seconds; the kernel's own high-water mark
    (``ru_maxrss``) is used too when it rose during the block, so a peak between samples counts.
    """

    def __init__(self, interval: float = 0.005):
        import threading

        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.start_rss = 0
        self.peak_rss = 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self._proc.memory_info().rss)
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakRSS:
        import resource

        self.start_rss = self.peak_rss = self._proc.memory_info().rss
        self._max_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        import resource

        self._stop.set()
        self._thread.join()
        self.peak_rss = max(self.peak_rss, self._proc.memory_info().rss)
        max_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
        if max_after > self._max_before:
            self.peak_rss = max(self.peak_rss, max_after)

    @property
    def delta_mb(self) -> float:
        return (self.peak_rss - self.start_rss) / 2**20
