"""Startup: wall time of ``autoseq --help`` in a fresh process, and proof TensorFlow stays unloaded.

The reference is a bare ``python -c pass`` measured alternately in the same run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

try:
    from benchmarks import _common as common
except ModuleNotFoundError:  # run as a script: python benchmarks/startup.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import _common as common

GOAL_S = 0.5
_PROBE = """
import sys
from autoseq.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
print("LOADED", *sorted(m for m in ("tensorflow", "keras", "optuna", "pandas", "numpy")
                        if m in sys.modules))
"""


def _command() -> list[str]:
    script = Path(sys.executable).parent / "autoseq"
    return [str(script), "--help"] if script.exists() else \
        [sys.executable, "-m", "autoseq.cli", "--help"]


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run(*, repeats: int = 9) -> dict[str, Any]:
    """Time ``autoseq --help`` against a bare interpreter start, and list what it imports."""
    report = common.Report("startup", "Startup")
    cmd = _command()
    t = common.interleaved({"help": lambda: _run(cmd),
                            "python": lambda: _run([sys.executable, "-c", "pass"])},
                           repeats=repeats)
    help_s = common.median(t.wall["help"])
    report.add("autoseq --help", help_s, "s", goal=f"< {GOAL_S} s", met=help_s < GOAL_S,
               detail=f"median of {repeats} fresh processes: "
                      + ", ".join(f"{s:.2f}" for s in sorted(t.wall["help"])))
    report.add("python -c pass (reference)", common.median(t.wall["python"]), "s",
               detail=f"median of {repeats}")
    probe = subprocess.run([sys.executable, "-c", _PROBE], check=True, capture_output=True,
                           text=True).stdout
    loaded = next((line.split()[1:] for line in probe.splitlines()
                   if line.startswith("LOADED")), [])
    tf_free = "tensorflow" not in loaded and "keras" not in loaded
    report.add("TensorFlow imported by --help", "no" if tf_free else "yes", goal="no",
               met=tf_free, detail=f"heavy modules loaded: {', '.join(loaded) or 'none'}")
    report.note(f"command: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))}")
    return report.to_dict()


if __name__ == "__main__":
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int)
    a = p.parse_args()
    common.main("Startup", run, a, repeats=a.repeats or (5 if a.quick else 9))
