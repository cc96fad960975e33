"""Process faults on a real ``autoseq search`` process: ``kill -9``, Ctrl-C, SIGTERM mid-trial.

The search runs as a subprocess (``python -m autoseq.cli``) on tiny data; the test watches the
study's SQLite file and strikes once a running trial has reported its first epoch. Trials have 12
epochs and patience 12, and the pruner cannot stop one before its third epoch: the strike lands
mid-trial however fast the machine.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest

from tests.conftest import make_series_csv

pytestmark = pytest.mark.filterwarnings("ignore")

TOTAL = 4
SPACE = """\
name: faults
parameters:
  cell: {type: choice, values: [gru, lstm]}
  units: {type: int, low: 2, high: 6}
  learning_rate: {type: float, low: 1.0e-3, high: 1.0e-2, log: true}
  lookback: 14
  batch_size: 16
"""


@pytest.fixture
def command(tmp_path: Path) -> tuple[list[str], Path]:
    data = make_series_csv(tmp_path / "series.csv", n=240)
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "autoseq.cli", "search", str(data), "--target", "y",
           "--horizon", "5", "--space", str(space), "--trials", str(TOTAL), "--max-epochs", "12",
           "--patience", "12", "--out", str(run), "--seed", "1", "--no-report",
           "--no-stat-baselines", "--no-warm-start"]
    return cmd, run


def _env() -> dict[str, str]:
    return os.environ | {"CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3",
                         "PYTHONUNBUFFERED": "1"}


def _trials(run: Path) -> list[tuple[int, str, int | None]]:
    """``(number, state, failed_trial)`` of every trial, read straight from the SQLite file.

    A running trial shows as ``TRAINING`` once it has reported an epoch.
    """
    db = run / "study.db"
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            rows = con.execute(
                "SELECT t.number, t.state, a.value_json, EXISTS (SELECT 1 FROM "
                "trial_intermediate_values v WHERE v.trial_id = t.trial_id) FROM trials t LEFT "
                "JOIN trial_system_attributes a ON a.trial_id = t.trial_id AND a.key = "
                "'failed_trial' ORDER BY t.number").fetchall()
    except sqlite3.OperationalError:  # tables not created yet, or the database is busy
        return []
    return [(n, "TRAINING" if s == "RUNNING" and epoch else s,
             None if f is None else json.loads(f)) for n, s, f, epoch in rows]


def _strike(cmd: list[str], run: Path, sig: int, *, ready, timeout: float = 240
            ) -> tuple[subprocess.Popen, int]:
    """Start the search, wait until ``ready(trials)`` names a running trial, send ``sig``."""
    # A test run started in the background (``nohup make test &``) ignores SIGINT, and a child
    # inherits that: the search would rightly ignore Ctrl-C. The user's terminal does not.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(), preexec_fn=_default_sigint)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            number = ready(_trials(run))
            if number is not None:
                proc.send_signal(sig)
                return proc, number
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"search ended (rc {proc.returncode}) before the strike:\n{err}")
            time.sleep(0.05)
        pytest.fail("no trial started in time")
    except BaseException:
        proc.kill()
        proc.wait()
        raise


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _first_running_after_one_done(trials) -> int | None:
    """A trial training after one finished, never the study's last: a signal that lands after
    the last trial's last batch finds nothing left to stop (the search then ends normally)."""
    done = [n for n, s, _ in trials if s in ("COMPLETE", "PRUNED")]
    running = [n for n, s, _ in trials if s == "TRAINING" and n < TOTAL - 1]
    return running[0] if done and running else None


def _retry_of(number: int, dead: list[int]):
    """A running retry of trial ``number`` (Optuna keeps the original in ``failed_trial``)."""
    def ready(trials):
        for n, s, failed in trials:
            if s == "TRAINING" and failed == number and n not in dead:
                return n
        return None
    return ready


def _study(run: Path):
    return optuna.load_study(study_name="autoseq", storage=f"sqlite:///{run}/study.db")


def test_kill_9_mid_trial_then_the_same_command_finishes_the_study(command):
    cmd, run = command
    proc, killed = _strike(cmd, run, signal.SIGKILL, ready=_first_running_after_one_done)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    proc.communicate()
    assert (killed, "TRAINING", None) in _trials(run)
    before = {t.number: t.value for t in _study(run).get_trials()
              if t.state.name in ("COMPLETE", "PRUNED")}

    # The retry of the killed trial runs first when the command is repeated: kill it twice more.
    victims = [killed]
    for _ in range(2):
        proc, retry = _strike(cmd, run, signal.SIGKILL, ready=_retry_of(killed, victims))
        assert proc.wait(timeout=30) == -signal.SIGKILL
        proc.communicate()
        victims.append(retry)

    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    trials = _study(run).get_trials()
    states = [t.state.name for t in trials]
    assert "RUNNING" not in states and "WAITING" not in states
    assert sum(s in ("COMPLETE", "PRUNED") for s in states) == TOTAL
    for t in trials:  # finished trials are never re-run or rewritten
        if t.number in before:
            assert t.value == before[t.number]
    for v in victims:
        assert trials[v].state.name == "FAIL"
        assert "worker died" in trials[v].user_attrs["reason"]
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == killed]
    assert [t.number for t in retries] == victims[1:], "retried at most twice"
    assert trials[victims[1]].params == trials[killed].params  # a retry re-runs the same config
    board = pd.read_csv(run / "leaderboard.csv")
    assert set(board.loc[board.trial.isin(victims), "state"]) == {"failed"}
    assert board.loc[board.trial.isin(victims), "reason"].str.contains("worker died").all()
    assert "was left running by a worker that died" in done.stderr
    assert not list(run.rglob(".*.tmp")) and not list(run.rglob(".tmp*"))


def test_ctrl_c_marks_the_trial_interrupted_and_prints_the_finished_ones(command):
    cmd, run = command
    proc, stopped = _strike(cmd, run, signal.SIGINT, ready=_first_running_after_one_done)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted: finished trials are kept; run the same command to resume" in err
    assert "leaderboard (validation)" in out and "naive" in out
    trials = _study(run).get_trials()
    assert trials[stopped].state.name == "FAIL"
    assert trials[stopped].user_attrs["reason"].startswith("interrupted")
    assert "RUNNING" not in [t.state.name for t in trials]
    board = pd.read_csv(run / "leaderboard.csv")
    row = board[board.trial == stopped].iloc[0]
    assert row["state"] == "interrupted" and row["reason"].startswith("interrupted")
    finished = board[board.state.isin(["complete", "pruned"])]
    assert len(finished) >= 1 and finished["rank"].notna().all()
    for trial in finished["trial"]:
        assert f"{int(trial)}" in out

    again = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
    assert again.returncode == 0, again.stderr
    states = [t.state.name for t in _study(run).get_trials()]
    assert sum(s in ("COMPLETE", "PRUNED") for s in states) == TOTAL
    assert "RUNNING" not in states


def test_sigterm_mid_trial_queues_it_again_and_the_same_command_runs_it_first(command):
    cmd, run = command
    proc, stopped = _strike(cmd + ["--grace", "5"], run, signal.SIGTERM,
                            ready=_first_running_after_one_done)
    out, err = proc.communicate(timeout=20)  # --grace 5: a safety net
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert "terminated (SIGTERM): the running trial is queued again" in err
    assert "leaderboard (validation)" in out
    trials = _study(run).get_trials()
    assert trials[stopped].state.name == "FAIL"
    assert "SIGTERM" in trials[stopped].user_attrs["reason"]
    retry = [t for t in trials if t.system_attrs.get("failed_trial") == stopped]
    assert [t.state.name for t in retry] == ["WAITING"]
    assert retry[0].params == trials[stopped].params
    board = pd.read_csv(run / "leaderboard.csv")
    assert board.loc[board.trial == stopped, "state"].item() == "interrupted"

    again = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
    assert again.returncode == 0, again.stderr
    trials = _study(run).get_trials()
    states = [t.state.name for t in trials]
    assert sum(s in ("COMPLETE", "PRUNED") for s in states) == TOTAL
    assert "RUNNING" not in states and "WAITING" not in states
    assert trials[retry[0].number].state.name in ("COMPLETE", "PRUNED"), "the retry ran"


def test_sigterm_is_deferred_where_sigint_is_ignored(tmp_path):
    """A worker a script started with ``&`` has SIGINT ignored; SIGTERM must still wait for a
    safe point (raised at any bytecode it could land inside a storage commit and fail the
    trial, the worker carrying on) and the ignored SIGINT stays ignored."""
    script = tmp_path / "child.py"
    script.write_text(
        "import os, signal\n"
        "from autoseq import _interrupt\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, _interrupt.raise_terminated)  # as the CLI sets it\n"
        "with _interrupt.deferred_interrupts(grace=60):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    total = sum(range(100_000))  # bytecodes run: nothing is raised here\n"
        "    print('ignored' if signal.getsignal(signal.SIGINT) == signal.SIG_IGN else 'taken')\n"
        "    try:\n"
        "        _interrupt.check()\n"
        "    except _interrupt.Terminated:\n"
        "        print('at the safe point')\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[:2] == ["ignored", "at the safe point"]
