"""Resolved hyperparameters → compiled ``keras.Model``: the only place layers are made."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autoseq.exceptions import SearchSpaceError
from autoseq.space import Choice, Fixed, SearchSpace

CELLS = ("simple_rnn", "lstm", "gru")
RNN_DEFAULTS: dict[str, Any] = {
    "cell": "lstm",
    "depth": 1,
    "units": 32,
    "bidirectional": False,
    "dropout": 0.0,
    "recurrent_dropout": 0.0,
    "clipping": "none",
    "clipnorm": None,
    "clipvalue": None,
    "learning_rate": 1e-3,
    "lookback": "2x horizon",
    "batch_size": 32,
    "anchor": "none",
    "transform": "none",
    "scaler": "standard",
    "calendar": False,
    "future": False,
    "static": False,
    "past": False,
    "relative": False,
    "head": "dense",
    "loss": "mse",
    "pooling": "last",
    "class_weight": "none",
}
ANCHORS = ("none", "last", "seasonal", "mean", "drift", "seasonal_drift", "ets", "linear",
           "arima")
_FITTED_ANCHORS = ("ets", "linear", "arima")  # one matrix (and bias) fitted on the data
HEADS = ("dense", "seq2seq")
POOLINGS = ("last", "mean", "max")
HEAD_QUANTILES = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975)
"""The quantiles a ``loss: pinball`` network outputs (the median is its point forecast): the
ends of the 50, 80, 90 and 95 % intervals, so the usual levels need no interpolation."""
CLASS_WEIGHTS = ("none", "balanced")
# Values a parameter may take, checked when a space is loaded (see autoseq.data._variants).
_ALLOWED = {"cell": CELLS, "anchor": ANCHORS, "head": HEADS,
            "transform": ("none", "mstl", "rolling_mstl"),
            "scaler": ("standard", "robust", "minmax"), "loss": ("mse", "mae", "pinball"),
            "pooling": POOLINGS, "class_weight": CLASS_WEIGHTS}
# Parameters that only one kind of task uses: a default is left out of the other's configurations
# (a sequence model's loss follows its task: log loss, or MSE on the scaled target).
_FORECAST_ONLY = ("lookback", "anchor", "transform", "scaler", "calendar", "future", "head",
                  "loss", "relative", "past")
_SEQUENCE_ONLY = ("pooling", "class_weight")
# Parameters only a space that names them puts in a configuration (a panel's space gains
# ``static`` when its data have static columns, ``past`` when they have covariates): others'
# configurations stay as they were.
_WHEN_SEARCHED = ("static", "relative", "past")
_LOOKBACK = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*x\s*(horizon|season)\s*$")


@dataclass(frozen=True)
class ModelContext:
    """What a builder needs to know about the data, beside the configuration.

    ``task`` is ``forecast`` (windows ``[batch, lookback, n_inputs]`` → ``[batch, horizon,
    n_targets]``), ``classify`` (NaN-padded sequences ``[batch, time, n_inputs]`` → class
    probabilities ``[batch, n_classes]``) or ``regress`` (sequences → ``[batch, 1]``); for the
    sequence tasks ``lookback`` is the longest sequence. ``sequences`` says which of the two
    input shapes the network takes (windows, or NaN-padded sequences); ``n_classes`` > 0 means
    class probabilities out. ``task`` names the kind of run, for builders that want to know.
    ``n_future`` > 0: known-future covariates ``[batch, horizon, n_future]`` (input ``future``)
    that a configuration with ``future`` takes. ``static_center`` / ``static_scale``: a
    panel's static features (input ``static [batch, n_static]``, raw) and the constants a
    configuration with ``static`` standardises them with. ``future_center`` / ``future_scale``:
    the constants a network standardises its ``future`` input with (a panel's, which takes
    them raw; empty: the input comes scaled, as a single series' data scale it).
    ``n_past`` > 0: a panel's covariates before the origin ``[batch, past_steps, n_past]``
    (input ``past``, raw, standardised with ``past_center`` / ``past_scale``) that a
    configuration with ``past`` reads the last ``lookback`` rows of, beside its window.
    """

    lookback: int
    n_inputs: int
    horizon: int
    n_targets: int
    seed: int = 0
    season: int = 1
    unroll: bool = False
    calendar: tuple[dict, ...] = ()
    task: str = "forecast"
    n_classes: int = 0
    sequences: bool = False
    n_future: int = 0
    anchor_matrix: Any = field(default=None, compare=False)
    """``[horizon, lookback]``: the ``ets``, ``linear`` or ``arima`` anchor's weights on the
    window (a forecast's configuration with that anchor; ``autoseq.data._holt``,
    ``autoseq.data._linear``, ``autoseq.data._arima_anchor``)."""
    anchor_bias: Any = field(default=None, compare=False)
    """``[horizon]``: the ``arima`` anchor's constant (its drift), added to the matrix's product."""
    static_center: tuple[float, ...] = ()
    static_scale: tuple[float, ...] = ()
    future_center: tuple[float, ...] = ()
    future_scale: tuple[float, ...] = ()
    n_past: int = 0
    past_steps: int = 0
    past_center: tuple[float, ...] = ()
    past_scale: tuple[float, ...] = ()


BuilderFn = Callable[[dict[str, Any], ModelContext], Any]


@dataclass(frozen=True)
class _Builder:
    fn: BuilderFn
    defaults: dict[str, Any]
    strict: bool


_REGISTRY: dict[str, _Builder] = {}


def register_builder(name: str, fn: BuilderFn, *, defaults: dict[str, Any] | None = None,
                     strict: bool = False) -> None:
    """Register a model builder that a search space can name with ``builder: NAME``.

    ``fn(config, context)`` returns a Keras model mapping ``[batch, lookback, n_inputs]`` to
    ``[batch, horizon, n_targets]``. If it is not compiled, autoseq compiles it with Adam at
    ``config["learning_rate"]`` (with the configured clipping) and mean squared error.
    ``config`` always holds ``lookback`` and ``batch_size`` (resolved) and the ``defaults``.

    Args:
        name: the builder's name.
        fn: the builder function.
        defaults: values for parameters a space leaves out.
        strict: refuse spaces with parameters outside ``defaults``.

    Example:
        >>> def conv_gru(config, ctx):
        ...     import keras
        ...     x = keras.Input((ctx.lookback, ctx.n_inputs))
        ...     h = keras.layers.GRU(config["units"])(keras.layers.Conv1D(8, 3)(x))
        ...     y = keras.layers.Reshape((ctx.horizon, ctx.n_targets))(
        ...         keras.layers.Dense(ctx.horizon * ctx.n_targets)(h))
        ...     return keras.Model(x, y)
        >>> register_builder("conv_gru", conv_gru, defaults={"units": 16})
    """
    merged = {"learning_rate": 1e-3, "lookback": "2x horizon", "batch_size": 32,
              "clipping": "none", "clipnorm": None, "clipvalue": None} | dict(defaults or {})
    _REGISTRY[name] = _Builder(fn=fn, defaults=merged, strict=strict)


def get_builder(name: str) -> _Builder:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise SearchSpaceError(f"unknown builder '{name}'; registered: "
                               f"{', '.join(sorted(_REGISTRY))}") from None


def check_space(space: SearchSpace) -> None:
    """Check that ``space`` only holds parameters (and cells) its builder understands.

    Raises:
        SearchSpaceError: naming the space's file and the key at fault.
    """
    b = get_builder(space.builder)
    where = space.source
    for p in space.parameters:
        if b.strict and p.name not in b.defaults:
            raise SearchSpaceError(f"{where}: parameters.{p.name}: unknown parameter for builder "
                                   f"'{space.builder}'; known: {', '.join(b.defaults)}")
        values = p.values if isinstance(p, Choice) else (p.value,) if isinstance(p, Fixed) else ()
        if p.name in _ALLOWED:
            for v in values:
                if v not in _ALLOWED[p.name]:
                    raise SearchSpaceError(f"{where}: parameters.{p.name}: unknown {p.name} "
                                           f"{v!r}; choose from {', '.join(_ALLOWED[p.name])}")
        if p.name == "lookback":
            for v in values:
                if not (isinstance(v, int) and v >= 1) and not (isinstance(v, str)
                                                                and _LOOKBACK.match(v)):
                    raise SearchSpaceError(f"{where}: parameters.lookback: {v!r} is not a step "
                                           "count ≥ 1 or 'k x horizon' / 'k x season'")


def resolve_config(space_config: dict[str, Any], *, builder: str, horizon: int = 1,
                   season: int = 1, max_lookback: int = 1, sequences: bool = False
                   ) -> dict[str, Any]:
    """Fill defaults, resolve the lookback to steps and the clipping to optimizer arguments.

    Defaults that only the other kind of input uses (lookback, anchor, transforms… for
    ``sequences``; pooling and class weights for forecasting windows) are left out.
    """
    b = get_builder(builder)
    unused = _FORECAST_ONLY if sequences else _SEQUENCE_ONLY
    config = {k: v for k, v in b.defaults.items()
              if k not in unused and k not in _WHEN_SEARCHED} | dict(space_config)
    if not sequences:
        config["lookback"] = resolve_lookback(config["lookback"], horizon=horizon, season=season,
                                              max_lookback=max_lookback)
    clipping = config.get("clipping", "none")
    if clipping != "norm":
        config["clipnorm"] = None
    if clipping != "value":
        config["clipvalue"] = None
    if clipping == "norm" and config["clipnorm"] is None:
        config["clipnorm"] = 1.0
    if clipping == "value" and config["clipvalue"] is None:
        config["clipvalue"] = 0.5
    config["batch_size"] = int(config["batch_size"])
    if not sequences and config.get("loss") == "pinball":  # recorded, so a rebuilt trial has the same head
        config.setdefault("head_quantiles", list(HEAD_QUANTILES))
    if not sequences and config.get("future"):  # likewise (trials made before it have none)
        config.setdefault("future_response", True)
    return config


def check_quantile_space(space: SearchSpace, metric: str) -> None:
    """An interval objective (``--metric wql`` / ``msis``) scores every trial on its quantiles,
    so every trial of ``space`` must have a quantile head (``loss: pinball``).

    Raises:
        SearchSpaceError: the space can draw a point-only network.
    """
    loss = next((p for p in space.parameters if p.name == "loss"), None)
    values = (loss.values if isinstance(loss, Choice) else (loss.value,)
              if isinstance(loss, Fixed) else ())
    if space.builder != "rnn" or not values or set(values) != {"pinball"}:
        got = ", ".join(map(str, values)) or RNN_DEFAULTS["loss"] + " (the default)"
        raise SearchSpaceError(f"--metric {metric} ranks trials on their quantiles, so every "
                               "trial needs a quantile head: give the space 'loss: {type: "
                               f"choice, values: [pinball]}}' ({space.source} has loss {got})")


def head_quantiles(config: dict[str, Any]) -> tuple[float, ...]:
    """The quantiles a trial's network outputs (``()``: a point forecast only)."""
    if config.get("loss") != "pinball":
        return ()
    return tuple(float(t) for t in config.get("head_quantiles", HEAD_QUANTILES))


def forecast_context(data: Any, config: dict[str, Any], *, seed: int = 0) -> ModelContext:
    """The ``ModelContext`` of a ``ForecastData`` for a resolved ``config`` (its lookback)."""
    from autoseq.data._variants import calendar_dicts

    matrix = bias = None
    if config.get("anchor") == "ets":
        from autoseq.data._holt import holt_anchor

        matrix = holt_anchor(data, config)["matrix"]
    elif config.get("anchor") == "linear":
        from autoseq.data._linear_anchor import linear_anchor

        matrix = linear_anchor(data, config)["matrix"]
    elif config.get("anchor") == "arima":
        from autoseq.data._arima_anchor import arima_anchor

        fitted = arima_anchor(data, config)
        matrix, bias = fitted["matrix"], fitted["bias"]
    return ModelContext(lookback=int(config["lookback"]), n_inputs=data.n_inputs,
                        horizon=data.horizon, n_targets=data.n_targets, seed=seed,
                        season=data.main_season, calendar=calendar_dicts(data),
                        n_future=data.n_future, anchor_matrix=matrix, anchor_bias=bias)


def panel_context(data: Any, config: dict[str, Any], *, seed: int = 0) -> ModelContext:
    """The ``ModelContext`` of a ``PanelData`` for a resolved ``config``: one normalised target
    column in, its forecast out, anchored on the season ``config``'s lookback holds; the static
    features' and known-future covariates' standardisation when the panel has some; with
    ``anchor: linear``, the panel's linear autoregression over the lookback
    (``PanelData.linear_fit``)."""
    from autoseq.data._linear import naive_matrix

    center, scale = data.static_standardisation()
    future_center, future_scale = data.future_standardisation()
    past_center, past_scale = data.past_standardisation()
    lookback = int(config["lookback"])
    matrix = None
    if config.get("anchor") == "linear":  # no fit (too little history): the last value
        fit = data.linear_fit(lookback) if lookback > 1 else None
        matrix = fit.matrix if fit is not None else naive_matrix(data.horizon, lookback)
    return ModelContext(lookback=lookback, n_inputs=1, horizon=data.horizon,
                        n_targets=1, seed=seed, season=data.anchor_season(config),
                        static_center=center, static_scale=scale, anchor_matrix=matrix,
                        n_future=data.n_future, future_center=future_center,
                        future_scale=future_scale, n_past=data.n_past,
                        past_steps=data.past_steps, past_center=past_center,
                        past_scale=past_scale)


def sequence_context(data: Any, *, seed: int = 0) -> ModelContext:
    """The ``ModelContext`` of a ``SequenceData``: padded sequences in, classes or a value out."""
    return ModelContext(lookback=data.max_length, n_inputs=data.n_inputs, horizon=1, n_targets=1,
                        seed=seed, task=data.task, n_classes=data.n_classes, sequences=True)


def resolve_lookback(value: int | str, *, horizon: int, season: int, max_lookback: int) -> int:
    """``24`` → 24; ``"2x horizon"`` → 2·horizon; ``"1x season"`` → the main season; capped."""
    if isinstance(value, str):
        m = _LOOKBACK.match(value)
        if not m:
            raise SearchSpaceError(f"lookback {value!r} is not a step count or 'k x horizon' / "
                                   "'k x season'")
        base = horizon if m.group(2) == "horizon" else max(season, 1)
        steps = int(round(float(m.group(1)) * base))
    else:
        steps = int(value)
    return max(1, min(steps, max_lookback))


def cudnn_eligible(config: dict[str, Any]) -> bool:
    """Whether the recurrent layers can run on the fused cuDNN kernel on a GPU."""
    return config.get("cell") in ("lstm", "gru") and not config.get("recurrent_dropout")


def describe(config: dict[str, Any]) -> str:
    """A short human name: ``"2-layer bidirectional GRU, 64 units"``."""
    cell = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}.get(config.get("cell"),
                                                                        str(config.get("cell")))
    depth = int(config.get("depth", 1))
    bi = "bidirectional " if config.get("bidirectional") else ""
    extras = [e for e, on in (("seq2seq", config.get("head") == "seq2seq"),
                              ("quantiles", config.get("loss") == "pinball"),
                              ("calendar", bool(config.get("calendar"))),
                              ("future covariates", bool(config.get("future"))),
                              ("static columns", bool(config.get("static"))),
                              ("past covariates", bool(config.get("past"))),
                              ("relative", bool(config.get("relative"))),
                              ("mstl", config.get("transform") == "mstl"),
                              ("rolling mstl", config.get("transform") == "rolling_mstl")) if on]
    more = f" + {' + '.join(extras)}" if extras else ""
    pooled = f", {config['pooling']}-pooled" if config.get("pooling") in ("mean", "max") else ""
    return f"{depth}-layer {bi}{cell}, {config.get('units')} units{pooled}{more}"


def build_model(config: dict[str, Any], context: ModelContext, *, builder: str = "rnn",
                jit_compile: bool | None = None):
    """Build and compile the model for a resolved configuration.

    Args:
        config: the resolved configuration.
        context: what the builder needs to know about the data.
        builder: a registered builder's name.
        jit_compile: train, evaluate and predict through XLA-compiled steps (Keras
            ``jit_compile``); ``None`` keeps the model's own setting (Keras compiles on an
            accelerator, not on a CPU). Keras leaves it off when a layer does not support XLA
            or deterministic ops are on: ``model.jit_compile`` says whether it took.

    Returns:
        A compiled ``keras.Model`` from ``[batch, lookback, n_inputs]`` (scaled) to
        ``[batch, horizon, n_targets]`` (scaled) for forecasting; from NaN-padded scaled
        sequences to class probabilities or a scaled value for the sequence tasks.
    """
    model = get_builder(builder).fn(config, context)
    if not getattr(model, "compiled", False) or model.optimizer is None:
        if context.n_classes:
            model.compile(optimizer=make_optimizer(config),
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        else:
            model.compile(optimizer=make_optimizer(config), loss="mse", metrics=["mae"])
    if jit_compile is not None:
        with warnings.catch_warnings():  # "doesn't support jit_compile": model.jit_compile says
            warnings.simplefilter("ignore")
            model.jit_compile = bool(jit_compile)
    return model


def make_optimizer(config: dict[str, Any]):
    """Adam at the configured learning rate, carrying the configured gradient clipping."""
    import keras

    kwargs: dict[str, Any] = {"learning_rate": float(config["learning_rate"])}
    if config.get("clipnorm"):
        kwargs["clipnorm"] = float(config["clipnorm"])
    if config.get("clipvalue"):
        kwargs["clipvalue"] = float(config["clipvalue"])
    return keras.optimizers.Adam(**kwargs)


def _cell(config: dict[str, Any]):
    import keras

    return {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM,
            "gru": keras.layers.GRU}[config["cell"]]


def _recurrent(x, config: dict[str, Any], ctx: ModelContext, *, sequences: bool = False):
    """The stacked recurrent layers; the last returns every state (``sequences``) or the last."""
    import keras

    cell = _cell(config)
    depth = int(config["depth"])
    for i in range(depth):
        layer = cell(int(config["units"]), dropout=float(config["dropout"]),
                     recurrent_dropout=float(config["recurrent_dropout"]),
                     return_sequences=sequences or i < depth - 1, seed=ctx.seed + i,
                     unroll=ctx.unroll, name=f"rnn_{i}")
        if config["bidirectional"]:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{i}")
        x = layer(x)
    return x


def _rnn(config: dict[str, Any], ctx: ModelContext):
    import keras

    if ctx.sequences:
        return _sequence_rnn(config, ctx)
    cell = _cell(config)
    inputs = keras.Input((ctx.lookback, ctx.n_inputs), name="window")
    named, x, future, covariates = _known_future(inputs, config, ctx)
    if config.get("relative"):
        from autoseq.model.layers import RelativeToLast

        x = RelativeToLast(target_idx=list(range(ctx.n_targets)), name="relative")(x)
    static = _static(named, config, ctx)
    model_inputs = named if len(named) > 1 else inputs
    seq2seq = config.get("head", "dense") == "seq2seq"
    x = _recurrent(x, config, ctx)
    if static is not None:
        x = keras.layers.Concatenate(name="state_and_static")([x, static])
    anchor = config.get("anchor", "none")
    init = "zeros" if anchor != "none" else "glorot_uniform"
    taus = head_quantiles(config)
    per_step = ctx.n_targets * max(len(taus), 1)  # values the head gives per horizon step
    # The head and everything after it stay float32 under a mixed_float16 policy (--precision
    # mixed): the forecast and the loss keep full precision; the recurrent layers (and the
    # covariates' step response) are float16.
    if seq2seq:
        outputs = _decoder(x, future, config, ctx, cell, init, units=per_step)
    else:
        if future is not None:
            parts = [x, keras.layers.Flatten(name="future_flat")(future)]
            if covariates is not None and config.get("future_response"):
                parts.append(keras.layers.Flatten(name="future_response_flat")(
                    _step_response(covariates)))
            x = keras.layers.Concatenate(name="state_and_future")(parts)
        x = keras.layers.Dense(ctx.horizon * per_step, kernel_initializer=init,
                               name="head", dtype="float32")(x)
        outputs = keras.layers.Reshape((ctx.horizon, per_step), name="correction",
                                       dtype="float32")(x)
    base = None
    if anchor in _FITTED_ANCHORS:
        base = _linear_anchor(inputs, ctx, anchor)
    elif anchor != "none":
        from autoseq.model.layers import Anchor

        base = Anchor(mode=anchor, horizon=ctx.horizon, lookback=ctx.lookback, season=ctx.season,
                      target_idx=list(range(ctx.n_targets)), name="anchor",
                      dtype="float32")(inputs)
    if taus:
        return _quantile_model(model_inputs, outputs, base, config, ctx, taus)
    if base is not None:
        outputs = keras.layers.Add(name="forecast", dtype="float32")([base, outputs])
    model = keras.Model(model_inputs, outputs, name="autoseq_rnn")
    # The training loss is searched; the other one is tracked so every trial reports a val MSE.
    loss = config.get("loss", "mse")
    model.compile(optimizer=make_optimizer(config), loss=loss,
                  metrics=["mse" if loss == "mae" else "mae"])
    return model


_RESPONSE_UNITS = 8


def _step_response(covariates):
    """Each forecast step's known-future covariates through a small shared layer: a nonlinear
    response (``future_response`` in a configuration; recorded, so a trial made before it
    existed is rebuilt without it).

    The dense head is linear in what it reads; demand against temperature is U-shaped (heating
    below a threshold, cooling above it), riders against it rise then fall. The same ``tanh``
    layer at every step lets the head weigh such a response, step by step, beside the raw values.
    """
    import keras

    return keras.layers.Dense(_RESPONSE_UNITS, activation="tanh",
                              name="future_response")(covariates)


def _linear_anchor(window, ctx: ModelContext, anchor: str):
    """The ``ets``, ``linear`` or ``arima`` anchor's forecast of ``window`` (weights, and the
    arima anchor's constant, from the data, in ``ctx``)."""
    from autoseq.model.layers import LinearAnchor

    if ctx.anchor_matrix is None:
        raise SearchSpaceError(f"anchor {anchor} needs its weights fitted on the training "
                               "windows of a forecast (linear: of a series or a panel; ets, "
                               "arima: of a single series): use last, seasonal, drift or "
                               "seasonal_drift")
    bias = None if ctx.anchor_bias is None else [float(v) for v in ctx.anchor_bias]
    return LinearAnchor(matrix=ctx.anchor_matrix.tolist(), target_idx=list(range(ctx.n_targets)),
                        bias=bias, name="anchor", dtype="float32")(window)


def _quantile_model(inputs, outputs, base, config: dict[str, Any], ctx: ModelContext,
                    taus: tuple[float, ...]):
    """The quantile head: ``[batch, H, targets · Q]`` → monotone quantiles (plus the anchor),
    trained with the pinball loss; ``predict`` gives the median (``QuantileForecaster``)."""
    import keras

    from autoseq.model.layers_intervals import (
        MonotoneQuantiles,
        QuantileForecaster,
        median_metrics,
        pinball_loss,
    )

    median = _median_index(taus)
    z = keras.layers.Reshape((ctx.horizon, ctx.n_targets, len(taus)), name="quantile_values",
                             dtype="float32")(outputs)
    q = MonotoneQuantiles(median=median, name="quantiles", dtype="float32")(z)
    if base is not None:
        base = keras.layers.Reshape((ctx.horizon, ctx.n_targets, 1), name="anchor_column",
                                    dtype="float32")(base)
        q = keras.layers.Add(name="forecast", dtype="float32")([base, q])
    model = QuantileForecaster(inputs, q, name="autoseq_rnn")
    model.median_index, model.taus = median, taus
    model.compile(optimizer=make_optimizer(config), loss=pinball_loss(list(taus)),
                  metrics=median_metrics(median))
    return model


def _median_index(taus: tuple[float, ...]) -> int:
    if 0.5 not in taus:
        raise SearchSpaceError(f"head_quantiles must include 0.5 (the point forecast). "
                               f"Received: {list(taus)}")
    return taus.index(0.5)


def _known_future(window, config: dict[str, Any], ctx: ModelContext):
    """The network's inputs by name, its window (with the calendar features of its steps when
    the configuration uses them) and what is known over the horizon: that step's calendar
    features and known-future covariates (``None`` when neither is used), and the covariates
    alone (``None`` when not used). A panel's configuration with ``past`` reads its
    covariates' last ``lookback`` rows beside the window (input ``past``)."""
    import keras

    inputs: dict[str, Any] = {"window": window}
    x, known, covariates = window, [], None
    if config.get("calendar") and ctx.calendar:
        from autoseq.model.layers_forecast import CalendarFeatures, ProfileSplit

        step = inputs["origin_step"] = keras.Input((), dtype="int32", name="origin_step")
        features = CalendarFeatures(cycles=list(ctx.calendar), lookback=ctx.lookback,
                                    horizon=ctx.horizon, name="calendar")(step)
        x = keras.layers.Concatenate(name="window_and_calendar")(
            [window, ProfileSplit(lookback=ctx.lookback, part="past",
                                  name="calendar_past")(features)])
        known.append(ProfileSplit(lookback=ctx.lookback, part="future",
                                  name="calendar_future")(features))
    if config.get("past") and ctx.n_past:
        x = keras.layers.Concatenate(name="window_and_past")([x, _past(inputs, ctx)])
    if config.get("future") and ctx.n_future:
        future = inputs.setdefault("future", keras.Input((ctx.horizon, ctx.n_future),
                                                         name="future"))
        if ctx.future_center:  # raw values in: standardised here
            future = _standardised(future, ctx.future_center, ctx.future_scale, "future_scale")
        known.append(future)
        covariates = future
    future = (None if not known else known[0] if len(known) == 1
              else keras.layers.Concatenate(name="known_future")(known))
    return inputs, x, future, covariates


def _past(inputs: dict[str, Any], ctx: ModelContext):
    """The last ``lookback`` rows of a panel's raw input ``past [batch, past_steps, n_past]``
    (added to ``inputs``), standardised by the constants of ``ctx``."""
    import keras

    from autoseq.model.layers_forecast import LastSteps

    past = inputs["past"] = keras.Input((ctx.past_steps, ctx.n_past), name="past")
    if ctx.past_steps > ctx.lookback:
        past = LastSteps(steps=ctx.lookback, name="past_last")(past)
    return _standardised(past, ctx.past_center, ctx.past_scale, "past_scale")


def _static(inputs: dict[str, Any], config: dict[str, Any], ctx: ModelContext):
    """A panel's static features standardised by the constants of ``ctx``, concatenated to the
    encoder's final state (``None`` when the configuration does not use them); adds the raw
    input ``static [batch, n_static]`` to ``inputs``."""
    import keras

    if not (config.get("static") and ctx.static_center):
        return None
    static = inputs["static"] = keras.Input((len(ctx.static_center),), name="static")
    return _standardised(static, ctx.static_center, ctx.static_scale, "static_scale")


def _standardised(x, center: tuple[float, ...], scale: tuple[float, ...], name: str):
    """``(x - center) / scale`` per feature of a raw input, in float32 whatever the precision
    policy (a raw value over 65504 is infinite in float16)."""
    import keras

    return keras.layers.Normalization(mean=list(center), variance=[s * s for s in scale],
                                      name=name, dtype="float32")(x)


def _sequence_rnn(config: dict[str, Any], ctx: ModelContext):
    """NaN-padded sequences → recurrent stack → last state or pooled states → softmax / linear."""
    import keras

    from autoseq.model.layers import MaskedPooling, PaddingMask

    inputs = keras.Input((None, ctx.n_inputs), name="sequences")
    x = PaddingMask(name="padding_mask")(inputs)
    pooling = config.get("pooling", "last")
    x = _recurrent(x, config, ctx, sequences=pooling != "last")
    if pooling != "last":
        x = MaskedPooling(mode=pooling, name="pooling")(x)
    if ctx.n_classes:
        outputs = keras.layers.Dense(ctx.n_classes, activation="softmax", name="head")(x)
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    else:
        outputs = keras.layers.Dense(1, name="head")(x)
        loss, metrics = "mse", ["mae"]
    model = keras.Model(inputs, outputs, name=f"autoseq_{ctx.task}")
    model.compile(optimizer=make_optimizer(config), loss=loss, metrics=metrics)
    return model


def _decoder(state, future, config: dict[str, Any], ctx: ModelContext, cell, init, *,
             units: int):
    """Encoder–decoder head: a recurrent decoder runs over the horizon, fed at each step with
    the encoder's summary and (when the trial uses them) that step's known calendar features
    and known-future covariates."""
    import keras

    x = keras.layers.RepeatVector(ctx.horizon, name="repeat_state")(state)
    if future is not None:
        x = keras.layers.Concatenate(name="decoder_inputs")([x, future])
    x = cell(int(config["units"]), return_sequences=True, seed=ctx.seed + 100,
             unroll=ctx.unroll, name="decoder")(x)
    return keras.layers.Dense(units, kernel_initializer=init, name="head", dtype="float32")(x)


register_builder("rnn", _rnn, defaults=RNN_DEFAULTS, strict=True)
