"""The report's parts for a forecasting run: evaluate the best network on the validation and
test windows, then its data, winner, forecasts and what it looks at.

Data flows one way: the run folder and the rebuilt ``ForecastData`` → numbers → ``Section``
objects; nothing here writes files.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import autoseq.report._figures as figs
import autoseq.report._format as fmt
from autoseq._run_folder import load_trial
from autoseq.exceptions import AutoseqError
from autoseq.report._content import Facts, Paragraph, Section, Table
from autoseq.report._evaluate import forecast_part, future_dependence, permutation_importance
from autoseq.report._evidence import Evidence
from autoseq.report._intervals import intervals_section
from autoseq.report._lags import LagBlock, duration, lag_blocks, share_sentence
from autoseq.report._shared import shared_sections, winner_words

logger = logging.getLogger("autoseq")


def forecast_headline(ev: Evidence) -> tuple[str, str]:
    """What the report's title names: the targets, and what the model does."""
    return (", ".join(ev.settings.data.get("targets", [])),
            f"forecast {ev.settings.data.get('horizon')} step(s) ahead")


def forecast_sections(ev: Evidence) -> list[Section]:
    """Every section of a forecasting run's report, in order."""
    return [data_section(ev), winner_section(ev),
            *shared_sections(ev, metric="val_mae", label="val MAE", units="in the data's units"),
            forecasts_section(ev), *filter(None, [intervals_section(ev)]), looks_at_section(ev)]


# -- evaluation ------------------------------------------------------------------------------

def evaluate_forecast(ev: Evidence, *, importance: bool = True) -> None:
    """Score the best network on the validation and test windows next to the baselines and,
    with ``importance``, measure what it looks at. A failure becomes a note in the report."""
    try:
        model, ev.config = load_trial(ev.run, int(ev.best["trial"]),
                                     partial(ev.run.kind.model_context, ev.data))
    except (AutoseqError, OSError, ValueError) as exc:
        ev.model_note = f"The best model could not be reloaded ({exc})."
        return
    from autoseq.exporting._forecast_wrap import StandardScaledView

    # The network may carry its own transforms (MSTL profile, scaler, calendar features).
    model = StandardScaledView(model, ev.data, ev.config)
    try:
        ev.val = forecast_part(model, ev.data, "val", ev.lookback)
        ev.test = forecast_part(model, ev.data, "test", ev.lookback)
        if importance:
            ev.blocks = lag_blocks(ev.lookback, horizon=ev.data.horizon,
                                   seasons=ev.data.seasons, freq=ev.freq)
            ev.by_block, ev.by_column = permutation_importance(
                model, ev.data, ev.lookback, ev.blocks, seed=ev.settings.seed)
            ev.dependence = _dependence(model, ev)
    except Exception as exc:  # noqa: BLE001 - a custom model may fail here; the rest still shows
        logger.warning("report: evaluating trial %s failed: %s", ev.best["trial"], exc)
        ev.model_note = f"The best model could not be evaluated ({type(exc).__name__}: {exc})."
        ev.val = ev.test = ev.by_block = ev.by_column = ev.dependence = None
    finally:
        import keras

        keras.backend.clear_session()


def _dependence(model, ev: Evidence):
    """The forecast's partial dependence on the known-future covariate it relies on most."""
    cols = ev.by_column
    ahead = [(share, label) for label, role, share in zip(cols.labels, cols.roles, cols.shares,
                                                          strict=True) if role == "known ahead"]
    if not ahead:
        return None
    return future_dependence(model, ev.data, ev.lookback, max(ahead)[1])


# -- skill against the baselines ------------------------------------------------------------

def forecast_skill(ev: Evidence) -> str:
    """The best trial's MAE against the best baseline's, on the test (else validation) split;
    and the exported model's, when the run has one."""
    return _trial_skill(ev) + export_skill(ev)


def _trial_skill(ev: Evidence) -> str:
    part = ev.test or ev.val
    if part is not None and part.baselines:
        b = min(part.baselines, key=lambda s: s.mae)
        skill = 1 - part.mae / b.mae if b.mae else float("nan")
        where = "held-out test split" if part.part == "test" else "validation split"
        named = f"the best baseline ({b.name}, MAE {fmt.num(b.mae)})"
        if not np.isfinite(skill):
            return f"on the {where} its MAE is {fmt.num(part.mae)}; {named} is exact."
        if skill >= 0:
            return f"on the {where} its MAE is {fmt.num(part.mae)}, {fmt.percent(skill)} " \
                   f"lower than {named}."
        return (f"on the {where} its MAE is {fmt.num(part.mae)}, {fmt.percent(-skill)} higher "
                f"than {named}: the baseline forecasts better, so prefer it (or search "
                "longer).")
    base = ev.board[ev.board["state"].eq("baseline")].sort_values("val_mae")
    if base.empty:
        return "no baseline was scored."
    b = base.iloc[0]
    skill = 1 - float(ev.best["val_mae"]) / float(b["val_mae"])
    return (f"on the validation split its MAE is {fmt.num(ev.best['val_mae'])}, "
            f"{fmt.percent(skill, signed=True)} skill over {b['model']} "
            f"(MAE {fmt.num(b['val_mae'])}).")


# -- data ------------------------------------------------------------------------------------

def data_section(ev: Evidence) -> Section:
    info = ev.run.info
    d = info.get("data") or {}
    split = info.get("split") or {}
    sec = Section("data", "Data")
    filled = {k: int(v) for k, v in (d.get("filled") or {}).items() if v}
    seasons = split.get("seasons") or ev.settings.data.get("seasons") or []
    derived = d.get("derived") or []
    sec.add(Facts((
        ("file", Path(d.get("source", "?")).name),
        ("full path", str(d.get("source", "?"))),
        ("fingerprint (SHA-256)", str(d.get("fingerprint", "?"))[:16] + "…"),
        ("rows", fmt.integer(d.get("rows"))),
        ("span", f"{fmt.when(d.get('start'))} → {fmt.when(d.get('end'))}"),
        ("frequency", f"{d.get('freq', '?')} (one step = {duration(1, d.get('freq'))})"),
        ("seasons", ", ".join(f"{m} steps ({duration(m, d.get('freq'))})" for m in seasons)
         or "none inferred"),
        ("gaps", _gaps(d, filled)),
        ("time column", str(d.get("time_col", "?"))),
        ("targets", ", ".join(d.get("targets", [])) or "–"),
        ("covariates (past values)", ", ".join(d.get("covariates", [])) or "none"),
        ("derived columns", ", ".join(derived) or "none"),
        ("horizon", f"{ev.settings.data.get('horizon')} steps "
                    f"({duration(int(ev.settings.data.get('horizon', 1)), d.get('freq'))})"),
    )))
    rows = []
    for part, name in (("train", "train"), ("val", "validation"), ("test", "test")):
        p = split.get(part) or {}
        rows.append((name, fmt.integer(p.get("rows")), fmt.integer(p.get("windows")),
                     fmt.when(p.get("start")), fmt.when(p.get("end"))))
    sec.add(Table(("part", "rows", "forecast windows", "from", "to"), tuple(rows),
                  caption="Chronological split. The scaler is fitted on the training rows; the "
                          "test rows were never seen by the search.",
                  numeric=(False, True, True, False, False)))
    if ev.data is not None:
        fd = ev.data
        bounds = {p: fd.split.bounds(p) for p in ("train", "val", "test")}
        sec.add(figs.series_figure(fd.series.frame.index, fd.raw[:, fd.target_idx],
                                   fd.series.targets, bounds))
    elif ev.data_note:
        sec.add(Paragraph(ev.data_note, kind="note"))
    return sec


def _gaps(d: dict[str, Any], filled: dict[str, int]) -> str:
    steps = int(d.get("missing_steps") or 0)
    if not steps and not filled:
        return "none: every time step present and complete"
    parts = [f"{steps} missing time step(s) re-gridded"] if steps else []
    parts += [f"{col}: {n} value(s) interpolated" for col, n in filled.items()]
    return "; ".join(parts)


# -- winner ----------------------------------------------------------------------------------

def winner_section(ev: Evidence) -> Section:
    sec = Section("winner", "The winner")
    if ev.best is None:
        return sec.add(Paragraph("No trial finished with a result.", kind="note"))
    row = ev.best
    sec.add(Paragraph(winner_words(ev) + ".", lead=f"Trial {int(row['trial'])}:", kind="key"))
    sec.add(Facts((
        ("validation loss (scaled MSE)", fmt.num(row.get("val_loss"))),
        ("trainable parameters", fmt.integer(row.get("params"))),
        ("epochs trained", fmt.integer(row.get("epochs"))),
        ("training time", fmt.seconds(row.get("seconds"))),
        ("cuDNN-eligible on GPU", fmt.yes_no(row.get("cudnn_eligible"))),
    )))
    sec.add(_metrics_table(ev))
    sec.add(Paragraph(fmt.capital(forecast_skill(ev))))
    if ev.model_note:
        sec.add(Paragraph(ev.model_note, kind="note"))
    sec.add(_export_note(ev))
    return sec


def _metrics_table(ev: Evidence) -> Table | None:
    val, test = ev.val, ev.test
    if val is None:
        base = ev.board[ev.board["state"].eq("baseline")].sort_values("val_mae")
        rows = [("best model", fmt.num(ev.best["val_mae"]), "–")]
        for _, b in base.iterrows():
            skill = 1 - float(ev.best["val_mae"]) / float(b["val_mae"]) if b["val_mae"] else None
            rows.append((str(b["model"]), fmt.num(b["val_mae"]), fmt.percent(skill, signed=True)))
        return Table(("forecaster", "val MAE", "model's skill over it"), tuple(rows),
                     numeric=(False, True, True), highlight=(0,),
                     caption="Validation scores from the leaderboard (the model could not be "
                             "re-evaluated, so no test scores).")
    tests = {b.name: b for b in (test.baselines if test else [])}
    extra = _test_extras(ev)
    rows = [(f"best model (trial {int(ev.best['trial'])})", fmt.num(val.mae), fmt.num(val.rmse),
             fmt.num(test.mae) if test else "–", fmt.num(test.rmse) if test else "–",
             *extra.get("best model", ("–", "–")), "", "")]
    for b in sorted(val.baselines, key=lambda s: s.mae):
        t = tests.get(b.name)
        rows.append((b.name, fmt.num(b.mae), fmt.num(b.rmse),
                     fmt.num(t.mae) if t else "–", fmt.num(t.rmse) if t else "–",
                     *extra.get(b.name, ("–", "–")),
                     fmt.percent(1 - val.mae / b.mae if b.mae else None, signed=True),
                     fmt.percent(1 - test.mae / t.mae if t and t.mae else None, signed=True)))
    # Baselines the report does not recompute (the statistical ones: their fits are costly):
    # their validation MAE as the leaderboard holds it, on the windows their name gives.
    known = {b.name for b in val.baselines}
    for _, b in ev.board[ev.board["state"].eq("baseline")].iterrows():
        if b["model"] not in known and b["val_mae"]:
            rows.append((str(b["model"]), fmt.num(b["val_mae"]), "–", "–", "–", "–", "–",
                         fmt.percent(1 - val.mae / float(b["val_mae"]), signed=True), "–"))
    return Table(("forecaster", "val MAE", "val RMSE", "test MAE", "test RMSE", "test sMAPE",
                  "test MASE", "skill over it (val)", "skill over it (test)"), tuple(rows),
                 numeric=(False, *([True] * 8)), highlight=(0,), name="metrics",
                 caption="Errors in the data's units, averaged over every window and horizon "
                         "step; sMAPE in %, MASE against the in-sample seasonal-naive error. "
                         "Skill = 1 − MAE(model) / MAE(baseline): positive means the model is "
                         "better.")


def _test_extras(ev: Evidence) -> dict[str, tuple[str, str]]:
    """Test sMAPE and MASE of the model and each baseline (as ``autoseq export`` scores them)."""
    from autoseq.metrics import forecast_metrics

    test, data = ev.test, ev.data
    if test is None or data is None:
        return {}
    train = data.raw[: data.split.train][:, data.target_idx]
    preds = {"best model": test.pred, **test.baseline_pred}
    out = {}
    for name, pred in preds.items():
        m = forecast_metrics(pred, test.truth, train=train, season=data.main_season)
        out[name] = (fmt.num(m["smape"], 3), fmt.num(m.get("mase"), 3))
    return out


def _export_manifest(ev: Evidence) -> dict[str, Any] | None:
    """The run's export manifest (``{}`` when unreadable or without test scores), ``None``
    without one."""
    manifest = ev.export_manifest
    if not manifest:
        return manifest
    try:
        manifest["metrics"]["test"]["mae"]
    except (KeyError, TypeError):
        return {}
    return manifest


def _export_note(ev: Evidence) -> Paragraph | None:
    """What ``autoseq export`` recorded, when the run folder holds an export."""
    from autoseq.exporting._manifest import served_label

    manifest = _export_manifest(ev)
    if manifest is None:
        return None
    if not manifest:
        return Paragraph("export/autoseq.json is present but unreadable.", kind="note")
    test = manifest["metrics"]["test"]
    refit = " (refitted on train + validation)" if manifest.get("refit") else ""
    return Paragraph(f"Exported model in export/: {served_label(manifest)}{refit}, test MAE "
                     f"{fmt.num(test.get('mae'))}, RMSE {fmt.num(test.get('rmse'))}, sMAPE "
                     f"{fmt.num(test.get('smape'), 3)}%, MASE {fmt.num(test.get('mase'), 3)} "
                     f"on {test.get('windows', '?')} test windows (from its manifest).",
                     kind="note")


def export_skill(ev: Evidence) -> str:
    """The exported model's test MAE against the baseline it fares worst against on the same
    windows (``export`` scores the statistical models on a subset of origins of long series),
    from its manifest; ``""`` when the run has no readable export."""
    from autoseq.exporting._manifest import served_label

    manifest = _export_manifest(ev)
    if not manifest:
        return ""
    m, served = manifest["metrics"], served_label(manifest)
    stat = m.get("test_stat_windows") or {}
    pairs = [(b.get("mae"), name, "windows)" in name)
             for name, b in (m.get("test_baselines") or {}).items() if name != served]
    pairs = [(b, n, sub, stat.get("model", {}).get("mae") if sub else m["test"].get("mae"))
             for b, n, sub in pairs if b and np.isfinite(b)]
    pairs = [p for p in pairs if p[3] is not None]
    if not pairs:
        return ""
    base, name, sub, own = min(pairs, key=lambda p: p[0] / p[3] if p[3] else np.inf)
    skill = 1 - own / base
    verdict = (f"{fmt.percent(skill)} lower than" if skill >= 0
               else f"{fmt.percent(-skill)} higher than")
    where = (f"on those {stat.get('windows')} windows" if sub
             else f"on the {m['test'].get('windows', '?')} test windows")
    return (f" The exported model ({served}) has MAE {fmt.num(own)} {where}, {verdict} "
            f"{name} ({fmt.num(base)}).")


# -- forecasts and what the model looks at ---------------------------------------------------

def forecasts_section(ev: Evidence) -> Section:
    sec = Section("forecasts", "Forecasts on the test split")
    test, data = ev.test, ev.data
    if test is None or data is None:
        return sec.add(Paragraph(ev.model_note or ev.data_note
                                 or "The best model could not be evaluated.", kind="note"))
    index = data.series.frame.index
    targets = list(data.series.targets)
    sec.add(figs.forecast_figure(index, data.raw[:, data.target_idx], test.origins, test.pred,
                                 targets, context=min(len(test.origins), 3 * data.horizon)))
    steps = {"best model": test.mae_by_step()}
    ordered = sorted(test.baselines, key=lambda s: s.mae)
    # A baseline far worse than the rest would flatten the lines that matter into the axis.
    limit = 3 * max(test.mae, ordered[0].mae) if ordered else 0
    shown = [b for b in ordered[:3] if b is ordered[0] or b.mae <= limit]
    for b in shown:
        steps[b.name] = test.mae_by_step(test.baseline_pred[b.name])
    left = [b.name for b in ordered if b not in shown]
    sec.add(figs.horizon_figure(steps, duration(1, ev.freq), caption=(
        f"Not drawn, being far worse: {', '.join(left)} (see the winner's table)." if left
        else "")))
    by_step = steps["best model"]
    if len(by_step) > 1:
        sec.add(Paragraph(f"The model's test MAE is {fmt.num(by_step[0])} one step ahead and "
                          f"{fmt.num(by_step[-1])} at {len(by_step)} steps ahead."))
    residuals = test.truth - test.pred
    sec.add(figs.residuals_figure(index, test.origins, residuals[:, :, 0], targets[0]))
    sec.add(Paragraph(_bias_sentence(residuals[:, :, 0], targets[0])))
    return sec


def _bias_sentence(residuals: np.ndarray, target: str) -> str:
    bias, spread = float(np.mean(residuals)), float(np.std(residuals))
    way = "under-forecasts" if bias > 0 else "over-forecasts"
    head = (f"Residuals (actual − forecast) of {target}: mean {fmt.num(bias)}, standard "
            f"deviation {fmt.num(spread)}. ")
    if spread == 0 or abs(bias) > 0.5 * spread:
        return head + (f"The model systematically {way} on the test split (by "
                       f"{fmt.num(abs(bias))} on average), often a sign that the level moved "
                       "after the validation data or that the model misses a trend.")
    return head + "No marked bias: the mean error is small next to its spread."


def looks_at_section(ev: Evidence) -> Section:
    sec = Section("looks-at", "What the model looks at")
    if ev.by_block is None or ev.by_column is None:
        note = (ev.model_note or ev.data_note
                or "Not measured (importance off: --no-importance).")
        return sec.add(Paragraph(note, kind="note"))
    imp, blocks = ev.by_block, ev.blocks
    sec.add(Paragraph(share_sentence(imp.labels, imp.shares, what="block of the lookback window"),
                      kind="key"))
    rows = tuple((b.label, b.ranges(), _time_back(b, ev.freq), fmt.percent(s), fmt.num(v, 3))
                 for b, s, v in zip(blocks, imp.shares, imp.increase, strict=True))
    sec.add(Table(("block of the lookback window", "lags (steps back)", "time back",
                   "share of the prediction", "validation MSE increase"), rows,
                  numeric=(False, False, False, True, True), name="lag_importance"))
    sec.add(figs.lag_figure(imp.labels, imp.shares, [b.lags for b in blocks], ev.lookback,
                            duration(1, ev.freq).removeprefix("1 ")))
    columns_part(sec, ev)
    sec.add(Paragraph(
        f"Method: permutation importance on {imp.windows} validation windows, {imp.repeats} "
        f"shuffles each. A block (every column at those lags) or a column (every lag) is swapped "
        f"between windows; how much the validation error (scaled MSE {fmt.num(imp.base_loss, 3)}"
        f" unshuffled) grows is the part's weight, and the shares divide the total growth. "
        "Parts that are correlated share credit, so read shares as a ranking, not as exact "
        "fractions.", kind="note"))
    return sec


def columns_part(sec: Section, ev: Evidence, *, target: str | None = None,
                 increase: str = "validation MSE increase") -> None:
    """The input columns' (and known-future covariates') shares, and the partial dependence
    (of ``target``: what its figure's axis calls the forecast; default: the first target);
    ``increase`` names the error growth the table shows."""
    cols = ev.by_column
    roles = cols.roles or [("target" if c in ev.settings.data.get("targets", []) else
                            "covariate") for c in cols.labels]
    span = duration(ev.data.horizon, ev.freq)
    ahead = f"over the next {span.removeprefix('1 ')}"
    labels = [f"{c} {ahead}" if r == "known ahead" else c
              for c, r in zip(cols.labels, roles, strict=True)]
    sec.add(Paragraph(share_sentence(labels, cols.shares, what="input column",
                                     prefix="Among the input columns"), kind="key"))
    sec.add(Table(("input column", "role", "share of the prediction", increase),
                  tuple((c, r, fmt.percent(s), fmt.num(v, 3))
                        for c, r, s, v in zip(labels, roles, cols.shares, cols.increase,
                                              strict=True)),
                  numeric=(False, False, True, True), name="column_importance"))
    if len(cols.labels) > 1:
        sec.add(figs.bars_figure("columns", "What the model looks at: input columns",
                                 labels, cols.shares, xlabel="share of the prediction",
                                 percent=True, color=figs.ACCENT))
    dep = ev.dependence
    if dep is not None:
        share = dict(zip(labels, cols.shares, strict=True))[f"{dep.column} {ahead}"]
        sec.add(Paragraph(f"{dep.column} {ahead} carries {share:.0%} of the forecast.",
                          kind="key"))
        sec.add(figs.dependence_figure(dep, target or ev.settings.data.get("targets", [""])[0]))
    if "known ahead" in roles:
        sec.add(Paragraph(
            "The known-future covariates are scored with their recorded values at the forecast "
            "steps (ex-post, as if forecast perfectly): forecasts made from a weather forecast "
            "or a plan carry its errors too, and score somewhat worse.", kind="note"))


def _time_back(block: LagBlock, freq: str | None) -> str:
    lo, hi = block.lags[0], block.lags[-1]
    return duration(lo, freq) if lo == hi else f"{duration(lo, freq)} – {duration(hi, freq)}"

