"""Interval columns in a forecasting search's final leaderboard: the best trials and the simple
baselines, calibrated on the earlier half of the validation windows, scored on the later half."""

import shutil

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.baselines import BaselineScore
from autoseq.exporting import _board_intervals
from autoseq.intervals import IntervalSpec, split_halves
from autoseq.leaderboard import FinalScores, best_trial_row, build_leaderboard, top_complete
from autoseq.run import open_run
from tests.conftest import make_sequences_csv, make_series_csv

pytestmark = pytest.mark.filterwarnings("ignore")

COLUMNS = ["val_cover80", "val_cover95", "val_width95", "val_msis95"]
SCORED = 2  # of the 3 trials: the third is beyond the scored ones


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("board_intervals")
    csv = make_series_csv(tmp / "series.csv", n=220)
    space = autoseq.SearchSpace([autoseq.Choice("cell", ("gru",)), autoseq.Int("units", 2, 6),
                                 autoseq.Choice("anchor", ("seasonal", "last")),
                                 autoseq.Choice("lookback", ("2x season",))], name="tiny")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_board_intervals, "SCORED_TRIALS", SCORED)
        autoseq.search(csv, target="y", horizon=5, space=space, trials=3, max_epochs=2,
                       pruner="none", out=tmp / "run", seed=0, report=False,
                       stat_baselines=False)
    return tmp / "run"


def test_the_best_trials_and_the_baselines_get_interval_columns(run_dir):
    board = pd.read_csv(run_dir / "leaderboard.csv")
    assert list(board.columns[6:10]) == COLUMNS  # after the point metrics, before the params
    best = best_trial_row(board)
    seasonal = board[board["model"] == "seasonal_naive(m=7)"].iloc[0]
    for row in (best, seasonal):
        assert all(0 <= row[c] <= 1 for c in ("val_cover80", "val_cover95"))
        assert row["val_cover80"] <= row["val_cover95"]
        assert row["val_width95"] > 0 and row["val_msis95"] > 0
    scored = top_complete(board, SCORED)
    assert int(best["trial"]) == scored[0]
    rest = board[board["state"].isin(["complete", "pruned"]) & ~board["trial"].isin(scored)]
    assert len(rest) == 1 and rest[COLUMNS].isna().all().all()


def test_a_level_too_wide_for_the_windows_and_a_trial_without_weights_stay_empty(run_dir,
                                                                                  tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    board = pd.read_csv(copy / "leaderboard.csv")
    first, *others = top_complete(board, 3)
    (copy / "trials" / f"{first:05d}" / "model.weights.h5").unlink()  # another machine's
    run = open_run(copy)
    # 99% needs 199 windows; the earlier half of the 29 validation windows has 12 of 5 steps.
    scores = _board_intervals.board_intervals(run, run.data(), board,
                                              spec=IntervalSpec(levels=(80.0, 99.0)))
    assert scores.columns == ("val_cover80", "val_cover99", "val_width99", "val_msis99")
    assert list(scores.trials) == others
    assert all(set(row) == {"val_cover80"} for row in scores.trials.values())
    assert set(scores.baselines["naive"]) == {"val_cover80"}


def test_the_halves_are_a_horizon_apart():
    fit, held = split_halves(29, 5)
    assert (fit.start, fit.stop, held.start, held.stop) == (0, 12, 17, 29)
    assert split_halves(4, 5)[0].stop == 0


def test_final_columns_follow_the_task_metrics_and_are_empty_elsewhere():
    final = FinalScores(columns=("val_cover90",), baselines={"naive": {"val_cover90": 0.9}})
    board = build_leaderboard([], [BaselineScore("naive", 1.0, metrics={"val_rmse": 2.0}),
                                   BaselineScore("drift", 2.0)],
                              metric_columns=("val_rmse",), final=final)
    assert list(board.columns[6:8]) == ["val_rmse", "val_cover90"]
    assert board["val_cover90"].tolist()[0] == 0.9 and np.isnan(board["val_cover90"][1])


def test_the_report_table_shows_them_with_readable_headers(run_dir):
    from autoseq.report._evidence import Evidence
    from autoseq.report._shared import leaderboard_section

    board = pd.read_csv(run_dir / "leaderboard.csv")
    ev = Evidence(run=None, board=board, best=best_trial_row(board))
    table = leaderboard_section(ev).blocks[0]
    assert {"cover 80%", "cover 95%", "width 95%", "MSIS 95%"} <= set(table.columns)
    assert "earlier half of the validation windows" in table.caption


def test_a_classification_leaderboard_has_no_interval_columns(tmp_path):
    csv = make_sequences_csv(tmp_path / "seq.csv", n=48, min_len=4, max_len=10)
    space = autoseq.SearchSpace([autoseq.Choice("cell", ("gru",)), autoseq.Fixed("units", 3),
                                 autoseq.Fixed("batch_size", 16)], name="tiny_seq")
    autoseq.search(csv, id_col="seq", step_col="t", target="label", space=space, trials=1,
                   max_epochs=1, out=tmp_path / "run", seed=0, report=False)
    board = pd.read_csv(tmp_path / "run" / "leaderboard.csv")
    assert not [c for c in board.columns if c.startswith(("val_cover", "val_width", "val_msis"))]
