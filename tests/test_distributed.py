"""Many processes on one PostgreSQL study: a real server on loopback, real worker processes."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import optuna
import pandas as pd
import pytest

from autoseq.backends._optuna import make_storage
from autoseq.cli import main
from autoseq.exceptions import StorageError
from tests._postgres import PASSWORD, PostgresServer, find_bindir

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def postgres_url():
    bindir = find_bindir()
    missing = "PostgreSQL is not installed (run .ci/install-postgres.sh)" if bindir is None else ""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing = "psycopg is not installed (pip install -e '.[dev]')"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    server = PostgresServer(bindir).start()
    yield server.url
    storage = _STORAGES.pop(server.url, None)
    if storage is not None:
        storage.engine.dispose()
    server.stop()


def _spawn(args, log, **env):
    """``autoseq ARGS`` in a new process; short heartbeats so a lost worker is seen in seconds."""
    full = os.environ | {"CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3",
                         "AUTOSEQ_HEARTBEAT": "2,15", "AUTOSEQ_THREADS": "1"} | env
    with open(log, "wb") as fh:
        return subprocess.Popen([sys.executable, "-m", "autoseq.cli", *map(str, args)],
                                env=full, stdout=fh, stderr=subprocess.STDOUT)


def _search_args(csv, space, out, url, study, trials, epochs=1):
    return ["search", csv, "-t", "y", "-H", "5", "--space", space, "--trials", trials,
            "--max-epochs", epochs, "--out", out, "--storage", url, "--study", study, "--quiet",
            "--no-report", "--no-stat-baselines"]


_STORAGES = {}


def _storage(url):
    """One storage (one small pool) per server for all the polling a test does."""
    if url not in _STORAGES:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        _STORAGES[url] = optuna.storages.RDBStorage(url, engine_kwargs={"pool_size": 1})
    return _STORAGES[url]


def _trials(url, study):
    return optuna.load_study(study_name=study, storage=_storage(url)).get_trials()


def _wait_for(predicate, what, timeout=300):
    """Wait for an event; the timeout is only a safety net against a hung process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _study_exists(url, study):
    return study in optuna.study.get_all_study_names(storage=_storage(url))


def _assert_exactly(trials, total):
    finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) == total
    assert len({t.number for t in trials}) == len(trials)
    assert not [t for t in trials if t.state.name in ("RUNNING", "WAITING")]
    return finished


def _process(trial) -> int:
    """The pid of the process that ran ``trial`` (its ``worker`` is ``host:pid-token``)."""
    return int(trial.user_attrs["worker"].rpartition(":")[2].split("-")[0])


def _wait_all(procs, timeout=420):
    deadline = time.monotonic() + timeout
    return [p.wait(timeout=max(1, deadline - time.monotonic())) for p in procs]


@pytest.fixture
def space_file(tiny_space, tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(tiny_space.to_yaml())
    return path


def test_three_workers_share_one_study_of_9_trials(postgres_url, series_csv, space_file,
                                                   tmp_path):
    study = "nine"
    procs = [_spawn(_search_args(series_csv, space_file, tmp_path / "a", postgres_url, study, 9),
                    tmp_path / "a.log")]
    _wait_for(lambda: _study_exists(postgres_url, study), "the study")
    procs += [_spawn(["worker", "--study", study, "--run-dir", tmp_path / f"w{i}"],
                     tmp_path / f"w{i}.log", AUTOSEQ_STORAGE=postgres_url) for i in (1, 2)]
    assert _wait_all(procs) == [0, 0, 0], (tmp_path / "w1.log").read_text()[-2000:]
    finished = _assert_exactly(_trials(postgres_url, study), 9)
    # Which process ran how many depends on how fast each started: only that they all ran in
    # these three is certain (each one joined and saw the study through, below).
    assert {_process(t) for t in finished} <= {p.pid for p in procs}
    for log in ("w1.log", "w2.log"):
        assert "study 'nine' holds 9 of 9" in (tmp_path / log).read_text()
        # A standalone worker picks its Keras backend by the search's rule: tiny trials, TF.
        assert ("trials train on Keras's TensorFlow backend (its trials are too short to repay "
                "compiling)") in (tmp_path / log).read_text()
    for home in ("w1", "w2"):
        info = json.loads((tmp_path / home / "run.json").read_text())
        assert info["backend"]["keras_backend"] == "tensorflow"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_worker_stopped_mid_trial_is_replaced_and_the_total_stays_exact(
        sig, postgres_url, series_csv, space_file, tmp_path):
    study, total, epochs = f"stopped-{sig.name.lower()}", 3, 12
    search = _search_args(series_csv, space_file, tmp_path / "a", postgres_url, study, 1,
                          epochs=epochs) + ["--patience", epochs]
    # The search makes the study with one trial; the victim then trains alone, so it has a trial
    # however fast the others would start. Trials of 12 epochs that neither stop early nor can be
    # pruned before their third: struck once its trial has reported an epoch, it is mid-trial.
    assert _wait_all([_spawn(search, tmp_path / "a0.log")]) == [0]
    victim = _spawn(["worker", "--study", study, "--run-dir", tmp_path / "w1", "--trials", total,
                     "--grace", 5], tmp_path / "w1.log", AUTOSEQ_STORAGE=postgres_url)
    wid = f"{socket.gethostname()}:{victim.pid}-"
    held = []

    def victim_trains():
        if victim.poll() is not None:
            raise AssertionError("the victim ended without running a trial: "
                                 + (tmp_path / "w1.log").read_text()[-1000:])
        held[:] = [t.number for t in _trials(postgres_url, study) if t.state.name == "RUNNING"
                   and t.user_attrs.get("worker", "").startswith(wid) and t.intermediate_values]
        return bool(held)

    _wait_for(victim_trains, "the victim to train a trial")
    # The search again, up to the total, and another worker (separate run folders, as on
    # separate machines: only the heartbeat tells that one died; a seed of its own, which does
    # not block the join). The victim's trial holds its slot until it is given back or lost.
    search[search.index("--trials") + 1] = total
    procs = [_spawn(search, tmp_path / "a.log"), victim,
             _spawn(["worker", "--study", study, "--run-dir", tmp_path / "w2", "--trials", total,
                     "--seed", 7], tmp_path / "w2.log", AUTOSEQ_STORAGE=postgres_url)]
    sent = time.monotonic()
    os.kill(victim.pid, sig)
    code = victim.wait(timeout=20)  # --grace 5: a safety net
    print(f"{sig.name}: the victim exited {code} after {time.monotonic() - sent:.2f} s")
    codes = _wait_all(procs)
    assert codes[0] == 0 and codes[2] == 0, (tmp_path / "w2.log").read_text()[-2000:]
    trials = _trials(postgres_url, study)
    _assert_exactly(trials, total)
    lost = trials[held[0]]
    assert lost.state.name == "FAIL"
    log = (tmp_path / "w1.log").read_text()
    if sig == signal.SIGTERM:
        assert code == 143, log[-2000:]
        assert lost.user_attrs["reason"].startswith("interrupted") and "SIGTERM" in \
            lost.user_attrs["reason"]
        assert "terminated (SIGTERM): the running trial is queued again" in log
        assert "Traceback" not in log
    else:
        assert code == -signal.SIGKILL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == lost.number]
    assert [t.state.name in ("COMPLETE", "PRUNED") for t in retries] == [True], \
        "one replacement ran, with the lost trial's configuration"
    assert retries[0].params == lost.params
    assert not retries[0].user_attrs.get("worker", "").startswith(wid)
    board = pd.read_csv(tmp_path / "a" / "leaderboard.csv")
    row = board[board.trial == lost.number].iloc[0]
    assert row.state == ("interrupted" if sig == signal.SIGTERM else "failed")
    assert row.reason.startswith("interrupted" if sig == signal.SIGTERM else "worker died")


def test_two_searches_started_at_once_end_with_exactly_6_trials(postgres_url, series_csv,
                                                                space_file, tmp_path):
    study = "must-show"
    procs = [_spawn(_search_args(series_csv, space_file, tmp_path / m, postgres_url, study, 6),
                    tmp_path / f"{m}.log") for m in ("m1", "m2")]
    assert _wait_all(procs) == [0, 0], (tmp_path / "m1.log").read_text()[-2000:]
    finished = _assert_exactly(_trials(postgres_url, study), 6)
    assert {_process(t) for t in finished} <= {p.pid for p in procs}
    # Both machines rank the whole study; neither writes the password anywhere.
    for m in ("m1", "m2"):
        board = pd.read_csv(tmp_path / m / "leaderboard.csv")
        assert board.state.isin(["complete", "pruned"]).sum() == 6
        for path in [tmp_path / f"{m}.log", *(tmp_path / m).rglob("*")]:
            if path.is_file() and path.suffix != ".h5":
                assert PASSWORD not in path.read_text(errors="replace"), path


def test_a_worker_with_other_data_is_refused(postgres_url, series_csv, space_file, tmp_path,
                                             capsys):
    from tests.conftest import make_series_csv

    study = "must-show"  # made by the test above; a study of its own when run alone
    if not _study_exists(postgres_url, study):
        assert _wait_all([_spawn(_search_args(series_csv, space_file, tmp_path / "m",
                                              postgres_url, study, 1), tmp_path / "m.log")]) == [0]
    other = make_series_csv(tmp_path / "other.csv", seed=1)
    with pytest.raises(SystemExit) as exit_:
        main(["worker", "--storage", postgres_url, "--study", study, "--data", str(other),
              "--run-dir", str(tmp_path / "w")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "not the data of study 'must-show'" in err and err.count("\n") == 0
    assert PASSWORD not in err
    with pytest.raises(SystemExit):
        main(["worker", "--storage", postgres_url, "--study", "nope"])
    err = capsys.readouterr().err
    assert "no study 'nope'" in err and "must-show" in err and PASSWORD not in err


def test_storage_errors_are_one_line_without_the_password(postgres_url, monkeypatch):
    wrong = postgres_url.replace(PASSWORD, "not-the-" + PASSWORD)
    with pytest.raises(StorageError, match="cannot reach storage") as exc:
        make_storage(wrong)
    assert PASSWORD not in str(exc.value) and "\n" not in str(exc.value)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the extra were not installed
    with pytest.raises(StorageError, match=r"pip install \"autoseq\[postgres\]\""):
        make_storage(postgres_url)
