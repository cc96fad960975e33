"""The sections every kind of run shares: the leaderboard, the design-choice questions and the
search itself; and the one-line description of the winner that several sections quote."""

from __future__ import annotations

import pandas as pd

import autoseq.report._figures as figs
import autoseq.report._format as fmt
from autoseq.interval_metrics import BOARD_PREFIXES
from autoseq.leaderboard import HYPERPARAMETERS
from autoseq.report._content import Facts, Paragraph, Section, Table
from autoseq.report._evidence import Evidence
from autoseq.report._lags import duration
from autoseq.report._questions import questions_section
from autoseq.report._study import failure_groups, histories, param_importances

TOP_ROWS = 20
TOP_CURVES = 5
_DONE = ("complete", "pruned")
_HEADERS = {"val_loss": "val loss", "val_mae": "val MAE", "bidirectional": "bidir.",
            "recurrent_dropout": "rec. dropout", "learning_rate": "learning rate",
            "batch_size": "batch", "cudnn_eligible": "cuDNN", "seconds": "time (s)"}
_NUMERIC = {"rank", "trial", "val_loss", "val_mae", "depth", "units", "dropout",
            "recurrent_dropout", "clipnorm", "clipvalue", "learning_rate", "lookback",
            "batch_size", "epochs", "seconds", "params"}


def shared_sections(ev: Evidence, *, metric: str, label: str, units: str) -> list[Section]:
    """Leaderboard, questions (compared on the leaderboard column ``metric``) and search."""
    return [leaderboard_section(ev), questions_section(ev.trials, metric, label, units),
            search_section(ev)]


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
                 "seasonal_drift": "seasonal-naive forecast plus the last season's change",
                 "ets": "damped-trend exponential smoothing of the window",
                 "linear": "linear autoregression of the window",
                 "arima": "AutoARIMA forecast of the window (orders and coefficients fixed)"}


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
    bands = [c for c in cols if c.startswith(BOARD_PREFIXES)]
    sec.add(Table(tuple(_header(c) for c in cols), rows,
                  numeric=tuple(c in _NUMERIC or c in bands for c in cols), highlight=highlight,
                  caption="Ranked on validation loss; baselines are ranked in the same table. "
                          "Lookback in steps; time is the whole trial (build, fit, evaluate)."
                          + (_BANDS_CAPTION if bands else "")))
    rest = len(board) - len(ranked)
    if rest > 0:
        sec.add(Paragraph(f"{rest} more row(s), unranked trials included, are in "
                          "leaderboard.csv.", kind="note"))
    return sec


_NON_HP = {"rank", "model", "trial", "state", "val_loss", "val_mae", "epochs", "seconds",
           "params", "cudnn_eligible", "compiled", "reason"}
_BANDS_CAPTION = (" Cover, width and MSIS: conformal intervals calibrated on the earlier half of "
                  "the validation windows, scored on the later half (the best trials and the "
                  "simple baselines only).")


def _header(column: str) -> str:
    """A leaderboard column's table header: ``val_cover80`` reads ``cover 80%``."""
    for prefix, word in zip(BOARD_PREFIXES, ("cover", "width", "MSIS"), strict=True):
        if column.startswith(prefix):
            return f"{word} {column[len(prefix):]}%"
    return _HEADERS.get(column, column.replace("_", " "))


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
        ("epochs per trial", f"at most {ev.settings.max_epochs}, early stopping after "
                             f"{ev.settings.patience} without improvement"),
        ("seed", str(ev.settings.seed)),
    )))
    hist = pd.DataFrame({"trial": trials["trial"].astype(float),
                         "state": trials["state"],
                         "value": pd.to_numeric(trials["val_loss"], errors="coerce")})
    base = ev.board[ev.board["state"].eq("baseline")].sort_values("val_loss")
    sec.add(figs.history_figure(hist, [(str(r["model"]), float(r["val_loss"]))
                                       for _, r in base.iterrows()]))
    imp = param_importances(ev.study, seed=ev.settings.seed)
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

