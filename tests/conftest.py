"""Shared fixtures: small real CSVs, a tiny search space, a fixed seed."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
# MSTL operators the tests measure go to a folder of this run, not the user's cache; the process
# that makes it (pytest's controller, whose workers inherit it) removes it when it exits.
if "AUTOSEQ_CACHE" not in os.environ:
    os.environ["AUTOSEQ_CACHE"] = tempfile.mkdtemp(prefix="autoseq-test-cache-")
    atexit.register(shutil.rmtree, os.environ["AUTOSEQ_CACHE"], ignore_errors=True)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def seed() -> int:
    return 0


@pytest.fixture
def airline_csv() -> Path:
    """Real monthly data (144 rows): trend plus a 12-month season."""
    return EXAMPLES / "airline.csv"


def make_series_csv(path: Path, *, n: int = 160, freq: str = "D", drop: tuple[int, ...] = (),
                    covariate: bool = True, seed: int = 0) -> Path:
    """A seasonal series with an optional covariate; ``drop`` removes rows (gaps)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 10 + 3 * np.sin(2 * np.pi * t / 7) + 0.02 * t + rng.normal(0, 0.3, n)
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq=freq), "y": y})
    if covariate:
        frame["x"] = np.cos(2 * np.pi * t / 7) + rng.normal(0, 0.1, n)
    frame = frame.drop(index=list(drop))
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def series_csv(tmp_path: Path) -> Path:
    return make_series_csv(tmp_path / "series.csv")


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """``frame`` written to ``path`` without its index; the path."""
    frame.to_csv(path, index=False)
    return path


def best_complete(run: Path) -> pd.Series:
    """The leaderboard row of ``run``'s complete trial with the lowest validation loss."""
    board = pd.read_csv(run / "leaderboard.csv")
    return board[board["state"] == "complete"].sort_values("val_loss").iloc[0]


@pytest.fixture
def tiny_space():
    """A space of tiny, fast models (units ≤ 8)."""
    from autoseq.space import Choice, Float, Int, SearchSpace

    return SearchSpace([
        Choice("cell", ("lstm", "gru")),
        Int("units", 2, 8),
        Float("learning_rate", 1e-3, 1e-2, log=True),
        Choice("lookback", ("1x horizon", "1x season")),
        Choice("batch_size", (32,)),
        Choice("anchor", ("none", "last")),
    ], name="tiny")


@pytest.fixture(autouse=True)
def _log_handlers_on_open_streams():
    """Tests call the CLI in-process under capsys, which closes each test's stderr; a library's
    handler created earlier (optuna, absl) would then write to a closed file."""
    import logging
    import sys

    for logger in [logging.getLogger(), *[logging.getLogger(n) for n in
                                          list(logging.root.manager.loggerDict)]]:
        for handler in getattr(logger, "handlers", []):
            stream = getattr(handler, "stream", None)
            if stream is not None and getattr(stream, "closed", False):
                handler.stream = sys.stderr  # setStream would flush the closed one
    yield


def make_sequences_csv(path: Path, *, n: int = 60, min_len: int = 5, max_len: int = 20,
                       classes: tuple[str, ...] = ("down", "up"), regress: bool = False,
                       shuffle_rows: bool = True, seed: int = 0) -> Path:
    """Long-format labelled sequences of random lengths: ``seq, t, a, b, label``.

    Class ``up`` rises and ``down`` falls (feature ``a``); for ``regress`` the label is the
    sequence's slope. Rows are shuffled so that loading must sort them by ``t``.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        length = int(rng.integers(min_len, max_len + 1))
        k = i % len(classes)
        slope = rng.uniform(0.2, 1.0) * (1 if k else -1)
        t = np.arange(length)
        a = slope * t / max_len + rng.normal(0, 0.05, length)
        b = np.cos(t) + rng.normal(0, 0.1, length)
        label = f"{slope:.4f}" if regress else classes[k]
        rows += [{"seq": f"s{i}", "t": int(s), "a": a[s], "b": b[s], "label": label}
                 for s in range(length)]
    frame = pd.DataFrame(rows)
    if shuffle_rows:
        frame = frame.sample(frac=1.0, random_state=seed)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def sequences_csv(tmp_path: Path) -> Path:
    return make_sequences_csv(tmp_path / "sequences.csv")
