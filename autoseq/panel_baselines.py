"""Baselines and scores over a panel: M4's benchmarks on the same windows as the trials.

Naive, seasonal naive (the frequency's main season; naive where a window's history is shorter),
Naive2 (M4's), ``linear`` (one linear autoregression over every series' normalised training
windows, ``autoseq.data._panel_linear``), and per-series statistical models from ``statsforecast`` (AutoETS, AutoTheta; MSTL
with AutoETS when the frequency has two seasons and the series are long enough), all scored with
M4's sMAPE, MASE and OWA against Naive2. A panel search ranks on OWA by default (``--metric
smape`` or ``mase`` for those): scale-free, so every series weighs the same.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from pathlib import Path

import numpy as np

from autoseq._io import write_npz_atomic
from autoseq.baselines import BaselineScore
from autoseq.data._panel_data import PanelData
from autoseq.data._panel_linear import linear_forecasts
from autoseq.panel_metrics import naive2, owa, panel_scores

logger = logging.getLogger("autoseq")

PANEL_OBJECTIVES = {"mse": "owa", "owa": "owa", "smape": "smape", "mase": "mase"}
STAT_MAX_SERIES = 20_000
# Fitted once per window, the statistical models would take minutes on a long validation or
# test part (a 2-series hourly panel with ``--val-size 480``: 866 windows, 311 s): at most
# STAT_WINDOWS_PER_SERIES windows of a series are fitted (evenly spaced, its first and last
# included, as one series scores them on 24 origins), fewer where the panel has many series
# (about STAT_MAX_WINDOWS in all, but always one per series); they are scored on those
# windows (``thinned``), and the leaderboard's names say "k of N windows".
STAT_WINDOWS_PER_SERIES = 24
STAT_MAX_WINDOWS = 1_000
# The statistical models fit the last steps of each history: AutoETS and AutoTheta on 359 M4
# weekly series took 290 s on their whole histories (up to 2,597 steps), 25 s on the last 300.
STAT_HISTORY = 300
# MSTL + AutoETS fits the last 4 cycles of the longest season (hourly: 672 steps, 4 weeks).
MSTL_CYCLES = 4


def histories(data: PanelData, part: str):
    """``(series, position)`` of ``part``'s windows and each window's history (its steps
    before ``position``)."""
    series, position = data.origins(part)
    panel = data.panel
    return series, position, [panel.series(s)[:p] for s, p in zip(series, position, strict=True)]


def truth(data: PanelData, part: str) -> np.ndarray:
    """The actual values of ``part``'s windows ``[W, horizon]``."""
    series, position = data.origins(part)
    return data.windows(series, position, 1)[1].astype("float64")


def naive2_forecasts(data: PanelData, part: str) -> np.ndarray:
    _, _, hist = histories(data, part)
    return np.stack([naive2(h, data.horizon, data.m4_season) for h in hist])


def simple_forecasts(data: PanelData, part: str) -> dict[str, np.ndarray]:
    """Naive, seasonal naive, Naive2 and the ``linear`` baseline's forecasts of ``part``'s
    windows ``[W, horizon]`` (computed once per part: export and the report ask again)."""
    if ("simple", part) not in data.memo:
        series, position, hist = histories(data, part)
        h = data.horizon
        out = {"naive": np.stack([np.repeat(x[-1], h) for x in hist])}
        m = data.main_season
        if m > 1:
            out[f"seasonal_naive(m={m})"] = np.stack([
                x[len(x) - m + np.arange(h) % m] if len(x) >= m else np.repeat(x[-1], h)
                for x in hist])
        out["naive2"] = naive2_forecasts(data, part)
        fit = data.linear_fit()
        if fit is not None:
            out[fit.name] = linear_forecasts(data, fit, series, position)
        data.memo["simple", part] = out
    return dict(data.memo["simple", part])  # a copy: callers add their own forecasts


def seasonal_naive_helps(data: PanelData) -> bool:
    """Whether seasonal naive beats naive on the validation windows (M4's OWA): where it does
    not (M4 weekly: OWA 2.5 against 1.0), a network correcting seasonal naive starts from a
    worse forecast than one correcting the last value."""
    if "seasonal_naive_helps" not in data.memo:
        forecasts = simple_forecasts(data, "val")
        seasonal = [k for k in forecasts if k.startswith("seasonal_naive")]
        data.memo["seasonal_naive_helps"] = bool(seasonal) and (
            score(data, "val", forecasts[seasonal[0]])["owa"]
            < score(data, "val", forecasts["naive"])["owa"])
    return data.memo["seasonal_naive_helps"]


STAT_CACHE = "panel_stat_{part}.npz"
"""Where ``stat_forecasts`` keeps a part's forecasts in a run folder (``PanelData.cache_dir``)."""


def stat_forecasts(data: PanelData, part: str) -> dict[str, np.ndarray]:
    """AutoETS and AutoTheta (``statsforecast``, M4's season) per window of ``part``, and MSTL +
    AutoETS on the frequency's seasons where it has two or more (hourly: 24 and 168) that every
    history holds twice; empty when statsforecast is missing or there are over
    ``STAT_MAX_SERIES`` series. Only ``stat_windows`` are fitted (the others' rows are NaN):
    score them on the windows ``thinned`` gives.

    Computed once per part: kept in memory, and in ``data.cache_dir`` (a run folder, when the
    data know it) so the report and export after a search do not fit them again (one refit per
    window: minutes on long validation and test parts)."""
    if ("stat", part) not in data.memo:
        data.memo["stat", part] = _stored(data, part)
    return dict(data.memo["stat", part])


def _stored(data: PanelData, part: str) -> dict[str, np.ndarray]:
    """``_stat_forecasts`` read from ``data.cache_dir`` when it holds them for these windows
    (same file, horizon, split, fitting settings and statsforecast version), else computed
    and written there (not when there are none: statsforecast missing, too many windows). An
    unreadable file is fitted again."""
    if data.cache_dir is None:
        return _stat_forecasts(data, part)
    path = Path(data.cache_dir) / STAT_CACHE.format(part=part)
    series, position = data.origins(part)
    key = hashlib.sha256(
        f"{data.fingerprint}:{data.horizon}:{STAT_HISTORY}:{MSTL_CYCLES}:{STAT_MAX_SERIES}:"
        f"{STAT_WINDOWS_PER_SERIES}:{STAT_MAX_WINDOWS}:{_statsforecast_version()}:".encode()
        + series.tobytes() + position.tobytes()
    ).hexdigest()
    try:
        with np.load(path) as stored:
            if str(stored["key"]) == key:
                return {k: stored[k] for k in stored.files if k != "key"}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        pass  # none yet, or unreadable: fit again
    out = _stat_forecasts(data, part)
    if out:
        write_npz_atomic(path, {"key": np.array(key), **out})
    return out


def _statsforecast_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("statsforecast")
    except PackageNotFoundError:
        return "none"


def stat_windows(data: PanelData, part: str) -> np.ndarray:
    """The indices of ``part``'s windows the statistical models are fitted on: a series' every
    window up to ``STAT_WINDOWS_PER_SERIES`` (fewer when the panel has many series, so about
    ``STAT_MAX_WINDOWS`` in all, never under one per series), else that many evenly spaced,
    its first and last included.

    Example:
        >>> stat_windows(data, "val")  # 2 series of 433 validation windows each
        array([  0,  19,  38, ..., 827, 846, 865])
    """
    series, _ = data.origins(part)
    counts = np.bincount(series, minlength=data.n_series)
    per = max(1, min(STAT_WINDOWS_PER_SERIES, STAT_MAX_WINDOWS // max(1, int((counts > 0).sum()))))
    starts = np.r_[0, np.cumsum(counts)[:-1]]  # a series' windows are consecutive
    return np.concatenate([
        start + np.unique(np.round(np.linspace(0, n - 1, min(n, per))).astype("int64"))
        for start, n in zip(starts, counts, strict=True) if n > 0] or [np.zeros(0, "int64")])


def thinned(data: PanelData, part: str) -> tuple[np.ndarray, str] | None:
    """``(stat_windows, "48 of 866 windows")`` when ``part``'s statistical models are fitted on
    a subset of its windows (score them there), else ``None`` (every window)."""
    pick, total = stat_windows(data, part), len(data.origins(part)[0])
    return (pick, f"{len(pick)} of {total} windows") if len(pick) < total else None


def subset_name(name: str, label: str | None) -> str:
    """``autoets(48 of 866 windows)``, ``mstl_ets(m=24,168; 48 of 866 windows)``: a baseline's
    name with ``thinned``'s label (unchanged for ``None``)."""
    if label is None:
        return name
    return f"{name[:-1]}; {label})" if name.endswith(")") else f"{name}({label})"


def _stat_forecasts(data: PanelData, part: str) -> dict[str, np.ndarray]:
    _, _, hist = histories(data, part)
    pick = stat_windows(data, part)
    if len(pick) > STAT_MAX_SERIES:
        return {}
    fitted = _fit_stat([hist[i] for i in pick], data)
    if len(pick) == len(hist):
        return fitted
    out = {}
    for name, values in fitted.items():  # each fitted window in its place, the others NaN
        out[name] = np.full((len(hist), data.horizon), np.nan)
        out[name][pick] = values
    return out


def _fit_stat(hist: list[np.ndarray], data: PanelData) -> dict[str, np.ndarray]:
    """AutoETS, AutoTheta (and MSTL + AutoETS) fitted to each history ``[len(hist), H]``."""
    try:
        from statsforecast.models import AutoETS, AutoTheta
    except ImportError:
        logger.info("statsforecast is not installed: no statistical baselines")
        return {}
    m = data.m4_season
    out = _forecast_each([x[-max(STAT_HISTORY, 10 * m):] for x in hist], data.horizon,
                         [AutoETS(season_length=m, alias="autoets"),
                          AutoTheta(season_length=m, alias="autotheta")])
    seasons = mstl_seasons(data, hist)
    if seasons:
        from statsforecast.models import MSTL

        name = f"mstl_ets(m={','.join(str(s) for s in seasons)})"
        out |= _forecast_each([x[-MSTL_CYCLES * seasons[-1]:] for x in hist], data.horizon, [
            MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ZZN"), alias=name)])
    return out


def mstl_seasons(data: PanelData, hist: list[np.ndarray]) -> list[int]:
    """The frequency's seasons that MSTL decomposes: those every history holds twice (within
    its last ``MSTL_CYCLES`` cycles of the longest season); empty unless two or more."""
    seasons = [s for s in data.seasons if s > 1]
    if len(seasons) < 2:
        return []
    shortest = min(min(len(x) for x in hist), MSTL_CYCLES * seasons[-1])
    usable = [s for s in seasons if 2 * s < shortest]
    return usable if len(usable) >= 2 else []


def _forecast_each(hist: list[np.ndarray], horizon: int, models: list) -> dict[str, np.ndarray]:
    """``statsforecast`` ``models`` fitted to each history in one process, by their alias."""
    import pandas as pd
    from statsforecast import StatsForecast

    lengths = np.array([len(x) for x in hist])
    frame = pd.DataFrame({"unique_id": np.repeat(np.arange(len(hist)), lengths),
                          "ds": np.concatenate([np.arange(n) for n in lengths]),
                          "y": np.concatenate(hist)})
    fc = StatsForecast(models=models, freq=1, n_jobs=1).forecast(df=frame, h=horizon)
    fc = fc.sort_values(["unique_id", "ds"])
    return {m.alias: fc[m.alias].to_numpy("float64").reshape(len(hist), horizon)
            for m in models}


def score(data: PanelData, part: str, pred: np.ndarray, *, reference: dict | None = None,
          windows: np.ndarray | None = None) -> dict[str, float]:
    """M4 scores of forecasts ``[W, horizon]`` (series units) of ``part``'s windows: mean over
    series of sMAPE, MASE, MAE and RMSE, and OWA against Naive2 (``reference``: Naive2's
    per-series scores, computed when not given). sMAPE, like OWA, leaves out the series whose
    MASE is undefined (a constant history). With ``windows`` (``thinned``), only those windows
    are scored, Naive2 on the same ones."""
    mine = per_series(data, part, pred, windows)
    if windows is not None:
        reference = per_series(data, part, simple_forecasts(data, part)["naive2"], windows)
    elif reference is None:
        if ("naive2", part) not in data.memo:
            data.memo["naive2", part] = per_series(data, part, naive2_forecasts(data, part))
        reference = data.memo["naive2", part]
    ref = reference
    out = {k: float(np.nanmean(mine[k])) for k in ("mase", "mae", "rmse")}
    defined = np.isfinite(mine["mase"])  # as in OWA: a constant series' sMAPE is left out
    out["smape"] = float(np.nanmean(mine["smape"][defined] if defined.any() else mine["smape"]))
    out["owa"] = owa(mine["smape"], mine["mase"], ref["smape"], ref["mase"])
    return out


def per_series(data: PanelData, part: str, pred: np.ndarray,
               windows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-series scores (``panel_scores``) of forecasts of ``part``'s windows (of those in
    ``windows`` only, when given)."""
    series, _ = data.origins(part)
    actual = truth(data, part)
    if windows is not None:
        series, actual, pred = series[windows], actual[windows], pred[windows]
    return panel_scores(pred, actual, series, data.mase_scales(part), data.n_series)


def score_panel_baselines(data: PanelData, part: str = "val", *, metric: str = "mse",
                          stat: bool = True) -> list[BaselineScore]:
    """Every panel baseline scored on ``part``, ranked on ``metric``'s objective; best first."""
    forecasts = simple_forecasts(data, part)
    fitted = stat_forecasts(data, part) if stat else {}
    pick, label = (fitted and thinned(data, part)) or (None, None)
    ref = per_series(data, part, forecasts["naive2"])
    key = PANEL_OBJECTIVES[metric]
    out = []
    for name, pred in (forecasts | fitted).items():
        windows = pick if name in fitted else None
        s = score(data, part, pred, reference=ref, windows=windows)
        name = subset_name(name, label) if name in fitted else name
        out.append(BaselineScore(name=name, loss=s[key], mae=s["mae"], rmse=s["rmse"],
                                 metrics={f"{part}_{k}": s[k] for k in ("smape", "mase", "owa")}))
    return sorted(out, key=lambda b: b.loss)


__all__ = ["PANEL_OBJECTIVES", "histories", "mstl_seasons", "naive2_forecasts", "per_series",
           "score", "score_panel_baselines", "seasonal_naive_helps", "simple_forecasts",
           "stat_forecasts", "stat_windows", "subset_name", "thinned", "truth"]
