"""The same checks over every backend: ranking, resume, failed trials, leaderboard columns."""

import pandas as pd
import pytest

import autoseq
from autoseq.exceptions import AllTrialsFailedError
from autoseq.interval_metrics import board_columns
from autoseq.intervals import DEFAULT_LEVELS
from autoseq.leaderboard import FinalScores, build_leaderboard
from tests.test_search import _diverging

pytestmark = pytest.mark.filterwarnings("ignore")

# (backend, algorithm, a seed whose first draws include the diverging learning rate)
BACKENDS = [
    pytest.param("optuna", None, 3, id="optuna"),
    pytest.param("keras-tuner", "hyperband", 0, id="keras-tuner-hyperband"),
    pytest.param("keras-tuner", "random", 0, id="keras-tuner-random"),
]


def _search(csv, out, backend, algorithm, space, **kwargs):
    kwargs.setdefault("max_epochs", 3)  # 3 epochs: Hyperband runs two brackets and prunes
    kwargs.setdefault("stat_baselines", False)  # the contract is about the engines, not them
    kwargs.setdefault("report", False)
    kwargs.setdefault("warm_start", False)  # seeded draws, not the starting points, decide
    return autoseq.search(csv, target="y", horizon=5, space=space, out=out, backend=backend,
                          algorithm=algorithm, **kwargs)


@pytest.mark.parametrize(("backend", "algorithm", "diverging_seed"), BACKENDS)
class TestBackendContract:
    def test_ranks_trials_next_to_baselines_in_the_same_columns(
            self, series_csv, tiny_space, tmp_path, backend, algorithm, diverging_seed):
        result = _search(series_csv, tmp_path / "run", backend, algorithm, tiny_space,
                         trials=2)
        board = pd.read_csv(tmp_path / "run" / "leaderboard.csv")
        reference = build_leaderboard([], [], extra_params=tiny_space.names,
                                      final=FinalScores(board_columns(DEFAULT_LEVELS)))
        assert list(board.columns) == list(reference.columns)
        baselines = set(board.loc[board.state == "baseline", "model"])
        linear = {b for b in baselines if b.startswith("linear(L=")}
        assert len(linear) == 1 and baselines - linear == {
            "naive", "seasonal_naive(m=7)", "seasonal_drift(m=7)"}
        ranked = board[board["rank"].notna()]
        assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
        assert ranked["val_loss"].is_monotonic_increasing
        trials = board[board.trial.notna()]
        assert trials.state.isin(["complete", "pruned"]).sum() == 2
        assert trials["cell"].isin(["lstm", "gru"]).all() and trials["units"].between(2, 8).all()
        assert (trials["epochs"] >= 1).all() and (trials["params"] > 0).all()
        assert result.best["trial"] in (0, 1)
        best_dir = tmp_path / "run" / "trials" / f"{int(result.best['trial']):05d}"
        assert (best_dir / "model.weights.h5").is_file()

    def test_resume_reaches_the_total_without_rerunning(self, series_csv, tiny_space, tmp_path,
                                                        backend, algorithm, diverging_seed):
        run = tmp_path / "run"
        started: list[int] = []

        def on_event(event):
            if event["kind"] == "trial_start":
                started.append(event["number"])

        kwargs = dict(space=tiny_space, on_event=on_event)
        first = _search(series_csv, run, backend, algorithm, trials=1, **kwargs)
        assert started == [0]
        second = _search(series_csv, run, backend, algorithm, trials=2, **kwargs)
        assert started == [0, 1], "only the missing trial runs"
        board = second.leaderboard.dropna(subset=["trial"]).set_index("trial")
        assert board.state.isin(["complete", "pruned"]).sum() == 2
        kept = first.leaderboard.dropna(subset=["trial"]).set_index("trial").loc[0]
        assert board.loc[0, "val_loss"] == kept["val_loss"]  # the finished trial as it was
        assert board.loc[0, "seconds"] == kept["seconds"]
        names = [n for n in tiny_space.names if n in board.columns]
        assert not board.loc[0, names].equals(board.loc[1, names]), "a new configuration"
        _search(series_csv, run, backend, algorithm, trials=2, **kwargs)
        assert started == [0, 1], "the total is reached: nothing more runs"

    def test_diverging_trials_are_failed_with_a_reason_and_never_ranked(
            self, series_csv, tmp_path, backend, algorithm, diverging_seed):
        result = _search(series_csv, tmp_path / "run", backend, algorithm,
                         _diverging((1e20, 3e-3)), trials=1, seed=diverging_seed)
        board = result.leaderboard
        failed = board[board.state == "failed"]
        assert len(failed) >= 1, f"seed {diverging_seed} draws the diverging learning rate"
        assert failed["reason"].str.contains("diverged").all()
        assert failed["rank"].isna().all() and (failed["learning_rate"] == 1e20).all()
        assert board.state.isin(["complete", "pruned"]).sum() == 1
        assert (board.loc[board["rank"].notna(), "learning_rate"].dropna() < 1).all()
        assert result.best["learning_rate"] == 3e-3

    def test_all_failed_raises_and_leaves_every_reason(self, series_csv, tmp_path, backend,
                                                       algorithm, diverging_seed):
        with pytest.raises(AllTrialsFailedError, match="every trial failed .*diverged"):
            _search(series_csv, tmp_path / "run", backend, algorithm,
                    _diverging((1e20,)), trials=2, max_epochs=1, max_failures=2)
        board = pd.read_csv(tmp_path / "run" / "leaderboard.csv")
        trials = board[board.trial.notna()]
        assert len(trials) == 2 and (trials.state == "failed").all()
        assert trials["reason"].str.contains("diverged").all() and trials["rank"].isna().all()
