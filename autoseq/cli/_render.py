"""Terminal rendering for the CLI: progress of a search and the leaderboard table."""

from __future__ import annotations

import math
import sys
from typing import Any

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

_err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)
# Piped output (CI logs, files) gets a wide table rather than rich's 80-column default.
_out = Console(highlight=False, width=None if sys.stdout.isatty() else 140)

TABLE_COLUMNS = ("rank", "model", "trial", "state", "val_loss", "val_mae", "val_accuracy",
                 "val_f1", "val_rmse", "lookback", "learning_rate", "epochs", "seconds",
                 "cudnn_eligible")


class SearchProgress:
    """Shows trial n/N, best so far and elapsed/ETA; one line per finished trial."""

    def __init__(self, *, quiet: bool = False):
        self.quiet = quiet
        self.progress = Progress(TextColumn("[bold]trials"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[best]}"), TimeElapsedColumn(),
                                 TextColumn("ETA"), TimeRemainingColumn(), console=_err,
                                 transient=True, disable=quiet)
        self.task = None
        self._live = False

    def __enter__(self) -> SearchProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live:
            self.progress.__exit__(*exc)

    def _go_live(self) -> None:
        # Started on the search's first event, not before: a bad input's one-line error must not
        # follow the blank line rich writes when a display stops on a non-terminal.
        if not self._live:
            self.progress.__enter__()
            self._live = True

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event["kind"]
        if kind == "start":
            self._start(event)
        elif kind == "trial":
            self._trial(event)

    def _start(self, e: dict[str, Any]) -> None:
        data = e["data"]
        self._go_live()
        if not self.quiet:
            _err.print(f"run folder: {escape(str(e['run_dir']))}")
            _err.print(escape(_data_line(data)))
            for b in e["baselines"]:
                _err.print(f"baseline {escape(b.name)}: val_loss {b.loss:.4g}, "
                           f"{escape(_metrics_text(b.metrics, mae=b.mae))}")
            if e["done"]:
                _err.print(f"resuming: {e['done']} of {e['total']} trials already done")
        self.task = self.progress.add_task("search", total=e["total"],
                                           completed=min(e["done"], e["total"]), best="")

    def _trial(self, e: dict[str, Any]) -> None:
        r = e["record"]
        res = r.result
        cfg = r.config
        if r.state in ("complete", "pruned"):
            msg = (f"trial {r.number:>3} {r.state:<8} val_loss {res['val_loss']:.4g}  "
                   f"{escape(_metrics_text(res.get('metrics') or {}, mae=res.get('val_mae')))}  "
                   f"{escape(_short(cfg))}  "
                   f"{res.get('epochs', 0)} ep {res.get('seconds', 0):.1f}s")
        else:
            msg = f"trial {r.number:>3} {r.state:<8} {escape(str(r.reason))}"
        if not self.quiet:
            self.progress.console.print(msg)
        best = e["best"]
        best_txt = "" if best is None else f"best {best['val_loss']:.4g} (trial {best['trial']})"
        self.progress.update(self.task, completed=min(e["done"], e["total"]), best=best_txt)


def _data_line(data: Any) -> str:
    from autoseq.tasks import task_of_data

    return task_of_data(data).describe(data)


_METRIC_NAMES = {"val_accuracy": "accuracy", "val_f1": "macro-F1", "val_log_loss": "log loss",
                 "val_rmse": "RMSE"}


def _metrics_text(metrics: dict[str, Any], *, mae: float | None) -> str:
    """``val MAE 1.2`` (forecasting, regression) or ``val accuracy 0.9 macro-F1 0.9``."""
    parts = [] if mae is None else [f"MAE {mae:.4g}"]
    parts += [f"{name} {metrics[k]:.4g}" for k, name in _METRIC_NAMES.items()
              if k in metrics and metrics[k] is not None and k != "val_log_loss"]
    return "val " + " ".join(parts)


def _short(cfg: dict[str, Any]) -> str:
    parts = [f"{cfg.get('cell')}", f"d{cfg.get('depth')}", f"u{cfg.get('units')}"]
    if cfg.get("bidirectional"):
        parts.append("bi")
    if "lookback" in cfg:
        parts.append(f"lb{cfg.get('lookback')}")
    if cfg.get("anchor", "none") != "none":
        parts.append(f"anchor:{cfg['anchor']}")
    if cfg.get("pooling") in ("mean", "max"):
        parts.append(str(cfg["pooling"]))
    parts.append(f"lr{float(cfg.get('learning_rate', 0)):.1e}")
    parts += [tag for tag, on in (("mstl", cfg.get("transform") == "mstl"),
                                  ("rolling-mstl", cfg.get("transform") == "rolling_mstl"),
                                  ("calendar", bool(cfg.get("calendar"))),
                                  ("seq2seq", cfg.get("head") == "seq2seq")) if on]
    return " ".join(parts)


def leaderboard_table(board: pd.DataFrame, *, top: int = 10) -> Table:
    """A rich table of the top rows of a leaderboard."""
    table = Table(title="leaderboard (validation)", show_lines=False)
    ranked = board[board["rank"].notna()].head(top)
    cols = [c for c in TABLE_COLUMNS if c in board.columns and ranked[c].notna().any()]
    for c in cols:
        table.add_column(c, justify="right" if c not in ("model", "state") else "left")
    for _, row in ranked.iterrows():
        table.add_row(*[escape(_fmt(row[c])) for c in cols])
    return table


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def print_result(result: Any, *, interrupted: bool = False) -> None:
    """Print the top of the leaderboard and the best trial's skill over the best baseline."""
    _out.print(leaderboard_table(result.leaderboard))
    best, base = result.best, result.best_baseline
    if best is not None and base is not None and "val_accuracy" in best:
        skill = result.skill
        _out.print(f"best: {escape(str(best['model']))} (trial {best['trial']}): val accuracy "
                   f"{best['val_accuracy']:.4g}, macro-F1 {best['val_f1']:.4g}, log loss "
                   f"{best['val_loss']:.4g} vs {escape(base['model'])} accuracy "
                   f"{base['val_accuracy']:.4g}, log loss {base['val_loss']:.4g}"
                   + ("" if skill is None else
                      f" → {abs(skill) * 100:.1f}% {'lower' if skill >= 0 else 'higher'} log "
                      "loss" + ("" if skill >= 0 else f": {escape(base['model'])} predicts "
                                "better on validation")))
    elif best is not None and (shown := result.versus()) is not None:
        key, base = shown
        skill = result.skill
        verdict = "better" if skill is not None and skill > 0 else "worse"
        label = {"val_owa": "val OWA", "val_mae": "val MAE"}.get(key, key)
        _out.print(f"best: {escape(str(best['model']))} (trial {best['trial']}): {label} "
                   f"{best[key]:.4g} vs {escape(base['model'])} {base[key]:.4g}"
                   + ("" if skill is None else f" → {abs(skill) * 100:.1f}% {verdict} than "
                      f"the best baseline on {label}"))
    _out.print(f"leaderboard: {escape(str(result.run_dir / 'leaderboard.csv'))}")
    if getattr(result, "report", None):
        _out.print(f"report: {escape(str(result.report))}")
    if result.stopped_reason and not interrupted:
        _err.print(f"note: stopped early: {escape(result.stopped_reason)}")


def print_export(res: Any) -> None:
    """Print where the model went and its test metrics next to the baselines'."""
    if "windows" not in res.manifest["metrics"]["test"]:  # per sequence, not per window
        _print_sequence_export(res)
        return
    m = res.manifest["metrics"]
    table = Table(title=f"held-out test split ({m['test']['windows']} windows)")
    keys = [k for k in ("mae", "rmse", "smape", "mase") if k in m["test"]]
    table.add_column("model")
    for k in keys:
        table.add_column(k, justify="right")
    label = _model_label(res)
    table.add_row(label, *[_fmt(m["test"][k]) for k in keys])
    stat = m.get("test_stat_windows")
    if stat and stat["windows"] != stat["of"]:
        table.add_row(f"{label} ({stat['windows']} of {stat['of']} windows)",
                      *[_fmt(stat["model"].get(k)) for k in keys])
    for name, vals in m["test_baselines"].items():
        table.add_row(escape(name), *[_fmt(vals.get(k)) for k in keys])
    _out.print(table)
    _print_selection(res.manifest.get("selection"))
    _print_intervals(m.get("test_intervals"))
    shape_in = f"[batch, {res.manifest['lookback']}, {len(res.manifest['inputs'])}]"
    shape_out = f"[batch, {res.manifest['horizon']}, {len(res.manifest['targets'])}]"
    extra = "".join(f" + {d['name']}" for d in res.manifest.get("derived_inputs") or [])
    for side in ("future_input", "static", "future", "past"):  # a panel's: static, future, past
        spec = res.manifest.get(side)
        if spec and "shape" in spec:
            shape = ", ".join(map(str, spec["shape"][1:]))
            extra += f" + {spec.get('name') or spec['input']} [batch, {shape}]"
    iv = res.manifest.get("intervals")
    if iv:
        shape_out += (f" + quantiles [batch, {res.manifest['horizon']}, "
                      f"{len(res.manifest['targets'])}, {len(iv['quantiles'])}]")
    _out.print(escape(f"model folder: {res.path} (SavedModel, signature serving_default: raw "
                      f"{shape_in}{extra} → {shape_out} in the data's units)"))


def _print_intervals(test: dict[str, Any] | None) -> None:
    """One line: how the calibrated intervals covered the test outcomes."""
    if not test:
        return
    parts = [f"{lv}% covered {100 * v['coverage']:.1f}% (width {_fmt(v['width'])}, MSIS "
             f"{_fmt(v.get('msis'))})" for lv, v in test["levels"].items()]
    _out.print(escape(f"calibrated intervals on the test windows: {'; '.join(parts)}"))


def _print_selection(sel: dict[str, Any] | None) -> None:
    """One line: what export chose on validation, every candidate's score and the best
    baseline's."""
    if not sel:
        return
    key = f"val_{sel.get('metric', 'mae')}"  # a panel's: its objective (OWA by default)
    scores = ", ".join(f"{k} {_fmt(v)}" for k, v in sel[key].items())
    base = sel.get("best_baseline")
    versus = f"; best baseline {base['name']} {_fmt(base[key])}" if base else ""
    folds = f" of {sel['folds']} folds" if sel.get("folds", 1) > 1 else ""
    _out.print(escape(f"exported the {sel['chosen']}: validation {key[4:].upper()} "
                      f"({sel['windows']} windows{folds}) {scores}{versus}"))


def _model_label(res: Any) -> str:
    """What the exported model serves: ``trial N``, an ensemble's members, export's choice."""
    from autoseq.exporting._manifest import served_label

    return served_label(res.manifest)


def _print_sequence_export(res: Any) -> None:
    man = res.manifest
    m = man["metrics"]
    table = Table(title=f"held-out test split ({m['test']['sequences']} sequences)")
    keys = [k for k in ("accuracy", "f1", "log_loss", "mae", "rmse") if k in m["test"]]
    table.add_column("model")
    for k in keys:
        table.add_column(k, justify="right")
    table.add_row(_model_label(res), *[_fmt(m["test"][k]) for k in keys])
    for name, vals in m["test_baselines"].items():
        table.add_row(escape(name), *[_fmt(vals.get(k)) for k in keys])
    _out.print(table)
    out = (f"{len(man['classes'])} class probabilities" if man["task"] == "classify"
           else "the value")
    _out.print(escape(f"model folder: {res.path} (SavedModel, signature serving_default: raw "
                      f"sequences [batch, time ≤ {man['max_length']}, {len(man['inputs'])}] "
                      f"right-padded with NaN → {out})"))
