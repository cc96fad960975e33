"""A tiny real search whose data has hostile column names, shared by the report tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = "<script>alert(1)</script>"
FORMULA = "=1+1"


def make_hostile_csv(path: Path, *, n: int = 160) -> Path:
    """Daily seasonal data with two covariates named like an HTML script tag and a formula."""
    rng = np.random.default_rng(0)
    t = np.arange(n)
    driver = np.cos(2 * np.pi * t / 7) + rng.normal(0, 0.1, n)
    y = 10 + 3 * np.sin(2 * np.pi * t / 7) + 1.5 * driver + 0.02 * t + rng.normal(0, 0.3, n)
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D"), "y": y,
                          SCRIPT: driver, FORMULA: rng.normal(0, 1, n)})
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def report_run(tmp_path_factory) -> Path:
    """Run folder of a 3-trial search (units ≤ 8, 2 epochs) that wrote its report at the end."""
    import autoseq
    from autoseq.space import Choice, Float, Int, SearchSpace

    root = tmp_path_factory.mktemp("report")
    csv = make_hostile_csv(root / "hostile.csv")
    space = SearchSpace([
        Choice("cell", ("lstm", "gru")),
        Int("units", 2, 8),
        Choice("bidirectional", (False, True)),
        Float("learning_rate", 1e-3, 1e-2, log=True),
        Choice("lookback", ("1x season", "2x season")),
        Choice("anchor", ("none", "last")),
    ], name="tiny-report")
    # Statistical baselines off: the report's tables list the naive baselines only (to do).
    result = autoseq.search(csv, target="y", horizon=5, space=space, trials=3, max_epochs=2,
                            stat_baselines=False,
                            out=root / "run", seed=0, algorithm="random")
    assert result.report == root / "run" / "report.html"
    return root / "run"


@pytest.fixture
def run_copy(report_run, tmp_path) -> Path:
    """A private copy of the run folder, for tests that change it."""
    dst = tmp_path / "run"
    shutil.copytree(report_run, dst)
    return dst
