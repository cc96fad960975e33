"""The panel report's figures: example forecasts of a few series, and the per-series skill."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from autoseq.report._content import Figure
from autoseq.report._figures import (
    ACCENT,
    BAD,
    GOOD,
    INK,
    MODEL,
    PARTS,
    _dates,
    _finish,
    _new,
    _style,
    _themed,
    text,
)


@dataclass
class Example:
    """One series' test window: its recent history, the actual values and two forecasts."""

    name: str
    rank: str  # "best", "median" or "worst" by skill
    skill: float
    history: pd.Series  # the steps before the window, indexed by time
    actual: pd.Series  # the window, indexed by time
    model: np.ndarray
    baseline: np.ndarray
    baseline_name: str


@_themed
def examples_figure(examples: list[Example]) -> Figure:
    """A grid (two columns) of example series: history, test window, forecast and baseline."""
    rows = (len(examples) + 1) // 2
    fig, axes = _new(2.1 * rows + 0.6, ncols=2, nrows=rows)
    for ax, ex in zip(axes.flat, examples, strict=False):
        ax.axvspan(ex.actual.index[0], ex.actual.index[-1], color=PARTS["test"], zorder=0)
        both = pd.concat([ex.history, ex.actual])
        ax.plot(both.index, both.to_numpy(), color=INK, linewidth=1.1, label="actual")
        ax.plot(ex.actual.index, ex.model, color=MODEL, linewidth=1.4, label="model")
        ax.plot(ex.actual.index, ex.baseline, color=ACCENT, linewidth=1.1, linestyle="--",
                label=text(ex.baseline_name))
        _style(ax, title=f"{text(ex.name)} ({ex.rank}, skill {ex.skill:+.2f})")
        _dates(ax)
    for ax in list(axes.flat)[len(examples):]:
        ax.set_visible(False)
    axes[0, 0].legend(loc="upper left", ncols=3)
    return _finish(fig, "panel_examples", "Example forecasts over each series' test window",
                   "Two series each with the best, median and worst skill (1 − the model's "
                   "test MASE / Naive2's). The shaded part is the series' test window, never "
                   "seen by the search.")


@_themed
def skill_figure(skill: np.ndarray) -> Figure:
    """Histogram of the per-series skill over Naive2, clipped to [−1, 1]."""
    fig, axes = _new(2.6, width=7.0)
    ax = axes[0, 0]
    values = np.clip(skill[np.isfinite(skill)], -1.0, 1.0)
    bins = np.linspace(-1.0, 1.0, 41)
    ax.hist(values[values > 0], bins=bins, color=GOOD, label="better than Naive2")
    ax.hist(values[values <= 0], bins=bins, color=BAD, label="no better")
    ax.axvline(0.0, color=INK, linewidth=1.0)
    _style(ax, xlabel="skill over Naive2 (1 − MASE / Naive2's MASE; clipped to ±1)",
           ylabel="series")
    ax.legend(loc="upper left")
    return _finish(fig, "panel_skill", "Skill per series on the test window")


__all__ = ["Example", "examples_figure", "skill_figure"]
