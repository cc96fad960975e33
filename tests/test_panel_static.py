"""Static columns of a panel (``--static-col``): reading, searching with them, export, predict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.cli import main
from autoseq.data._panel import load_panel
from autoseq.data._panel_data import PanelData
from autoseq.data._panel_wide import load_wide_panel
from autoseq.exceptions import DataError
from autoseq.run import open_run
from autoseq.space import Bool
from autoseq.tasks import PANEL, DataOptions, task_for_options
from tests.conftest import best_complete, write_csv
from tests.data.test_panel import make_panel_csv

HORIZON = 6
LOOKBACK = 4
SPACE = {"cell": "gru", "units": 8, "lookback": LOOKBACK, "anchor": "last",
         "learning_rate": 0.01, "batch_size": 64, "loss": "mae"}


def make_static_csv(path: Path, *, n_series: int = 24, seed: int = 0) -> Path:
    """Series that grow or shrink 4% a step (text column ``direction``: up / down) around
    levels from 1 to 1,000, with 5% noise, and an irrelevant numeric ``size``. A lookback of 4
    steps barely shows the direction (the noise hides a 4-step trend); ``direction`` gives it."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_series):
        n, up = int(rng.integers(50, 70)), i % 2 == 0
        growth = np.exp((0.04 if up else -0.04) * np.arange(n))
        frames.append(pd.DataFrame({
            "series": f"s{i}", "date": pd.date_range("2024-01-01", periods=n, freq="D"),
            "value": 10 ** rng.uniform(0, 3) * growth * (1 + 0.05 * rng.standard_normal(n)),
            "direction": "up" if up else "down", "size": round(float(rng.uniform(1, 100)), 1)}))
    pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=seed).to_csv(
        path, index=False)
    return path


def _space(static: bool) -> autoseq.SearchSpace:
    return autoseq.SearchSpace([autoseq.Fixed(k, v) for k, v in SPACE.items()]
                               + [autoseq.Fixed("static", static)], name="static_test")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """The same tiny GRU searched with the static columns (CLI, 2 trials) and without (1)."""
    root = tmp_path_factory.mktemp("static")
    csv = make_static_csv(root / "panel.csv")
    (root / "space.yaml").write_text(_space(True).to_yaml())
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(csv), "--series-col", "series", "--target", "value",
              "--horizon", str(HORIZON), "--static-col", "direction", "--static-cols", "size",
              "--space", str(root / "space.yaml"), "--trials", "2", "--max-epochs", "3",
              "--no-stat-baselines", "--no-report", "--quiet", "--out", str(root / "on")])
    assert exit_.value.code == 0
    autoseq.search(csv, series_col="series", target="value", horizon=HORIZON,
                   static_cols=["direction", "size"], space=_space(False), trials=1,
                   max_epochs=3, out=root / "off", report=False, stat_baselines=False)
    return {"csv": csv, "on": root / "on", "off": root / "off", "root": root}


# -- reading ---------------------------------------------------------------------------------
def test_static_columns_give_one_row_per_series(tmp_path):
    csv = make_static_csv(tmp_path / "p.csv", n_series=4)
    panel = load_panel(csv, series_col="series", target="value", static=["direction", "size"])
    statics = panel.statics
    assert statics.features == ("direction=down", "direction=up", "size")
    assert statics.categories == {"direction": ["down", "up"]}
    assert statics.describe()["columns"][1] == {"name": "size", "kind": "numeric"}
    first = pd.read_csv(csv).groupby("series").first()
    for i, name in enumerate(panel.names):
        up = first.loc[name, "direction"] == "up"
        np.testing.assert_array_equal(statics.values[i], [not up, up, first.loc[name, "size"]])
    center, scale = statics.standardisation()  # indicators pass as they are
    np.testing.assert_allclose(center, [0, 0, statics.values[:, 2].mean()])
    np.testing.assert_allclose(scale, [1, 1, statics.values[:, 2].std()])


def test_integer_codes_are_numbers_unless_named_categorical(tmp_path):
    frame = pd.read_csv(make_static_csv(tmp_path / "p.csv", n_series=4))
    frame["meter"] = frame["series"].str[1:].astype(int) % 2 + 1
    csv = write_csv(tmp_path / "codes.csv", frame)
    plain = load_panel(csv, series_col="series", target="value", static=["meter"])
    assert plain.statics.features == ("meter",)
    coded = load_panel(csv, series_col="series", target="value", static=["meter"],
                       categorical=["meter"])
    assert coded.statics.features == ("meter=1", "meter=2")
    assert coded.statics.values.sum(axis=1).tolist() == [1.0] * 4


def _changed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    rows = frame.index[frame["series"] == "s1"]
    frame.loc[rows[5], "size"] = frame.loc[rows[5], "size"] + 1
    return frame


def _emptied(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[frame.index[frame["series"] == "s2"][3], "direction"] = None
    return frame


@pytest.mark.parametrize("edit, static, message", [
    (_changed, ["size"], r"row \d+: --static-col 'size' changes within series 's1' \(.* at row "
                         r"\d+, .* here\)"),
    (_emptied, ["direction"], r"row \d+: --static-col 'direction' is empty for series 's2'"),
    (None, ["sise"], "--static-col 'sise' is not a column; did you mean 'size'"),
    (None, ["value"], "--static-col 'value' is the --target column"),
    (None, ["series"], "--static-col 'series' is the --series-col column"),
    (None, ["date"], "--static-col 'date' is the --time-col column"),
])
def test_bad_static_columns_are_refused_naming_column_series_and_row(tmp_path, edit, static,
                                                                     message):
    frame = pd.read_csv(make_static_csv(tmp_path / "p.csv", n_series=4))
    csv = write_csv(tmp_path / "bad.csv", edit(frame) if edit else frame)
    with pytest.raises(DataError, match=message):
        load_panel(csv, series_col="series", target="value", static=static)


def test_the_row_named_is_where_the_value_changes(tmp_path):
    frame = pd.DataFrame({"series": ["a", "b", "a", "a", "b"],
                          "date": ["2024-01-03", "2024-01-01", "2024-01-01", "2024-01-02",
                                   "2024-01-02"],
                          "value": [1.0, 2, 3, 4, 5], "kind": ["y", "x", "x", "x", "x"]})
    with pytest.raises(DataError, match=r"row 2: --static-col 'kind' changes within series "
                                        r"'a' \('x' at row 5, 'y' here\)"):
        load_panel(write_csv(tmp_path / "p.csv", frame), series_col="series", target="value",
                   static=["kind"])


def test_a_wide_panel_reads_its_static_columns_beside_the_values(tmp_path):
    frame = pd.DataFrame({"id": ["a", "b"], "region": ["north", "south"],
                          "V2": [1.0, 10.0], "V3": [2.0, 20.0], "V4": [3.0, None]})
    panel = load_wide_panel(write_csv(tmp_path / "w.csv", frame), series_col="id",
                            target="value", static=["region"])
    assert panel.statics.features == ("region=north", "region=south")
    np.testing.assert_allclose(panel.values, [1, 2, 3, 10, 20])  # no step from 'region'


def test_static_options_need_a_panel_and_name_statics(tmp_path):
    with pytest.raises(DataError, match="pass --series-col too. Received: --static-col size"):
        task_for_options(DataOptions("x.csv", ("value",), static_cols=("size",)))
    with pytest.raises(DataError, match="--categorical names a --static-col"):
        PANEL.check_options(DataOptions("x.csv", ("value",), series_col="series",
                                        static_cols=("size",), covariates=["temp"],
                                        categorical=("meter",)),
                            metric="owa", folds=1)  # (by default: a past covariate of codes)


def test_the_cli_refuses_a_static_column_without_series_col(tmp_path, capsys):
    csv = make_static_csv(tmp_path / "p.csv", n_series=2)
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(csv), "--target", "value", "--static-col", "size",
              "--out", str(tmp_path / "r")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--static-col" in err and "--series-col" in err


def test_whether_a_trial_uses_statics_is_searched_only_when_there_are_some(tmp_path):
    space = autoseq.load_search_space("panel_fast")
    with_static = PanelData(load_panel(make_static_csv(tmp_path / "p.csv", n_series=4),
                                       series_col="series", target="value",
                                       static=["direction"]), horizon=HORIZON)
    assert PANEL.adapt_space(space, with_static)["static"] == Bool("static")
    plain = PanelData(load_panel(make_panel_csv(tmp_path / "plain.csv"), series_col="series",
                                 target="value"), horizon=4)
    assert "static" not in PANEL.adapt_space(space, plain).names
    assert "static" not in PANEL.resolve_config({}, plain, builder="rnn")
    assert PANEL.resolve_config({"static": True}, plain, builder="rnn")["static"] is False


# -- searching, export, predict ---------------------------------------------------------------
def test_the_static_columns_beat_the_same_network_without_them(runs):
    on, off = best_complete(runs["on"]), best_complete(runs["off"])
    assert "static columns" in on["model"] and "static columns" not in off["model"]
    # The direction decides the next steps and a 4-step window barely shows it: measured
    # OWA 0.37-0.47 with it against 0.87-0.99 without (naive: 1.0) on four draws of the data.
    assert on["val_owa"] < 0.75 * off["val_owa"] and on["val_owa"] < 0.8
    run = open_run(runs["on"])
    assert run.settings.data["static_cols"] == ["direction", "size"]
    assert run.settings.data["static_categories"] == {"direction": ["down", "up"]}


def test_the_saved_model_takes_windows_and_static_rows_in_series_units(runs, tmp_path):
    import tensorflow as tf

    res = autoseq.export(runs["on"], trial=1, out=tmp_path / "model", report=False)
    m = res.manifest
    assert m["signature"]["inputs"] == ["window", "static"]
    assert m["static"]["features"] == ["direction=down", "direction=up", "size"]
    assert m["static"]["columns"][0] == {"name": "direction", "kind": "categorical",
                                         "categories": ["down", "up"]}
    assert m["static"]["shape"] == [None, 3]
    serve = tf.saved_model.load(str(tmp_path / "model")).signatures["serving_default"]
    window = tf.constant(np.linspace(100, 110, LOOKBACK, dtype="float32")[None, :, None])
    down, up = (tf.constant([[1 - flag, flag, 50.0]], dtype=tf.float32) for flag in (0, 1))
    out = {k: serve(window=window, static=s)["output_0"].numpy()[0, :, 0]
           for k, s in (("down", down), ("up", up))}
    assert out["up"][-1] > 110 > out["down"][-1]  # the flag sets the direction
    # Scale-free: a window 1,000 times larger gets a forecast 1,000 times larger.
    big = serve(window=window * 1000.0, static=up)["output_0"].numpy()[0, :, 0]
    np.testing.assert_allclose(big, out["up"] * 1000.0, rtol=1e-4)


def test_predict_reads_each_series_static_values(runs, tmp_path):
    model = autoseq.export(runs["on"], ensemble=2, out=tmp_path / "model", report=False).path
    out = tmp_path / "forecast.csv"
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(model), str(runs["csv"]), "--out", str(out)])
    assert exit_.value.code == 0
    frame, raw = pd.read_csv(out), pd.read_csv(runs["csv"], parse_dates=["date"])
    assert len(frame) == raw["series"].nunique() * HORIZON
    assert set(frame["series"]) == set(raw["series"])
    last = raw.sort_values("date").groupby("series")["value"].last()
    change = frame.groupby("series")["value"].last() / last
    direction = raw.groupby("series")["direction"].first()
    assert change[direction == "up"].mean() > 1 > change[direction == "down"].mean()
    backtest = autoseq.load_model(model).predict(runs["csv"], all_origins=True)
    assert len(backtest) == int((raw.groupby("series").size() - LOOKBACK + 1).sum()) * HORIZON


def test_predict_refuses_a_category_it_never_saw(runs, tmp_path, capsys):
    model = autoseq.export(runs["on"], out=tmp_path / "model", report=False).path  # the default
    raw = pd.read_csv(runs["csv"])
    assert len(autoseq.load_model(model).predict(raw)) == raw["series"].nunique() * HORIZON
    raw.loc[raw["series"] == "s3", "direction"] = "sideways"
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(model), str(write_csv(tmp_path / "new.csv", raw))])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "series 's3': --static-col 'direction' holds 'sideways'" in err


def test_an_ensemble_routes_the_static_rows_to_the_members_that_take_them(runs):
    import keras

    from autoseq.exporting._panel_ensemble import _compose, _load_member, raw_forecasts

    on, off = open_run(runs["on"]), open_run(runs["off"])
    data = on.data()
    with_static = _load_member(on, data, 0)
    plain = _load_member(off, data, 0)
    plain = type(plain)(1, plain.config, plain.info,
                        keras.Model(plain.raw.input, plain.raw.output, name="trial_1"))
    assert with_static.takes == ("static",) and plain.takes == ()
    origins = data.origins("val")
    mixed = _compose([with_static, plain], data)
    parts = [raw_forecasts(m.raw, LOOKBACK, data=data, origins=origins)
             for m in (with_static, plain)]
    np.testing.assert_allclose(raw_forecasts(mixed.model, LOOKBACK, data=data, origins=origins),
                               np.mean(parts, axis=0), rtol=1e-4)
    blend = _compose([with_static], data, {"blend": "naive", "weight": 0.5, "chosen": "blend"})
    naive = data.windows(*origins, 1, targets=False)[0]
    np.testing.assert_allclose(raw_forecasts(blend.model, LOOKBACK, data=data, origins=origins),
                               0.5 * parts[0] + 0.5 * naive, rtol=1e-4)
