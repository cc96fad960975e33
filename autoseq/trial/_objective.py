"""One trial: suggest → build → fit → evaluate → ``TrialResult`` (with ``clear_session``).

The data's task resolves the configuration, gives the model context and the fitting function.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from autoseq._tf import quiet_tensorflow_logger
from autoseq.data import ForecastData, SequenceData
from autoseq.exceptions import SearchError
from autoseq.model._builder import ModelContext, build_model, cudnn_eligible
from autoseq.space import SearchSpace, Suggester
from autoseq.tasks import task_of_data
from autoseq.trial._compile_rule import auto_compiles, on_jax, repays_compiling
from autoseq.trial._result import WEIGHTS, Reporter, TrialResult, TrialSettings, load_trial_json

COMPILE_MODES = ("auto", "on", "off")


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
    task = task_of_data(data)
    config = task.resolve_config(space.sample(suggester), data, builder=space.builder)
    try:
        ctx = task.model_context(data, config, seed=seed)  # fits the anchors
        fit_and_score = task.fit_and_score(data, config)  # prepares the data variant
    except Exception as exc:  # noqa: BLE001 - data this configuration cannot use fails its trial
        _release(known_gradients)
        return TrialResult(state="failed", config=config, cudnn_eligible=cudnn_eligible(config),
                           reason=f"data could not be prepared: {type(exc).__name__}: "
                                  f"{_first_line(exc)}",
                           seconds=time.perf_counter() - start)
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
    choice (compile) on an accelerator. On Keras's JAX backend every trial compiles unless
    ``off`` (uncompiled JAX steps are 20-50x slower). ``None``: Keras decides."""
    if mode != "auto":
        return mode != "off"
    return auto_compiles(task_of_data(data).training_shape(data, config),
                         int(config["batch_size"]), epochs=epochs)


def worth_compiling(data: ForecastData | SequenceData, config: dict[str, Any], *,
                    epochs: int) -> bool:
    """The ``auto`` rule on a CPU: compile when training runs at least
    ``COMPILE_FROM_BATCH_STEPS`` recurrent steps of batches (batches per epoch × lookback ×
    epochs). Variable-length sequences are not compiled: each padded length is a new program
    (BasicMotions cut to 30-98 steps: a GRU trial took 13.5 s compiled, 3.4 s not)."""
    shape = task_of_data(data).training_shape(data, config)
    return shape is not None and repays_compiling(*shape, int(config["batch_size"]),
                                                  epochs=epochs)


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
    if on_jax():
        _jax_caches.trial_ended()
    registry = _gradient_registry()
    if registry is not None:
        for name in [n for n in registry if n.startswith(_CUSTOM) and n not in known_gradients]:
            registry.pop(name, None)
    _collect_garbage()  # one collection, once nothing holds the trial's graphs any more


class _JaxCaches:
    """jax's jit caches keep every trial's compiled steps (~3 MiB a trial, never reused), and
    also the small programs that initialise weights and optimizer slots, which the next trials
    of the same shapes reuse. Cleared every ``every`` trials: memory stays bounded (+1% over
    40 trials when cleared after each), and the trials in between skip recompiling those
    programs (8 electricity trials: 25 s of compiling instead of 34 s)."""

    def __init__(self, every: int = 8):
        self.every = every
        self.since = 0

    def trial_ended(self) -> None:
        self.since += 1
        if self.since >= self.every:
            import jax

            jax.clear_caches()
            self.since = 0


_jax_caches = _JaxCaches()

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




__all__ = ["WEIGHTS", "Reporter", "TrialResult", "TrialSettings", "load_trial_json", "run_trial"]
