"""The questions a search can answer: best score and time cost by each design choice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

import autoseq.report._figures as figs
import autoseq.report._format as fmt
from autoseq.report._content import Paragraph, Section, Table

_CELL_ORDER = {"SimpleRNN": 0, "LSTM": 1, "GRU": 2}


def _clipping(row: pd.Series) -> str:
    if not fmt.missing(row.get("clipnorm")):
        return "by norm"
    if not fmt.missing(row.get("clipvalue")):
        return "by value"
    return "none"


def _flag(v: Any) -> bool:
    return fmt.yes_no(v) == "yes"


QUESTIONS: tuple[tuple[str, str, Callable[[pd.Series], str]], ...] = (
    ("Cell type", "cell", lambda r: fmt.cell_name(r["cell"])),
    ("Depth", "depth", lambda r: f"{int(float(r['depth']))} layer"
     + ("s" if float(r["depth"]) != 1 else "")),
    ("Direction", "bidirectional",
     lambda r: "bidirectional" if _flag(r["bidirectional"]) else "one direction"),
    ("Recurrent dropout", "recurrent_dropout",
     lambda r: "used" if float(r["recurrent_dropout"] or 0) > 0 else "none"),
    ("Gradient clipping", "clipnorm", _clipping),
)


def answer(trials: pd.DataFrame, metric: str = "val_mae") -> list[tuple[str, pd.DataFrame]]:
    """Per question, one row per option: trials, best and median ``metric`` (lower is better),
    median time, params."""
    done = trials[trials["state"].isin(["complete", "pruned"])].copy()
    done["score"] = pd.to_numeric(done[metric], errors="coerce")
    done = done[done["score"].notna()]
    out = []
    for question, column, option in QUESTIONS:
        if column not in done.columns or (column != "clipnorm" and done[column].isna().all()):
            continue
        if done.empty:
            continue
        keyed = done.assign(option=done.apply(option, axis=1))
        g = keyed.groupby("option", sort=False).agg(
            trials=("score", "size"), best=("score", "min"), median=("score", "median"),
            seconds=("seconds", lambda s: pd.to_numeric(s, errors="coerce").median()),
            params=("params", lambda s: pd.to_numeric(s, errors="coerce").median()),
        ).reset_index()
        g = g.sort_values("option", key=lambda s: s.map(lambda o: (_CELL_ORDER.get(o, 9), o)))
        out.append((question, g.reset_index(drop=True)))
    return out


_PHRASES = {
    "Direction": {"bidirectional": "bidirectional layers", "one direction": "one-way layers"},
    "Recurrent dropout": {"used": "recurrent dropout", "none": "no recurrent dropout"},
    "Gradient clipping": {"none": "no clipping", "by norm": "clipping by norm",
                          "by value": "clipping by value"},
}


def sentence(question: str, g: pd.DataFrame, label: str = "val MAE") -> str:
    """``"Cell type: the best score came with GRU (val MAE 2.47 over 5 trials), against …"``."""
    def say(option: str) -> str:
        return _PHRASES.get(question, {}).get(option, option)

    if len(g) == 1:
        o = g.iloc[0]
        return (f"{question}: every scored trial had {say(o['option'])} "
                f"({_trials(o['trials'])}), so the search cannot compare it.")
    ranked = g.sort_values("best")
    first = ranked.iloc[0]
    others = [f"{fmt.num(r['best'])} with {say(r['option'])} ({int(r['trials'])})"
              for _, r in ranked.iloc[1:].iterrows()]
    against = ", ".join(others[:-1]) + (" and " if len(others) > 1 else "") + others[-1]
    text = (f"{question}: the best score came with {say(first['option'])} ({label} "
            f"{fmt.num(first['best'])} over {_trials(first['trials'])}), against {against}.")
    by_time = g.sort_values("seconds")
    fast, slow = by_time.iloc[0], by_time.iloc[-1]
    if fast["option"] != slow["option"] and fast["seconds"] > 0:
        text += (f" Trials with {say(slow['option'])} took {slow['seconds'] / fast['seconds']:.1f}"
                 f"× as long as with {say(fast['option'])} (median "
                 f"{fmt.seconds(slow['seconds'])} vs {fmt.seconds(fast['seconds'])}).")
    return text


def _trials(n) -> str:
    return f"{int(n)} trial{'' if int(n) == 1 else 's'}"


def questions_section(trials: pd.DataFrame, metric: str = "val_mae", label: str = "val MAE",
                      units: str = "in the data's units") -> Section:
    """The design-choice comparison on ``metric`` (a leaderboard column, lower is better)."""
    sec = Section("questions", "What the search says about each design choice")
    groups = answer(trials, metric)
    if not groups:
        return sec.add(Paragraph("No trial has a score yet, so no design choice can be compared.",
                                 kind="note"))
    rows = []
    for question, g in groups:
        for i, (_, r) in enumerate(g.iterrows()):
            rows.append((question if i == 0 else "", str(r["option"]), str(int(r["trials"])),
                         fmt.num(r["best"]), fmt.num(r["median"]), fmt.seconds(r["seconds"]),
                         fmt.integer(r["params"])))
    sec.add(Table(("question", "option", "trials", f"best {label}", f"median {label}",
                   "median time / trial", "median parameters"), tuple(rows),
                  numeric=(False, False, True, True, True, True, True), name="questions",
                  caption=f"Complete and pruned trials. Best and median {label} {units}; "
                          "time is per trial."))
    comparable = [(q, g) for q, g in groups if len(g) > 1]
    if comparable:  # a choice the search never varied has nothing to draw
        sec.add(figs.questions_figure(comparable, label))
    for question, g in groups:
        sec.add(Paragraph(sentence(question, g, label)))
    n = int(sum(g["trials"].sum() for _, g in groups[:1]))
    sec.add(Paragraph(f"These comparisons rest on {n} scored trial(s) chosen by the sampler, not "
                      "on a controlled experiment: an option tried often in a good region of the "
                      "space looks better than one tried rarely. Treat small differences as "
                      "ties.", kind="note"))
    return sec
