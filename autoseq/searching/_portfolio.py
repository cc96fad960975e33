"""Starting points: forecasting configurations a search tries first, before its sampler draws.

With a budget of a handful of trials (20 minutes on 2 CPU cores), a sampler's random start-up
trials rarely reach the configurations a forecaster would try first. These are those
configurations, from forecasting practice rather than tuned on any data set: a small GRU that
corrects the seasonal profile plus the recent level, the MSTL decomposition refitted every day
(the network learns what the seasonal model leaves) trained on MAE; a small GRU correcting
MSTL + AutoARIMA (fitted on the training rows, its coefficients then fixed: the ES-RNN idea with
the model that wins on trending series); a small GRU correcting seasonal naive plus the level's
change over the last season (for trending series, which the
recent level lags); the same with the profile fitted once and the seasonal-naive forecast, the
same with calendar features and the encoder–decoder head, and an LSTM correcting the last
value. All use the known-future covariates where the data have some (and a panel's static
columns where it has some); none reads a panel's covariates' past (``past``: on the bike-share
panel the starting points scored 4-7% worse on validation with it), which the sampler tries.
Each is cut to the search space: a parameter the space lacks is dropped, and a value the space
does not allow is left for the sampler to draw — except the method itself (``anchor``,
``transform``): a start whose method the space excludes is skipped.

Example:
    >>> starting_points(load_search_space("default"))[0]["transform"]
    'rolling_mstl'
"""

from __future__ import annotations

from typing import Any

from autoseq.space import Bool, Choice, Fixed, Float, Int, SearchSpace

STARTS: tuple[dict[str, Any], ...] = (
    # where the space offers it (a panel's does): a GRU correcting the linear autoregression
    {"cell": "gru", "depth": 1, "units": 32, "bidirectional": False, "dropout": 0.0,
     "recurrent_dropout": 0.0, "clipping": "none", "learning_rate": 3e-3,
     "lookback": "4x horizon", "batch_size": 32, "anchor": "linear", "transform": "none",
     "scaler": "standard", "calendar": False, "head": "dense", "loss": "mae", "future": True,
     "static": True, "past": False},
    {"cell": "gru", "depth": 1, "units": 32, "bidirectional": False, "dropout": 0.0,
     "recurrent_dropout": 0.0, "clipping": "none", "learning_rate": 3e-3,
     "lookback": "2x horizon", "batch_size": 32, "anchor": "mean", "transform": "rolling_mstl",
     "scaler": "standard", "calendar": False, "head": "dense", "loss": "mae", "future": True,
     "static": True, "past": False},
    # a GRU correcting MSTL + AutoARIMA (fitted on the training rows, coefficients fixed)
    {"cell": "gru", "depth": 1, "units": 32, "bidirectional": False, "dropout": 0.0,
     "recurrent_dropout": 0.0, "clipping": "none", "learning_rate": 3e-3,
     "lookback": "2x horizon", "batch_size": 32, "anchor": "arima", "transform": "mstl",
     "scaler": "standard", "calendar": False, "head": "dense", "loss": "mae", "future": True,
     "static": True, "past": False},
    {"cell": "gru", "depth": 1, "units": 32, "bidirectional": False, "dropout": 0.0,
     "recurrent_dropout": 0.0, "clipping": "none", "learning_rate": 3e-3,
     "lookback": "2x season", "batch_size": 32, "anchor": "seasonal_drift", "transform": "none",
     "scaler": "standard", "calendar": False, "head": "dense", "loss": "mae", "future": True,
     "static": True, "past": False},
    {"cell": "gru", "depth": 1, "units": 32, "bidirectional": False, "dropout": 0.0,
     "recurrent_dropout": 0.0, "clipping": "none", "learning_rate": 3e-3,
     "lookback": "2x horizon", "batch_size": 32, "anchor": "seasonal", "transform": "mstl",
     "scaler": "standard", "calendar": False, "head": "dense", "loss": "mae", "future": True,
     "static": True, "past": False},
    {"cell": "gru", "depth": 1, "units": 32, "bidirectional": False, "dropout": 0.0,
     "recurrent_dropout": 0.0, "clipping": "none", "learning_rate": 3e-3,
     "lookback": "2x horizon", "batch_size": 32, "anchor": "seasonal", "transform": "mstl",
     "scaler": "standard", "calendar": True, "head": "seq2seq", "future": True,
     "static": True, "past": False},
    {"cell": "lstm", "depth": 1, "units": 32, "bidirectional": False, "dropout": 0.0,
     "recurrent_dropout": 0.0, "clipping": "none", "learning_rate": 1e-3,
     "lookback": "1x season", "batch_size": 32, "anchor": "last", "transform": "mstl",
     "scaler": "robust", "calendar": True, "head": "dense", "future": True,
     "static": True, "past": False},
)


_METHOD = ("anchor", "transform")


def starting_points(space: SearchSpace) -> list[dict[str, Any]]:
    """The ``STARTS`` that the space's builder understands, cut to what the space allows."""
    if space.builder != "rnn":
        return []
    out = []
    for start in STARTS:
        if any(p.name in _METHOD and p.name in start and not _allows(p, start[p.name])
               for p in space.parameters):
            continue
        point: dict[str, Any] = {}
        for p in space.parameters:
            if p.name in start and p.active(point | start) and _allows(p, start[p.name]):
                if not isinstance(p, Fixed):
                    point[p.name] = start[p.name]
        if point and point not in out:
            out.append(point)
    return out


def _allows(p, value: Any) -> bool:
    if isinstance(p, Fixed):
        return p.value == value
    if isinstance(p, Bool):
        return isinstance(value, bool)
    if isinstance(p, Choice):
        return value in p.values
    if isinstance(p, Int | Float):
        return (not isinstance(value, bool) and isinstance(value, int | float)
                and p.low <= value <= p.high)
    return False
