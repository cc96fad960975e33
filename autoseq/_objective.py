"""One trial: suggest → build → fit → evaluate → ``TrialResult`` (with ``clear_session``)."""

from __future__ import annotations

import gc
import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from autoseq._io import write_json_atomic, write_with_atomic
from autoseq._tf import quiet_tensorflow_logger
from autoseq.builder import ModelContext, build_model, cudnn_eligible, resolve_config
from autoseq.data import ForecastData
from autoseq.space import SearchSpace, Suggester

WEIGHTS = "model.weights.h5"


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


@dataclass
class TrialResult:
    """What a trial produced. ``state`` is ``complete``, ``pruned`` or ``failed``."""

    state: str
    config: dict[str, Any]
    val_loss: float | None = None
    val_mae: float | None = None
    epochs: int = 0
    best_epoch: int | None = None
    seconds: float = 0.0
    params: int | None = None
    cudnn_eligible: bool = False
    reason: str | None = None
    history: dict[str, list[float]] = field(default_factory=dict)

    def attrs(self) -> dict[str, Any]:
        """JSON-ready attributes to store with the trial in the study."""
        d = asdict(self)
        d.pop("history")
        return d


def run_trial(suggester: Suggester, reporter: Reporter, *, number: int, data: ForecastData,
              space: SearchSpace, settings: TrialSettings, trial_dir: Path) -> TrialResult:
    """Train and evaluate one configuration drawn from ``space``.

    The best epoch's weights are written to ``trial_dir``. A non-finite loss or a build error
    gives a ``failed`` result with its reason instead of raising; ``KeyboardInterrupt`` propagates.
    """
    import keras

    quiet_tensorflow_logger()
    keras.backend.clear_session(free_memory=False)
    _collect_garbage()
    seed = settings.seed * 1000 + number
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    config = resolve_config(space.sample(suggester), builder=space.builder,
                            horizon=data.horizon, season=data.main_season,
                            max_lookback=data.max_lookback)
    result = TrialResult(state="failed", config=config, cudnn_eligible=cudnn_eligible(config))
    ctx = ModelContext(lookback=config["lookback"], n_inputs=data.n_inputs, horizon=data.horizon,
                       n_targets=data.n_targets, seed=seed, season=data.main_season)
    try:
        model = build_model(config, ctx, builder=space.builder)
    except (ValueError, TypeError) as exc:
        result.reason = f"model could not be built: {exc}".splitlines()[0]
        result.seconds = time.perf_counter() - start
        return result
    result.params = int(model.count_params())
    train = data.dataset("train", lookback=ctx.lookback, batch_size=config["batch_size"],
                         shuffle=True, seed=seed)
    val = data.dataset("val", lookback=ctx.lookback, batch_size=settings.eval_batch_size)
    monitor = _Monitor(reporter, patience=settings.patience)
    model.fit(train, validation_data=val, epochs=settings.max_epochs, callbacks=[monitor],
              shuffle=False, verbose=0)  # tf.data shuffles; Keras would warn
    result.history = monitor.history
    result.epochs = monitor.epochs
    result.seconds = time.perf_counter() - start
    if monitor.diverged:
        result.reason = monitor.diverged
        return _finish(result, model)
    if monitor.best_weights is None:
        result.reason = "no epoch finished with a finite validation loss"
        return _finish(result, model)
    model.set_weights(monitor.best_weights)
    result.best_epoch = monitor.best_epoch
    val_loss, val_mae = _val_scores(model, val, data, monitor.best_logs)
    if not math.isfinite(val_loss):
        result.reason = "validation predictions are not finite"
        return _finish(result, model)
    result.val_loss = val_loss
    result.val_mae = val_mae
    result.state = "pruned" if monitor.pruned else "complete"
    trial_dir.mkdir(parents=True, exist_ok=True)
    write_with_atomic(trial_dir / WEIGHTS, lambda p: model.save_weights(str(p)))
    write_json_atomic(trial_dir / "trial.json", {"number": number, **result.attrs(),
                                                 "history": result.history})
    result.seconds = time.perf_counter() - start
    return _finish(result, model)


def _val_scores(model: Any, val: Any, data: ForecastData,
                logs: dict[str, float]) -> tuple[float, float]:
    """Validation MSE (scaled) and MAE (data units) of the model with its best epoch's weights.

    Keras computed both on the same validation windows at that epoch when the model has one
    target and is compiled with MSE and MAE (as the built-in builder does): they are read from
    its logs. Predicting instead would trace the network once more, 0.5–2 s or up to 20% of a
    short trial. Other models are scored on their predictions.
    """
    if data.n_targets == 1 and "val_mae" in logs and _plain_mse(model):
        scale = float(data.scaler.scale[data.target_idx[0]])
        return float(logs["val_loss"]), float(logs["val_mae"]) * scale
    pred = model.predict(val, verbose=0)
    val_loss = float(np.mean((pred - data.targets("val")) ** 2))
    units = data.scaler.inverse(pred, data.target_idx) - data.targets("val", scaled=False)
    return val_loss, float(np.mean(np.abs(units)))


def _plain_mse(model: Any) -> bool:
    """Whether the model's validation loss is the mean squared error and nothing else."""
    import keras

    loss = getattr(model, "loss", None)
    plain = loss in ("mse", "mean_squared_error") or isinstance(loss,
                                                                 keras.losses.MeanSquaredError)
    return plain and not model.losses


def _finish(result: TrialResult, model: Any) -> TrialResult:
    import keras

    # No collection here: the caller's frame still holds the model, so it could not be freed;
    # the next trial starts with one.
    del model
    keras.backend.clear_session(free_memory=False)
    return result


_freezing = False  # True while frozen_survivors() runs: run_trial freezes what survives


@contextmanager
def frozen_survivors() -> Iterator[None]:
    """Keep the collection that starts each trial cheap for the duration of a search.

    Each trial begins with a full garbage collection, to free the previous trial's model and
    graphs (they hold reference cycles). A full collection walks every tracked object: with
    TensorFlow loaded that is ~400,000 objects (~0.4 s, 5–20% of a short trial), and TensorFlow
    keeps ~15,000 more per trial that never become collectable. Inside this block each
    collection is followed by ``gc.freeze()``, so the next one walks only what the latest trial
    created. Everything is unfrozen when the block ends (later collections see it all again).
    Does nothing if something else froze objects already.
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
                loss = (logs or {}).get("loss")
                if loss is not None and not math.isfinite(float(loss)):
                    self.diverged = (f"loss diverged ({float(loss)}) at epoch {self.epochs + 1}: "
                                     "try clipping or a lower learning rate")
                    self.model.stop_training = True

            def on_epoch_end(self, epoch, logs=None):
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
                if val < self.best:
                    self.best, self.best_epoch, self.wait = val, epoch + 1, 0
                    self.best_weights = self.model.get_weights()
                    self.best_logs = {k: float(v) for k, v in logs.items()}
                else:
                    self.wait += 1
                    if self.wait >= self.patience:
                        self.model.stop_training = True
                if self.reporter.report(val, epoch):
                    self.pruned = True
                    self.model.stop_training = True

        return _Impl(*args, **kwargs)


def load_trial_json(trial_dir: Path) -> dict[str, Any]:
    """The ``trial.json`` a finished trial wrote."""
    return json.loads((trial_dir / "trial.json").read_text(encoding="utf-8"))
