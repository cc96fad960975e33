"""The report's parts for a panel run: one network over many series, scored M4's way.

The best trial's network forecasts every series' validation and test window; the tables give
sMAPE, MASE and OWA (against Naive2) next to the baselines on the same windows, how many series
the network beats each baseline on, and the series it forecasts worst.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

import autoseq.report._format as fmt
from autoseq._run_folder import load_trial
from autoseq.panel_baselines import (
    per_series,
    score,
    simple_forecasts,
    stat_forecasts,
)
from autoseq.report._content import Facts, Paragraph, Section, Table
from autoseq.report._evidence import Evidence
from autoseq.report._shared import shared_sections, winner_words
from autoseq.trial._fit_panel import forecast_units

logger = logging.getLogger("autoseq")

_KEY = "panel"  # where ``evaluate_panel`` leaves its scores in ``Evidence.sequences``
WORST_SERIES = 10


@dataclass
class PanelScores:
    """The network's and the baselines' scores on one part of every series."""

    part: str
    model: dict[str, float]
    baselines: dict[str, dict[str, float]]
    wins: dict[str, float]  # baseline → share of series where the network's MASE is lower
    worst: list[tuple[str, float, float]]  # (series, network's MASE, Naive2's MASE)


def score_part(model, data, part: str, lookback: int) -> PanelScores:
    """Score the network and every baseline on ``part`` (``val`` or ``test``) of ``data``."""
    x, _, scale = data.normalised(part, lookback)
    pred = forecast_units(model, x, scale)
    forecasts = simple_forecasts(data, part) | stat_forecasts(data, part)
    mine = per_series(data, part, pred)
    baselines, wins = {}, {}
    for name, fc in forecasts.items():
        baselines[name] = score(data, part, fc)
        theirs = per_series(data, part, fc)
        wins[name] = float(np.mean(mine["mase"] < theirs["mase"]))
    ref = per_series(data, part, forecasts["naive2"])
    order = np.argsort(-np.nan_to_num(mine["mase"], nan=-1))[:WORST_SERIES]
    worst = [(str(data.panel.names[mine["series"][i]]), float(mine["mase"][i]),
              float(ref["mase"][i])) for i in order]
    return PanelScores(part, score(data, part, pred), baselines, wins, worst)


def evaluate_panel(ev: Evidence, *, importance: bool = True) -> None:
    """Score the best network on validation and test; a failure becomes a note."""
    try:
        model, ev.config = load_trial(ev.run, int(ev.best["trial"]),
                                      partial(ev.run.kind.model_context, ev.data))
        ev.sequences[_KEY] = {part: score_part(model, ev.data, part, int(ev.config["lookback"]))
                              for part in ("val", "test")}
    except Exception as exc:  # noqa: BLE001 - a custom model may fail here; the rest still shows
        logger.warning("report: evaluating trial %s failed: %s", ev.best["trial"], exc)
        ev.model_note = f"The best model could not be evaluated ({type(exc).__name__}: {exc})."
    finally:
        import keras

        keras.backend.clear_session()


def panel_headline(ev: Evidence) -> tuple[str, str]:
    d = ev.run.info.get("data") or {}
    return (str((d.get("targets") or ["?"])[0]),
            f"one network forecasting {fmt.integer(d.get('series'))} series")


def panel_skill(ev: Evidence) -> str:
    """The test OWA against Naive2 and the best statistical baseline."""
    scores = (ev.sequences.get(_KEY) or {}).get("test")
    if scores is None:
        return "The model could not be scored against the baselines."
    best = min(scores.baselines.items(), key=lambda kv: kv[1]["owa"])
    owa = scores.model["owa"]
    verdict = "better than" if owa < best[1]["owa"] else "no better than"
    return (f"On every series' held-out test window its OWA is {fmt.num(owa, 3)} (Naive2 = 1), "
            f"{verdict} the best baseline, {best[0]} ({fmt.num(best[1]['owa'], 3)}); it beats "
            f"Naive2's MASE on {fmt.num(100 * scores.wins.get('naive2', 0), 1)}% of the series.")


def panel_sections(ev: Evidence) -> list[Section]:
    return [data_section(ev), winner_section(ev),
            *shared_sections(ev, metric="val_loss", label="validation OWA", units=""),
            series_section(ev)]


def data_section(ev: Evidence) -> Section:
    d, split = ev.run.info.get("data") or {}, ev.run.info.get("split") or {}
    dropped = split.get("dropped") or []
    return Section("data", "Data").add(Facts((
        ("file", Path(d.get("source", "?")).name),
        ("series", f"{fmt.integer(d.get('series'))} in column '{d.get('series_col')}' "
                   f"({len(dropped)} too short dropped"
                   + (f": {', '.join(dropped[:10])}" if dropped else "") + ")"),
        ("frequency", str(d.get("freq"))),
        ("lengths", f"{d.get('min_length')}–{d.get('max_length')} steps"),
        ("split per series", f"last {split.get('test_rows')} steps test, "
                             f"{split.get('val_rows')} before validation"),
        ("horizon", str(split.get("horizon"))),
        ("values filled", f"{fmt.integer(d.get('filled', 0))} interpolated within their series"),
        ("windows per epoch", fmt.integer(split.get("windows_per_epoch"))),
    )))


def winner_section(ev: Evidence) -> Section:
    sec = Section("winner", "The winner")
    if ev.best is None:
        return sec.add(Paragraph("No trial finished with a result.", kind="note"))
    sec.add(Paragraph(winner_words(ev) + ".", lead=f"Trial {int(ev.best['trial'])}:",
                      kind="key"))
    parts = ev.sequences.get(_KEY)
    if not parts:
        return sec.add(Paragraph(ev.model_note or ev.data_note
                                 or "The best model could not be evaluated.", kind="note"))
    keys = ("smape", "mase", "owa")
    rows = [("best model", *[fmt.num(parts[p].model[k], 3) for p in ("val", "test")
                             for k in keys], fmt.num(100 * parts["test"].wins["naive2"], 1))]
    for name in parts["test"].baselines:
        rows.append((name, *[fmt.num(parts[p].baselines[name][k], 3) for p in ("val", "test")
                             for k in keys], fmt.num(100 * parts["test"].wins[name], 1)))
    cols = tuple(f"{p} {k}" for p in ("val", "test") for k in ("sMAPE", "MASE", "OWA"))
    sec.add(Table(("model", *cols, "test: series won (%)"), tuple(rows),
                  numeric=(False, *([True] * 7)), highlight=(0,), name="panel_metrics",
                  caption="M4's sMAPE (%) and MASE averaged over series; OWA against Naive2. "
                          "'series won': share of series whose test MASE the network beats."))
    return sec.add(Paragraph(panel_skill(ev)))


def series_section(ev: Evidence) -> Section:
    sec = Section("series", "Worst series")
    parts = ev.sequences.get(_KEY)
    if not parts:
        return sec.add(Paragraph("No per-series scores.", kind="note"))
    rows = tuple((name, fmt.num(m, 3), fmt.num(n, 3)) for name, m, n in parts["test"].worst)
    return sec.add(Table(("series", "test MASE", "Naive2 test MASE"), rows,
                         numeric=(False, True, True), name="worst_series",
                         caption="The series with the highest test MASE."))

