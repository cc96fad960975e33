"""The KerasTuner backend: space adapter, oracle bookkeeping, Hyperband budgets, recovery."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import autoseq
from autoseq.backends import KerasTunerBackend, default_storage, make_backend
from autoseq.backends._kt_space import KerasTunerSuggester, kt_hyperparameters
from autoseq.exceptions import SearchError
from autoseq.space import Bool, Choice, Fixed, Float, Int, SearchSpace
from tests.conftest import ROOT
from tests.test_search import _diverging

pytestmark = pytest.mark.filterwarnings("ignore")

CONDITIONAL = SearchSpace([
    Choice("cell", ("lstm", "gru")),
    Bool("bidirectional"),
    Choice("clipping", ("none", "norm")),
    Float("clipnorm", 0.1, 10.0, log=True, when={"clipping": ("norm",)}),
    # a condition on a conditional parent, and one on two parents at once
    Choice("norm_kind", ("l2", "inf"), when={"clipping": ("norm",)}),
    Int("extra", 1, 3, when={"norm_kind": ("inf",)}),
    Int("both", 2, 6, step=2, when={"cell": ("gru",), "bidirectional": (True,)}),
    Choice("dropout", (0, 0.25, 0.5)),
    Float("recurrent_dropout", 0.0, 0.4, step=0.05),
    Int("units", 4, 64, log=True),
    Fixed("batch_size", 32),
    Choice("anchor", ("none",)),
], name="conditional")


def _state(run):
    return json.loads((run / "keras_tuner" / "autoseq_trials.json").read_text())["trials"]


def _oracle_trials(run):
    return {p.parent.name.removeprefix("trial_"): json.loads(p.read_text())
            for p in (run / "keras_tuner").glob("trial_*/trial.json")}


def test_space_adapter_draws_what_the_space_allows(tmp_path):
    import keras_tuner as kt

    oracle = kt.oracles.RandomSearchOracle(objective=kt.Objective("val_loss", "min"),
                                           hyperparameters=kt_hyperparameters(CONDITIONAL),
                                           max_trials=None, seed=1)
    oracle._set_project_dir(str(tmp_path), "kt")
    seen = set()
    for i in range(40):
        trial = oracle.create_trial(f"t{i}")
        config = CONDITIONAL.sample(KerasTunerSuggester(trial.hyperparameters, CONDITIONAL))
        for p in CONDITIONAL.parameters:
            assert (p.name in config) == p.active(config), (p.name, config)
        assert type(config["bidirectional"]) is bool
        assert config["dropout"] in (0, 0.25, 0.5) and type(config["units"]) is int
        assert 4 <= config["units"] <= 64 and config["batch_size"] == 32
        assert config["recurrent_dropout"] == round(config["recurrent_dropout"], 2)  # on the grid
        if "clipnorm" in config:
            assert 0.1 <= config["clipnorm"] <= 10.0
        if "both" in config:
            assert config["both"] in (2, 4, 6)
        seen |= {k for k in config}
    assert {"clipnorm", "norm_kind", "extra", "both"} <= seen, "every condition is met sometimes"


def test_hyperband_prunes_at_the_budget_and_promotes_after_a_resume(series_csv, tiny_space,
                                                                    tmp_path):
    run = tmp_path / "run"
    kwargs = dict(target="y", horizon=5, space=tiny_space, max_epochs=3, out=run,
                  backend="keras-tuner", algorithm="hyperband")
    autoseq.search(series_csv, trials=3, **kwargs)
    result = autoseq.search(series_csv, trials=4, **kwargs)  # the bracket goes on from disk
    board = result.leaderboard.dropna(subset=["trial"]).set_index("trial").sort_index()
    # max_epochs=3, factor 3: three configurations for 1 epoch, then the best of them for 3
    assert list(board.state[:3]) == ["pruned"] * 3 and (board.epochs[:3] == 1).all()
    assert board.reason[:3].str.contains("hyperband budget: 1 of 3 epochs").all()
    best_first = board[:3].sort_values("val_loss").iloc[0]
    promoted = board.loc[3]
    assert promoted.state == "complete" and promoted.epochs > 1
    for col in tiny_space.names:
        assert promoted[col] == best_first[col]
    ids = [t["kt_trial"] for t in _state(run)]
    assert len(set(ids)) == 4, "no finished oracle trial handed out again after the resume"
    oracle = json.loads((run / "keras_tuner" / "oracle.json").read_text())
    assert oracle["ongoing_trials"] == {} and oracle["retry_queue"] == []


def test_oracle_sees_failed_trials_as_failed_never_scored(series_csv, tmp_path):
    run = tmp_path / "run"
    autoseq.search(series_csv, target="y", horizon=5, space=_diverging((1e20, 3e-3)), trials=1,
                   max_epochs=1, out=run, backend="keras-tuner", algorithm="bayesian")
    mine = _state(run)
    oracle = _oracle_trials(run)
    assert any(t["state"] == "failed" for t in mine)
    for t in mine:
        kt_trial = oracle[t["kt_trial"]]
        if t["state"] == "failed":
            assert kt_trial["status"] == "FAILED" and kt_trial["score"] is None
            assert "diverged" in kt_trial["message"]
        else:
            assert kt_trial["status"] == "COMPLETED"
            assert kt_trial["score"] == pytest.approx(t["result"]["val_loss"])


def test_more_failures_in_a_row_than_keras_tuner_allows_do_not_stop_the_search(series_csv,
                                                                               tmp_path):
    # KerasTuner alone stops after 3 failed trials in a row; autoseq's --max-failures decides.
    space = SearchSpace([Choice("cell", ("gru",)), Int("units", 2, 8),
                         Choice("learning_rate", (1e20,)), Fixed("lookback", 5)])
    with pytest.raises(autoseq.AllTrialsFailedError, match="every trial failed .*diverged"):
        autoseq.search(series_csv, target="y", horizon=5, space=space, trials=2, max_epochs=1,
                       out=tmp_path / "run", backend="keras-tuner", max_failures=4)
    assert [t["state"] for t in _state(tmp_path / "run")] == ["failed"] * 4


def test_trial_lost_with_its_process_is_failed_and_retried(series_csv, tiny_space, tmp_path):
    run = tmp_path / "run"
    space_file = tmp_path / "tiny.yaml"
    space_file.write_text(tiny_space.to_yaml())
    cmd = [sys.executable, "-m", "autoseq.cli", "search", str(series_csv), "-t", "y", "-H", "5",
           "--space", str(space_file), "--trials", "2", "--max-epochs", "10", "--patience", "10",
           "--out", str(run), "--backend", "keras-tuner", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=os.environ | {"PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            path = run / "keras_tuner" / "autoseq_trials.json"
            if path.exists() and any(t["number"] == 1 and t["state"] == "running"
                                     for t in _state(run)):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the search ended before trial 1 started"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    lost = _state(run)[1]
    autoseq.search(series_csv, target="y", horizon=5, space=tiny_space, trials=2,
                   max_epochs=10, patience=10, out=run, backend="keras-tuner")
    trials = _state(run)
    assert trials[1]["state"] == "failed" and "worker died" in trials[1]["reason"]
    retried = [t for t in trials[2:] if t["kt_trial"] == lost["kt_trial"]]
    assert len(retried) == 1 and retried[0]["state"] == "complete"
    assert retried[0]["params"] == lost["params"]
    assert [t["state"] for t in trials] == ["complete", "failed", "complete"]
    assert "running" not in [t["state"] for t in trials]


def test_run_folder_refuses_another_backend_algorithm_or_settings(series_csv, tiny_space,
                                                                   tmp_path):
    run = tmp_path / "run"
    kwargs = dict(target="y", horizon=5, space=tiny_space, trials=1, out=run)
    autoseq.search(series_csv, backend="keras-tuner", algorithm="random", max_epochs=1, **kwargs)
    with pytest.raises(SearchError, match="--backend keras-tuner; resume it with that backend"):
        autoseq.search(series_csv, backend="optuna", max_epochs=1, **kwargs)
    with pytest.raises(SearchError, match="--algorithm random; resume it with that algorithm"):
        autoseq.search(series_csv, backend="keras-tuner", algorithm="hyperband", max_epochs=1,
                       **kwargs)
    (run / "run.json").unlink()  # the backend's own check, without run.json's
    with pytest.raises(SearchError, match=r"keras-tuner search in .* was created with different "
                                          r"settings \(max_epochs: 1 then, 2 now\); use another "
                                          "--out folder"):
        autoseq.search(series_csv, backend="keras-tuner", max_epochs=2, **kwargs)


def test_bad_options_are_refused(tmp_path):
    with pytest.raises(SearchError, match="keras-tuner must be one of random, bayesian, "
                                          "hyperband. Received: tpe"):
        KerasTunerBackend(run_dir=tmp_path, algorithm="tpe")
    with pytest.raises(SearchError, match="--storage and --study apply to the optuna backend"):
        make_backend("keras-tuner", run_dir=tmp_path, storage="sqlite:///elsewhere.db",
                     study_name="autoseq", seed=0, algorithm=None)
    with pytest.raises(SearchError, match="--backend must be one of optuna, keras-tuner"):
        make_backend("ray", run_dir=tmp_path, storage="", study_name="autoseq", seed=0,
                     algorithm=None)
    with pytest.raises(SearchError, match="workers .* need the optuna backend"):
        make_backend("keras-tuner", run_dir=tmp_path, storage=default_storage(tmp_path),
                     study_name="autoseq", seed=0, algorithm=None, worker_index=1)


def test_cli_hyperband_search(series_csv, tmp_path, capsys):
    from autoseq.cli import main

    space_file = tmp_path / "tiny.yaml"
    space_file.write_text("parameters:\n  cell: gru\n  units: {type: int, low: 2, high: 4}\n"
                          "  lookback: 1x season\n")
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(series_csv), "-t", "y", "-H", "5", "--space", str(space_file),
              "--trials", "2", "--max-epochs", "3", "--out", str(tmp_path / "r"),
              "--backend", "keras-tuner", "--algorithm", "hyperband"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "leaderboard" in out and "seasonal_naive(m=7)" in out and "best:" in out
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert info["backend"]["name"] == "keras-tuner"
    assert info["backend"]["algorithm"] == "hyperband"
