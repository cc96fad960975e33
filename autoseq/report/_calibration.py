"""The report's calibrated-probabilities part (classification): a reliability diagram of the
exported model's test probabilities before and after temperature scaling, and the expected
calibration error, from the export's manifest."""

from __future__ import annotations

from typing import Any

import numpy as np

import autoseq.report._format as fmt
from autoseq.report._content import Figure, Paragraph
from autoseq.report._evidence import Evidence
from autoseq.report._figures import INK, MODEL, MUTED, _finish, _new, _style, _themed


def calibration_parts(ev: Evidence) -> list[Figure | Paragraph]:
    """The figure and sentence, or nothing when the run's export has no calibration."""
    cal = (ev.export_manifest or {}).get("calibration")
    if not cal:
        return []
    ece = cal["ece"]
    return [reliability_figure(cal["reliability"]["test"]),
            Paragraph(f"The exported model's probabilities are temperature-scaled (T = "
                      f"{fmt.num(cal['temperature'], 3)}, fitted on the validation sequences): "
                      f"its expected calibration error on the test sequences went from "
                      f"{fmt.percent(ece['test']['before'])} to "
                      f"{fmt.percent(ece['test']['after'])} (validation "
                      f"{fmt.percent(ece['val']['before'])} → "
                      f"{fmt.percent(ece['val']['after'])}).")]


@_themed
def reliability_figure(bins: dict[str, list[dict[str, Any]]]) -> Figure:
    """Accuracy against confidence per bin, before and after scaling, with the diagonal."""
    fig, axes = _new(3.4, width=5.0)
    ax = axes[0, 0]
    ax.plot([0, 1], [0, 1], color=INK, linestyle="--", linewidth=0.9, label="perfectly calibrated")
    for (name, rows), color in zip(bins.items(), (MUTED, MODEL), strict=False):
        conf = np.array([r["confidence"] for r in rows])
        acc = np.array([r["accuracy"] for r in rows])
        ax.plot(conf, acc, color=color, marker="o", linewidth=1.3,
                label=f"{name} temperature scaling")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    _style(ax, xlabel="confidence (top probability)", ylabel="accuracy")
    ax.legend(loc="upper left")
    return _finish(fig, "reliability", "Reliability of the test probabilities",
                   "Each point is a bin of test sequences by the model's confidence; on the "
                   "diagonal, a model that says 80% is right 80% of the time.")
