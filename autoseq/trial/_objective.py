"""One trial: suggest → build → fit → evaluate → ``TrialResult`` (with ``clear_session``)."""

from __future__ import annotations

import gc
import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from autoseq._interrupt import check as check_interrupt
from autoseq._io import write_json_atomic, write_with_atomic
from autoseq._tf import quiet_tensorflow_logger
from autoseq.data import ForecastData, SequenceData
from autoseq.data._variants import calendar_dicts, data_variant, uses_steps
from autoseq.exceptions import SearchError
from autoseq.metrics import objective_value
from autoseq.model._builder import (
    ModelContext,
    build_model,
    cudnn_eligible,
    resolve_for,
    sequence_context,
)
from autoseq.space import SearchSpace, Suggester

WEIGHTS = "model.weights.h5"
COMPILE_MODES = ("auto", "on", "off")


class Reporter(Protocol):
    """Receives the validation loss after each epoch; answers whether to prune the trial."""

    def report(self, value: float, epoch: int) -> bool: ...


@dataclass(frozen=True)
class TrialSettings:
    """Settings shared by every trial of a search."""

    max_epochs: int = 20
    patience: int = 5
    seed: int = 0
    builder: str = "rnn"
    eval_batch_size: int = 512
    metric: str = "mse"
    compile: str = "auto"


@dataclass
class TrialResult:
    """What a trial produced. ``state`` is ``complete``, ``pruned`` or ``failed``.

    ``metrics`` holds a sequence trial's validation metrics (``val_accuracy``, ``val_f1``,
    ``val_log_loss``; ``val_mae``, ``val_rmse``). ``compiled``: trained through XLA; a trial
    whose compiled training failed and that was trained again without says so in ``reason``.
    """

    state: str
    config: dict[str, Any]
    val_loss: float | None = None
    val_mae: float | None = None
    epochs: int = 0
    best_epoch: int | None = None
    seconds: float = 0.0
    params: int | None = None
    cudnn_eligible: bool = False
    compiled: bool = False
    reason: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)

    def attrs(self) -> dict[str, Any]:
        """JSON-ready attributes to store with the trial in the study."""
        d = asdict(self)
        d.pop("history")
        return d


def run_trial(suggester: Suggester, reporter: Reporter, *, number: int,
              data: ForecastData | SequenceData, space: SearchSpace, settings: TrialSettings,
              trial_dir: Path) -> TrialResult:
    """Train and evaluate one configuration drawn from ``space``.

    The best epoch's weights are written to ``trial_dir``. A non-finite loss or a build error
    gives a ``failed`` result with its reason instead of raising; ``KeyboardInterrupt`` propagates.
    ``settings.compile`` decides whether it trains through XLA (``compile_choice``); when that
    crashes, the trial is trained again without compiling and its reason says so.
    """
    import keras

    quiet_tensorflow_logger()
    keras.backend.clear_session(free_memory=False)  # the previous trial's _release collected
    known_gradients = _custom_gradients()
    seed = settings.seed * 1000 + number
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    config = resolve_for(space.sample(suggester), data, builder=space.builder)
    if data.task == "forecast":
        variant = data_variant(data, transform=config.get("transform", "none"),
                               scaler=config.get("scaler", "standard"))
        with_steps = uses_steps(config, data)
        ctx = ModelContext(lookback=config["lookback"], n_inputs=data.n_inputs,
                           horizon=data.horizon, n_targets=data.n_targets, seed=seed,
                           season=data.main_season, calendar=calendar_dicts(data))
        fit_and_score = partial(_fit_and_score, variant=variant, with_steps=with_steps)
    else:
        ctx = sequence_context(data, seed=seed)
        fit_and_score = _fit_and_score_sequences
    train = partial(_build_and_train, config=config, ctx=ctx, builder=space.builder,
                    fit_and_score=partial(fit_and_score, data=data, ctx=ctx, settings=settings,
                                          reporter=reporter, number=number,
                                          trial_dir=trial_dir))
    try:
        result, crashed = train(compile_choice(settings.compile, data, config,
                                               epochs=settings.max_epochs))
        if crashed and result.compiled:  # an XLA bug must not cost the configuration
            note = f"compiled training failed ({crashed}); trained without compiling"
            keras.backend.clear_session(free_memory=False)
            keras.utils.set_random_seed(seed)
            result, _ = train(False)
            result.reason = "; ".join(filter(None, [note, result.reason]))
    finally:
        _release(known_gradients)
    result.seconds = time.perf_counter() - start
    return result


def _build_and_train(jit_compile: bool | None, *, config: dict[str, Any], ctx: ModelContext,
                     builder: str, fit_and_score: Any) -> tuple[TrialResult, str | None]:
    """Build the model and train it; the result, and what crashed training (``None`` if nothing
    did). A non-finite loss or a build error gives a ``failed`` result with its reason."""
    result = TrialResult(state="failed", config=config, cudnn_eligible=cudnn_eligible(config))
    try:
        model = build_model(config, ctx, builder=builder, jit_compile=jit_compile)
    except Exception as exc:  # noqa: BLE001 - a configuration that cannot be built is a failed trial
        result.reason = f"model could not be built: {_first_line(exc)}"
        return result, None
    result.compiled = bool(model.jit_compile)
    try:
        fit_and_score(model, result)
    except Exception as exc:  # noqa: BLE001 - one trial's crash (OOM, a builder's bug) fails it
        result.state = "failed"
        crash = f"{type(exc).__name__}: {_first_line(exc)}"
        result.reason = f"training failed: {crash}"
        return result, crash
    return result, None


def check_compile(mode: str) -> str:
    """``mode`` if it is one of ``COMPILE_MODES``.

    Raises:
        SearchError: naming the value received.
    """
    if mode not in COMPILE_MODES:
        raise SearchError(f"--compile must be one of {', '.join(COMPILE_MODES)}. "
                          f"Received: {mode}")
    return mode


def compile_choice(mode: str, data: ForecastData | SequenceData, config: dict[str, Any], *,
                   epochs: int) -> bool | None:
    """Whether a trial trains through XLA: ``on`` / ``off``; ``auto`` compiles on a CPU when
    the training is long enough to repay the compile (``worth_compiling``) and leaves Keras's own
    choice (compile) on an accelerator. ``None``: Keras decides."""
    if mode != "auto":
        return mode == "on"
    if _accelerator():
        return None
    return worth_compiling(data, config, epochs=epochs)


def _accelerator() -> bool:
    import tensorflow as tf

    return any(d.device_type != "CPU" for d in tf.config.list_physical_devices())


# Compiling a trial's steps costs 1.5-3.5 s on 2 CPU cores (train, validation and the last
# batch's shapes); it saves about 0.1 ms per batch and lookback step (GRU/LSTM(32): 0.86 → 0.37
# s per epoch at lookback 96, 2.16 → 1.28 s at 336, 42 and 38 batches of 64 windows). Break-even
# is near 30,000 batch-steps; twice that leaves room for early stopping.
COMPILE_FROM_BATCH_STEPS = 60_000


def worth_compiling(data: ForecastData | SequenceData, config: dict[str, Any], *,
                    epochs: int) -> bool:
    """The ``auto`` rule on a CPU: compile when training runs at least
    ``COMPILE_FROM_BATCH_STEPS`` recurrent steps of batches (batches per epoch × lookback ×
    epochs). Variable-length sequences are not compiled: each padded length is a new program
    (BasicMotions cut to 30-98 steps: a GRU trial took 13.5 s compiled, 3.4 s not)."""
    if data.task == "forecast":
        lookback = int(config["lookback"])
        windows = len(data.origins("train", lookback))
    else:
        lengths = data.lengths
        if lengths.min() != lengths.max():
            return False
        lookback, windows = data.max_length, len(data.indices("train"))
    batches = -(-windows // int(config["batch_size"]))
    return batches * lookback * epochs >= COMPILE_FROM_BATCH_STEPS


_ONE_EVAL_BATCH_UP_TO = 8192  # validation windows scored in one batch by a compiled trial


def _fit_and_score(model: Any, result: TrialResult, *, data: ForecastData, ctx: ModelContext,
                   settings: TrialSettings, reporter: Reporter, number: int,
                   trial_dir: Path, variant: Any, with_steps: bool) -> None:
    """Train ``model``, fill ``result`` in place, write the best weights when it succeeded."""
    result.params = int(model.count_params())
    batch_size = result.config["batch_size"]
    eval_batch_size = settings.eval_batch_size
    if result.compiled:  # one shape per dataset, so one compiled program each
        windows = len(data.origins("val", ctx.lookback))
        eval_batch_size = windows if windows <= _ONE_EVAL_BATCH_UP_TO else eval_batch_size
    train = data.dataset("train", lookback=ctx.lookback, batch_size=batch_size,
                         shuffle=True, seed=ctx.seed, values=variant.values, with_steps=with_steps,
                         rolling=variant.rolling, drop_remainder=result.compiled)
    val = data.dataset("val", lookback=ctx.lookback, batch_size=eval_batch_size,
                       values=variant.values, with_steps=with_steps, rolling=variant.rolling)
    # Epoch losses are in the variant's scale; the pruner compares them in the common one.
    factor = float(np.mean((variant.scaler.scale[data.target_idx]
                            / data.scaler.scale[data.target_idx]) ** 2))
    monitor = _Monitor(_Rescaled(reporter, factor), patience=settings.patience)
    if not _fit(model, result, train, val, monitor, settings):
        return
    val_loss, val_mae = _val_scores(model, val, data=data, variant=variant, metric=settings.metric,
                                    logs=monitor.best_logs)
    if not math.isfinite(val_loss):
        result.reason = "validation predictions are not finite"
        return
    result.val_loss = val_loss
    result.val_mae = val_mae
    _keep(model, result, monitor, trial_dir=trial_dir, number=number)


def _fit_and_score_sequences(model: Any, result: TrialResult, *, data: SequenceData,
                             ctx: ModelContext, settings: TrialSettings, reporter: Reporter,
                             number: int, trial_dir: Path) -> None:
    """``_fit_and_score`` for classification and regression: the data object scores the
    network's outputs (log loss, or MSE on the scaled target, and the task's metrics)."""
    result.params = int(model.count_params())
    train = data.batches("train", result.config, shuffle=True, seed=ctx.seed)
    val = data.batches("val", result.config, batch_size=settings.eval_batch_size)
    monitor = _Monitor(reporter, patience=settings.patience)
    if not _fit(model, result, train, val, monitor, settings):
        return
    pred = model.predict(val, verbose=0)
    val_loss, metrics = data.evaluate(pred, "val")
    if not (math.isfinite(val_loss) and np.all(np.isfinite(pred))):
        result.reason = "validation predictions are not finite"
        return
    result.val_loss = val_loss
    result.val_mae = metrics.get("mae")
    result.metrics = {f"val_{k}": v for k, v in metrics.items()}
    _keep(model, result, monitor, trial_dir=trial_dir, number=number)


def _fit(model: Any, result: TrialResult, train: Any, val: Any, monitor: Any,
         settings: TrialSettings) -> bool:
    """Train with ``monitor``; restore the best epoch. ``False`` (with a reason) if none is."""
    model.fit(train, validation_data=val, epochs=settings.max_epochs, callbacks=[monitor],
              shuffle=False, verbose=0)  # tf.data shuffles; Keras would warn
    result.history = monitor.history
    result.epochs = monitor.epochs
    if monitor.diverged:
        result.reason = monitor.diverged
        return False
    if monitor.best_weights is None:
        result.reason = "no epoch finished with a finite validation loss"
        return False
    model.set_weights(monitor.best_weights)
    result.best_epoch = monitor.best_epoch
    return True


def _keep(model: Any, result: TrialResult, monitor: Any, *, trial_dir: Path, number: int) -> None:
    """Mark the trial complete (or pruned) and write its best weights and history."""
    result.state = "pruned" if monitor.pruned else "complete"
    trial_dir.mkdir(parents=True, exist_ok=True)
    write_with_atomic(trial_dir / WEIGHTS, lambda p: model.save_weights(str(p)))
    write_json_atomic(trial_dir / "trial.json", {"number": number, **result.attrs(),
                                                 "history": result.history})


def _val_scores(model: Any, val: Any, *, data: ForecastData, variant: Any, metric: str,
                logs: dict[str, float]) -> tuple[float, float]:
    """The trial's validation objective and MAE (data units), with its best epoch's weights.

    val_loss is the chosen metric; "mse" is measured in the common standard scaling, so it is
    comparable across transforms and with the baselines. Keras computed the loss (MSE) and the MAE
    on the same validation windows at the best epoch: when those determine the objective (one
    target, an affine scaling without seasonal profile, MSE training loss, objective mse, mae or
    rmse) they are read from its logs, since predicting would trace the network once more
    (0.5-2.5 s, up to 20% of a short trial). Otherwise the windows are predicted.
    """
    if (data.n_targets == 1 and variant.profile is None and "val_mae" in logs
            and metric in ("mse", "mae", "rmse") and _plain_mse(model)):
        col = data.target_idx[0]
        scale = float(variant.scaler.scale[col])
        mse = float(logs["val_loss"]) * scale ** 2  # in the data's units
        mae = float(logs["val_mae"]) * scale
        value = {"mse": mse / float(data.scaler.scale[col]) ** 2, "mae": mae,
                 "rmse": math.sqrt(mse)}[metric]
        return value, mae
    pred = variant.to_units(model.predict(val, verbose=0), data.origins("val"))
    truth = data.targets("val", scaled=False)
    value = objective_value(pred, truth, metric=metric, scale=data.scaler.scale[data.target_idx],
                            train=data.raw[: data.split.train][:, data.target_idx],
                            season=data.main_season)
    return value, float(np.mean(np.abs(pred - truth)))


def _plain_mse(model: Any) -> bool:
    """Whether the model's loss is the mean squared error and nothing else."""
    import keras

    loss = getattr(model, "loss", None)
    plain = loss in ("mse", "mean_squared_error") or isinstance(loss,
                                                                 keras.losses.MeanSquaredError)
    return plain and not model.losses


class _Rescaled:
    """A reporter that converts epoch losses to the common scale before passing them on."""

    def __init__(self, reporter: Reporter, factor: float):
        self.reporter = reporter
        self.factor = factor

    def report(self, value: float, epoch: int) -> bool:
        return self.reporter.report(value * self.factor, epoch)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _release(known_gradients: set[str]) -> None:
    """Free what a trial left behind, so that memory stays flat over hundreds of trials.

    ``clear_session`` is not enough: each traced train step registers a ``CustomGradient-N``
    function (Keras's gradient all-reduce) in TensorFlow's global gradient registry, and it holds
    the whole train graph — about 14 MiB per GRU trial, never freed. The trial's graphs are dead
    once its model is, so its registrations are dropped (benchmarks/soak.py measures it).
    """
    import keras

    keras.backend.clear_session(free_memory=False)
    registry = _gradient_registry()
    if registry is not None:
        for name in [n for n in registry if n.startswith(_CUSTOM) and n not in known_gradients]:
            registry.pop(name, None)
    _collect_garbage()  # one collection, once nothing holds the trial's graphs any more


_freezing = False  # True while frozen_survivors() runs: each collection freezes what survives


@contextmanager
def frozen_survivors() -> Iterator[None]:
    """Keep the collection that ends each trial cheap for the duration of a search.

    Each trial ends with a full garbage collection, to free its model and graphs (they hold
    reference cycles). A full collection walks every tracked object: with TensorFlow loaded that
    is ~400,000 objects (~0.4 s, 5-20% of a short trial), nearly all of them alive for the
    whole search (modules, the data, the study). Inside this block each collection is followed
    by ``gc.freeze()``, so the next one walks only what the latest trial created. Everything is
    unfrozen when the block ends (later collections see it all again). Does nothing if
    something else froze objects already.
    """
    global _freezing
    if gc.get_freeze_count() or _freezing:
        yield
        return
    _freezing = True
    try:
        yield
    finally:
        _freezing = False
        gc.unfreeze()


def _collect_garbage() -> None:
    gc.collect()
    if _freezing:
        gc.freeze()


_CUSTOM = "CustomGradient-"


def _gradient_registry() -> dict | None:
    try:
        from tensorflow.python.framework import ops

        return ops._gradient_registry._registry  # private: degrade to a no-op if it moves
    except (ImportError, AttributeError):
        return None


def _custom_gradients() -> set[str]:
    registry = _gradient_registry()
    return set() if registry is None else {n for n in registry if n.startswith(_CUSTOM)}


class _Monitor:
    """Keras callback: tracks the best epoch, stops early, detects divergence, asks to prune."""

    def __new__(cls, *args, **kwargs):
        import keras

        class _Impl(keras.callbacks.Callback):
            def __init__(self, reporter: Reporter, patience: int):
                super().__init__()
                self.reporter = reporter
                self.patience = patience
                self.history: dict[str, list[float]] = {"loss": [], "val_loss": []}
                self.best = math.inf
                self.best_epoch: int | None = None
                self.best_weights = None
                self.best_logs: dict[str, float] = {}
                self.epochs = 0
                self.wait = 0
                self.diverged: str | None = None
                self.pruned = False

            def on_train_batch_end(self, batch, logs=None):
                check_interrupt()
                loss = (logs or {}).get("loss")
                if loss is not None and not math.isfinite(float(loss)):
                    self.diverged = (f"loss diverged ({float(loss)}) at epoch {self.epochs + 1}: "
                                     "try clipping or a lower learning rate")
                    self.model.stop_training = True

            def on_epoch_end(self, epoch, logs=None):
                check_interrupt()
                logs = logs or {}
                self.epochs = epoch + 1
                loss = float(logs.get("loss", math.nan))
                val = float(logs.get("val_loss", math.nan))
                self.history["loss"].append(loss)
                self.history["val_loss"].append(val)
                if self.diverged:
                    return
                if not (math.isfinite(loss) and math.isfinite(val)):
                    self.diverged = (f"loss diverged ({loss if not math.isfinite(loss) else val}) "
                                     f"at epoch {epoch + 1}: try clipping or a lower learning "
                                     "rate")
                    self.model.stop_training = True
                    return
                if val < self.best:  # the trial's own loss picks its best epoch
                    self.best, self.best_epoch, self.wait = val, epoch + 1, 0
                    self.best_weights = self.model.get_weights()
                    self.best_logs = {k: float(v) for k, v in logs.items()}
                else:
                    self.wait += 1
                    if self.wait >= self.patience:
                        self.model.stop_training = True
                # The pruner compares trials on validation MSE, whatever loss each trains on.
                if self.reporter.report(float(logs.get("val_mse", val)), epoch):
                    self.pruned = True
                    self.model.stop_training = True

        return _Impl(*args, **kwargs)


def load_trial_json(trial_dir: Path) -> dict[str, Any]:
    """The ``trial.json`` a finished trial wrote."""
    return json.loads((trial_dir / "trial.json").read_text(encoding="utf-8"))
