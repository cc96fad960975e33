"""The report's parts for a panel run: one network over many series, scored M4's way.

The exported forecaster (``export/``, when it was exported from this data: a trial, the mean
of the best trials, or that averaged with a baseline) or else the best trial's network
forecasts every series' validation and test window; the tables give
sMAPE, MASE and OWA (against Naive2) next to the baselines on the same windows, how many series
the network beats each baseline on, and the series it forecasts worst; the figures show example
forecasts (two series each of the best, median and worst skill) against seasonal naive, and the
skill of every series; with an export serving intervals, how they covered the test windows
(``autoseq.report._panel_intervals``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

import autoseq.report._format as fmt
from autoseq._run_folder import load_trial, load_trial_json
from autoseq.data._panel_data import side_inputs, window_scale
from autoseq.data._panel_static import STATIC
from autoseq.data._windows import FUTURE, PAST, WINDOW
from autoseq.panel_baselines import (
    per_series,
    score,
    simple_forecasts,
    stat_forecasts,
    thinned,
)
from autoseq.report._content import Facts, Paragraph, Section, Table
from autoseq.report._evidence import Evidence
from autoseq.report._figures import lag_figure
from autoseq.report._forecast import columns_part
from autoseq.report._lags import duration, lag_blocks, share_sentence
from autoseq.report._panel_figures import Example, examples_figure, skill_figure
from autoseq.report._panel_inputs import Measured, panel_dependence, panel_importance
from autoseq.report._panel_intervals import panel_intervals_section
from autoseq.report._shared import shared_sections, winner_words
from autoseq.trial._fit_panel import forecast_units

logger = logging.getLogger("autoseq")

_KEY = "panel"  # where ``evaluate_panel`` leaves its scores in ``Evidence.sequences``
_EXPORT_KEY = "panel_export"  # and the manifest of the export it scored
_LOOKBACK_KEY = "panel_lookback"  # and the lookback of the forecaster it measured
_PART = {"val": "validation", "test": "test"}
WORST_SERIES = 10
EXAMPLES = 6  # two each of the best, median and worst series by skill


@dataclass
class PanelScores:
    """The network's and the baselines' scores on one part of every series."""

    part: str
    model: dict[str, float]
    baselines: dict[str, dict[str, float]]
    wins: dict[str, float]  # baseline → share of series where the network's MASE is lower
    worst: list[tuple[str, float, float]]  # (series, network's MASE, Naive2's MASE)
    skill: np.ndarray | None = None  # per series: 1 - network's MASE / Naive2's MASE
    examples: list[Example] | None = None
    label: str = "best model"  # what forecast: "exported mean of 3 best trials (trials 4, 1, 7)"
    subset: dict | None = None
    """The statistical baselines fitted on a subset of the windows: ``{"label": "48 of 866
    windows", "names": [...], "model": the network's scores on those windows}``."""


def score_part(pred: np.ndarray, data, part: str, *, label: str = "best model") -> PanelScores:
    """Score forecasts ``pred`` ``[W, horizon]`` of ``part``'s windows (``val`` or ``test``)
    of ``data`` and every baseline's; ``label`` says what forecast."""
    stat = stat_forecasts(data, part) if data.stat_baselines else {}
    forecasts = simple_forecasts(data, part) | stat
    pick, fitted_on = (stat and thinned(data, part)) or (None, None)
    mine = per_series(data, part, pred)
    there = mine if pick is None else per_series(data, part, pred, pick)  # where stat is fitted
    subset = fitted_on and {"label": fitted_on, "names": list(stat),
                            "model": score(data, part, pred, windows=pick)}
    baselines, wins = {}, {}
    for name, fc in forecasts.items():
        windows = pick if name in stat else None
        baselines[name] = score(data, part, fc, windows=windows)
        theirs = per_series(data, part, fc, windows)
        ours = there if name in stat else mine
        # of the series with a MASE (not the constant ones), those beaten by more than 0.1%:
        # the float32 noise of serving the same forecaster (an exported baseline ties itself)
        defined = np.isfinite(ours["mase"]) & np.isfinite(theirs["mase"])
        beaten = ours["mase"][defined] < theirs["mase"][defined] * (1 - 1e-3)
        wins[name] = float(beaten.mean()) if defined.any() else 0.0
    ref = per_series(data, part, forecasts["naive2"])
    order = np.argsort(-np.nan_to_num(mine["mase"], nan=-1))[:WORST_SERIES]
    worst = [(str(data.panel.names[mine["series"][i]]), float(mine["mase"][i]),
              float(ref["mase"][i])) for i in order]
    with np.errstate(divide="ignore", invalid="ignore"):
        skill = 1.0 - mine["mase"] / ref["mase"]
    # the examples beside the best baseline on this part (Naive2 is the scale, not a rival)
    base = min((k for k in baselines if k != "naive2"),
               key=lambda k: np.nan_to_num(baselines[k]["owa"], nan=np.inf))
    examples = _examples(data, part, pred, forecasts[base], base, mine["series"], skill)
    return PanelScores(part, score(data, part, pred), baselines, wins, worst, skill, examples,
                       label, subset)


def _examples(data, part: str, pred: np.ndarray, baseline: np.ndarray, baseline_name: str,
              series: np.ndarray, skill: np.ndarray) -> list[Example]:
    """The first window of ``part`` of two series each of the best, median and worst skill."""
    finite = np.flatnonzero(np.isfinite(skill))
    ranked = finite[np.argsort(-skill[finite])]
    mid = max(0, len(ranked) // 2 - 1)
    picks = {"best": ranked[:2], "median": ranked[mid:mid + 2], "worst": ranked[-2:][::-1]}
    window_series, position = data.origins(part)
    h, panel, out, seen = data.horizon, data.panel, [], set()
    for rank, idx in picks.items():
        for i in idx:
            s = int(series[i])
            if s in seen or len(out) >= EXAMPLES:
                continue
            seen.add(s)
            w = int(np.flatnonzero(window_series == s)[0])
            p = int(position[w])
            start = max(0, p - 3 * h)
            steps = np.arange(start, p + h)
            times = panel.timestamps(np.full(len(steps), s), steps)
            values = panel.series(s)[start:p + h]
            out.append(Example(str(panel.names[s]), rank, float(skill[i]),
                               pd.Series(values[:p - start], times[:p - start]),
                               pd.Series(values[p - start:], times[p - start:]),
                               pred[w], baseline[w], baseline_name))
    return out


def evaluate_panel(ev: Evidence, *, importance: bool = True) -> None:
    """Score the exported forecaster (or else the best network) on validation and test; a
    failure becomes a note."""
    try:
        trial = int(ev.best["trial"])
        served = _exported(ev)
        if served is None:  # the best trial's network, rebuilt
            model, ev.config = load_trial(ev.run, trial, partial(ev.run.kind.model_context,
                                                                 ev.data))
            label = f"best trial (trial {trial})"
        else:  # what was shipped: the trial's network is not needed, only its configuration
            model, ev.config = None, load_trial_json(ev.run.trial_dir(trial))["config"]
            ev.sequences[_EXPORT_KEY] = m = served.manifest
            label = f"exported {m.get('forecaster') or 'trial ' + str(m.get('trial'))}"
        measured = _measured(ev.data, model, ev.config, served)
        ev.sequences[_KEY] = {part: score_part(
            measured.at(ev.data, *ev.data.origins(part)), ev.data, part,
            label=label) for part in ("val", "test")}
        if importance:
            try:
                _looks_at(ev, measured)
            except Exception as exc:  # noqa: BLE001 - the scores above still show
                logger.warning("report: measuring what the model looks at failed: %s", exc)
    except Exception as exc:  # noqa: BLE001 - a custom model may fail here; the rest still shows
        logger.warning("report: evaluating trial %s failed: %s", ev.best["trial"], exc)
        ev.model_note = f"The best model could not be evaluated ({type(exc).__name__}: {exc})."
    finally:
        import keras

        keras.backend.clear_session()


def _measured(data, model, config: dict, served) -> Measured:
    """What the report scores: the exported model on its raw windows, or the trial's ``model``
    (of ``config``) on windows of its lookback normalised by their scale; each with what it
    takes beside them."""
    if served is not None:
        def forecast(x, side):
            return np.asarray(served.predict_windows(x, side.get(STATIC), side.get(FUTURE),
                                                     past=side.get(PAST)), dtype="float64")

        return Measured(forecast, tuple(n for n, spec in ((STATIC, served.static),
                                                          (FUTURE, served.future),
                                                          (PAST, served.past)) if spec),
                        served.lookback)

    def trial(x, side):
        scale = window_scale(x)
        window = (x / scale[:, None])[..., None]
        return forecast_units(model, {WINDOW: window} | side if side else window, scale)

    return Measured(trial, side_inputs(config, data), int(config["lookback"]))


def _looks_at(ev: Evidence, measured: Measured) -> None:
    """Permutation importance of each block of the forecaster's lookback window into
    ``ev.by_block`` (the blocks in ``ev.blocks``), of what it takes beside the window (static
    columns, known-future covariates) into ``ev.by_column``, and the partial dependence on the
    most important known-future covariate into ``ev.dependence``."""
    data = ev.data
    ev.blocks = lag_blocks(measured.lookback, horizon=data.horizon, seasons=data.seasons,
                           freq=data.panel.freq)
    ev.by_block, ev.by_column = panel_importance(measured, data, blocks=ev.blocks)
    ev.sequences[_LOOKBACK_KEY] = measured.lookback
    imp = ev.by_column
    if imp is None:
        return
    ahead = [(s, c) for c, r, s in zip(imp.labels, imp.roles, imp.shares, strict=True)
             if r == "known ahead"]
    if ahead and max(ahead)[0] > 0:
        ev.dependence = panel_dependence(measured, data, column=max(ahead)[1])


def _exported(ev: Evidence):
    """The run's exported model (``export/``) when it was exported from this data, so that the
    report scores what was shipped; ``None`` otherwise."""
    from autoseq.exceptions import ModelError
    from autoseq.exporting._manifest import read_manifest
    from autoseq.predict._panel import PanelForecaster

    folder = ev.run.path / "export"
    if not folder.is_dir():
        return None
    try:
        manifest = read_manifest(folder)
    except ModelError as exc:
        logger.warning("report: not scoring the export: %s", exc)
        return None
    same = ((manifest.get("data") or {}).get("fingerprint") == ev.data.fingerprint
            and manifest.get("horizon") == ev.data.horizon and "series_col" in manifest)
    return PanelForecaster(folder, manifest) if same else None


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
    sub = scores.subset if scores.subset and best[0] in scores.subset["names"] else None
    mine = sub["model"]["owa"] if sub else owa  # the same windows as the best baseline's
    verdict = "better than" if mine < best[1]["owa"] else "no better than"
    versus = f"{verdict} the best baseline, {best[0]} ({fmt.num(best[1]['owa'], 3)})"
    if sub:  # compared where that baseline was fitted
        versus = (f"on the {sub['label']} the best baseline, {best[0]}, was fitted on, it "
                  f"scores {fmt.num(mine, 3)}, {versus.replace(' the best baseline,', '')}")
    return (f"On every series' held-out test window the {scores.label} scores OWA "
            f"{fmt.num(owa, 3)} (Naive2 = 1){'; ' if sub else ', '}{versus}; it beats "
            f"Naive2's MASE on {100 * scores.wins.get('naive2', 0):.0f}% of the series.")


def panel_sections(ev: Evidence) -> list[Section]:
    return [data_section(ev), winner_section(ev),
            *shared_sections(ev, metric="val_loss", label="validation OWA", units=""),
            examples_section(ev), *filter(None, [panel_intervals_section(ev),
                                                 looks_at_section(ev)]),
            series_section(ev)]


def looks_at_section(ev: Evidence) -> Section | None:
    """The shares of the lookback window's blocks; with static columns or known-future
    covariates, the shares of the window, those columns and covariates, and the partial
    dependence on the most important covariate (``None``: importance was not measured)."""
    if ev.by_block is None:
        return None
    sec = Section("looks-at", "What the model looks at")
    imp, blocks = ev.by_block, ev.blocks
    sec.add(Paragraph(share_sentence(imp.labels, imp.shares, what="block of the lookback window"),
                      kind="key"))
    sec.add(Table(("block of the lookback window", "lags (steps back)",
                   "share of the prediction", "validation scaled-MAE increase"),
                  tuple((b.label, b.ranges(), fmt.percent(s), fmt.num(v, 3))
                        for b, s, v in zip(blocks, imp.shares, imp.increase, strict=True)),
                  numeric=(False, False, True, True), name="lag_importance"))
    sec.add(lag_figure(imp.labels, imp.shares, [b.lags for b in blocks],
                       int(ev.sequences[_LOOKBACK_KEY]),
                       duration(1, ev.freq).removeprefix("1 ")))
    side = ev.by_column is not None
    if side:
        columns_part(sec, ev, target=f"{ev.data.panel.target} / level",
                     increase="validation scaled-MAE increase")
    parts = ("A block of the lookback window, or (the target's row) the whole window's shape, is "
             "swapped between windows (each window divided by its own level, the part swapped, "
             "multiplied back); a static column, a known-future covariate (over the whole "
             "horizon) or a covariate's past (the steps before the origin) is swapped between "
             "windows." if side else
             "A block of the lookback window is swapped between windows (each window divided by "
             "its own level, the block swapped, multiplied back).")
    dependence = (" The dependence figure divides each forecast by its window's level (its mean "
                  "absolute value), so series of every size count alike." if side else "")
    return sec.add(Paragraph(
        f"Method: permutation importance on {imp.windows} validation windows, {imp.repeats} "
        f"shuffles each. {parts} How much the error (MAE divided by each window's level, "
        f"{fmt.num(imp.base_loss, 3)} unshuffled) grows is the part's weight; the shares "
        f"divide the total growth.{dependence}", kind="note"))


def examples_section(ev: Evidence) -> Section:
    """Example forecasts of a few series and the skill of every series, on the test window."""
    sec = Section("examples", "Forecasts per series")
    scores = (ev.sequences.get(_KEY) or {}).get("test")
    if scores is None or scores.skill is None:
        return sec.add(Paragraph("No per-series forecasts.", kind="note"))
    skill = scores.skill[np.isfinite(scores.skill)]
    share = 100 * float(np.mean(skill > 0)) if len(skill) else 0.0
    median = fmt.num(float(np.median(skill)) if len(skill) else None, 3)
    sec.add(Paragraph(f"The model beats Naive2 on {share:.0f}% of series (test MASE; median "
                      f"skill {median}).", kind="key"))
    if scores.examples:
        sec.add(examples_figure(scores.examples))
    return sec.add(skill_figure(scores.skill))


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
    rows = [(parts["test"].label, *[fmt.num(parts[p].model[k], 3) for p in ("val", "test")
                             for k in keys], f"{100 * parts['test'].wins['naive2']:.0f}")]
    subsets = {p: parts[p].subset for p in ("val", "test") if parts[p].subset}
    if subsets:  # the network on the windows the statistical baselines were fitted on
        rows.append(("the same model, on the windows marked *",
                     *[fmt.num((parts[p].subset or {"model": parts[p].model})["model"][k], 3)
                       for p in ("val", "test") for k in keys], ""))
    for name in parts["test"].baselines:
        shown = name + ("*" if any(name in s["names"] for s in subsets.values()) else "")
        rows.append((shown, *[fmt.num(parts[p].baselines.get(name, {}).get(k), 3)
                              for p in ("val", "test") for k in keys],
                     f"{100 * parts['test'].wins[name]:.0f}"))
    cols = tuple(f"{p} {k}" for p in ("val", "test") for k in ("sMAPE", "MASE", "OWA"))
    fitted = " and ".join(f"{s['label']} of {_PART[p]}" for p, s in subsets.items())
    fitted = fitted and (f" *Fitted and scored (Naive2 too) on {fitted} (evenly spaced per "
                         "series), beside the network on those windows.")
    sec.add(Table(("model", *cols, "test: series won (%)"), tuple(rows),
                  numeric=(False, *([True] * 7)), highlight=(0,), name="panel_metrics",
                  caption="M4's sMAPE (%) and MASE averaged over series; OWA against Naive2. "
                          "'series won': share of series whose test MASE the network beats "
                          "by more than 0.1% (constant series, which have no MASE, left out)."
                          + fitted))
    sec.add(Paragraph(panel_skill(ev)))
    choice = _selection_words(ev.sequences.get(_EXPORT_KEY))
    return sec.add(Paragraph(choice)) if choice else sec


def _selection_words(manifest: dict | None) -> str | None:
    """What the default export weighed on validation and chose, from its manifest."""
    sel = (manifest or {}).get("selection")
    if not sel:
        return None
    metric = sel.get("metric", "owa")
    scores = ", ".join(f"{k} {fmt.num(v, 3)}" for k, v in sel[f"val_{metric}"].items())
    return (f"Export chose the {sel['chosen']} on validation {metric.upper()} over "
            f"{sel['windows']} windows, among: {scores}.")


def series_section(ev: Evidence) -> Section:
    sec = Section("series", "Worst series")
    parts = ev.sequences.get(_KEY)
    if not parts:
        return sec.add(Paragraph("No per-series scores.", kind="note"))
    rows = tuple((name, fmt.num(m, 3), fmt.num(n, 3)) for name, m, n in parts["test"].worst)
    return sec.add(Table(("series", "test MASE", "Naive2 test MASE"), rows,
                         numeric=(False, True, True), name="worst_series",
                         caption="The series with the highest test MASE."))

