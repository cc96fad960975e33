"""``--jobs``/``--gpus``/``--precision``: worker processes on one machine sharing one study."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna
import pytest

import autoseq
from autoseq.backends import OptunaBackend
from autoseq.backends._optuna import _ahead
from autoseq.cli import main
from autoseq.exceptions import SearchError
from autoseq.searching._devices import device_setup, parse_gpus
from autoseq.searching._parallel import worker_command, worker_env

pytestmark = pytest.mark.filterwarnings("ignore")


def _journal_study(path):
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    return optuna.load_study(study_name="autoseq",
                             storage=JournalStorage(JournalFileBackend(str(path))))


def test_jobs_2_with_the_default_storage_reaches_exactly_the_total(series_csv, tiny_space,
                                                                   tmp_path, capsys):
    run = tmp_path / "run"
    space_file = tmp_path / "tiny.yaml"
    space_file.write_text(tiny_space.to_yaml())
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(series_csv), "-t", "y", "-H", "5", "--space", str(space_file),
              "--trials", "6", "--max-epochs", "1", "--out", str(run), "--jobs", "2",
              "--no-stat-baselines"])
    assert exit_.value.code == 0
    assert (run / "study.journal").is_file() and not (run / "study.db").exists()
    trials = _journal_study(run / "study.journal").get_trials()
    finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) == 6
    assert len({t.number for t in finished}) == 6
    assert not [t for t in trials if t.state.name in ("RUNNING", "WAITING")]
    # How many each ran depends on which started first; that workers ran them all is certain.
    assert len({t.user_attrs["worker"] for t in finished}) in (1, 2)
    assert str(os.getpid()) not in {t.user_attrs["worker"].split(":")[1].split("-")[0]
                                    for t in finished}, "the parent only watches"
    board = autoseq.open_run(run).leaderboard()
    assert board.state.isin(["complete", "pruned"]).sum() == 6
    info = json.loads((run / "run.json").read_text())
    assert info["backend"]["jobs"] == 2 and info["backend"]["storage"].endswith("study.journal")
    assert sorted(p.name for p in (run / "workers").iterdir()) == ["worker-0.log",
                                                                    "worker-1.log"]
    for log in ("worker-0.log", "worker-1.log"):
        assert "holds 6 of 6" in (run / "workers" / log).read_text(), "each saw it through"
    assert "no readable Optuna study" not in (run / "report.md").read_text(), \
        "the report reads the journal"
    out = capsys.readouterr()
    assert "leaderboard" in out.out and out.err.count(" complete ") + out.err.count(
        " pruned ") == 6, "the parent shows each finished trial once"


def test_each_worker_is_pinned_to_one_gpu_and_gets_the_storage_privately(tmp_path):
    url = "postgresql://autoseq:s3cret@db.example/autoseq"
    envs = [worker_env(i, jobs=4, gpus=["0", "1"], storage=url, base={"PATH": "/bin"})
            for i in range(4)]
    assert [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["0", "1", "0", "1"]
    assert all(e["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" for e in envs)
    assert all(e["AUTOSEQ_STORAGE"] == url for e in envs)
    free = worker_env(0, jobs=2, gpus=[], storage=url, base={"CUDA_VISIBLE_DEVICES": "3"})
    assert free["CUDA_VISIBLE_DEVICES"] == "3", "without --gpus a worker sees what we see"
    cmd = worker_command(1, study="s", run_dir=tmp_path, trials=9, timeout=None,
                         max_failures=10, precision="mixed")
    assert "s3cret" not in " ".join(cmd) and cmd[cmd.index("--worker-index") + 1] == "1"
    # The workers run this autoseq, not one that happens to sit in the current folder.
    assert "-m" not in cmd[:2]
    assert envs[0]["PYTHONPATH"].split(os.pathsep)[0] == str(
        Path(autoseq.__file__).resolve().parent.parent)
    assert parse_gpus("0, 1") == ["0", "1"]
    with pytest.raises(SearchError, match="--gpus must be device indices"):
        parse_gpus("0,gpu1")


def test_workers_start_through_the_library_and_keep_the_cli_contract(tmp_path, capsys):
    from autoseq.searching._entry import main as worker_main

    cmd = worker_command(0, study="nope", run_dir=tmp_path, trials=2, timeout=None,
                         max_failures=3, precision="float32")
    assert "autoseq.cli" not in " ".join(cmd) and "autoseq.searching._entry" in cmd[2]
    journal = tmp_path / "study.journal"
    done = subprocess.run(cmd, capture_output=True, text=True,
                          env=os.environ | {"AUTOSEQ_STORAGE": str(journal)})
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: no study 'nope'") and done.stderr.count("\n") == 1
    with pytest.raises(SystemExit) as exit_:
        worker_main(["--storage", str(journal), "--precision", "half"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: argument --precision") and err.count("\n") == 1


def test_the_search_stage_never_imports_the_cli():
    import ast

    for path in (Path(autoseq.__file__).parent / "searching").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            assert not any(n == "autoseq.cli" or n.startswith("autoseq.cli.") for n in names), \
                path.name


def test_a_worker_backend_carries_its_index_and_tags(tmp_path):
    from autoseq.backends import make_backend

    engine = make_backend("optuna", run_dir=tmp_path, storage=str(tmp_path / "s.journal"),
                          study_name="autoseq", seed=3, algorithm=None, prune_warmup=10,
                          worker_index=1, tags={"precision": "mixed"})
    assert (engine.worker_index, engine.tags, engine.warmup) == (1, {"precision": "mixed"}, 10)
    assert (engine.algorithm, engine.pruner) == ("tpe", "median")


def test_parallel_settings_are_checked_before_anything_is_written(series_csv, tiny_space,
                                                                  tmp_path):
    kwargs = dict(target="y", horizon=5, space=tiny_space, trials=2, max_epochs=1)
    with pytest.raises(SearchError, match="--jobs 2 is fewer than the 3 GPUs"):
        autoseq.search(series_csv, out=tmp_path / "a", jobs=2, gpus="0,1,2", **kwargs)
    with pytest.raises(SearchError, match="SQLite is unsafe"):
        autoseq.search(series_csv, out=tmp_path / "b", jobs=2,
                       storage=f"sqlite:///{tmp_path}/x.db", **kwargs)
    with pytest.raises(SearchError, match="--precision must be one of"):
        autoseq.search(series_csv, out=tmp_path / "c", precision="half", **kwargs)
    assert not any((tmp_path / d).exists() for d in "abc")


def test_a_sqlite_run_folder_is_not_resumed_by_several_processes(series_csv, tiny_space,
                                                                 tmp_path):
    run = tmp_path / "run"
    kwargs = dict(target="y", horizon=5, space=tiny_space, max_epochs=1, out=run)
    autoseq.search(series_csv, trials=1, **kwargs)
    with pytest.raises(SearchError, match=r"study is in SQLite \(study.db\).*--jobs 1"):
        autoseq.search(series_csv, trials=2, jobs=2, **kwargs)


def test_workers_stopped_by_the_timeout_say_so(series_csv, tiny_space, tmp_path):
    from autoseq.exceptions import AllTrialsFailedError

    # --timeout 0: every worker stops before its first trial; the parent names the timeout.
    with pytest.raises(AllTrialsFailedError, match=r"timeout of 0 s reached with 0 of 4 trials"):
        autoseq.search(series_csv, target="y", horizon=5, space=tiny_space, trials=4,
                       max_epochs=1, timeout=0, jobs=2, out=tmp_path / "run",
                       stat_baselines=False, report=False)


def test_mixed_precision_keeps_the_head_in_float32_and_is_undone_after():
    import keras

    from autoseq.model._builder import ModelContext, build_model, resolve_config

    cfg = resolve_config({"cell": "gru", "units": 4, "anchor": "last"}, builder="rnn", horizon=3,
                         season=7, max_lookback=20)
    ctx = ModelContext(lookback=cfg["lookback"], n_inputs=2, horizon=3, n_targets=1, season=7)
    with device_setup(precision="mixed"):
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
        model = build_model(cfg, ctx)
        assert model.get_layer("rnn_0").compute_dtype == "float16"
        for name in ("head", "anchor", "forecast"):
            assert model.get_layer(name).compute_dtype == "float32"
        assert model.output.dtype == "float32"
        assert "LossScale" in type(model.optimizer).__name__
    assert keras.mixed_precision.global_policy().name == "float32"
    keras.backend.clear_session()


_DEAD_WORKER = textwrap.dedent("""
    import sys, time, optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage
    from autoseq.backends._registry import WorkerRegistry
    registry = WorkerRegistry(sys.argv[1])
    registry.register()
    study = optuna.load_study(study_name="autoseq",
                              storage=JournalStorage(JournalFileBackend(sys.argv[2])))
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    trial.set_user_attr("worker", registry.id)
    print(trial.number, flush=True)
    time.sleep(600)
""")


def test_a_killed_local_workers_trial_is_failed_and_retried_at_once(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    journal = str(run / "study.journal")
    meta = {"fingerprint": "f", "space": {}, "settings": {}}
    OptunaBackend(storage=journal, study_name="autoseq").open(meta=meta)
    procs = [subprocess.Popen([sys.executable, "-c", _DEAD_WORKER, str(run), journal],
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    victim, survivor = [int(p.stdout.readline()) for p in procs]
    os.kill(procs[0].pid, signal.SIGKILL)
    procs[0].wait()
    try:
        engine = OptunaBackend(storage=journal, study_name="autoseq", lock_dir=run)
        engine.open(meta=meta)  # reaps on opening: no heartbeat needed for local workers
        trials = _journal_study(journal).get_trials()
        assert trials[victim].state.name == "FAIL"
        assert trials[survivor].state.name == "RUNNING", "a live worker's trial is left alone"
        retry = [t for t in trials if t.system_attrs.get("failed_trial") == victim]
        assert len(retry) == 1 and retry[0].state.name == "WAITING"
        assert "worker" not in retry[0].user_attrs, "the retry does not inherit the dead worker"
        assert engine.records()[victim].reason.startswith("worker died")
        engine.close()
    finally:
        procs[1].kill()
        procs[1].wait()


def test_a_retried_trial_yields_to_every_trial_that_holds_a_slot(tmp_path):
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    for _ in range(4):
        study.add_trial(optuna.create_trial(params={"x": 0.5}, distributions=dist, value=1.0))
    study.add_trial(optuna.create_trial(state=optuna.trial.TrialState.WAITING,
                                        params={"x": 0.5}, distributions=dist,
                                        system_attrs={"failed_trial": 1}))
    fresh = study._storage.create_new_trial(study._study_id)  # number 5, running
    retried = study.ask()  # pops the queued retry, number 4, after trial 5 started
    assert retried.number == 4
    assert _ahead(study, retried) == 5, "counts trial 5 although its number is higher"
    assert study._storage.get_trial(fresh).number == 5


def test_a_queued_retry_holds_its_slot_against_a_fresh_trial_started_after_it(tmp_path):
    from autoseq.backends._optuna import retry_lost_trial

    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    for _ in range(4):
        study.add_trial(optuna.create_trial(params={"x": 0.5}, distributions=dist, value=1.0))
    lost = study.ask()  # number 4, then lost: its retry (number 5) is queued
    study.tell(lost, state=optuna.trial.TrialState.FAIL)
    retry_lost_trial(study, study.trials[lost.number])
    fresh = study._storage.create_new_trial(study._study_id)  # number 6: after the retry
    fresh = optuna.Trial(study, fresh)
    assert _ahead(study, fresh) == 5, "the waiting retry holds the slot it was queued for"
    retried = study.ask()  # a worker takes the retry only now
    assert retried.number == 5
    assert _ahead(study, retried) == 4, "and keeps it: exactly one of the two yields"


@pytest.mark.parametrize("reason", [None, "worker died during the trial (process killed or "
                                             "machine lost)"], ids=["heartbeat", "reaped"])
def test_a_lost_trial_holds_its_slot_between_its_failure_and_its_retry(reason, tmp_path,
                                                                      monkeypatch):
    """Between the two writes, a worker must not start a fresh trial in the lost one's slot."""
    from autoseq.backends._optuna import HEARTBEAT_ENV, retry_lost_trial

    monkeypatch.setenv(HEARTBEAT_ENV, "20,60")  # the slot is held for up to the 60 s grace
    from autoseq.trial._objective import TrialResult

    engine = OptunaBackend(storage=str(tmp_path / "study.journal"), study_name="autoseq")
    engine.open(meta={"fingerprint": "f", "space": {}, "settings": {}})
    study, dist = engine.study, {"x": optuna.distributions.FloatDistribution(0, 1)}
    study.add_trial(optuna.create_trial(params={"x": 0.5}, distributions=dist, value=1.0))
    lost = study.ask({"x": dist["x"]})
    lost.suggest_float("x", 0, 1)
    if reason:
        lost.set_user_attr("reason", reason)
    study.tell(lost, state=optuna.trial.TrialState.FAIL)  # failed; its retry not queued yet
    ran, looks = [], iter([False, True])

    def trial_fn(suggester, reporter, number):
        ran.append(suggester.suggest_float("x", 0, 1))
        return TrialResult(state="complete", config={}, val_loss=ran[-1])

    engine.run(trial_fn, total=2, should_stop=lambda: next(looks), on_record=lambda r: None)
    assert ran == [], "no fresh trial in the slot the retry is about to take"
    retry_lost_trial(study, study.trials[lost.number])
    engine.run(trial_fn, total=2, should_stop=lambda: False, on_record=lambda r: None)
    assert ran == [study.trials[1].params["x"]], "the retry ran, with the lost configuration"
    assert [t.state.name for t in study.get_trials()] == ["COMPLETE", "FAIL", "COMPLETE"]
    engine.close()


def test_only_a_lost_trial_that_will_be_retried_holds_its_slot(tmp_path):
    from autoseq._interrupt import _CTRL_C_REASON, Terminated
    from autoseq.backends._base import LOST_REASON
    from autoseq.backends._optuna import _retries_due

    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}

    def failed(**attrs):
        study.add_trial(optuna.create_trial(state=optuna.trial.TrialState.FAIL, params={"x": 0.5},
                                            distributions=dist, **attrs))
        return study.trials[-1]

    for attrs, due in [
            ({}, 1),  # failed by a heartbeat check: retried
            ({"user_attrs": {"reason": LOST_REASON}}, 1),  # reaped: retried
            ({"user_attrs": {"reason": Terminated.reason}}, 1),  # given back on SIGTERM
            ({"user_attrs": {"reason": "the loss diverged", "result": {}}}, 0),  # its own failure
            ({"user_attrs": {"surplus": True}}, 0),
            ({"user_attrs": {"reason": _CTRL_C_REASON}}, 0),  # Ctrl-C: not queued again
            ({"system_attrs": {"retry_history": [70, 71]}}, 0)]:  # lost too often: not retried
        trial = failed(**attrs)
        assert _retries_due([trial]) == due, attrs
    lost = failed()
    stamp = lost.datetime_complete.timestamp()
    assert _retries_due([lost], now=stamp + 3600) == 0, \
        "given up once a heartbeat grace period passed (the process queuing it died)"
    assert _retries_due([lost], now=stamp - 3600) == 0, "nor held for hours by a clock ahead"
    study.add_trial(optuna.create_trial(state=optuna.trial.TrialState.WAITING, params={"x": 0.5},
                                        distributions=dist,
                                        system_attrs={"failed_trial": lost.number,
                                                      "retry_history": [lost.number],
                                                      "queued_at": stamp}))
    assert _retries_due(study.trials) == 3, "the last lost trial's retry is queued: no longer due"


def test_a_fresh_trial_counts_the_retries_about_to_be_queued(tmp_path):
    """Optuna fails a stale trial inside ``optimize``, after the worker found a free slot."""
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    study.add_trial(optuna.create_trial(params={"x": 0.5}, distributions=dist, value=1.0))
    study.add_trial(optuna.create_trial(state=optuna.trial.TrialState.FAIL, params={"x": 0.5},
                                        distributions=dist))  # lost; its retry not queued yet
    fresh = optuna.Trial(study, study._storage.create_new_trial(study._study_id))
    assert _ahead(study, fresh) == 2, "the completed trial and the lost one's coming retry"


def test_what_is_still_queued_when_the_total_is_reached_is_dropped_with_a_reason(tmp_path):
    from autoseq.trial._objective import TrialResult

    engine = OptunaBackend(storage=str(tmp_path / "study.journal"), study_name="autoseq",
                           lock_dir=tmp_path)
    engine.open(meta={"fingerprint": "f", "space": {}, "settings": {}})
    assert engine.enqueue([{"x": 0.1}, {"x": 0.2}, {"x": 0.3}], total=2) == 2, \
        "no more starting points than the total"

    def trial_fn(suggester, reporter, number):
        x = suggester.suggest_float("x", 0, 1)
        return TrialResult(state="complete", config={"x": x}, val_loss=x)

    engine.set_target(2)  # the search's total is ahead of this worker's: the study is not done
    engine.run(trial_fn, total=1, should_stop=lambda: False, on_record=lambda r: None)
    assert [t.state.name for t in engine.study.get_trials()] == ["COMPLETE", "WAITING"]
    engine.set_target(1)
    engine.run(trial_fn, total=1, should_stop=lambda: False, on_record=lambda r: None)
    trials = engine.study.get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL"]
    assert trials[1].user_attrs["reason"] == "not run: the study reached its total of 1 " \
                                             "trials first"
    assert [r.number for r in engine.records()] == [0], "out of the leaderboard"
    engine.close()


def test_sigterm_to_a_jobs_search_stops_every_worker_and_queues_their_trials(series_csv,
                                                                            tmp_path):
    run = tmp_path / "run"
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n  cell: gru\n  units: {type: int, low: 2, high: 6}\n"
                     "  lookback: 1x season\n")
    # 12 epochs, patience 12, no pruning before the third epoch: struck mid-trial.
    proc = subprocess.Popen(
        [sys.executable, "-m", "autoseq.cli", "search", str(series_csv), "-t", "y", "-H", "5",
         "--space", str(space), "--trials", "6", "--max-epochs", "12", "--patience", "12",
         "--out", str(run), "--jobs", "2", "--grace", "5", "--no-stat-baselines",
         "--no-report", "--no-warm-start"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=os.environ | {"CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"})

    def training():
        if not (run / "study.journal").exists():
            return []
        return [t.number for t in _journal_study(run / "study.journal").get_trials()
                if t.state.name == "RUNNING" and t.intermediate_values]

    try:
        deadline = time.monotonic() + 300  # a safety net: the wait is for the event
        while not training():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.2)
        struck = training()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)  # workers: --grace 5; the parent: + 5 s
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "Traceback" not in err
    trials = _journal_study(run / "study.journal").get_trials()
    assert "RUNNING" not in [t.state.name for t in trials]
    for number in struck:
        assert "SIGTERM" in trials[number].user_attrs["reason"]
        assert [t.state.name for t in trials
                if t.system_attrs.get("failed_trial") == number] == ["WAITING"]
    for log in (run / "workers").iterdir():
        assert "Traceback" not in log.read_text()


def test_a_worker_whose_trial_was_declared_lost_goes_on_with_the_next(tmp_path):
    from autoseq.trial._objective import TrialResult

    journal = str(tmp_path / "study.journal")
    engine = OptunaBackend(storage=journal, study_name="autoseq", lock_dir=tmp_path)
    engine.open(meta={"fingerprint": "f", "space": {}, "settings": {}})
    storage = engine.study._storage

    def trial_fn(suggester, reporter, number):
        x = suggester.suggest_float("x", 0, 1)
        if number == 0:  # as another worker does when this one's heartbeat is late
            storage.set_trial_state_values(suggester._trial_id, optuna.trial.TrialState.FAIL)
            reporter.report(x, 0)
        return TrialResult(state="complete", config={"x": x}, val_loss=x)

    seen = []
    engine.run(trial_fn, total=2, should_stop=lambda: False, on_record=seen.append)
    states = [t.state.name for t in engine.study.get_trials()]
    assert states == ["FAIL", "COMPLETE", "COMPLETE"]
    assert [r.number for r in seen] == [1, 2]
    engine.close()


def test_a_second_process_on_a_sqlite_run_folder_is_refused(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    url = f"sqlite:///{run / 'study.db'}"
    meta = {"fingerprint": "f", "space": {}, "settings": {}}
    first = OptunaBackend(storage=url, study_name="autoseq", lock_dir=run)
    first.open(meta=meta)
    with pytest.raises(SearchError, match="another autoseq process is running this search"):
        _open_in_another_process(url, run, meta)
    first.close()
    _open_in_another_process(url, run, meta)  # alone again: fine


def _open_in_another_process(url, run, meta):
    code = textwrap.dedent(f"""
        from autoseq.backends import OptunaBackend
        from autoseq.exceptions import SearchError
        engine = OptunaBackend(storage={str(url)!r}, study_name="autoseq", lock_dir={str(run)!r})
        try:
            engine.open(meta={meta!r})
        except SearchError as exc:
            print(exc)
            raise SystemExit(2)
        engine.close()
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode == 2:
        raise SearchError(proc.stdout.strip())
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("url, shown", [
    ("postgresql://u:s3cret@db:5432/x", "postgresql://u:***@db:5432/x"),
    ("postgresql://u:p@ss@db/x", "postgresql://u:***@db/x"),
    ("postgresql+psycopg://u:s3cret@db/x?sslmode=require", "postgresql+psycopg://u:***@db/x?sslmode=require"),
    ("postgresql://db/x?user=u&password=s3cret&sslmode=require",
     "postgresql://db/x?user=u&password=***&sslmode=require"),
    ("postgresql://u@db:5432/x", "postgresql://u@db:5432/x"),
    ("sqlite:////tmp/run/study.db", "sqlite:////tmp/run/study.db"),
])
def test_passwords_are_redacted_from_storage_urls(url, shown):
    from autoseq.backends import redact_url

    assert redact_url(url) == shown
