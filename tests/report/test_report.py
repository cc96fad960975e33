import json
import re
from pathlib import Path

import pandas as pd
import pytest

import autoseq
from autoseq.cli import main
from tests.report.conftest import FORMULA, SCRIPT

pytestmark = pytest.mark.filterwarnings("ignore")

_IMG = re.compile(r"<img\b[^>]*>", re.I)


def _html(run):
    return (run / "report.html").read_text(encoding="utf-8")


def test_report_is_self_contained_with_every_section(report_run):
    html = _html(report_run)
    assert "http://" not in html and "https://" not in html
    imgs = _IMG.findall(html)
    assert len(imgs) >= 6
    for tag in imgs:
        assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]+"', tag), tag
    assert not re.search(r"\b(?:src|href)=\"(?!data:|#)", html), "only inline data and anchors"
    assert not re.search(r"<(?:script|iframe|object|embed|link)\b", html, re.I)
    for section in ("data", "winner", "leaderboard", "questions", "search", "forecasts",
                    "looks-at"):
        assert f'<section id="{section}">' in html
    assert "Cell type" in html and "GRU" in html and "LSTM" in html
    lag_sentence = re.search(r"What it looks at:</b>(The [^<]+ carr(?:ies|y) \d+% of the "
                             r"prediction[^<]*)</p>", html)
    assert lag_sentence and re.search(r"\b(?:day|days|week)\b", lag_sentence[1])
    assert "skill over it (test)" in html
    files = report_run / "report_files"
    pngs = sorted(p.name for p in files.glob("*.png"))
    assert len(pngs) == len(imgs)
    md = (report_run / "report.md").read_text(encoding="utf-8")
    for name in pngs:
        assert f"](report_files/{name})" in md
        assert (files / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hostile_column_names_show_as_text(report_run):
    html = _html(report_run)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    md = (report_run / "report.md").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md and "<script" not in md.lower()
    columns = pd.read_csv(report_run / "report_files" / "column_importance.csv")
    names = list(columns["input column"])
    assert SCRIPT in names and "'" + FORMULA in names and FORMULA not in names


def test_winner_scores_match_the_leaderboard(report_run):
    board = pd.read_csv(report_run / "leaderboard.csv")
    best = board[board["state"].isin(["complete", "pruned"])].iloc[0]
    metrics = pd.read_csv(report_run / "report_files" / "metrics.csv")
    row = metrics.iloc[0]
    assert row["forecaster"] == f"best model (trial {int(best['trial'])})"
    assert float(row["val MAE"]) == pytest.approx(best["val_mae"], rel=1e-3)
    assert set(metrics["forecaster"][1:]) == set(board.loc[board.state == "baseline", "model"])
    recomputed = ~metrics["forecaster"].str.startswith("mstl_")  # statistical: from the board
    assert metrics.loc[recomputed, "test MAE"].notna().all()
    lags = pd.read_csv(report_run / "report_files" / "lag_importance.csv")
    assert lags["share of the prediction"].str.rstrip("%").astype(float).sum() == \
        pytest.approx(100, abs=len(lags))


def test_cli_report_rewrites_the_report(run_copy, capsys):
    (run_copy / "report_files" / "stale.png").write_bytes(b"old")
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(run_copy), "--quiet"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert f"report: {run_copy / 'report.html'}" in out
    assert not (run_copy / "report_files" / "stale.png").exists()


def test_report_without_the_training_csv_keeps_what_the_run_folder_holds(run_copy, capsys):
    info = json.loads((run_copy / "run.json").read_text())
    original = info["data"]["source"]
    info["data"]["source"] = str(run_copy / "moved-away.csv")
    (run_copy / "run.json").write_text(json.dumps(info))
    paths = autoseq.write_report(run_copy)
    html = _html(run_copy)
    assert "could not be re-read" in html and "--data" in html
    assert '<section id="leaderboard">' in html and "Cell type" in html
    assert paths.figures >= 2  # optimisation history, design choices, learning curves
    paths = autoseq.write_report(run_copy, data=original)
    assert paths.figures >= 6 and "could not be re-read" not in _html(run_copy)
    # a file named with --data that is not the run's is refused, not reported around
    other = run_copy / "other.csv"
    lines = Path(original).read_text().splitlines()
    other.write_text("\n".join(lines[:-1]) + "\n")  # the last row dropped
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(run_copy), "--data", str(other)])
    assert exit_.value.code == 2 and "other.csv" in capsys.readouterr().err


def test_not_a_run_folder_is_one_line_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(tmp_path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not a run folder" in err


def test_a_failing_report_warns_and_the_search_succeeds(series_csv, tiny_space, tmp_path,
                                                        caplog):
    run = tmp_path / "run"
    (run / "report.html").mkdir(parents=True)  # the report cannot be written over a folder
    result = autoseq.search(series_csv, target="y", horizon=5, space=tiny_space, trials=1,
                            max_epochs=1, out=run, seed=0)
    assert result.best is not None and result.report is None
    assert any("report not written" in r.getMessage() for r in caplog.records)
