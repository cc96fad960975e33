"""The report's figures, drawn with matplotlib's object API (Agg, no pyplot global state)."""

from __future__ import annotations

import functools
import io
import struct
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from autoseq.report._content import Figure

WIDTH = 9.0
DPI = 110
INK = "#1f2933"
MUTED = "#7b8794"
MODEL = "#2f6fb0"
ACCENT = "#d9822b"
GOOD = "#3f8f5f"
BAD = "#c0392b"
PARTS = {"train": "#dfe8f2", "val": "#fbe5cb", "test": "#d9eddf"}
CYCLE = ("#2f6fb0", "#d9822b", "#3f8f5f", "#8e44ad", "#c0392b", "#16a5a5", "#7f8c8d")
_RC = {
    "font.size": 9, "axes.titlesize": 10, "axes.titleweight": "bold", "axes.labelsize": 9,
    "axes.edgecolor": "#9aa5b1", "axes.labelcolor": INK, "xtick.color": INK, "ytick.color": INK,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.color": "#e4e7eb", "grid.linewidth": 0.8, "legend.frameon": False,
    "legend.fontsize": 8, "figure.dpi": DPI,
}


def text(s: object) -> str:
    """A user string made safe for matplotlib: ``$`` would start mathtext (and can fail)."""
    return str(s).replace("\\", "\\\\").replace("$", r"\$")


def _themed(fn: Callable[..., Figure]) -> Callable[..., Figure]:
    """Draw under the report's style without touching the caller's matplotlib settings."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs) -> Figure:
        import matplotlib
        from cycler import cycler

        with matplotlib.rc_context(_RC | {"axes.prop_cycle": cycler(color=CYCLE)}):
            return fn(*args, **kwargs)

    return wrapper


def _new(height: float, ncols: int = 1, nrows: int = 1, *, width: float = WIDTH, **kw):
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False, **kw)


def _finish(fig, name: str, title: str, caption: str = "") -> Figure:
    buf = io.BytesIO()
    # No "Software" chunk: it would carry matplotlib's web address into the report.
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    png = buf.getvalue()
    width, height = struct.unpack(">II", png[16:24])
    return Figure(name=name, title=title, png=png, width=width, height=height, caption=caption)


def _style(ax, title: str = "", xlabel: str = "", ylabel: str = "") -> None:
    if title:
        ax.set_title(title, loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_axisbelow(True)


def _dates(ax) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


@_themed
def series_figure(index: pd.DatetimeIndex, values: np.ndarray, targets: Sequence[str],
                  bounds: dict[str, tuple[int, int]]) -> Figure:
    """Each target over time, the train / validation / test parts shaded."""
    n = min(len(targets), 3)
    fig, axes = _new(2.3 * n + 0.6, nrows=n, sharex=True)
    for i in range(n):
        ax = axes[i, 0]
        for part, (a, b) in bounds.items():
            if b > a:
                ax.axvspan(index[a], index[b - 1], color=PARTS[part], zorder=0,
                           label={"train": "train", "val": "validation", "test": "test"}[part])
        ax.plot(index, values[:, i], color=INK, linewidth=0.9)
        ax.set_xlim(index[0], index[-1])
        _style(ax, ylabel=text(targets[i]))
        _dates(ax)
        if i == 0:
            ax.legend(loc="upper left", ncols=3)
    return _finish(fig, "data", "The series and its chronological split")


@_themed
def questions_figure(groups: list[tuple[str, pd.DataFrame]], metric: str) -> Figure:
    """Per question: best validation error (top) and median seconds per trial (bottom)."""
    k = len(groups)
    fig, axes = _new(4.4, ncols=k, nrows=2, width=min(WIDTH, 2.4 + 1.9 * k))
    for j, (question, g) in enumerate(groups):
        x = np.arange(len(g))
        best = g["best"].to_numpy(dtype=float)
        winner = int(np.nanargmin(best)) if np.isfinite(best).any() else -1
        colors = [MODEL if i == winner else "#9fb8d6" for i in range(len(g))]
        top, bottom = axes[0, j], axes[1, j]
        top.bar(x, best, color=colors, width=0.65)
        for xi, (b, n) in enumerate(zip(best, g["trials"], strict=True)):
            if np.isfinite(b):
                top.annotate(f"{b:.3g}\n{n} trial{'s' if n != 1 else ''}", (xi, b),
                             ha="center", va="bottom", fontsize=7, color=INK,
                             xytext=(0, 2), textcoords="offset points")
        top.set_ylim(0, np.nanmax(best) * 1.35 if np.isfinite(best).any() else 1)
        bottom.bar(x, g["seconds"].to_numpy(dtype=float), color="#c9ced6", width=0.65)
        _style(top, title=question, ylabel=f"best {metric}" if j == 0 else "")
        _style(bottom, ylabel="median s / trial" if j == 0 else "")
        for ax in (top, bottom):
            ax.set_xticks(x, [text(o) for o in g["option"]], fontsize=8,
                          rotation=20 if len(g) > 2 else 0)
    return _finish(fig, "questions", "Best score and time cost by design choice")


@_themed
def history_figure(trials: pd.DataFrame, baselines: list[tuple[str, float]]) -> Figure:
    """Validation loss of every trial in order, the best so far, and the baselines."""
    fig, axes = _new(3.6)
    ax = axes[0, 0]
    ok = trials[trials["value"].notna()].sort_values("trial")
    for state, marker, color in (("complete", "o", MODEL), ("pruned", "x", ACCENT)):
        sub = ok[ok["state"] == state]
        if len(sub):
            ax.scatter(sub["trial"], sub["value"], marker=marker, color=color, s=28,
                       label=f"{state} trial", zorder=3)
    done = ok[ok["state"] == "complete"]
    if len(done):
        best = done["value"].cummin()
        ax.step(done["trial"], best, where="post", color=INK, linewidth=1.2, label="best so far")
    failed = trials[trials["value"].isna()]
    if len(failed) and len(ok):
        ax.scatter(failed["trial"], [ok["value"].max()] * len(failed), marker="v", color=BAD,
                   s=24, label="failed (no score)", zorder=3)
    for i, (name, loss) in enumerate(baselines[:3]):
        ax.axhline(loss, color=CYCLE[(i + 3) % len(CYCLE)], linestyle="--", linewidth=1,
                   label=text(name))
    values = [*ok["value"], *(b for _, b in baselines[:3])]
    if values and min(values) > 0 and max(values) / min(values) > 20:
        ax.set_yscale("log")
    _style(ax, xlabel="trial", ylabel="validation loss (scaled MSE)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.legend(loc="outside lower center", ncols=4)
    return _finish(fig, "history", "Optimisation history",
                   "Each trial's validation loss in the order it ran; dashed lines are the "
                   "baselines on the same windows.")


@_themed
def bars_figure(name: str, title: str, labels: Sequence[str], values: Sequence[float], *,
                xlabel: str, percent: bool = False, color: str = MODEL) -> Figure:
    """Horizontal bars, largest on top."""
    order = np.argsort(values)
    fig, axes = _new(0.9 + 0.32 * len(labels), width=7.0)
    ax = axes[0, 0]
    vals = np.asarray(values, dtype=float)[order]
    ax.barh(np.arange(len(vals)), vals, color=color, height=0.6)
    ax.set_yticks(np.arange(len(vals)), [text(labels[i]) for i in order])
    for y, v in enumerate(vals):
        ax.annotate(f"{v:.0%}" if percent else f"{v:.2f}", (max(v, 0), y), va="center",
                    xytext=(3, 0), textcoords="offset points", fontsize=8)
    ax.set_xlim(0, max(1e-9, np.nanmax(vals)) * 1.15)
    if percent:
        ax.xaxis.set_major_formatter(_percent())
    _style(ax, xlabel=xlabel)
    ax.grid(axis="y", visible=False)
    return _finish(fig, name, title)


@_themed
def dependence_figure(dep, target: str) -> Figure:
    """The mean forecast against the value of a known-future covariate (partial dependence)."""
    fig, axes = _new(3.4, width=7.0)
    ax = axes[0, 0]
    if dep.categorical:
        ax.bar(np.arange(len(dep.values)), dep.forecast, color=MODEL, width=0.6)
        ax.set_xticks(np.arange(len(dep.values)), [text(v) for v in dep.values])
        low = min(dep.forecast)
        ax.set_ylim(low - 0.1 * (max(dep.forecast) - low + 1e-9), None)
    else:
        ax.plot(dep.values, dep.forecast, marker="o", color=MODEL)
    _style(ax, xlabel=f"{dep.column} at every forecast step", ylabel=f"mean forecast of {target}")
    return _finish(fig, "dependence", f"Forecast vs {dep.column}",
                   f"Every one of {dep.windows} validation windows forecast with {dep.column} "
                   "set to each value over the whole horizon (the other inputs as they were); "
                   "the forecasts averaged. Values: "
                   + ("each category." if dep.categorical
                      else "5th to 95th percentile of the training rows."))


@_themed
def curves_figure(curves: dict[str, dict[str, list[float]]]) -> Figure:
    """Training (dashed) and validation (solid) loss per epoch of a few trials."""
    fig, axes = _new(4.4)
    ax = axes[0, 0]
    positive = True
    for i, (label, hist) in enumerate(curves.items()):
        color = CYCLE[i % len(CYCLE)]
        val = np.asarray(hist.get("val_loss", []), dtype=float)
        ax.plot(np.arange(1, len(val) + 1), val, color=color, marker="o", markersize=3,
                linewidth=1.4, label=text(label))
        loss = np.asarray(hist.get("loss", []), dtype=float)
        if len(loss):
            ax.plot(np.arange(1, len(loss) + 1), loss, color=color, linestyle="--",
                    linewidth=1, alpha=0.7)
        positive &= bool(np.all(val[np.isfinite(val)] > 0)) and bool(
            np.all(loss[np.isfinite(loss)] > 0))
    if positive:
        ax.set_yscale("log")
    _style(ax, xlabel="epoch", ylabel="loss (scaled MSE)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.legend(loc="outside lower center", ncols=2)
    return _finish(fig, "curves", "Learning curves of the top trials",
                   "Validation loss per epoch (solid) and training loss (dashed); the weights "
                   "kept are those of each trial's best validation epoch.")


@_themed
def forecast_figure(index: pd.DatetimeIndex, actual: np.ndarray, origins: np.ndarray,
                    pred: np.ndarray, targets: Sequence[str], context: int) -> Figure:
    """Actual values over the test split with the 1-step-ahead and H-step-ahead forecasts."""
    n = min(len(targets), 3)
    horizon = pred.shape[1]
    fig, axes = _new(2.6 * n + 0.8, nrows=n, sharex=True)
    start = max(0, int(origins[0]) - context)
    stop = int(origins[-1]) + horizon
    for i in range(n):
        ax = axes[i, 0]
        ax.axvspan(index[int(origins[0])], index[stop - 1], color=PARTS["test"], zorder=0)
        ax.plot(index[start:stop], actual[start:stop, i], color=INK, linewidth=1.2,
                label="actual")
        ax.plot(index[origins], pred[:, 0, i], color=MODEL, linewidth=1.2,
                label="forecast 1 step ahead")
        if horizon > 1:
            ax.plot(index[origins + horizon - 1], pred[:, -1, i], color=ACCENT, linewidth=1.2,
                    label=f"forecast {horizon} steps ahead")
        _style(ax, ylabel=text(targets[i]))
        _dates(ax)
        if i == 0:
            ax.legend(loc="upper left", ncols=3)
    return _finish(fig, "forecast", "Forecast vs actual over the test split",
                   "The shaded part is the test split, never seen by the search. Each forecast "
                   "is drawn at the time it forecasts.")


@_themed
def horizon_figure(steps: dict[str, np.ndarray], unit: str, caption: str = "") -> Figure:
    """Mean absolute error at each step of the horizon, model against baselines."""
    fig, axes = _new(3.3)
    ax = axes[0, 0]
    for i, (name, mae) in enumerate(steps.items()):
        x = np.arange(1, len(mae) + 1)
        if i == 0:
            ax.plot(x, mae, color=MODEL, marker="o", markersize=4, linewidth=2,
                    label=text(name))
        else:
            ax.plot(x, mae, color=CYCLE[(i + 1) % len(CYCLE)], linestyle="--", marker=".",
                    linewidth=1.1, label=text(name))
    _style(ax, xlabel=f"steps ahead ({unit})", ylabel="MAE (data units)")
    ax.set_ylim(bottom=0)
    if len(next(iter(steps.values()))) <= 24:
        ax.set_xticks(np.arange(1, len(next(iter(steps.values()))) + 1))
    ax.legend(loc="upper left")
    return _finish(fig, "horizon", "Test error by horizon step", caption)


@_themed
def residuals_figure(index: pd.DatetimeIndex, origins: np.ndarray, residuals: np.ndarray,
                     target: str) -> Figure:
    """Histogram of every test residual, and the 1-step-ahead residuals over time."""
    fig, axes = _new(3.2, ncols=2, width_ratios=(1, 2))
    left, right = axes[0, 0], axes[0, 1]
    flat = residuals.ravel()
    flat = flat[np.isfinite(flat)]
    left.hist(flat, bins=min(40, max(10, len(flat) // 10)), color=MODEL, alpha=0.85)
    left.axvline(0, color=INK, linewidth=1)
    left.axvline(float(np.mean(flat)), color=ACCENT, linestyle="--", linewidth=1.2,
                 label=f"mean {np.mean(flat):.3g}")
    left.legend(loc="upper left")
    _style(left, xlabel=f"actual − forecast ({text(target)})", ylabel="count")
    right.axhline(0, color=INK, linewidth=1)
    right.plot(index[origins], residuals[:, 0], color=MODEL, linewidth=1)
    _style(right, ylabel="1-step residual")
    _dates(right)
    return _finish(fig, "residuals", "Residuals on the test split")


@_themed
def lag_figure(labels: Sequence[str], shares: Sequence[float], lags: Sequence[Sequence[int]],
               lookback: int, unit: str) -> Figure:
    """Share of the prediction per lookback block, and where each block sits in the window."""
    fig, axes = _new(1.6 + 0.32 * len(labels), nrows=2, height_ratios=(len(labels) + 1, 1.6))
    top, strip = axes[0, 0], axes[1, 0]
    y = np.arange(len(labels))[::-1]
    colors = [CYCLE[i % len(CYCLE)] for i in range(len(labels))]
    top.barh(y, shares, color=colors, height=0.6)
    top.set_yticks(y, [text(s) for s in labels])
    for yi, s in zip(y, shares, strict=True):
        top.annotate(f"{s:.0%}", (s, yi), va="center", xytext=(3, 0),
                     textcoords="offset points", fontsize=8)
    top.set_xlim(0, max(max(shares, default=0), 1e-9) * 1.18)
    top.xaxis.set_major_formatter(_percent())
    _style(top, xlabel="share of the prediction (permutation importance)")
    top.grid(axis="y", visible=False)
    for i, block in enumerate(lags):
        for lag in block:
            strip.axvspan(lag - 0.5, lag + 0.5, color=colors[i], alpha=0.9, lw=0)
    strip.set_xlim(lookback + 0.5, 0.5)  # the most recent step on the right
    strip.set_yticks([])
    strip.xaxis.get_major_locator().set_params(integer=True)
    units = f"{unit}s" if " " not in unit else "steps"
    _style(strip, xlabel=f"{units} back from the forecast origin (the window is {lookback} "
                         "steps; most recent on the right)")
    strip.grid(False)
    strip.spines["left"].set_visible(False)
    return _finish(fig, "lags", "What the model looks at: blocks of the lookback window",
                   "Top: how much each block of the input window matters. Bottom: where each "
                   "block lies in the window, in the same colours.")


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


@_themed
def lengths_figure(parts: dict[str, np.ndarray]) -> Figure:
    """Histogram of the sequence lengths of each part."""
    fig, axes = _new(2.6, width=7.0)
    ax = axes[0, 0]
    lengths = [np.asarray(v) for v in parts.values() if len(v)]
    top = max(int(v.max()) for v in lengths) if lengths else 1
    bins = np.linspace(0, top + 1, min(40, top + 2))
    colors = {"train": MODEL, "validation": ACCENT, "test": GOOD}
    for name, values in parts.items():
        if len(values):
            ax.hist(values, bins=bins, histtype="step", linewidth=1.4, label=text(name),
                    color=colors.get(name))
    _style(ax, xlabel="steps", ylabel="sequences")
    ax.legend(loc="upper right")
    return _finish(fig, "lengths", "Sequence lengths")


@_themed
def confusion_figure(matrix: np.ndarray, classes: Sequence[str]) -> Figure:
    """Test confusion matrix: counts, shaded by the share of each true class."""
    n = len(classes)
    size = min(7.0, 2.2 + 0.55 * n)
    fig, axes = _new(size * 0.85, width=size)
    ax = axes[0, 0]
    totals = np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    ax.imshow(matrix / totals, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            share = matrix[i, j] / totals[i, 0]
            ax.text(j, i, f"{int(matrix[i, j])}", ha="center", va="center", fontsize=8,
                    color="white" if share > 0.6 else INK)
    labels = [text(c) for c in classes]
    ax.set_xticks(np.arange(n), labels, rotation=45 if n > 6 else 0)
    ax.set_yticks(np.arange(n), labels)
    ax.grid(False)
    _style(ax, xlabel="predicted class", ylabel="true class")
    return _finish(fig, "confusion", "Confusion matrix on the test sequences",
                   "Rows: true class; columns: predicted class; shading: share of the row.")


@_themed
def scatter_figure(truth: np.ndarray, pred: np.ndarray, target: str) -> Figure:
    """Predicted against actual values, with the diagonal."""
    fig, axes = _new(4.2, width=4.8)
    ax = axes[0, 0]
    ax.scatter(truth, pred, s=10, color=MODEL, alpha=0.7, linewidths=0)
    lo, hi = float(np.min([truth.min(), pred.min()])), float(np.max([truth.max(), pred.max()]))
    ax.plot([lo, hi], [lo, hi], color=MUTED, linestyle="--", linewidth=1)
    _style(ax, xlabel=f"actual {text(target)}", ylabel=f"predicted {text(target)}")
    return _finish(fig, "predicted", "Predicted against actual (test sequences)")
