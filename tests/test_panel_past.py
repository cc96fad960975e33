"""Past covariates of a panel (``--covariates`` with ``--series-col``) and the past of its
known-future ones: reading, the ``past`` input, searching with it, export, predict and the
report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import autoseq
from autoseq.cli import main
from autoseq.data._panel import load_panel
from autoseq.data._panel_data import PanelData
from autoseq.exceptions import DataError
from autoseq.run import open_run
from autoseq.space import Bool
from autoseq.tasks import PANEL, DataOptions
from tests.conftest import best_complete, write_csv
from tests.data.test_panel import make_panel_csv

HORIZON = 4
LOOKBACK = 8
SPACE = {"cell": "gru", "units": 8, "lookback": LOOKBACK, "anchor": "last",
         "learning_rate": 0.01, "batch_size": 64, "loss": "mae"}
PAST = ["orders", "noise"]


def make_past_csv(path: Path, *, n_series: int = 24, seed: int = 0) -> Path:
    """Series at levels from 1 to 1,000 (3% noise) that rise by half ``HORIZON`` days after an
    order (``orders`` 0/1, drawn at random): the orders of the last ``HORIZON`` days foretell
    the whole horizon, and nothing else does; ``noise`` is an irrelevant covariate."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_series):
        n = int(rng.integers(60, 80))
        orders = (rng.random(n) < 0.3).astype(int)
        lifted = np.r_[np.zeros(HORIZON), orders[:-HORIZON]]
        value = 10 ** rng.uniform(0, 3) * (1 + 0.5 * lifted) * (
            1 + 0.03 * rng.standard_normal(n))
        frames.append(pd.DataFrame({
            "series": f"s{i}", "date": pd.date_range("2024-01-01", periods=n, freq="D"),
            "value": value, "orders": orders, "noise": rng.standard_normal(n)}))
    pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=seed).to_csv(
        path, index=False)
    return path


def _space(past: bool) -> autoseq.SearchSpace:
    return autoseq.SearchSpace([autoseq.Fixed(k, v) for k, v in SPACE.items()]
                               + [autoseq.Fixed("past", past)], name="past_test")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """The same tiny GRU searched reading the covariates' past (CLI, 2 trials) and not (1)."""
    root = tmp_path_factory.mktemp("past")
    csv = make_past_csv(root / "panel.csv")
    (root / "space.yaml").write_text(_space(True).to_yaml())
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(csv), "--series-col", "series", "--target", "value",
              "--horizon", str(HORIZON), "--covariates", ",".join(PAST),
              "--space", str(root / "space.yaml"), "--trials", "2", "--max-epochs", "6",
              "--no-stat-baselines", "--no-report", "--quiet", "--out", str(root / "on")])
    assert exit_.value.code == 0
    autoseq.search(csv, series_col="series", target="value", horizon=HORIZON,
                   covariates=PAST, space=_space(False), trials=1, max_epochs=6,
                   out=root / "off", report=False, stat_baselines=False)
    return {"csv": csv, "on": root / "on", "off": root / "off", "root": root}


# -- reading ---------------------------------------------------------------------------------
def test_past_covariates_are_read_for_the_history_only(tmp_path):
    rows = [("a", f"2024-01-0{d}", v, t) for d, v, t in (
        (1, 1.0, 10.0), (2, 2.0, None), (3, 3.0, 30.0), (4, None, 40.0))]
    rows += [("b", f"2024-01-0{d}", v, t) for d, v, t in ((2, 5.0, 7.0), (3, 6.0, 8.0))]
    path = write_csv(tmp_path / "small.csv", pd.DataFrame(
        rows, columns=["series", "date", "value", "temp"]))
    panel = load_panel(path, series_col="series", target="value", past=["temp"])
    np.testing.assert_allclose(panel.past.values[:, 0], [10, 20, 30, 7, 8])  # interpolated
    assert panel.past.ahead.shape == (2, 0, 1)  # nothing is kept of the rows ahead
    assert panel.summary()["covariates"] == ["temp"]
    assert panel.select(np.array([False, True])).past.values[:, 0].tolist() == [7, 8]


def test_every_other_numeric_column_is_a_past_covariate_by_default(tmp_path, caplog):
    frame = pd.read_csv(make_past_csv(tmp_path / "p.csv", n_series=3))
    frame["weather"] = "sun"  # text: not by default
    frame["size"] = 1.0
    frame["promo"] = 0.0
    frame.loc[frame["series"] == "s1", "size"] = np.nan  # one series lacks it: left out
    frame["ratio"] = 1.0
    frame.loc[frame.index[3], "ratio"] = np.inf  # likewise
    path = write_csv(tmp_path / "d.csv", frame)
    with caplog.at_level("INFO", logger="autoseq"):
        panel = load_panel(path, series_col="series", target="value", past=None,
                           future=["promo"])
    assert panel.past.columns == ("orders", "noise")
    assert "column(s) size have no value in some series' history" in caplog.text
    assert "column(s) ratio hold infinite values" in caplog.text
    assert "column(s) weather are not numeric" in caplog.text
    row = frame.index[3] + 2
    with pytest.raises(DataError, match=f"row {row}: --covariate 'ratio' holds an infinite "
                                        "value"):  # named: refused
        load_panel(path, series_col="series", target="value", past=["ratio"])
    assert load_panel(path, series_col="series", target="value").past is None  # the API's ()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"past": ["value"]}, "--covariate 'value' is the --target column"),
    ({"past": ["temp"], "future": ["temp"]}, "--covariate 'temp' is the --future-covariate "
                                             "column"),
    ({"past": ["tmp"]}, "--covariate 'tmp' is not a column; did you mean 'temp'"),
])
def test_a_past_covariate_must_be_another_column(tmp_path, kwargs, message):
    frame = pd.read_csv(make_panel_csv(tmp_path / "p.csv", n_series=2))
    frame["temp"] = 1.0
    with pytest.raises(DataError, match=message):
        load_panel(write_csv(tmp_path / "t.csv", frame), series_col="series", target="value",
                   **kwargs)


def test_a_past_covariate_needs_values_in_every_history(tmp_path):
    frame = pd.read_csv(make_panel_csv(tmp_path / "p.csv", n_series=3))
    frame["temp"] = 1.0
    frame.loc[frame["series"] == "s1", "temp"] = np.nan
    with pytest.raises(DataError, match="--covariate 'temp' has no value in the history of "
                                        "series 's1'"):
        load_panel(write_csv(tmp_path / "t.csv", frame), series_col="series", target="value",
                   past=["temp"])


def test_a_default_past_covariate_of_codes_is_one_hot_encoded(tmp_path):
    frame = pd.read_csv(make_past_csv(tmp_path / "p.csv", n_series=3))
    frame["shift"] = frame.index % 3 + 1  # integer codes: three categories
    path = write_csv(tmp_path / "codes.csv", frame)
    PANEL.check_options(DataOptions(str(path), ("value",), series_col="series",
                                    categorical=("shift",)), metric="owa", folds=1)
    panel = load_panel(path, series_col="series", target="value", past=None,
                       categorical=["shift"])
    assert panel.past.features == ("orders", "noise", "shift=1", "shift=2", "shift=3")
    with pytest.raises(DataError, match="--categorical 'shfit' is not a static column or "
                                        "covariate of this panel; did you mean 'shift'"):
        load_panel(path, series_col="series", target="value", past=None,
                   categorical=["shfit"])


def test_panel_options_take_past_covariates_in_the_long_format_only():
    options = {"data": "x.csv", "targets": ("value",), "series_col": "series"}
    PANEL.check_options(DataOptions(**options, covariates=["temp", "code"],
                                    categorical=("code",)), metric="owa", folds=1)
    with pytest.raises(DataError, match="--covariates need the long format"):
        PANEL.check_options(DataOptions(**options, covariates=["temp"], format="wide"),
                            metric="owa", folds=1)


def test_the_past_input_holds_the_covariates_before_each_origin(tmp_path):
    """A covariate equal to the target, and a known-future one equal to it too: the ``past``
    input's last rows are the raw window itself, for every part and in the training batches;
    the standardisation reads training rows only."""
    frame = pd.read_csv(make_panel_csv(tmp_path / "p.csv", n_series=4))
    frame["copy"] = frame["value"]
    frame["known"] = frame["value"]
    data = PanelData(load_panel(write_csv(tmp_path / "c.csv", frame), series_col="series",
                                target="value", past=["copy"], future=["known"]),
                     horizon=HORIZON)
    assert data.n_past == 2 and data.past_steps == data.max_lookback >= LOOKBACK
    for part in ("train", "val", "test", "future"):
        series, position = data.origins(part)
        past = data.past_values(series, position)
        x, _ = data.windows(series, position, data.past_steps, targets=False)
        np.testing.assert_allclose(past[..., 0], x, rtol=1e-6)
        np.testing.assert_allclose(past[..., 1], x, rtol=1e-6)
    inputs, _ = next(iter(data.train_dataset(LOOKBACK, batch_size=64, takes=("past",))))
    window, past = inputs["window"].numpy()[..., 0], inputs["past"].numpy()[..., 0]
    assert past.shape[1] == data.past_steps
    scale = past[:, -LOOKBACK:] / window  # the window is normalised, the past raw
    np.testing.assert_allclose(scale, scale[:, :1] * np.ones_like(scale), rtol=1e-4)
    center, _ = data.past_standardisation()
    rows = data.training_rows()
    assert center[0] == pytest.approx(data.panel.values[rows].mean())


def test_whether_a_trial_reads_the_past_is_searched_only_when_there_are_covariates(tmp_path):
    space = autoseq.load_search_space("panel_fast")
    with_past = PanelData(load_panel(make_past_csv(tmp_path / "p.csv", n_series=4),
                                     series_col="series", target="value", past=PAST),
                          horizon=HORIZON)
    adapted = PANEL.adapt_space(space, with_past)
    assert adapted["past"] == Bool("past")
    # the starting points read the window (and known-future covariates) only; the sampler
    # tries the past
    from autoseq.searching._portfolio import starting_points

    assert {p["past"] for p in starting_points(adapted)} == {False}
    plain = PanelData(load_panel(make_panel_csv(tmp_path / "plain.csv"), series_col="series",
                                 target="value"), horizon=4)
    assert "past" not in PANEL.adapt_space(space, plain).names
    assert PANEL.resolve_config({"past": True}, plain, builder="rnn")["past"] is False


# -- searching, export, predict, report -------------------------------------------------------
def test_reading_the_past_beats_the_same_network_without_it(runs):
    on, off = best_complete(runs["on"]), best_complete(runs["off"])
    assert "past covariates" in on["model"] and "past covariates" not in off["model"]
    # Only the last orders foretell the horizon: the network that reads them forecasts far
    # better. Measured on four draws of the data: 0.26-0.35 times the OWA without them.
    assert on["val_owa"] < 0.75 * off["val_owa"]
    settings = open_run(runs["on"]).settings.data
    assert settings["covariates"] == PAST


def test_the_saved_model_takes_the_past_raw_in_series_units(runs, tmp_path):
    import tensorflow as tf

    run = open_run(runs["on"])
    steps = run.data().past_steps
    m = autoseq.export(runs["on"], trial=1, out=tmp_path / "model", report=False).manifest
    assert m["signature"]["inputs"] == ["window", "past"]
    assert m["past"]["shape"] == [None, steps, 2] and m["past"]["features"] == PAST
    assert m["covariates"] == PAST
    assert m["roles"] == {"value": "target",
                          "orders": "past covariate (its values before the origin)",
                          "noise": "past covariate (its values before the origin)"}
    assert any(t["kind"] == "past_standardise" for t in m["transforms"])
    serve = tf.saved_model.load(str(tmp_path / "model")).signatures["serving_default"]
    window = tf.constant(np.full((1, LOOKBACK, 1), 100.0, dtype="float32"))
    past = np.zeros((1, steps, 2), dtype="float32")
    quiet = serve(window=window, past=tf.constant(past))["output_0"].numpy()[0, :, 0]
    past[0, -HORIZON:, 0] = 1.0  # orders on each of the last days: the horizon rises
    busy = serve(window=window, past=tf.constant(past))["output_0"].numpy()[0, :, 0]
    assert busy.mean() > 1.2 * quiet.mean()
    big = serve(window=window * 1000.0, past=tf.constant(past))["output_0"].numpy()[0, :, 0]
    np.testing.assert_allclose(big, busy * 1000.0, rtol=1e-4)  # scale-free; covariates raw


def test_predict_reads_the_past_from_each_series_history(runs, tmp_path, capsys):
    model = autoseq.export(runs["on"], ensemble=2, out=tmp_path / "model", report=False).path
    out = tmp_path / "forecast.csv"
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(model), str(runs["csv"]), "--out", str(out)])
    assert exit_.value.code == 0
    frame = pd.read_csv(out)
    raw = pd.read_csv(runs["csv"], parse_dates=["date"])
    assert len(frame) == raw["series"].nunique() * HORIZON
    # the served forecasts are the exported model's on the data's own inputs
    import tensorflow as tf

    data = open_run(runs["on"]).data()
    serve = tf.saved_model.load(str(model)).signatures["serving_default"]
    series, position = data.origins("future")
    width = autoseq.load_model(model).lookback
    x, _ = data.windows(series, position, width, targets=False)
    expected = serve(window=tf.constant(x[..., None].astype("float32")),
                     past=tf.constant(data.past_values(series, position)))["output_0"]
    expected = expected.numpy()[..., 0]
    names = pd.Index(data.panel.names)
    got = frame.assign(i=names.get_indexer(frame["series"])).sort_values(["i", "step"])
    np.testing.assert_allclose(got["value"].to_numpy(), expected.reshape(-1), rtol=1e-4)
    steps = data.past_steps
    with pytest.raises(DataError, match=rf"takes the covariates on the {steps} steps before "
                                        rf"each window's origin \[None, {steps}, 2\] "
                                        r"\(orders, noise\). Received: none"):
        autoseq.load_model(model).predict_windows(x)
    # the forecast moves with the orders of the last days
    moved = raw.copy()
    last = moved.groupby("series")["date"].transform("max")
    moved.loc[moved["date"] > last - pd.Timedelta(days=HORIZON), "orders"] = 1
    busy = autoseq.load_model(model).predict(write_csv(tmp_path / "busy.csv", moved))
    assert busy["value"].sum() > 1.1 * frame["value"].sum()
    # a series without the covariate in its history: one line, exit 2
    bare = raw.copy()
    bare.loc[bare["series"] == "s3", "orders"] = np.nan
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(model), str(write_csv(tmp_path / "bare.csv", bare))])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "--covariate 'orders' has no value in the history of series 's3'" in err


def test_the_report_names_what_the_past_carries(runs):
    autoseq.export(runs["on"], out=runs["on"] / "export", report=False)
    text = autoseq.write_report(runs["on"]).markdown.read_text()
    section = text[text.index("## What the model looks at"):]
    rows = [[c.strip() for c in line.split("|")[1:4]] for line in section.splitlines()
            if "| covariate |" in line]
    shares = {name: float(share.rstrip("%")) for name, _, share in rows}
    assert set(shares) == set(PAST)
    assert shares["orders"] > 3 * shares["noise"]
