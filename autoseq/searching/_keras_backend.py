"""Which Keras backend a search's trials train on: JAX on a CPU when compiling pays, else
TensorFlow.

Keras 3 fixes its backend for the whole process when it is first imported, so the choice is
made once per search process, after the data is read and before TensorFlow loads. Measured on
2 CPU cores (electricity example, 20 epochs, batch 64, lookback 96, one trial after another in
one process): GRU(32) 13-16 s on JAX (jit) against 21-22 s through TensorFlow's XLA; LSTM(32)
alike on both (15-21 s, 17-20 s). Airline's tiny trials (720 batch-steps) take 3.9-5.6 s on
JAX against 3.2-3.5 s uncompiled on TensorFlow, so ``auto`` keeps small searches on TensorFlow.
Uncompiled, the JAX backend is ~20-50x slower: on JAX every trial is compiled.

A JAX trial keeps about one core busy whatever the machine has (its recurrent loop is one
sequential ``lax.scan`` of small matrix products), so ``--jobs auto`` runs JAX trials in one
worker process per core (``auto_jobs``): on 2 cores, 43 trials in a 300 s electricity search
against 12 for one JAX process and 12 for two uncompiled TensorFlow workers.

Everything after the search (export, predict, the report's commands) runs on TensorFlow: a
trial's ``.weights.h5`` is the same file on either backend, so the SavedModel is unchanged.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JAX = "jax"
TENSORFLOW = "tensorflow"
_DRAWS = 16  # configurations drawn to judge a search's typical trial
AUTO = "auto"
MAX_AUTO_JOBS = 8
"""``--jobs auto`` starts at most this many workers (the sampler learns less per trial the more
trials run at once)."""
WORKER_MEMORY = 2**31
"""Memory kept free per ``--jobs auto`` worker: 2 GiB (a JAX worker held 1.34-1.41 GiB on the
electricity example, and keeps its peak while its trials train: ``freed_memory_kept``)."""


@dataclass(frozen=True)
class TrialBackend:
    """The Keras backend trials train on, and why (one clause, shown in the search's log)."""

    name: str
    why: str


def choose_trial_backend(*, compile: str, task: Any, data: Any, space: Any, epochs: int,
                         deterministic: bool, precision: str, seed: int = 0,
                         here: bool = True) -> TrialBackend:
    """JAX when the trials train on a CPU, ``compile`` allows it, jax is
    installed, the task's windows have fixed shapes, and (``auto``) a typical trial of
    ``space`` runs long enough to repay compiling (``worth_compiling``); else TensorFlow.

    ``KERAS_BACKEND`` set by the user decides, and so does a Keras already imported in this
    process when the trials train ``here`` (not in worker processes of their own).
    """
    live = live_backend() if here else None
    if live is not None:
        return TrialBackend(live, "Keras was already loaded in this process")
    asked = os.environ.get("KERAS_BACKEND")
    if asked:
        return TrialBackend(asked, f"KERAS_BACKEND={asked}")
    return preferred_trial_backend(compile=compile, task=task, data=data, space=space,
                                   epochs=epochs, deterministic=deterministic,
                                   precision=precision, seed=seed)


def preferred_trial_backend(*, compile: str, task: Any, data: Any, space: Any, epochs: int,
                            deterministic: bool, precision: str, seed: int = 0) -> TrialBackend:
    """``choose_trial_backend``'s rule for a fresh process, whatever this one has loaded."""
    refusal = _refusal(compile=compile, task=task, deterministic=deterministic,
                       precision=precision)
    if refusal is None and compile == "auto" and not _typical_trial_compiles(
            task, data, space, epochs=epochs, seed=seed):
        refusal = "its trials are too short to repay compiling"
    if refusal is not None:
        return TrialBackend(TENSORFLOW, refusal)
    return TrialBackend(JAX, f"--compile {compile} on a CPU")


def use_trial_backend(choice: TrialBackend) -> str:
    """Load Keras (quietly) on ``choice`` if it is not loaded yet; the backend trials will
    actually use. ``KERAS_BACKEND`` is set only while Keras reads it, so processes this one
    starts later choose for themselves."""
    from autoseq._tf import import_tensorflow_quietly

    if live_backend() is None:
        before = os.environ.get("KERAS_BACKEND")
        os.environ["KERAS_BACKEND"] = choice.name
        try:
            import_tensorflow_quietly()
        finally:
            if before is None:
                os.environ.pop("KERAS_BACKEND", None)
            else:
                os.environ["KERAS_BACKEND"] = before
    return live_backend()


def trains_on(name: str, why: str) -> str:
    """What the log says of the backend ``name`` the trials train on, chosen for ``why``."""
    backend = "JAX backend, compiled" if name == JAX else "TensorFlow backend"
    return f"trials train on Keras's {backend} ({why})"


def _refusal(*, compile: str, task: Any, deterministic: bool, precision: str) -> str | None:
    """Why trials must stay on TensorFlow, or ``None``."""
    if compile == "off":
        return "--compile off"
    if deterministic:
        return "--deterministic makes TensorFlow's ops deterministic"
    if precision != "float32":
        return f"--precision {precision} is TensorFlow's"
    if not getattr(task, "jax_trials", False):
        return "this kind of run's batches change shape (each would compile anew)"
    if importlib.util.find_spec("jax") is None:
        return "jax is not installed"
    if gpu_visible():
        return "a GPU keeps TensorFlow's cuDNN kernels"
    return None


def auto_jobs(backend: TrialBackend, *, trials: int) -> tuple[int, str]:
    """``--jobs auto``: the worker processes for trials on ``backend``, and why (one clause).

    On JAX, one per usable core, at most ``MAX_AUTO_JOBS``, ``trials`` and one per
    ``WORKER_MEMORY`` of available memory; on TensorFlow, 1 (its own threads use the cores).
    """
    if backend.name != JAX:
        return 1, "TensorFlow's own threads use the cores"
    cores = usable_cores()
    memory = available_memory()
    by_memory = MAX_AUTO_JOBS if memory is None else max(1, int(memory // WORKER_MEMORY))
    limits = {f"{cores} core{'s' * (cores > 1)}": cores, f"at most {MAX_AUTO_JOBS}": MAX_AUTO_JOBS,
              f"{trials} trial{'s' * (trials > 1)}": trials,
              f"{(memory or 0) / 2**30:.1f} GiB of memory free": by_memory}
    bound, jobs = min(limits.items(), key=lambda item: item[1])
    return max(1, jobs), f"a JAX trial keeps about one core busy; {bound}"


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def available_memory() -> float | None:
    """Bytes of memory available to new processes (Linux ``MemAvailable``), or ``None``."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def gpu_visible() -> bool:
    """Whether an NVIDIA GPU is visible to this process, without loading TensorFlow."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", "unset").strip() in ("", "-1"):
        return False
    return Path("/proc/driver/nvidia/version").exists()


def _typical_trial_compiles(task: Any, data: Any, space: Any, *, epochs: int,
                            seed: int) -> bool:
    """Whether most of ``_DRAWS`` configurations drawn from ``space`` are worth compiling."""
    from autoseq.trial._objective import worth_compiling

    draw = _Draw(random.Random(seed))
    votes = []
    for _ in range(_DRAWS):
        try:
            config = task.resolve_config(space.sample(draw), data, builder=space.builder)
            votes.append(worth_compiling(data, config, epochs=epochs))
        except Exception:  # noqa: BLE001 - a draw the data cannot build is no evidence
            continue
    return bool(votes) and 2 * sum(votes) >= len(votes)


class _Draw:
    """A ``Suggester`` drawing uniformly at random (log scales ignored: sizes only matter)."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1,
                    log: bool = False) -> int:
        return self.rng.randrange(low, high + 1, step)

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        return self.rng.uniform(low, high)

    def suggest_categorical(self, name: str, choices: tuple) -> Any:
        return self.rng.choice(list(choices))


def live_backend() -> str | None:
    """The backend of the Keras this process has imported, or ``None``."""
    if "keras" not in sys.modules and "tensorflow" not in sys.modules:
        return None
    import keras

    return keras.backend.backend()
