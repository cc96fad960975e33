"""Training a built network and scoring it on validation, per kind of data.

``fit_windows`` trains a forecaster on windows of a ``ForecastData`` (in a transform's
variant), ``fit_sequences`` a classifier or regressor on padded sequences of a ``SequenceData``;
both early-stop and report to the pruner through one monitor, and keep the best epoch's weights.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from autoseq._interrupt import check as check_interrupt
from autoseq._io import write_json_atomic, write_with_atomic
from autoseq.data import ForecastData, SequenceData
from autoseq.metrics import INTERVAL_OBJECTIVES, objective_value, quantile_objective
from autoseq.model import ModelContext
from autoseq.trial._result import WEIGHTS, Reporter, TrialResult, TrialSettings

_ONE_EVAL_BATCH_UP_TO = 8192  # validation windows scored in one batch by a compiled trial


def fit_windows(model: Any, result: TrialResult, *, data: ForecastData, ctx: ModelContext,
                   settings: TrialSettings, reporter: Reporter, number: int,
                   trial_dir: Path, variant: Any, inputs: tuple[str, ...]) -> None:
    """Train ``model``, fill ``result`` in place, write the best weights when it succeeded."""
    result.params = int(model.count_params())
    batch_size = result.config["batch_size"]
    eval_batch_size = settings.eval_batch_size
    if result.compiled:  # one shape per dataset, so one compiled program each
        windows = len(data.origins("val", ctx.lookback))
        eval_batch_size = windows if windows <= _ONE_EVAL_BATCH_UP_TO else eval_batch_size
    train = data.dataset("train", lookback=ctx.lookback, batch_size=batch_size,
                         shuffle=True, seed=ctx.seed, values=variant.values, inputs=inputs,
                         rolling=variant.rolling, drop_remainder=result.compiled)
    val = data.dataset("val", lookback=ctx.lookback, batch_size=eval_batch_size,
                       values=variant.values, inputs=inputs, rolling=variant.rolling)
    # Epoch losses are in the variant's scale; the pruner compares them in the common one.
    factor = float(np.mean((variant.scaler.scale[data.target_idx]
                            / data.scaler.scale[data.target_idx]) ** 2))
    monitor = _Monitor(_Rescaled(reporter, factor), settings)
    if not _fit(model, result, train, val, monitor, settings):
        return
    val_loss, val_mae = _val_scores(model, val, data=data, variant=variant, metric=settings.metric,
                                    logs=monitor.best_logs)
    if not math.isfinite(val_loss):
        result.reason = "validation predictions are not finite"
        return
    result.val_loss = val_loss
    result.val_mae = val_mae
    if settings.keep_val_forecast:
        result.val_forecast = variant.to_units(model.predict(val, verbose=0),
                                               data.origins("val")).astype("float32")
    _keep(model, result, monitor, trial_dir=trial_dir, number=number)


def fit_sequences(model: Any, result: TrialResult, *, data: SequenceData,
                             ctx: ModelContext, settings: TrialSettings, reporter: Reporter,
                             number: int, trial_dir: Path) -> None:
    """``fit_windows`` for classification and regression: the data object scores the
    network's outputs (log loss, or MSE on the scaled target, and the task's metrics)."""
    result.params = int(model.count_params())
    train = data.batches("train", result.config, shuffle=True, seed=ctx.seed)
    val = data.batches("val", result.config, batch_size=settings.eval_batch_size)
    monitor = _Monitor(reporter, settings)
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
    _build_state(model, train)
    train, steps = _one_iterator(train)
    model.fit(train, validation_data=val, epochs=settings.max_epochs, callbacks=[monitor],
              steps_per_epoch=steps, shuffle=False, verbose=0)  # tf.data shuffles; Keras would warn
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
    if monitor.out_of_time:
        result.reason = (f"stopped after epoch {monitor.epochs} of {settings.max_epochs}: the "
                         "search's --timeout was reached; its best epoch is kept")
    return True


def _build_state(model: Any, train: Any) -> None:
    """Create the optimizer's and the compiled metrics' variables before ``fit`` traces its
    train step. Created inside the first trace, they make TensorFlow trace the step twice (and
    the compiled path lower it twice): ~0.5 s a trial. Keras builds them up front itself only
    under a distribution strategy; this is that build, from the dataset's element spec."""
    build = getattr(model, "_symbolic_build", None)
    spec = getattr(train, "element_spec", None)
    if build is not None and spec is not None:
        build(data_batch=spec)


def _one_iterator(dataset: Any) -> tuple[Any, int | None]:
    """``dataset`` repeated, and its batches per epoch, when tf.data knows how many: Keras
    then keeps one training iterator for the whole fit instead of a new one per epoch (20-150
    ms each: the pipeline is instantiated afresh). A shuffled dataset still draws a new order
    each pass. Unknown cardinality: ``(dataset, None)``, one iterator per epoch as before.
    Not for validation: Keras resets the evaluation iterator every epoch anyway, and a repeated
    validation set only makes the prefetch compute a pass that is thrown away (0.2 s an epoch
    on the electricity example)."""
    cardinality = getattr(dataset, "cardinality", None)
    n = int(cardinality()) if cardinality is not None else -1
    return (dataset.repeat(), n) if n > 0 else (dataset, None)


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
    origins = data.origins("val")
    pred = variant.to_units(model.predict(val, verbose=0), origins)
    truth = data.targets("val", scaled=False)
    train = data.raw[: data.split.train][:, data.target_idx]
    if metric in INTERVAL_OBJECTIVES:  # the network's own quantiles, before any calibration
        scaled = model.predict_quantiles(val)
        q = np.stack([variant.to_units(scaled[..., i], origins)
                      for i in range(scaled.shape[-1])], axis=-1)
        value = quantile_objective(q, truth, model.taus, metric=metric, train=train,
                                   season=data.main_season)
    else:
        value = objective_value(pred, truth, metric=metric,
                                scale=data.scaler.scale[data.target_idx], train=train,
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


class _Monitor:
    """Keras callback: tracks the best epoch, stops early, detects divergence, asks to prune,
    and stops at the search's deadline (``time.monotonic()``) once an epoch has finished."""

    def __new__(cls, *args, **kwargs):
        import keras

        class _Impl(keras.callbacks.Callback):
            def __init__(self, reporter: Reporter, settings: TrialSettings):
                super().__init__()
                self.reporter = reporter
                self.patience = settings.patience
                self.deadline = settings.deadline
                self.out_of_time = False
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
                elif (self.deadline is not None and not self.model.stop_training
                      and epoch + 1 < self.params.get("epochs", math.inf)
                      and time.monotonic() >= self.deadline):
                    self.out_of_time = True
                    self.model.stop_training = True

        return _Impl(*args, **kwargs)
