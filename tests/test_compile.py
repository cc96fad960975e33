"""``--compile``: trials trained through XLA-compiled steps, the ``auto`` rule, the fallback."""

import io
import json
import math
import os
import subprocess
import sys

import pandas as pd
import pytest

import autoseq
from autoseq.cli import main
from autoseq.data import ForecastData, load_series
from autoseq.exceptions import SearchError
from autoseq.model._builder import register_builder, resolve_config
from autoseq.searching._keras_backend import (
    MAX_AUTO_JOBS,
    WORKER_MEMORY,
    TrialBackend,
    auto_jobs,
    usable_cores,
)
from autoseq.space import Fixed, SearchSpace
from autoseq.trial._objective import TrialSettings, check_compile, run_trial, worth_compiling
from tests.conftest import EXAMPLES, make_sequences_csv

pytestmark = pytest.mark.filterwarnings("ignore")


class _NeverPrune:
    def report(self, value: float, epoch: int) -> bool:
        return False


def _trial(data, config: dict, mode: str, tmp_path, *, builder: str = "rnn", epochs: int = 2):
    space = SearchSpace([Fixed(k, v) for k, v in config.items()], name="fixed", builder=builder)
    return run_trial(_NeverPrune(), _NeverPrune(), number=1, data=data, space=space,
                     settings=TrialSettings(max_epochs=epochs, patience=epochs, compile=mode),
                     trial_dir=tmp_path / mode)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_compiled_trial_scores_within_one_percent_of_the_plain_one(airline_csv, tmp_path, cell):
    data = ForecastData(load_series(airline_csv, targets=["passengers"]), horizon=12)
    config = {"cell": cell, "units": 4, "lookback": 12, "batch_size": 16, "anchor": "last"}
    plain = _trial(data, config, "off", tmp_path)
    compiled = _trial(data, config, "on", tmp_path)
    assert (plain.compiled, compiled.compiled) == (False, True)
    assert plain.state == compiled.state == "complete" and compiled.reason is None
    # XLA fuses and reorders float operations: close, not bit-identical.
    assert compiled.val_loss == pytest.approx(plain.val_loss, rel=0.01)
    assert compiled.history["val_loss"] == pytest.approx(plain.history["val_loss"], rel=0.01)


def test_masked_variable_length_sequences_compile(tmp_path):
    from autoseq.tasks import SEQUENCES, DataOptions

    csv = make_sequences_csv(tmp_path / "seq.csv", n=30, min_len=4, max_len=12)
    data = SEQUENCES.read(DataOptions(csv, ("label",), id_col="seq", step_col="t",
                                      val_size=0.2, test_size=0.2))
    assert not worth_compiling(data, {"batch_size": 8}, epochs=1000)  # several lengths
    config = {"cell": "gru", "units": 4, "batch_size": 8, "pooling": "mean"}
    plain = _trial(data, config, "off", tmp_path)
    compiled = _trial(data, config, "on", tmp_path)
    assert compiled.compiled and compiled.state == "complete"
    assert compiled.val_loss == pytest.approx(plain.val_loss, rel=0.01)


def _host_copy(config, ctx):
    """A GRU whose input passes through ``tf.numpy_function``: fine eagerly and in a graph, but
    XLA cannot compile it."""
    import keras
    import tensorflow as tf

    class HostCopy(keras.layers.Layer):
        def call(self, x):
            y = tf.numpy_function(lambda a: a, [x], tf.float32)
            return tf.ensure_shape(y, x.shape)

    x = keras.Input((ctx.lookback, ctx.n_inputs))
    h = keras.layers.GRU(config["units"])(HostCopy()(x))
    y = keras.layers.Dense(ctx.horizon * ctx.n_targets)(h)
    return keras.Model(x, keras.layers.Reshape((ctx.horizon, ctx.n_targets))(y))


def test_a_trial_that_fails_to_compile_is_trained_plainly_and_says_so(airline_csv, tmp_path):
    register_builder("host_copy", _host_copy, defaults={"units": 4})
    data = ForecastData(load_series(airline_csv, targets=["passengers"]), horizon=12)
    result = _trial(data, {"units": 4, "lookback": 12}, "on", tmp_path, builder="host_copy")
    assert result.state == "complete" and not result.compiled
    assert result.reason.startswith("compiled training failed (")
    assert result.reason.endswith("trained without compiling")
    assert math.isfinite(result.val_loss)
    assert json.loads((tmp_path / "on" / "trial.json").read_text())["compiled"] is False


class _TrainTraces:
    """How many times a trial's network ran in training mode in Python: once per trace of the
    train step (inside the compiled or graph step, never per batch)."""

    count = 0


def _counting_gru(config, ctx):
    import keras

    class CountTraining(keras.layers.Layer):
        def call(self, x, training=None):
            if training:
                _TrainTraces.count += 1
            return x

    x = keras.Input((ctx.lookback, ctx.n_inputs))
    h = keras.layers.GRU(config["units"])(CountTraining()(x))
    y = keras.layers.Dense(ctx.horizon * ctx.n_targets)(h)
    return keras.Model(x, keras.layers.Reshape((ctx.horizon, ctx.n_targets))(y))


@pytest.mark.parametrize("mode", ["on", "off"])
def test_a_trial_traces_its_train_step_once(airline_csv, tmp_path, mode):
    """The optimizer's and metrics' variables exist before the first trace: created inside it,
    they make TensorFlow trace (and XLA lower) the step a second time."""
    register_builder("counting_gru", _counting_gru, defaults={"units": 4})
    data = ForecastData(load_series(airline_csv, targets=["passengers"]), horizon=12)
    _TrainTraces.count = 0
    result = _trial(data, {"units": 4, "lookback": 12}, mode, tmp_path, builder="counting_gru",
                    epochs=3)
    assert result.state == "complete" and result.epochs == 3
    assert result.compiled == (mode == "on")
    assert _TrainTraces.count == 1


def test_auto_compiles_long_trainings_only(airline_csv):
    small = ForecastData(load_series(airline_csv, targets=["passengers"]), horizon=12)
    config = resolve_config({"lookback": 12, "batch_size": 32}, builder="rnn", horizon=12,
                            max_lookback=small.max_lookback)
    assert not worth_compiling(small, config, epochs=20)  # 77 windows: a second per trial
    big = ForecastData(load_series(EXAMPLES / "electricity_halfhourly.csv",
                                   targets=["demand_mw"]), horizon=48)
    config = resolve_config({"lookback": 96, "batch_size": 64}, builder="rnn", horizon=48,
                            max_lookback=big.max_lookback)
    assert worth_compiling(big, config, epochs=20)
    assert not worth_compiling(big, config, epochs=1)


def test_compile_setting_reaches_leaderboard_and_run_file(airline_csv, tmp_path):
    space = SearchSpace([Fixed("cell", "gru"), Fixed("units", 4), Fixed("lookback", 12),
                         Fixed("anchor", "last")], name="one")
    result = autoseq.search(airline_csv, target="passengers", horizon=12, space=space, trials=1,
                            max_epochs=2, compile="on", stat_baselines=False, report=False,
                            out=tmp_path / "run")
    board = pd.read_csv(tmp_path / "run" / "leaderboard.csv")
    assert board.loc[board["state"] == "complete", "compiled"].tolist() == [True]
    ran = json.loads((tmp_path / "run" / "run.json").read_text())["backend"]
    assert ran["compile"] == "on"
    assert ran["keras_backend"] == "tensorflow"  # Keras was loaded here before the search
    assert result.leaderboard is not None


def test_bad_compile_value_is_refused(capsys):
    with pytest.raises(SearchError, match="--compile must be one of auto, on, off. Received: x"):
        check_compile("x")
    with pytest.raises(SystemExit) as exit_:
        main(["search", "x.csv", "--target", "y", "--compile", "sometimes"])
    assert exit_.value.code == 2
    assert "sometimes" in capsys.readouterr().err


def _electricity():
    return ForecastData(load_series(EXAMPLES / "electricity_halfhourly.csv",
                                    targets=["demand_mw"]), horizon=48)


def _preferred(data, space: str, **options):
    from autoseq.searching._keras_backend import preferred_trial_backend
    from autoseq.space import load_search_space
    from autoseq.tasks import FORECAST

    settings = {"compile": "auto", "epochs": 20, "deterministic": False,
                "precision": "float32"} | options
    return preferred_trial_backend(task=FORECAST, data=data, space=load_search_space(space),
                                   **settings)


def test_auto_trains_long_forecasting_searches_on_jax_and_short_ones_on_tensorflow(airline_csv):
    long = _electricity()
    assert _preferred(long, "default").name == "jax"
    assert _preferred(long, "default", compile="on").name == "jax"
    short = ForecastData(load_series(airline_csv, targets=["passengers"]), horizon=12)
    choice = _preferred(short, "fast")
    assert (choice.name, choice.why) == ("tensorflow",
                                         "its trials are too short to repay compiling")
    assert _preferred(short, "fast", compile="on").name == "jax"  # asked for: always compiled


@pytest.mark.parametrize(("option", "why"), [
    ({"compile": "off"}, "--compile off"),
    ({"deterministic": True}, "--deterministic"),
    ({"precision": "mixed"}, "--precision mixed"),
])
def test_what_keeps_trials_on_tensorflow(option, why):
    choice = _preferred(_electricity(), "default", **option)
    assert choice.name == "tensorflow" and choice.why.startswith(why)


def test_jobs_auto_gives_jax_trials_a_worker_per_core_within_trials_and_memory(monkeypatch):
    import autoseq.searching._keras_backend as kb

    jax, tf = TrialBackend("jax", "--compile on"), TrialBackend("tensorflow", "--compile off")
    assert auto_jobs(tf, trials=50) == (1, "TensorFlow's own threads use the cores")
    monkeypatch.setattr(kb, "usable_cores", lambda: 4)
    monkeypatch.setattr(kb, "available_memory", lambda: 64 * 2**30)
    assert auto_jobs(jax, trials=50) == (4, "a JAX trial keeps about one core busy; 4 cores")
    assert auto_jobs(jax, trials=3)[0] == 3
    assert auto_jobs(jax, trials=1) == (1, "a JAX trial keeps about one core busy; 1 trial")
    monkeypatch.setattr(kb, "available_memory", lambda: 2.5 * WORKER_MEMORY)
    assert auto_jobs(jax, trials=50)[0] == 2, "each worker needs its memory"
    monkeypatch.setattr(kb, "available_memory", lambda: 0.0)
    assert auto_jobs(jax, trials=50)[0] == 1
    monkeypatch.setattr(kb, "available_memory", lambda: None)  # unknown: cores decide
    monkeypatch.setattr(kb, "usable_cores", lambda: 64)
    assert auto_jobs(jax, trials=50) == (MAX_AUTO_JOBS, "a JAX trial keeps about one core busy; "
                                                        f"at most {MAX_AUTO_JOBS}")


def test_cores_are_the_ones_this_process_may_run_on_and_workers_share_them():
    """Pinned to one core (as a container's cpuset or ``taskset`` would), a process counts one
    core, so ``--jobs auto`` starts one JAX worker and a worker gets one thread, whatever the
    machine has."""
    probe = ("import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
             "from autoseq.searching._keras_backend import usable_cores; "
             "from autoseq.searching._parallel import worker_env; "
             "from autoseq.searching._devices import THREADS_ENV; "
             "print(usable_cores(), worker_env(0, jobs=1, gpus=[], storage='x')[THREADS_ENV])")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["1", "1"]


def test_jobs_auto_trains_here_when_workers_cannot(series_csv, tiny_space, tmp_path):
    from autoseq.searching._search import _resolve_jobs, _sqlite_study

    jax = TrialBackend("jax", "--compile on")
    settings = dict(trials=50, backend="optuna", space=tiny_space)
    many = _resolve_jobs("auto", [], jax, **settings)[0]
    assert many == auto_jobs(jax, trials=50)[0]
    assert _resolve_jobs("auto", [], TrialBackend("tensorflow", "x"), **settings) == (
        1, "TensorFlow's own threads use the cores")
    assert _resolve_jobs("auto", [], jax, **settings, sqlite=True) == (1, "")
    assert _resolve_jobs("auto", [], jax, **settings | {"backend": "kerastuner"}) == (1, "")
    assert _resolve_jobs("auto", ["0", "1"], jax, **settings) == (2, "one per GPU")
    assert _resolve_jobs(3, [], jax, **settings) == (3, "")
    with pytest.raises(SearchError, match="--jobs/--gpus need the optuna backend"):
        _resolve_jobs(2, [], jax, **settings | {"backend": "kerastuner"})
    # A run folder already holding an SQLite study is resumed by this one process.
    run = tmp_path / "run"
    assert not _sqlite_study(None, run)
    autoseq.search(series_csv, target="y", horizon=5, space=tiny_space, max_epochs=1, out=run,
                   trials=1, jobs=1)
    assert (run / "study.db").is_file() and _sqlite_study(None, run)
    assert _sqlite_study(f"sqlite:///{tmp_path}/x.db", tmp_path / "other")
    assert not _sqlite_study("postgresql://db/autoseq", run)


@pytest.mark.parametrize(("value", "error"), [("0", "must be at least 1 (or auto)"),
                                              ("many", "must be a number of at least 1 or auto")])
def test_jobs_must_be_a_count_or_auto(series_csv, tmp_path, capsys, value, error):
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(series_csv), "-t", "y", "-H", "5", "--jobs", value,
              "--out", str(tmp_path / "run")])
    assert exit_.value.code == 2
    assert error in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_sequences_and_a_loaded_keras_keep_their_backend(tmp_path):
    from autoseq.searching._keras_backend import (
        choose_trial_backend,
        preferred_trial_backend,
        use_trial_backend,
    )
    from autoseq.space import load_search_space
    from autoseq.tasks import SEQUENCES, DataOptions

    csv = make_sequences_csv(tmp_path / "seq.csv", n=30, min_len=4, max_len=12)
    data = SEQUENCES.read(DataOptions(csv, ("label",), id_col="seq", step_col="t",
                                      val_size=0.2, test_size=0.2))
    settings = {"compile": "on", "task": SEQUENCES, "data": data, "epochs": 100,
                "space": load_search_space("classify"),
                "deterministic": False, "precision": "float32"}
    assert preferred_trial_backend(**settings).name == "tensorflow"  # padded lengths vary
    # This process imported Keras on TensorFlow: a search in it trains there, whatever it prefers.
    loaded = choose_trial_backend(**settings)
    assert (loaded.name, loaded.why) == ("tensorflow", "Keras was already loaded in this process")
    assert use_trial_backend(loaded) == "tensorflow"


def test_a_search_trained_on_jax_exports_and_predicts_on_tensorflow(airline_csv, tmp_path):
    """``--compile on`` in a fresh process: the trials train on Keras's JAX backend; ``export``
    (TensorFlow) loads the best trial's weights and scores it on validation as the search did."""
    run = tmp_path / "run"

    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "autoseq.cli", *args], text=True,
                              capture_output=True,
                              env={k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
                              | {"TF_CPP_MIN_LOG_LEVEL": "2"})
        assert done.returncode == 0, done.stderr[-2000:]
        return done

    search = cli("search", str(airline_csv), "--target", "passengers", "--horizon", "12",
                 "--space", "fast", "--trials", "2", "--max-epochs", "2", "--compile", "on",
                 "--no-stat-baselines", "--no-report", "--out", str(run))
    assert "trials train on Keras's JAX backend, compiled (--compile on on a CPU)" in search.stderr
    info = json.loads((run / "run.json").read_text())["backend"]
    assert info["keras_backend"] == "jax"
    # --jobs auto: a JAX trial keeps one core busy, so each core gets a worker (2 trials: <= 2).
    assert info["jobs"] == min(usable_cores(), 2)
    if info["jobs"] > 1:
        assert "in 2 worker processes (a JAX trial keeps about one core busy" in search.stderr
        for log in (run / "workers").glob("worker-*.log"):
            assert "trials train on Keras's JAX backend, compiled (KERAS_BACKEND=jax)" in \
                log.read_text()
        assert len(list((run / "workers").glob("worker-*.log"))) == 2
    board = pd.read_csv(run / "leaderboard.csv")
    trials = board[board["state"] == "complete"]
    assert len(trials) >= 1 and trials["compiled"].all()
    cli("export", str(run), "--no-report")
    selection = json.loads((run / "export" / "autoseq.json").read_text())["selection"]
    rescored = selection["val_mae"]["best trial"]  # the TensorFlow model on the JAX weights
    assert min(abs(trials["val_mae"] / rescored - 1)) < 1e-3
    forecast = pd.read_csv(io.StringIO(cli("predict", str(run / "export"),
                                           str(airline_csv)).stdout))
    assert len(forecast) == 12 and forecast.select_dtypes("number").notna().all().all()


_MAPPED = """
import ctypes
from autoseq.searching._allocator import freed_memory_kept
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena ordblks smblks hblks hblkhd usmblks "
                                                "fsmblks uordblks fordblks keepcost").split()]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
def mapped():
    before = libc.mallinfo2().hblkhd
    block = libc.malloc(64 << 20)
    out = libc.mallinfo2().hblkhd - before >= 64 << 20
    libc.free(ctypes.c_void_p(block))
    return out
with freed_memory_kept() as told:
    inside = mapped()
small = []
for _ in range(2):  # after: an 8 MiB block comes from the heap once one was freed
    before = libc.mallinfo2().hblkhd
    block = libc.malloc(8 << 20)
    small.append(libc.mallinfo2().hblkhd > before)
    libc.free(ctypes.c_void_p(block))
print(told, inside, mapped(), small[-1])
"""


def _has_mallinfo2() -> bool:
    import ctypes
    import platform

    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    return hasattr(ctypes.CDLL("libc.so.6"), "mallinfo2")  # glibc 2.33 and later


@pytest.mark.skipif(not _has_mallinfo2(), reason="glibc 2.33 or later only")
def test_trials_on_jax_keep_the_memory_their_steps_free_then_hand_it_back():
    """``freed_memory_kept``: inside, a 64 MiB block (an XLA step's scratch) comes from the
    heap, not a fresh ``mmap``; after, glibc maps it again but serves 8 MiB from the heap (its
    thresholds are not left at their 128 KiB floor); a user's own setting wins."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    for env, expected in ((clean | {"MALLOC_ARENA_MAX": "4"}, "True False True False"),
                          (clean | {"MALLOC_TOP_PAD_": "131072"}, "False True True True")):
        out = subprocess.run([sys.executable, "-c", _MAPPED], env=env, capture_output=True,
                             text=True, check=True).stdout.strip()
        assert out == expected, (env, out)
