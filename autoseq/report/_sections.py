"""The report's content: each section computed from the run folder into paragraphs, tables, figures.

Data flows one way: the run folder (``run.json``, ``leaderboard.csv``, the study, each trial's
weights) → numbers → ``Section`` objects; nothing here writes files.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autoseq import __version__
from autoseq.exceptions import AutoseqError
from autoseq.leaderboard import HYPERPARAMETERS, best_trial_row
from autoseq.report import _figures as figs
from autoseq.report import _format as fmt
from autoseq.report._content import Facts, Figure, Paragraph, Report, Section, Table
from autoseq.report._evaluate import Importance, PartForecast, forecast_part
from autoseq.report._lags import LagBlock, duration, share_sentence
from autoseq.report._questions import questions_section
from autoseq.report._study import failure_groups, histories, load_study, param_importances
from autoseq.run import Run

logger = logging.getLogger("autoseq")

TOP_ROWS = 20
TOP_CURVES = 5
_DONE = ("complete", "pruned")
_HEADERS = {"val_loss": "val loss", "val_mae": "val MAE", "bidirectional": "bidir.",
            "recurrent_dropout": "rec. dropout", "learning_rate": "learning rate",
            "batch_size": "batch", "cudnn_eligible": "cuDNN", "seconds": "time (s)"}
_NUMERIC = {"rank", "trial", "val_loss", "val_mae", "depth", "units", "dropout",
            "recurrent_dropout", "clipnorm", "clipvalue", "learning_rate", "lookback",
            "batch_size", "epochs", "seconds", "params"}


@dataclass
class Evidence:
    """Everything read or computed once and shared by the sections."""

    run: Run
    board: pd.DataFrame
    study: Any = None
    data: Any = None
    data_note: str = ""
    best: pd.Series | None = None
    config: dict[str, Any] = field(default_factory=dict)
    model_note: str = ""
    val: PartForecast | None = None
    test: PartForecast | None = None
    blocks: list[LagBlock] = field(default_factory=list)
    by_block: Importance | None = None
    by_column: Importance | None = None
    sequences: dict[str, Any] = field(default_factory=dict)  # part → SequenceScores

    @property
    def sequence_task(self) -> bool:
        return self.settings.get("task", "forecast") in ("classify", "regress")

    @property
    def settings(self) -> dict[str, Any]:
        return self.run.settings

    @property
    def freq(self) -> str | None:
        return (self.run.info.get("data") or {}).get("freq")

    @property
    def trials(self) -> pd.DataFrame:
        return self.board[~self.board["state"].eq("baseline")]

    @property
    def lookback(self) -> int:
        return int(self.config.get("lookback") or 0)


def build_report(run: Run, ev: Evidence, *, started: float) -> Report:
    """Assemble every section from the evidence gathered by ``write_report``."""
    task = ev.settings.get("task", "forecast")
    info = ev.run.info
    src = Path((info.get("data") or {}).get("source", "data")).name
    if ev.sequence_task:
        from autoseq.report import _sequences as seq

        head = [seq.data_section(ev), seq.winner_section(ev, winner_words(ev))]
        tail = [seq.results_section(ev)]
        targets = str(ev.settings.get("target", ""))
        what = ("classify sequences" if task == "classify"
                else "predict a number per sequence")
    else:
        head = [data_section(ev), winner_section(ev)]
        tail = _TASK_SECTIONS.get(task, _unsupported_task)(ev)
        targets = ", ".join(ev.settings.get("targets", []))
        what = f"forecast {ev.settings.get('horizon')} step(s) ahead"
    scored = (("val_loss", "val log loss", "(lower is better)") if task == "classify"
              else ("val_mae", "val MAE", "in the data's units"))
    sections = [*head, leaderboard_section(ev), questions_section(ev.trials, *scored),
                search_section(ev), *tail]
    return Report(
        title=f"autoseq report: {src} → {targets}",
        subtitle=(f"{what} · run folder {ev.run.path.name} · search started "
                  f"{_when(info.get('created'))}"),
        summary=summary(ev),
        sections=sections,
        generated=f"autoseq {__version__}, {time.strftime('%Y-%m-%d %H:%M')}",
        seconds=time.perf_counter() - started,
    )


# -- summary ---------------------------------------------------------------------------------

def summary(ev: Evidence) -> list[Paragraph]:
    """The few sentences a reader needs if they read nothing else."""
    out = []
    if ev.best is None:
        return [Paragraph("No trial produced a result; there is no model to describe.",
                          kind="key")]
    out.append(Paragraph(f"{winner_words(ev)} (trial {int(ev.best['trial'])} of "
                         f"{len(ev.trials)}).", lead="Winner:", kind="key"))
    out.append(Paragraph(_capital(_skill_sentence(ev)), lead="Against the baselines:",
                         kind="key"))
    if ev.by_block is not None:
        out.append(Paragraph(share_sentence(ev.by_block.labels, ev.by_block.shares,
                                            what="block of the lookback window"),
                             lead="What it looks at:", kind="key"))
    return out


def _capital(s: str) -> str:
    return s[:1].upper() + s[1:]


def _skill_sentence(ev: Evidence) -> str:
    if ev.sequence_task:
        from autoseq.report._sequences import skill_sentence

        return skill_sentence(ev)
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
    seasons = split.get("seasons") or ev.settings.get("seasons") or []
    derived = d.get("derived") or []
    sec.add(Facts((
        ("file", Path(d.get("source", "?")).name),
        ("full path", str(d.get("source", "?"))),
        ("fingerprint (SHA-256)", str(d.get("fingerprint", "?"))[:16] + "…"),
        ("rows", fmt.integer(d.get("rows"))),
        ("span", f"{_when(d.get('start'))} → {_when(d.get('end'))}"),
        ("frequency", f"{d.get('freq', '?')} (one step = {duration(1, d.get('freq'))})"),
        ("seasons", ", ".join(f"{m} steps ({duration(m, d.get('freq'))})" for m in seasons)
         or "none inferred"),
        ("gaps", _gaps(d, filled)),
        ("time column", str(d.get("time_col", "?"))),
        ("targets", ", ".join(d.get("targets", [])) or "–"),
        ("covariates (past values)", ", ".join(d.get("covariates", [])) or "none"),
        ("derived columns", ", ".join(derived) or "none"),
        ("horizon", f"{ev.settings.get('horizon')} steps "
                    f"({duration(int(ev.settings.get('horizon', 1)), d.get('freq'))})"),
    )))
    rows = []
    for part, name in (("train", "train"), ("val", "validation"), ("test", "test")):
        p = split.get(part) or {}
        rows.append((name, fmt.integer(p.get("rows")), fmt.integer(p.get("windows")),
                     _when(p.get("start")), _when(p.get("end"))))
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


def _when(iso: str | None) -> str:
    """``2024-03-01T00:00:00`` → ``2024-03-01``; ``…T13:30:00`` → ``2024-03-01 13:30``."""
    if not iso:
        return "–"
    try:
        t = pd.Timestamp(iso)
    except ValueError:
        return str(iso)
    if t == t.normalize():
        return t.strftime("%Y-%m-%d")
    return t.strftime("%Y-%m-%d %H:%M" if t.second == 0 else "%Y-%m-%d %H:%M:%S")


def _gaps(d: dict[str, Any], filled: dict[str, int]) -> str:
    steps = int(d.get("missing_steps") or 0)
    if not steps and not filled:
        return "none: every time step present and complete"
    parts = [f"{steps} missing time step(s) re-gridded"] if steps else []
    parts += [f"{col}: {n} value(s) interpolated" for col, n in filled.items()]
    return "; ".join(parts)


# -- winner ----------------------------------------------------------------------------------

def winner_words(ev: Evidence) -> str:
    """``"2-layer bidirectional GRU, 64 units, recurrent dropout 0.1, clipnorm 1.0, …"``."""
    row, cfg = ev.best, ev.config or {}

    def get(k):
        v = cfg.get(k, row.get(k) if row is not None else None)
        return None if fmt.missing(v) else v

    words = [str(row["model"]) if row is not None else "model"]
    for key, label in (("dropout", "dropout"), ("recurrent_dropout", "recurrent dropout")):
        if get(key):
            words.append(f"{label} {fmt.num(get(key), 2)}")
    if get("clipnorm"):
        words.append(f"clipnorm {fmt.num(get('clipnorm'), 3)}")
    if get("clipvalue"):
        words.append(f"clipvalue {fmt.num(get('clipvalue'), 3)}")
    if get("learning_rate"):
        words.append(f"learning rate {fmt.rate(get('learning_rate'))}")
    if get("lookback"):
        lb = int(float(get("lookback")))
        words.append(f"lookback {lb} ({duration(lb, ev.freq)})")
    if get("batch_size"):
        words.append(f"batch {int(float(get('batch_size')))}")
    anchor = get("anchor")
    if anchor in _ANCHOR_WORDS:
        words.append(f"predicting the correction to the {_ANCHOR_WORDS[anchor]}")
    return ", ".join(words)


_ANCHOR_WORDS = {"last": "last value", "seasonal": "seasonal-naive forecast",
                 "mean": "mean of the last season", "drift": "naive forecast with drift",
                 "seasonal_drift": "seasonal-naive forecast plus the last season's change"}


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
    sec.add(Paragraph(_capital(_skill_sentence(ev))))
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


def _export_note(ev: Evidence) -> Paragraph | None:
    """What ``autoseq export`` recorded, when the run folder holds an export."""
    from autoseq._io import read_json

    path = ev.run.path / "export" / "autoseq.json"
    if not path.is_file():
        return None
    try:
        manifest = read_json(path)
        test = manifest["metrics"]["test"]
        trial = manifest.get("trial")
    except (OSError, ValueError, KeyError, TypeError):
        return Paragraph("export/autoseq.json is present but unreadable.", kind="note")
    refit = " (refitted on train + validation)" if manifest.get("refit") else ""
    return Paragraph(f"Exported model in export/: trial {trial}{refit}, test MAE "
                     f"{fmt.num(test.get('mae'))}, RMSE {fmt.num(test.get('rmse'))}, sMAPE "
                     f"{fmt.num(test.get('smape'), 3)}%, MASE {fmt.num(test.get('mase'), 3)} "
                     f"on {test.get('windows', '?')} test windows (from its manifest).",
                     kind="note")


# -- leaderboard -----------------------------------------------------------------------------

def leaderboard_section(ev: Evidence) -> Section:
    board = ev.board
    ranked = board[board["rank"].notna()].head(TOP_ROWS)
    trials = ev.trials
    hp = [c for c in board.columns if c in HYPERPARAMETERS or c not in _NON_HP]
    hp = [c for c in hp if c in trials.columns and trials[c].notna().any()]
    cols = ["rank", "model", "trial", "state", "val_loss", "val_mae", *hp,
            "epochs", "seconds", "params", "cudnn_eligible"]
    rows = tuple(tuple(fmt.value(c, r.get(c)) if c != "model" else str(r[c]).lstrip("'")
                       for c in cols) for _, r in ranked.iterrows())
    best = ev.best
    highlight = tuple(i for i, (_, r) in enumerate(ranked.iterrows())
                      if best is not None and r["state"] != "baseline"
                      and r.get("trial") == best.get("trial"))
    sec = Section("leaderboard", f"Leaderboard (top {min(TOP_ROWS, len(ranked))})")
    sec.add(Table(tuple(_HEADERS.get(c, c.replace("_", " ")) for c in cols), rows,
                  numeric=tuple(c in _NUMERIC for c in cols), highlight=highlight,
                  caption="Ranked on validation loss; baselines are ranked in the same table. "
                          "Lookback in steps; time is the whole trial (build, fit, evaluate)."))
    rest = len(board) - len(ranked)
    if rest > 0:
        sec.add(Paragraph(f"{rest} more row(s), unranked trials included, are in "
                          "leaderboard.csv.", kind="note"))
    return sec


_NON_HP = {"rank", "model", "trial", "state", "val_loss", "val_mae", "epochs", "seconds",
           "params", "cudnn_eligible", "compiled", "reason"}


# -- search ----------------------------------------------------------------------------------

def search_section(ev: Evidence) -> Section:
    sec = Section("search", "Search")
    trials = ev.trials
    counts = trials["state"].value_counts()
    backend = ev.run.info.get("backend") or {}
    sec.add(Facts((
        ("engine", f"{backend.get('name', '?')} ({backend.get('algorithm') or 'default'} "
                   "sampler)"),
        ("search space", str((ev.run.info.get("space") or {}).get("name", "?"))),
        ("trials", ", ".join(f"{int(n)} {s}" for s, n in counts.items()) or "none"),
        ("total training time", fmt.seconds(trials["seconds"].sum(min_count=1))),
        ("epochs per trial", f"at most {ev.settings.get('max_epochs')}, early stopping after "
                             f"{ev.settings.get('patience')} without improvement"),
        ("seed", str(ev.settings.get("seed"))),
    )))
    hist = pd.DataFrame({"trial": trials["trial"].astype(float),
                         "state": trials["state"],
                         "value": pd.to_numeric(trials["val_loss"], errors="coerce")})
    base = ev.board[ev.board["state"].eq("baseline")].sort_values("val_loss")
    sec.add(figs.history_figure(hist, [(str(r["model"]), float(r["val_loss"]))
                                       for _, r in base.iterrows()]))
    imp = param_importances(ev.study, seed=int(ev.settings.get("seed") or 0))
    if imp.values:
        names = list(imp.values)
        sec.add(figs.bars_figure("importances", "Hyperparameter importances (Optuna, fANOVA)",
                                 names, [imp.values[n] for n in names],
                                 xlabel="share of the validation-loss variance explained",
                                 percent=True))
        top = max(imp.values, key=imp.values.get)
        sec.add(Paragraph(f"The hyperparameter that explains most of the differences in "
                          f"validation loss between trials is {top} ({imp.values[top]:.0%}); "
                          "with few trials this is a hint, not a measurement."))
    else:
        sec.add(Paragraph(f"Hyperparameter importances: not shown ({imp.note}).", kind="note"))
    ranked = trials[trials["rank"].notna() & trials["state"].isin(_DONE)].head(TOP_CURVES)
    numbers = [int(t) for t in ranked["trial"]]
    curves = histories(ev.run, numbers, ev.study)
    if curves:
        labels = {int(r["trial"]): f"#{int(r['rank'])} trial {int(r['trial'])}: {r['model']}"
                  for _, r in ranked.iterrows()}
        sec.add(figs.curves_figure({labels[n]: curves[n] for n in numbers if n in curves}))
    groups = failure_groups(ev.board)
    if len(groups):
        rows = tuple((str(g["state"]), str(g["reason"]), str(int(g["count"])),
                      ", ".join(str(t) for t in g["trials"][:12])
                      + (" …" if len(g["trials"]) > 12 else ""))
                     for _, g in groups.iterrows())
        sec.add(Table(("state", "reason", "trials", "trial numbers"), rows,
                      numeric=(False, False, True, False), name="failures",
                      caption="Trials without a full result, grouped by reason. Pruned trials "
                              "keep their score so far and are ranked; failed ones are not."))
    else:
        sec.add(Paragraph("No trial failed or was pruned.", kind="note"))
    return sec


# -- forecasts (task "forecast") ---------------------------------------------------------------

def forecast_sections(ev: Evidence) -> list[Section]:
    return [forecasts_section(ev), looks_at_section(ev)]


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
    cols = ev.by_column
    roles = {c: "target" for c in ev.settings.get("targets", [])}
    sec.add(Paragraph(share_sentence(cols.labels, cols.shares, what="input column",
                                     prefix="Among the input columns"), kind="key"))
    sec.add(Table(("input column", "role", "share of the prediction",
                   "validation MSE increase"),
                  tuple((c, roles.get(c, "covariate"), fmt.percent(s), fmt.num(v, 3))
                        for c, s, v in zip(cols.labels, cols.shares, cols.increase,
                                           strict=True)),
                  numeric=(False, False, True, True), name="column_importance"))
    if len(cols.labels) > 1:
        sec.add(figs.bars_figure("columns", "What the model looks at: input columns",
                                 cols.labels, cols.shares, xlabel="share of the prediction",
                                 percent=True, color=figs.ACCENT))
    sec.add(Paragraph(
        f"Method: permutation importance on {imp.windows} validation windows, {imp.repeats} "
        f"shuffles each. A block (every column at those lags) or a column (every lag) is swapped "
        f"between windows; how much the validation error (scaled MSE {fmt.num(imp.base_loss, 3)}"
        f" unshuffled) grows is the part's weight, and the shares divide the total growth. "
        "Parts that are correlated share credit, so read shares as a ranking, not as exact "
        "fractions.", kind="note"))
    return sec


def _time_back(block: LagBlock, freq: str | None) -> str:
    lo, hi = block.lags[0], block.lags[-1]
    return duration(lo, freq) if lo == hi else f"{duration(lo, freq)} – {duration(hi, freq)}"


def _unsupported_task(ev: Evidence) -> list[Section]:
    task = ev.settings.get("task")
    return [Section("task", "Task-specific results").add(
        Paragraph(f"This version of the report has no section for task '{task}' yet.",
                  kind="note"))]


_TASK_SECTIONS = {"forecast": forecast_sections}


# -- evidence ------------------------------------------------------------------------------------

def gather(run: Run, *, data: str | Path | None = None, importance: bool = True) -> Evidence:
    """Read the run folder and evaluate the best model once (for every section to share)."""
    board = run.leaderboard()
    ev = Evidence(run=run, board=board, study=load_study(run))
    ev.best = best_trial_row(board)
    try:
        ev.data = run.data(data)  # a ForecastData, or a SequenceData for sequence tasks
    except (AutoseqError, OSError) as exc:
        ev.data_note = (f"The training data could not be re-read ({exc}); sections that need "
                        "it are left out. Pass the CSV with --data.")
    if ev.best is None or ev.data is None:
        return ev
    if ev.sequence_task:
        return _score_sequences(ev)
    from autoseq.report._evaluate import permutation_importance
    from autoseq.report._lags import lag_blocks
    from autoseq.run import load_trial_model

    try:
        model, ev.config, _ = load_trial_model(run, int(ev.best["trial"]), ev.data)
    except (AutoseqError, OSError, ValueError) as exc:
        ev.model_note = f"The best model could not be reloaded ({exc})."
        return ev
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
                model, ev.data, ev.lookback, ev.blocks, seed=int(ev.settings.get("seed") or 0))
    except Exception as exc:  # noqa: BLE001 - a custom model may fail here; the rest still shows
        logger.warning("report: evaluating trial %s failed: %s", ev.best["trial"], exc)
        ev.model_note = f"The best model could not be evaluated ({type(exc).__name__}: {exc})."
        ev.val = ev.test = ev.by_block = ev.by_column = None
    finally:
        import keras

        keras.backend.clear_session()
    return ev


def _score_sequences(ev: Evidence) -> Evidence:
    """``gather`` for classification and regression: score the best network once."""
    from autoseq.report._sequences import score_sequences
    from autoseq.run import load_trial_model

    try:
        model, ev.config, _ = load_trial_model(ev.run, int(ev.best["trial"]), ev.data)
        ev.sequences = {part: score_sequences(model, ev.data, part) for part in ("val", "test")}
    except Exception as exc:  # noqa: BLE001 - a custom model may fail here; the rest still shows
        logger.warning("report: evaluating trial %s failed: %s", ev.best["trial"], exc)
        ev.model_note = f"The best model could not be evaluated ({type(exc).__name__}: {exc})."
        ev.sequences = {}
    finally:
        import keras

        keras.backend.clear_session()
    return ev


__all__ = ["Evidence", "Figure", "build_report", "gather"]
