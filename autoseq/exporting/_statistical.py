"""The statistical models alone as export candidates: MSTL (fitted on the training rows, the
``mstl`` transform) followed by the ``ets`` or ``arima`` anchor, fixed (``autoseq.data._holt``,
``autoseq.data._arima_anchor``), with no network correction — a trial-shaped model whose head
is left at its zero start, so it serves exactly the fixed statistical forecast from the raw
window. ``export`` scores them on validation beside the trials and in-graph baselines and may
serve one alone or blended with the networks; its refit refits them on train + validation.
"""

from __future__ import annotations

import re
from typing import Any

from autoseq.data import ForecastData
from autoseq.exporting._forecast_wrap import extra_inputs, window_length, wrap_forecaster

CANDIDATES = (("ets", "4x season"), ("arima", "2x horizon"))
"""(anchor, lookback) of each candidate: damped-trend smoothing over four seasons and AutoARIMA
over two horizons (on four trending weekly series at H=52 these matched or beat MSTL + AutoETS /
AutoARIMA refitted at every origin: ``benchmarks/RESULTS.md``)."""
_NAME = re.compile(r"^mstl_(ets|arima)_fixed\(L=(\d+)\)$")


def statistical_names(fdata: ForecastData) -> list[str]:
    """The candidates' names for ``fdata`` (none without a season or with several targets):
    ``mstl_ets_fixed(L=…)``, ``mstl_arima_fixed(L=…)``."""
    from autoseq.model._builder import resolve_config

    if fdata.main_season < 2 or fdata.n_targets != 1:
        return []
    names = []
    for anchor, lookback in CANDIDATES:
        cfg = resolve_config({"lookback": lookback}, builder="rnn", horizon=fdata.horizon,
                             season=fdata.main_season, max_lookback=fdata.max_lookback)
        names.append(f"mstl_{anchor}_fixed(L={int(cfg['lookback'])})")
    return list(dict.fromkeys(names))


def is_statistical(name: str | None) -> bool:
    """Whether ``name`` is one of these candidates."""
    return bool(name) and _NAME.match(name) is not None


def statistical_forecaster(fdata: ForecastData, name: str
                           ) -> tuple[Any, int, tuple[str, ...], dict[str, Any]]:
    """The candidate ``name`` fitted on ``fdata``'s training rows, as a raw-in, raw-out Keras
    model: ``(model, window rows, inputs beside the window, configuration)``."""
    from autoseq.model._builder import build_model, forecast_context, resolve_config

    anchor, lookback = _NAME.match(name).groups()
    cfg = resolve_config({"cell": "gru", "units": 1, "anchor": anchor, "transform": "mstl",
                          "lookback": int(lookback)}, builder="rnn", horizon=fdata.horizon,
                         season=fdata.main_season, max_lookback=fdata.max_lookback)
    import keras

    model = build_model(cfg, forecast_context(fdata, cfg))  # its correction starts at zero
    raw = wrap_forecaster(model, fdata, cfg)
    return (keras.Model(raw.input, raw.output, name=f"statistical_{anchor}"),
            window_length(fdata, cfg), extra_inputs(fdata, cfg), cfg)


__all__ = ["CANDIDATES", "is_statistical", "statistical_forecaster", "statistical_names"]
