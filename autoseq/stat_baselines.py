"""Statistical baselines from ``statsforecast``: MSTL (inferred seasons) + AutoETS / AutoARIMA.

Refitting an MSTL model at every forecast origin costs about two seconds per origin on a few
thousand points (the multi-seasonal loess decomposition dominates), so a validation part of
hundreds of origins would take longer than the search. The scheme, chosen for a bounded cost:

* the model (decomposition settings and the trend model's parameters) is **fitted once**, on the
  history before the part's first origin — never on anything the part forecasts;
* at each scored origin the fitted model is applied as ``MSTL.forward`` does: the decomposition
  is redone on the history up to that origin (once, shared by the ETS and ARIMA trend models)
  and each trend model forecasts from its state there, with its parameters kept;
* at most ``max_origins`` origins are scored, evenly spaced over the part and always including its
  first and last; the baseline's name says how many, and the score is over those windows;
* fits and decompositions see at most the last ``history_cap`` rows (ten cycles of the longest
  season, at least 1000 rows): on a year of half-hourly data that is 3360 rows instead of up to
  17,000, and the MSTL tables of the last cycles barely move beyond that.

Example:
    >>> scores = score_stat_baselines(data, "val", max_origins=24)
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from autoseq._io import read_json, write_json_atomic
from autoseq.baselines import BaselineScore
from autoseq.data import ForecastData

logger = logging.getLogger("autoseq")

DEFAULT_MAX_ORIGINS = 24
STAT_MODELS = ("ets", "arima")
CACHE_FILE = "stat_baselines.json"


@dataclass(frozen=True)
class StatForecasts:
    """Forecasts of every statistical baseline on a subset of a part's origins (data units)."""

    origins: np.ndarray
    forecasts: dict[str, np.ndarray]
    total_origins: int
    seconds: float
    bands: dict[str, dict[float, tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    """statsforecast's own prediction intervals, ``{name: {level: (lo, hi)}}`` (``levels``)."""


def stat_origins(data: ForecastData, part: str, *, max_origins: int) -> np.ndarray:
    """At most ``max_origins`` of ``part``'s origins, evenly spaced, first and last included."""
    origins = data.origins(part)
    if max_origins <= 0 or len(origins) <= max_origins:
        return origins
    pick = np.unique(np.round(np.linspace(0, len(origins) - 1, max_origins)).astype("int64"))
    return origins[pick]


def usable_seasons(data: ForecastData, history: int) -> list[int]:
    """The inferred seasons that ``history`` rows hold at least twice (MSTL needs two cycles)."""
    return [m for m in data.seasons if m > 1 and 2 * m < history]


def history_cap(data: ForecastData) -> int:
    """Rows of history a statistical baseline is fitted and decomposed on, at most."""
    return max(1000, 10 * max([m for m in data.seasons if m > 1], default=1))


def stat_forecasts(data: ForecastData, part: str, *,
                   max_origins: int = DEFAULT_MAX_ORIGINS,
                   levels: tuple[float, ...] = ()) -> StatForecasts:
    """Forecast ``part``'s (subset of) windows with MSTL + AutoETS and MSTL + AutoARIMA (and
    their prediction intervals at ``levels`` %, the seasonal forecast added to both ends).

    Returns:
        ``StatForecasts`` whose arrays are ``[origins, horizon, n_targets]`` in the data's units.
    """
    start = time.perf_counter()
    origins = stat_origins(data, part, max_origins=max_origins)
    cap = history_cap(data)
    seasons = usable_seasons(data, min(int(origins[0]), cap))
    out: dict[str, np.ndarray] = {}
    per_target = [_forecast_target(data.raw[:, col], origins, data.horizon, seasons, cap=cap,
                                   levels=levels) for col in data.target_idx]
    bands: dict[str, dict[float, tuple[np.ndarray, np.ndarray]]] = {}
    for kind in STAT_MODELS:
        if all(p.get(kind) is not None for p in per_target):
            out[_name(kind, seasons)] = np.stack([p[kind][..., 0] for p in per_target], axis=-1)
            bands[_name(kind, seasons)] = {
                lv: tuple(np.stack([p[kind][..., 1 + 2 * i + e] for p in per_target], axis=-1)
                          for e in (0, 1)) for i, lv in enumerate(levels)}
    seconds = time.perf_counter() - start
    logger.info("statistical baselines on %d of %d %s origins in %.1f s", len(origins),
                len(data.origins(part)), part, seconds)
    return StatForecasts(origins=origins, forecasts=out, total_origins=len(data.origins(part)),
                         seconds=seconds, bands=bands)


def score_stat_baselines(data: ForecastData, part: str = "val", *,
                         max_origins: int = DEFAULT_MAX_ORIGINS,
                         metric: str = "mse") -> list[BaselineScore]:
    """Score the statistical baselines on ``part`` like ``score_baselines`` scores the naive ones.

    The names carry the number of windows scored when it is a subset, e.g.
    ``mstl_arima(m=48,336; 24 of 558 windows)``.
    """
    res = stat_forecasts(data, part, max_origins=max_origins)
    idx = res.origins[:, None] + np.arange(data.horizon)[None, :]
    truth = data.raw[:, data.target_idx][idx]
    from autoseq.metrics import objective_value

    scale = data.scaler.scale[data.target_idx]
    scores = []
    for name, pred in res.forecasts.items():
        err = pred - truth
        label = name if len(res.origins) == res.total_origins else (
            f"{name[:-1]}; {len(res.origins)} of {res.total_origins} windows)")
        loss = objective_value(pred, truth, metric=metric, scale=scale,
                               train=data.raw[: data.split.train][:, data.target_idx],
                               season=data.main_season)
        scores.append(BaselineScore(name=label, loss=loss,
                                    mae=float(np.mean(np.abs(err))),
                                    rmse=float(np.sqrt(np.mean(err ** 2)))))
    return sorted(scores, key=lambda s: s.loss)


def _name(kind: str, seasons: list[int]) -> str:
    if seasons:
        return f"mstl_{kind}(m={','.join(str(m) for m in seasons)})"
    return f"auto_{kind}(m=1)"


def _model(kind: str, seasons: list[int]):
    from statsforecast.models import MSTL, AutoARIMA, AutoETS

    # ZZN: the trend model sees a deseasonalised series; with no season it is plain AutoETS.
    trend = AutoETS(model="ZZN") if kind == "ets" else AutoARIMA()
    return MSTL(season_length=seasons, trend_forecaster=trend) if seasons else trend


def _forecast_target(y: np.ndarray, origins: np.ndarray, horizon: int,
                     seasons: list[int], *, cap: int, levels: tuple[float, ...] = ()
                     ) -> dict[str, np.ndarray | None]:
    """Every statistical model's forecasts ``[origins, horizon, 1 + 2·levels]`` from each origin
    for one target column: the mean, then each level's lower and upper end.

    The decomposition at an origin is shared by the trend models (it is most of the cost): this
    is what ``MSTL.forward`` does for each model, done once.
    """
    models: dict[str, object] = {}
    asked = [int(lv) if float(lv).is_integer() else float(lv) for lv in levels]  # their keys
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kind in STAT_MODELS:
            try:
                models[kind] = _model(kind, seasons).fit(y[max(0, origins[0] - cap):
                                                             origins[0]])
            except Exception as exc:  # noqa: BLE001 - a failed fit must not end the search
                logger.warning("statistical baseline %s could not be fitted (%s); it is left "
                               "out", _name(kind, seasons),
                               (str(exc) or type(exc).__name__).splitlines()[0])
        preds: dict[str, list[np.ndarray]] = {kind: [] for kind in models}
        for o in origins:
            past = y[max(0, o - cap):o]
            x_sa, seas = _decompose(past, seasons, horizon) if seasons else (past, 0.0)
            for kind, model in models.items():
                fitted = model.trend_forecaster if seasons else model
                res = fitted.forward(y=x_sa, h=horizon, level=asked or None)
                cols = [res["mean"]] + [res[f"{e}-{lv}"] for lv in asked for e in ("lo", "hi")]
                preds[kind].append(np.stack(cols, axis=-1) + np.asarray(seas)[..., None])
    return {kind: np.asarray(preds[kind], dtype="float64") if kind in preds else None
            for kind in STAT_MODELS}


def _decompose(y: np.ndarray, seasons: list[int], horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """MSTL of ``y``: the deseasonalised series and the seasonal forecast (each season's last
    cycle repeated), as ``MSTL.forward`` computes them."""
    from statsforecast.mstl import mstl

    parts = mstl(x=y.astype("float64"), period=list(seasons))
    x_sa = (parts["trend"] + parts["remainder"]).to_numpy()
    seas = np.zeros(horizon)
    for m in seasons:
        comp = parts[f"seasonal{m}" if len(seasons) > 1 else "seasonal"].to_numpy()
        seas += np.resize(comp[-m:], horizon) if m >= 1 else 0.0
    return x_sa, seas


def cached_stat_baselines(run_dir: Path, data: ForecastData, part: str, *,
                          max_origins: int, metric: str = "mse") -> list[BaselineScore]:
    """``score_stat_baselines`` kept in ``run_dir/stat_baselines.json`` so a resumed search
    does not pay for them again (the run folder already pins the data and settings)."""
    path = Path(run_dir) / CACHE_FILE
    key = f"{part}:{max_origins}:{metric}:train={data.split.train}"
    cache = read_json(path) if path.is_file() else {}
    if key in cache:
        return [BaselineScore(**row) for row in cache[key]]
    scores = score_stat_baselines(data, part, max_origins=max_origins, metric=metric)
    cache[key] = [asdict(s) for s in scores]
    write_json_atomic(path, cache)
    return scores


def stat_test_metrics(data: ForecastData, pred: np.ndarray, *, max_origins: int,
                      train: np.ndarray, season: int, levels: tuple[float, ...] = (),
                      quantiles: np.ndarray | None = None, taus: tuple[float, ...] = ()
                      ) -> dict:
    """The statistical baselines on the test windows, and the model on the same windows.

    Args:
        data: the run's data.
        pred: the model's forecasts for every test origin, ``[windows, horizon, targets]``, units.
        max_origins: at most this many test windows (evenly spaced; 0: all).
        train, season: MASE's in-sample scale (as ``forecast_metrics`` takes them).

        levels: also score statsforecast's intervals at these levels (%) and, given the
            model's ``quantiles [windows, H, targets, Q]`` at ``taus``, the model's on the same
            windows (``"intervals"``, as ``quantile_metrics`` without the quantile loss).

    Returns:
        ``{"windows", "of", "model", "baselines": {name: metrics}}`` (and ``"intervals":
        {name: {"levels": …}}`` with ``levels``).
    """
    from autoseq.interval_metrics import band_metrics, quantile_metrics, seasonal_scale
    from autoseq.metrics import forecast_metrics

    res = stat_forecasts(data, "test", max_origins=max_origins, levels=tuple(levels))
    pos = np.searchsorted(data.origins("test"), res.origins)
    idx = res.origins[:, None] + np.arange(data.horizon)[None, :]
    truth = data.raw[:, data.target_idx][idx]
    out = {"windows": int(len(res.origins)), "of": int(res.total_origins),
           "model": forecast_metrics(pred[pos], truth, train=train, season=season),
           "baselines": {name: forecast_metrics(p, truth, train=train, season=season)
                         for name, p in res.forecasts.items()}}
    if levels:
        scale = seasonal_scale(train, season)
        out["intervals"] = {name: {"levels": {f"{lv:g}": band_metrics(lo, hi, truth, lv,
                                                                      scale=scale)
                                              for lv, (lo, hi) in b.items()}}
                            for name, b in res.bands.items()}
        if quantiles is not None:
            model = quantile_metrics(quantiles[pos], truth, taus, levels, train=train,
                                     season=season)
            out["intervals"]["model"] = {"levels": model["levels"]}
    return out


class BackgroundBaselines:
    """Scores computed on a thread while the search trains: they never hold up the first trial.

    ``scores()`` is empty until they are ready (``wait=True`` waits for them); a failure is
    logged and leaves them out.

    Example:
        >>> stat = BackgroundBaselines(lambda: score_stat_baselines(data, "val"))
        >>> board_rows = naive + stat.scores()        # whatever is ready now
    """

    def __init__(self, compute: Callable[[], list[BaselineScore]]):
        self._scores: list[BaselineScore] = []
        self._done = threading.Event()

        def work() -> None:
            try:
                self._scores = list(compute())
            except Exception as exc:  # noqa: BLE001 - a baseline must never end the search
                logger.warning("statistical baselines failed (%s); they are left out",
                               (str(exc) or type(exc).__name__).splitlines()[0])
            finally:
                self._done.set()

        self._thread = threading.Thread(target=work, name="autoseq-stat-baselines",
                                        daemon=True)
        self._thread.start()

    def scores(self, *, wait: bool = False) -> list[BaselineScore]:
        if wait:
            self._done.wait()
        return self._scores if self._done.is_set() else []
