"""The report's calibrated-intervals part: a fan chart over the test split, coverage by horizon
step against the nominal level, and one sentence against the best statistical baseline.

It reads the exported model folder (``export/``) when it serves quantiles: the coverage and
widths are the manifest's (scored at export on the test windows), the fan chart the model's own
quantiles on the test windows.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

import autoseq.report._format as fmt
from autoseq.report._content import Figure, Paragraph, Section, Table
from autoseq.report._evidence import Evidence
from autoseq.report._figures import (
    BAD,
    INK,
    MODEL,
    MUTED,
    PARTS,
    _dates,
    _finish,
    _new,
    _style,
    _themed,
    text,
)

logger = logging.getLogger("autoseq")

FANS = 6
"""Forecasts the fan chart draws at most (the last of the test split)."""


def intervals_section(ev: Evidence) -> Section | None:
    """The section, or ``None`` when the run has no export with intervals."""
    manifest = exported_intervals(ev)
    if manifest is None or ev.data is None:
        return None
    sec = Section("intervals", "Calibrated intervals on the test split")
    test = manifest["metrics"]["test_intervals"]["levels"]
    others = manifest["metrics"].get("test_baselines_intervals", {})
    try:
        sec.add(fan_figure(ev, ev.run.path / "export", manifest))
    except Exception as exc:  # noqa: BLE001 - a figure must not cost the report
        logger.warning("report: the fan chart could not be drawn (%s)", exc)
    sec.add(coverage_figure(test, ev.data.horizon))
    sec.add(intervals_table(test, others))
    sec.add(Paragraph(interval_sentence(test, others), kind="key"))
    return sec.add(method_note(manifest["intervals"]))


def exported_intervals(ev: Evidence) -> dict[str, Any] | None:
    """The manifest of the run's ``export/`` when it serves scored intervals, else ``None``."""
    manifest = ev.export_manifest or {}
    if not manifest.get("intervals") or "test_intervals" not in manifest.get("metrics", {}):
        return None
    return manifest


def method_note(iv: dict[str, Any]) -> Paragraph:
    """How the intervals were calibrated, from the manifest's ``intervals``."""
    rule = f" ({iv['scale_rule']})" if iv.get("scale_rule") else ""
    return Paragraph(f"{iv.get('method', '')}; {iv.get('windows', '?')} validation windows, "
                     f"window scale {iv.get('scale')}{rule}.", kind="note")


def coverage_words(test: dict[str, Any], level: str) -> str:
    """"95% of the test outcomes fell inside the 95% band"."""
    return (f"{fmt.percent(test[level]['coverage'])} of the test outcomes fell inside the "
            f"{level}% band")


def interval_sentence(test: dict[str, Any], others: dict[str, Any]) -> str:
    """"95% of the test outcomes fell inside the 95% band; it is 12% wider than
    mstl_arima(…)'s, which covered 78% (MSIS …)." — for the widest level, against the
    statistical baseline (else the baseline) with the lowest MSIS there; on that baseline's
    windows when it was scored on a subset (the model's ``model (k of n windows)`` entry)."""
    level = max(test, key=float)
    head = coverage_words(test, level)
    rivals = {n: v["levels"][level] for n, v in others.items()
              if level in v.get("levels", {}) and not n.startswith("exported model")
              and v["levels"][level].get("msis") is not None}
    stat = {n: v for n, v in rivals.items() if n.startswith(("mstl_", "auto_"))} or rivals
    if not stat:
        return head + "."
    name = min(stat, key=lambda n: stat[n]["msis"])
    subset = [v["levels"][level] for n, v in others.items()
              if n.startswith("exported model") and level in v.get("levels", {})]
    mine = subset[0] if subset and name.startswith(("mstl_", "auto_")) else test[level]
    if not stat[name]["width"]:
        return head + "."
    ratio = mine["width"] / stat[name]["width"] - 1
    way = "wider" if ratio >= 0 else "narrower"
    return (f"{head}; it is {fmt.percent(abs(ratio))} {way} than {name}'s, which covered "
            f"{fmt.percent(stat[name]['coverage'])} (MSIS {fmt.num(mine.get('msis'), 3)} vs "
            f"{fmt.num(stat[name]['msis'], 3)} on the same windows).")


def intervals_table(test: dict[str, Any], others: dict[str, Any]) -> Table:
    """Coverage, mean width and MSIS of each level, the exported model's first."""
    rows = [("exported model", lv, fmt.percent(v["coverage"]), fmt.num(v["width"]),
             fmt.num(v.get("msis"), 3)) for lv, v in test.items()]
    for name, vals in others.items():
        rows += [(name, lv, fmt.percent(v["coverage"]), fmt.num(v["width"]),
                  fmt.num(v.get("msis"), 3)) for lv, v in vals.get("levels", {}).items()]
    return Table(columns=("model", "level %", "coverage", "mean width", "MSIS"),
                 rows=tuple(rows), numeric=(False, True, True, True, True),
                 highlight=tuple(range(len(test))), name="intervals",
                 caption="Coverage: share of test outcomes inside the interval. MSIS: M4's "
                         "scaled interval score (lower is better). Baselines named with a "
                         "window count are scored on those windows only.")


def fan_figure(ev: Evidence, folder, manifest: dict[str, Any]) -> Figure:
    """The exported model's bands from every ``horizon``-th test origin (the last ``FANS``),
    tiling the end of the split."""
    from autoseq.exporting._forecast_wrap import raw_windows
    from autoseq.intervals import level_bounds
    from autoseq.predict._predict import Forecaster

    data, h = ev.data, int(manifest["horizon"])
    origins = data.origins("test")[::h][-FANS:]  # more would squeeze the bands into lines
    width = int(manifest["lookback"])
    windows = raw_windows(data, origins, width).astype("float32")
    model = Forecaster(folder, manifest)
    steps = origins if manifest.get("derived_inputs") else None
    q = model.predict_windows(windows, steps, output=manifest["intervals"]["output"])
    point = model.predict_windows(windows, steps)
    taus = [round(t, 9) for t in manifest["intervals"]["quantiles"]]
    levels = sorted(manifest["intervals"]["levels"], reverse=True)
    bands = {lv: tuple(taus.index(t) for t in level_bounds(lv)) for lv in levels}
    return _fan(data.series.frame.index, data.raw[:, data.target_idx[0]], origins, h,
                point[..., 0], q[..., 0, :], bands, str(data.series.targets[0]))


@_themed
def _fan(index, actual, origins, h, point, q, bands, target: str) -> Figure:
    fig, axes = _new(3.4)
    ax = axes[0, 0]
    start, stop = int(origins[0]), int(origins[-1]) + h
    ax.axvspan(index[start], index[min(stop, len(index)) - 1], color=PARTS["test"], zorder=0)
    shades = np.linspace(0.18, 0.4, len(bands))
    for i, o in enumerate(origins):
        span = index[o:o + h]
        n = len(span)
        for shade, (lv, (lo, hi)) in zip(shades, bands.items(), strict=True):
            ax.fill_between(span, q[i, :n, lo], q[i, :n, hi], color=MODEL, alpha=shade,
                            linewidth=0, label=f"{lv:g}% band" if i == 0 else None)
        ax.plot(span, point[i, :n], color=MODEL, linewidth=1,
                label="forecast" if i == 0 else None)
    ax.plot(index[start:stop], actual[start:stop], color=INK, linewidth=1, label="actual")
    _style(ax, ylabel=text(target))
    _dates(ax)
    ax.legend(loc="upper left", ncols=4)
    return _finish(fig, "fan", "Forecast bands over the test split",
                   f"The last {len(origins)} forecasts from the test origins, one every {h} "
                   "steps, with the exported model's calibrated bands.")


@_themed
def coverage_figure(test: dict[str, Any], horizon: int) -> Figure:
    """Coverage at each horizon step against each level's nominal coverage."""
    fig, axes = _new(3.0)
    ax = axes[0, 0]
    x = np.arange(1, horizon + 1)
    for i, (lv, v) in enumerate(sorted(test.items(), key=lambda kv: float(kv[0]))):
        color = (MODEL, BAD, MUTED)[i % 3]
        ax.plot(x, 100 * np.asarray(v["coverage_by_step"]), color=color, marker=".",
                linewidth=1.2, label=f"{lv}% band")
        ax.axhline(float(lv), color=color, linestyle="--", linewidth=0.9)
    _style(ax, xlabel="steps ahead", ylabel="test coverage (%)")
    ax.legend(loc="best")
    return _finish(fig, "coverage", "Coverage by horizon step",
                   "Dashed: the nominal level. Each step's coverage is over every test window.")
