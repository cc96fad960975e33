"""A panel's export: the best trial, the mean of the best, or a blend, chosen on validation."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import autoseq
from autoseq.cli import cli
from autoseq.exceptions import ModelError
from tests.data.test_panel import make_panel_csv

HORIZON = 4


@pytest.fixture(scope="module")
def panel_run(tmp_path_factory) -> tuple[Path, Path]:
    """Three one-epoch trials of a tiny GRU over a 6-series panel; seed 1 draws three different
    lookbacks (9, 13 and 4 steps), so any two of them differ."""
    root = tmp_path_factory.mktemp("panel_ensemble")
    csv = make_panel_csv(root / "panel.csv")
    space = autoseq.SearchSpace([autoseq.Fixed("cell", "gru"), autoseq.Fixed("units", 4),
                                 autoseq.Int("lookback", 4, 16), autoseq.Fixed("anchor", "last")],
                                name="tiny_panel")
    autoseq.search(csv, series_col="series", target="value", horizon=HORIZON, space=space,
                   trials=3, max_epochs=1, out=root / "run", seed=1, report=False,
                   stat_baselines=False)
    return csv, root / "run"


@pytest.fixture(scope="module")
def pair(panel_run, tmp_path_factory):
    """``--ensemble 2``: the two best trials' mean."""
    _, run = panel_run
    return autoseq.export(run, ensemble=2, out=tmp_path_factory.mktemp("pair") / "model",
                          report=False)


def _lookbacks(run: Path) -> dict[int, int]:
    """Each complete trial's lookback, best-ranked first."""
    from autoseq._run_folder import load_trial_json
    from autoseq.run import open_run

    folder = open_run(run)
    board = folder.leaderboard()
    done = board[board["state"] == "complete"].sort_values("rank")
    return {int(t): int(load_trial_json(folder.trial_dir(int(t)))["config"]["lookback"])
            for t in done["trial"]}


def test_the_default_export_serves_the_candidate_that_validates_best(panel_run, caplog):
    from autoseq.panel_baselines import score
    from autoseq.run import open_run

    _, run = panel_run
    with caplog.at_level(logging.INFO, logger="autoseq"):
        res = autoseq.export(run)  # into run/export, rewriting the report
    m = res.manifest
    sel = m["selection"]
    scores = sel["val_owa"]
    assert {"best trial", "mean of 2 best trials", "mean of 3 best trials"} < set(scores)
    # + the best baseline's 4 blends (alone included) + 3 blends with each other baseline
    # + the weighted ensemble of the trials and baselines
    assert all(np.isfinite(v) for v in scores.values())
    weighted = [k for k in scores if k.startswith("weighted ensemble: ")]
    assert len(weighted) == 1
    assert len(scores) >= 3 + 4 + 1 and (len(scores) - 3 - 4 - 1) % 3 == 0
    assert sel["baseline"]["name"] in scores and (sel["weight"] == 1.0) == (sel["blend"] is None)
    assert sel["chosen"] == min(scores, key=scores.get)
    if sel["weights"]:
        assert sel["chosen"] == weighted[0]
        trials = {int(n.removeprefix("trial ")) for n in sel["weights"] if n.startswith("trial ")}
        assert set(res.members or (res.trial,)) == (trials or {res.trial})
    else:
        assert len(res.members or (res.trial,)) == sel["size"]
    assert any(r.getMessage().startswith(f"export: {sel['chosen']} (validation OWA")
               for r in caplog.records)
    # The recorded score is the exported model's own on every series' validation windows.
    data = open_run(run).data()
    x, _ = data.windows(*data.origins("val"), m["lookback"])
    pred = autoseq.load_model(res.path).predict_windows(x)
    assert score(data, "val", pred.astype("float64"))["owa"] == pytest.approx(
        scores[sel["chosen"]], rel=1e-4)
    # The manifest's validation scores are the served forecaster's, its best member's apart.
    assert m["metrics"]["val"]["owa"] == pytest.approx(scores[sel["chosen"]], rel=1e-4)
    assert m["metrics"]["val_trial"]["trial"] == res.trial
    # The report names what was exported and what export weighed.
    text = (run / "report.md").read_text().replace("\\_", "_")  # markdown escapes "_"
    assert f"exported {m['forecaster']}" in text and "Export chose the" in text


def test_an_ensemble_is_the_mean_of_its_members_own_forecasts(panel_run, pair):
    from autoseq.run import load_trial_model, open_run

    _, run = panel_run
    m = pair.manifest
    lookbacks = _lookbacks(run)
    assert len(pair.members) == 2 and m["ensemble"]["trials"] == list(pair.members)
    own = [lookbacks[t] for t in pair.members]
    assert own[0] != own[1], "the fixture's trials should differ in lookback"
    assert m["lookback"] == max(own) and m["signature"]["input_shape"] == [None, max(own), 1]
    data = open_run(run).data()
    x, _ = data.windows(*data.origins("test"), max(own))
    served = autoseq.load_model(pair.path).predict_windows(x)
    members = []
    for trial, lb in zip(pair.members, own, strict=True):
        net, _, _ = load_trial_model(open_run(run), trial, data)
        w = x[:, -lb:, None]
        scale = np.maximum(np.abs(w).mean(axis=1, keepdims=True), 1e-6)
        members.append(net.predict(w / scale, verbose=0)[..., 0] * scale[..., 0])
    np.testing.assert_allclose(served, np.mean(members, axis=0), rtol=1e-4, atol=1e-4)


def test_predict_reads_the_ensembles_window_from_a_long_csv(panel_run, pair, tmp_path):
    csv, _ = panel_run
    out = tmp_path / "forecast.csv"
    result = CliRunner().invoke(cli, ["predict", str(pair.path), str(csv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    # the default 80% band (the tiny panel's validation windows are too few for 95%)
    assert list(frame.columns) == ["series", "origin", "step", "timestamp", "value",
                                   "value_lo80", "value_hi80"]
    assert len(frame) == 6 * HORIZON and frame["value"].notna().all()
    assert (frame["value_lo80"] <= frame["value_hi80"]).all()


def test_trial_exports_that_trial_alone(panel_run, tmp_path):
    _, run = panel_run
    lookbacks = _lookbacks(run)
    worst = list(lookbacks)[-1]
    res = autoseq.export(run, trial=worst, out=tmp_path / "one", report=False)
    m = res.manifest
    assert res.trial == m["trial"] == worst and res.members == ()
    assert "ensemble" not in m and "selection" not in m
    assert m["lookback"] == lookbacks[worst] and m["forecaster"] == f"trial {worst}"
    with pytest.raises(ModelError, match="not refitted at export.*leave out --refit"):
        autoseq.export(run, refit=True, report=False)
    with pytest.raises(ModelError, match="TFLite"):
        autoseq.export(run, format="tflite", report=False)
    with pytest.raises(ModelError, match="exclude each other"):
        autoseq.export(run, trial=worst, ensemble=2, report=False)


def test_a_blend_or_a_weighted_ensemble_weighs_the_networks_as_selected(panel_run):
    """The selection's weights hold inside the served model: a blend of 0.75 of the trial and
    0.25 of naive, or (0) naive alone, the network kept at weight 0; a weighted ensemble of 0.6
    of the trial and 0.4 of naive, or of naive alone, which holds no network (nor its static
    input); the label says which."""
    from autoseq.exporting._panel_ensemble import _compose, _load_member, _weighted, raw_forecasts
    from autoseq.run import open_run

    _, run = panel_run
    folder = open_run(run)
    data = folder.data()
    best = int(folder.leaderboard().query("state == 'complete'").sort_values("rank").trial.iloc[0])
    member = _load_member(folder, data, best)
    origins = data.origins("test")
    net = raw_forecasts(member.raw, member.lookback, data=data, origins=origins)
    blend = {"blend": "naive", "size": 1}
    for share, served in (
            (0.75, _compose([member], data, blend | {"weight": 0.75, "chosen": "blend"})),
            (0.0, weight0 := _compose([member], data, blend | {"weight": 0.0,
                                                                "chosen": "naive"})),
            (0.6, _weighted([member], data, {"weights": {f"trial {best}": 0.6, "naive": 0.4},
                                              "chosen": "mix"})),
            (0.0, _weighted([member], data, {"weights": {"naive": 1.0}, "chosen": "mix"}))):
        x, _ = data.windows(*origins, served.width, targets=False)
        naive = np.repeat(x[:, -1:], HORIZON, axis=1)
        pred = raw_forecasts(served.model, served.width, data=data, origins=origins)
        np.testing.assert_allclose(pred, share * net + (1 - share) * naive, rtol=1e-4,
                                   atol=1e-4)
    assert weight0.label == f"naive (the networks, trial {best}, weighted 0)"
    assert len(served.model.inputs) == 1 and not served.networks
    assert served.label == f"mix (no network: trial {best} validated worse)"
