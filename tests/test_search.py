import json

import optuna
import pandas as pd
import pytest

import autoseq
from autoseq.cli import main
from autoseq.exceptions import AllTrialsFailedError, SearchError
from autoseq.leaderboard import HYPERPARAMETERS
from autoseq.space import Choice, Fixed, Int, SearchSpace

pytestmark = pytest.mark.filterwarnings("ignore")


def _study(run_dir):
    return optuna.load_study(study_name="autoseq", storage=f"sqlite:///{run_dir}/study.db")


def _states(run_dir):
    return [t.state.name for t in _study(run_dir).get_trials()]


def test_search_ranks_trials_next_to_baselines(series_csv, tiny_space, tmp_path, seed):
    run = tmp_path / "run"
    result = autoseq.search(series_csv, target="y", horizon=5, space=tiny_space, trials=3,
                            max_epochs=2, out=run, seed=seed, report=False)
    board = pd.read_csv(run / "leaderboard.csv")
    for col in ("rank", "trial", "state", "val_loss", "val_mae", "epochs", "seconds", "params",
                "cudnn_eligible", *HYPERPARAMETERS):
        assert col in board.columns
    assert {"naive", "seasonal_naive(m=7)"} <= set(board.loc[board.state == "baseline",
                                                                 "model"])
    ranked = board[board["rank"].notna()]
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert ranked["val_loss"].is_monotonic_increasing
    assert (board.state.isin(["complete", "pruned"])).sum() == 3
    best = result.best
    assert best["state"] in ("complete", "pruned") and best["trial"] in (0, 1, 2)
    assert (run / "trials" / f"{int(best['trial']):05d}" / "model.weights.h5").is_file()
    info = json.loads((run / "run.json").read_text())
    assert info["settings"]["horizon"] == 5 and info["data"]["rows"] == 160


def test_resume_reaches_the_total_without_rerunning(series_csv, tiny_space, tmp_path, seed):
    run = tmp_path / "run"
    kwargs = dict(target="y", horizon=5, space=tiny_space, max_epochs=2, out=run, seed=seed,
                  report=False)
    autoseq.search(series_csv, trials=2, **kwargs)
    before = {t.number: t.value for t in _study(run).get_trials()}
    autoseq.search(series_csv, trials=4, **kwargs)
    trials = _study(run).get_trials()
    done = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(done) == 4 and "RUNNING" not in _states(run)
    for t in trials:
        if t.number in before:
            assert t.value == before[t.number]
    autoseq.search(series_csv, trials=4, **kwargs)  # already there: runs nothing more
    assert len(_study(run).get_trials()) == len(trials)


def test_trial_left_running_by_a_dead_process_is_failed_and_retried(series_csv, tiny_space,
                                                                    tmp_path, seed):
    run = tmp_path / "run"
    kwargs = dict(target="y", horizon=5, space=tiny_space, max_epochs=1, out=run, seed=seed,
                  report=False)
    autoseq.search(series_csv, trials=1, **kwargs)
    study = _study(run)
    orphan = study.ask({"cell": optuna.distributions.CategoricalDistribution(["lstm", "gru"])})
    assert _states(run).count("RUNNING") == 1
    autoseq.search(series_csv, trials=2, **kwargs)
    trials = _study(run).get_trials()
    assert trials[orphan.number].state.name == "FAIL"
    assert "worker died" in trials[orphan.number].user_attrs["reason"]
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == orphan.number]
    assert len(retried) == 1 and retried[0].state.name in ("COMPLETE", "PRUNED")
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in trials) == 2


def _diverging(lr_values):
    return SearchSpace([Choice("cell", ("gru",)), Int("units", 2, 4),
                        Choice("learning_rate", lr_values), Fixed("lookback", 5)],
                       name="diverging")


def test_diverging_trials_fail_with_a_reason_and_the_search_goes_on(series_csv, tmp_path):
    run = tmp_path / "run"
    result = autoseq.search(series_csv, target="y", horizon=5, space=_diverging((1e20, 3e-3)),
                            trials=3, max_epochs=2, out=run, seed=3, algorithm="random",
                            warm_start=False,
                            report=False)
    board = result.leaderboard
    failed = board[board.state == "failed"]
    assert len(failed) >= 1, "seed 3 draws the diverging learning rate at least once"
    assert failed["reason"].str.contains("diverged").all()
    assert failed["rank"].isna().all()
    assert (board.state.isin(["complete", "pruned"])).sum() == 3


def test_all_failed_search_raises_and_cli_exits_1(series_csv, tmp_path, capsys):
    with pytest.raises(AllTrialsFailedError, match="every trial failed .*diverged"):
        autoseq.search(series_csv, target="y", horizon=5, space=_diverging((1e20,)), trials=2,
                       max_epochs=1, out=tmp_path / "a", max_failures=3)
    space_file = tmp_path / "div.yaml"
    space_file.write_text(_diverging((1e20,)).to_yaml())
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(series_csv), "--target", "y", "--horizon", "5", "--space",
              str(space_file), "--trials", "2", "--max-epochs", "1", "--out",
              str(tmp_path / "b"), "--max-failures", "2", "--quiet"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "error: every trial failed" in err and "Traceback" not in err


def test_cli_search_prints_the_leaderboard(series_csv, tmp_path, capsys):
    space_file = tmp_path / "tiny.yaml"
    space_file.write_text("parameters:\n  cell: gru\n  units: 3\n  lookback: 1x season\n")
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(series_csv), "-t", "y", "-H", "5", "--space", str(space_file),
              "--trials", "2", "--max-epochs", "1", "--out", str(tmp_path / "r")])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "leaderboard" in out and "seasonal_naive(m=7)" in out and "best:" in out


def test_cli_bad_input_is_one_line_and_exit_2(series_csv, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(series_csv), "--target", "Y", "--out", str(tmp_path / "r")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "target column 'Y' not found; did you mean 'y'?" in err
    assert not (tmp_path / "r").exists()


def test_run_folder_refuses_different_settings(series_csv, tiny_space, tmp_path):
    run = tmp_path / "run"
    autoseq.search(series_csv, target="y", horizon=5, space=tiny_space, trials=1, max_epochs=1,
                   out=run, report=False)
    with pytest.raises(SearchError, match=r"different settings \(horizon: 5 then, 6 now\)") as exc:
        autoseq.search(series_csv, target="y", horizon=6, space=tiny_space, trials=1,
                       max_epochs=1, out=run)
    assert str(exc.value) == (f"{run}: this run folder holds a search with different settings "
                              "(horizon: 5 then, 6 now); pass a new --out to start another "
                              "search")


def test_a_finished_search_leaves_no_trial_queued_or_running(series_csv, tiny_space, tmp_path):
    # The tiny space keeps two of the warm-start configurations; a one-trial search queues one.
    run = tmp_path / "run"
    autoseq.search(series_csv, target="y", horizon=5, space=tiny_space, trials=1, max_epochs=1,
                   out=run, report=False, stat_baselines=False)
    trials = _study(run).get_trials()
    assert [t.state.name in ("COMPLETE", "PRUNED") for t in trials] == [True]
    assert "fixed_params" in trials[0].system_attrs, "the first starting point ran"


def test_searches_with_other_seeds_join_one_study_and_sample_differently(series_csv, tiny_space,
                                                                         tmp_path, capsys):
    storage = f"sqlite:///{tmp_path}/shared.db"
    kwargs = dict(target="y", horizon=5, space=tiny_space, max_epochs=1, storage=storage,
                  report=False, stat_baselines=False, warm_start=False, algorithm="random")
    autoseq.search(series_csv, trials=2, out=tmp_path / "a", seed=0, **kwargs)
    autoseq.search(series_csv, trials=4, out=tmp_path / "b", seed=1, **kwargs)  # its own seed
    autoseq.search(series_csv, trials=6, out=tmp_path / "c", seed=0, **kwargs)  # the same seed
    trials = optuna.load_study(study_name="autoseq", storage=storage).get_trials()
    assert [t.state.name in ("COMPLETE", "PRUNED") for t in trials] == [True] * 6
    assert len({t.params["learning_rate"] for t in trials}) == 6, "no worker repeats another"
    space_file = tmp_path / "tiny.yaml"
    space_file.write_text(tiny_space.to_yaml())
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(series_csv), "-t", "y", "-H", "5", "--space", str(space_file),
              "--max-epochs", "2", "--storage", storage, "--out", str(tmp_path / "d"),
              "--no-warm-start", "--algorithm", "random"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "study 'autoseq' was created with different settings (max_epochs: 1 then, 2 now)" \
        in err
    assert not (tmp_path / "d").exists()


def test_the_failure_policy_stops_on_a_timeout_or_a_run_of_failures(monkeypatch):
    from autoseq.backends import TrialRecord
    from autoseq.searching._failures import FailurePolicy

    policy = FailurePolicy(timeout=None, max_failures=2)
    policy.record(TrialRecord(0, "failed", {}, reason="nan loss"))
    policy.record(TrialRecord(1, "complete", {}))
    policy.record(TrialRecord(2, "failed", {}, reason="oom"))
    assert not policy.should_stop() and policy.stopped is None, "a result resets the run"
    policy.record(TrialRecord(3, "failed", {}, reason="oom"))
    assert policy.should_stop()
    assert policy.stopped == "2 trials in a row failed (last: oom)"
    clock = FailurePolicy(timeout=0, max_failures=10)
    assert clock.should_stop() and clock.stopped == "timeout of 0 s reached"


def test_search_keeps_its_public_signature_and_docstring():
    import inspect

    params = inspect.signature(autoseq.search).parameters
    assert list(params)[:2] == ["data", "target"] and params["data"].kind.name == \
        "POSITIONAL_OR_KEYWORD"
    assert all(p.kind.name == "KEYWORD_ONLY" for p in list(params.values())[1:])
    assert {k: params[k].default for k in ("trials", "seed", "backend", "jobs", "precision",
                                           "compile", "format", "on_event")} == {
        "trials": 20, "seed": 0, "backend": "optuna", "jobs": "auto", "precision": "float32",
        "compile": "auto", "format": "long", "on_event": None}
    doc = inspect.getdoc(autoseq.search)
    assert doc.startswith("Search recurrent architectures for a forecasting or sequence CSV")
    assert all(f"    {name}:" in doc for name in ("data", "target", "trials", "max_length"))


def test_the_summary_compares_the_best_trial_with_the_best_baseline_on_the_shown_column():
    """The objective (val_loss) ranks seasonal_drift first, but the summary shows MAE: the
    baseline beside the trial is the one with the lowest MAE; a panel shows OWA."""
    from pathlib import Path

    from autoseq.searching._result import SearchResult

    board = pd.DataFrame({
        "rank": [1, 2, 3], "model": ["trial", "seasonal_drift", "seasonal_naive"], "trial": [7, None, None],
        "state": ["complete", "baseline", "baseline"], "val_loss": [0.04, 0.11, 0.13],
        "val_mae": [13.0, 21.4, 21.0]})
    key, base = SearchResult(Path("run"), board).versus()
    assert (key, base["model"]) == ("val_mae", "seasonal_naive")
    assert SearchResult(Path("run"), board).skill == pytest.approx(1 - 13.0 / 21.0)
    panel = board.assign(val_owa=[0.9, 1.2, 0.95])
    key, base = SearchResult(Path("run"), panel).versus()
    assert (key, base["model"]) == ("val_owa", "seasonal_naive")
    assert SearchResult(Path("run"), panel).skill == pytest.approx(1 - 0.9 / 0.95)
    assert SearchResult(Path("run"), board[board["state"] != "baseline"]).skill is None
