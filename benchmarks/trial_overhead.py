"""Trial overhead: one autoseq trial vs a hand-written Keras ``fit`` of the same model.

Both train the same LSTM (GRU) on the same windows for the same epochs, in the same process, timed
in alternation; the figure is the median of the paired ratios. The reference is what a user
writes by hand: NumPy windows, ``Sequential`` model, ``fit(validation_data=...)`` (Keras's default:
not XLA-compiled on a CPU). The autoseq trial also scores the best epoch on validation, writes
its weights and history, and clears the session; it runs with the default ``--compile auto``,
which compiles the electricity trials (minutes of training) and not the tiny ones.
``--compare-search S`` also runs default searches of S seconds on the electricity example,
``--compile auto`` and ``off``, for each seed of ``--search-seeds`` (default 0), and counts the
trials each finished (both with the default ``--jobs auto``: JAX trials train in a worker per
core, TensorFlow ones in the search's process).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

try:
    from benchmarks import _common as common
except ModuleNotFoundError:  # run as a script: python benchmarks/trial_overhead.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import _common as common

GOAL = 1.10
COMPILED_GOAL = 0.55  # issue 20: twice the trials per CPU-hour, compile time included
CONFIG = {"cell": "lstm", "depth": 1, "units": 32, "bidirectional": False, "dropout": 0.0,
          "recurrent_dropout": 0.0, "clipping": "none", "learning_rate": 1e-3, "lookback": 48,
          "batch_size": 32, "anchor": "none"}


@dataclass(frozen=True)
class Case:
    file: str
    target: str
    horizon: int
    epochs: int
    models: tuple[tuple[str, int], ...]  # (cell, lookback)
    batch_size: int = 32
    goal: float = GOAL
    warmup: int = 1  # untimed rounds first; minute-long trials need none after the tiny cases
    max_repeats: int = 99


CASES = {
    "sunspots": Case("sunspots_monthly.csv", "sunspots", 12, 8, (("lstm", 48),)),
    "airline": Case("airline.csv", "passengers", 12, 20, (("lstm", 12),)),
    "electricity": Case("electricity_halfhourly.csv", "demand_mw", 48, 20,
                        (("gru", 96), ("gru", 336), ("lstm", 96), ("lstm", 336)),
                        batch_size=64, goal=COMPILED_GOAL, warmup=0, max_repeats=3),
}


class _Fixed:
    """A suggester for a space of constants (never asked), and a reporter that never prunes."""

    def report(self, value: float, epoch: int) -> bool:
        return False


def _data(case: str):
    from autoseq.data import ForecastData, load_series

    c = CASES[case]
    return ForecastData(load_series(common.EXAMPLES / c.file, targets=[c.target]),
                        horizon=c.horizon)


def _windows(data, part: str, lookback: int):
    import numpy as np

    o = data.origins(part, lookback)
    x = data.scaled[o[:, None] + np.arange(-lookback, 0)[None, :]]
    y = data.scaled[:, data.target_idx][o[:, None] + np.arange(data.horizon)[None, :]]
    return x, y


def _fixed_space(config: dict):
    """A search space of one configuration."""
    from autoseq.space import Fixed, SearchSpace

    return SearchSpace([Fixed(k, v) for k, v in config.items()], name="bench")


def _autoseq_trial(data, config: dict, epochs: int, out: Path):
    from autoseq.trial._objective import TrialSettings, run_trial

    space = _fixed_space(config)
    settings = TrialSettings(max_epochs=epochs, patience=epochs + 1, seed=0)
    counter = [0]

    def trial():
        counter[0] += 1
        result = run_trial(_Fixed(), _Fixed(), number=counter[0], data=data, space=space,
                           settings=settings, trial_dir=out / f"{counter[0]:05d}")
        assert result.state == "complete" and result.epochs == epochs, result
        trial.last = result
        return result

    return trial


def _keras_by_hand(data, config: dict, epochs: int):
    """The hand-written reference: what a Keras user writes for the same model and windows."""
    import keras

    lookback, batch = config["lookback"], config["batch_size"]
    x, y = _windows(data, "train", lookback)
    xv, yv = _windows(data, "val", lookback)

    def fit():
        model = keras.Sequential([
            keras.Input((lookback, data.n_inputs)),
            {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[config["cell"]](config["units"]),
            keras.layers.Dense(data.horizon * data.n_targets),
            keras.layers.Reshape((data.horizon, data.n_targets)),
        ])
        model.compile(optimizer=keras.optimizers.Adam(config["learning_rate"]), loss="mse",
                      metrics=["mae"])
        model.fit(x, y, batch_size=batch, epochs=epochs, validation_data=(xv, yv), shuffle=True,
                  verbose=0)
        return model

    def setup():
        keras.backend.clear_session()  # untimed: a user fitting one model does not clear
        keras.utils.set_random_seed(0)

    return fit, setup


def _profile(trial) -> list[tuple[str, float]]:
    """Seconds spent in the parts of one trial that are not the training loop itself."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    trial()
    prof.disable()
    stats = pstats.Stats(prof)
    wanted = {
        "fit": ("trainer.py", "fit"),
        "evaluate (validation, in fit)": ("trainer.py", "evaluate"),
        "predict (best epoch on val)": ("trainer.py", "predict"),
        "on_train_batch_end (NaN check)": ("_objective.py", "on_train_batch_end"),
        "on_epoch_end (best weights, pruning)": ("_objective.py", "on_epoch_end"),
        "save_weights": ("model.py", "save_weights"),
        "clear_session": ("global_state.py", "clear_session"),
        "gc.collect": ("~", "<built-in method gc.collect>"),
        "build_model": ("builder.py", "build_model"),
        "dataset (tf.data setup)": ("_windows.py", "dataset"),
    }
    out = []
    total = max((v[3] for k, v in stats.stats.items() if k[2] == "run_trial"), default=0.0)
    out.append(("run_trial (total)", total))
    for label, (file, func) in wanted.items():
        cum = sum(v[3] for k, v in stats.stats.items() if k[0].endswith(file) and k[2] == func)
        out.append((label, cum))
    return out


def _case(case: str, repeats: int, profile: bool, report: common.Report) -> list[float]:
    c = CASES[case]
    data = _data(case)
    ratios = []
    for cell, lookback in c.models:
        name = case if len(c.models) == 1 else f"{case} {cell.upper()} lookback {lookback}"
        config = CONFIG | {"cell": cell, "lookback": lookback, "batch_size": c.batch_size}
        ratio, backend = _one(name, case, data, config, c, repeats=min(repeats, c.max_repeats),
                              profile=profile and len(c.models) == 1, report=report)
        ratios.append(ratio)
        if len(c.models) > 1:
            _compile_cost(name, case, data, config, backend, report)
    return ratios


def _one(name: str, case: str, data, config: dict, c: Case, *, repeats: int, profile: bool,
         report: common.Report) -> tuple[float, str]:
    """The case's median paired ratio, and the Keras backend the autoseq trials ran on."""
    from autoseq.searching._keras_backend import live_backend
    from autoseq.trial._objective import frozen_survivors

    epochs, lookback = c.epochs, config["lookback"]
    backend = _search_backend(data, config, epochs)
    with tempfile.TemporaryDirectory(prefix="autoseq-bench-") as tmp, frozen_survivors():
        # search() runs its trials inside frozen_survivors(); so do both candidates here.
        here = backend == live_backend()
        trial = (_autoseq_trial(data, config, epochs, Path(tmp)) if here
                 else _TrialProcess(case, config, epochs, backend))
        reference, setup = _keras_by_hand(data, config, epochs)
        try:
            t = common.interleaved({"autoseq": trial, "keras": reference}, repeats=repeats,
                                   setup={"keras": setup}, warmup=c.warmup)
            compiled = trial.last.compiled
            breakdown = _profile(trial) if profile and here else []
        finally:
            if not here:
                trial.close()
    ratios = common.paired_ratios(t.wall["autoseq"], t.wall["keras"])
    cpu_ratios = common.paired_ratios(t.cpu["autoseq"], t.cpu["keras"])
    ratio = common.median(ratios)
    n_train = len(data.origins("train", lookback))
    how = {(True, "jax"): "Keras's JAX backend, compiled (a child process, as a search picks "
                          "it; warmed by one 1-epoch trial)",
           (True, "tensorflow"): "TensorFlow, XLA-compiled",
           }.get((bool(compiled), backend), "TensorFlow, not compiled")
    what = (f"{c.file}: {config['cell'].upper()}({config['units']}), lookback {lookback}, batch "
            f"{config['batch_size']}, {epochs} epochs, {n_train:,} training windows; {how} "
            "(--compile auto)")
    report.add(f"{name}: autoseq trial", common.median(t.wall["autoseq"]), "s",
               detail=f"median of {repeats}; {what}")
    report.add(f"{name}: hand-written Keras fit", common.median(t.wall["keras"]), "s",
               detail=f"median of {repeats}")
    report.add(f"{name}: ratio autoseq / Keras", ratio, "", goal=f"≤ {c.goal:.2f}",
               met=ratio <= c.goal,
               detail=f"median of paired ratios (min {min(ratios):.3f}, max {max(ratios):.3f}): "
                      + ", ".join(f"{r:.3f}" for r in ratios))
    report.add(f"{name}: ratio of CPU time autoseq / Keras", common.median(cpu_ratios), "",
               detail="process CPU seconds, less sensitive to other load on the machine")
    if breakdown:
        total = breakdown[0][1] or 1.0
        parts = "; ".join(f"{k} {v:.2f} s ({v / total:.0%})" for k, v in breakdown)
        report.note(f"{name}: profile of one trial (cProfile, inflates small calls): {parts}")
    report.extra[name] = {"wall": t.wall, "cpu": t.cpu, "profile": breakdown,
                          "compiled": compiled, "backend": backend}
    return ratio, backend


def _search_backend(data, config: dict, epochs: int) -> str:
    """The Keras backend a search process would train this configuration on (``--compile
    auto``, this machine)."""
    from autoseq.searching._keras_backend import preferred_trial_backend
    from autoseq.tasks import FORECAST

    return preferred_trial_backend(compile="auto", task=FORECAST, data=data,
                                   space=_fixed_space(config),
                                   epochs=epochs, deterministic=False,
                                   precision="float32").name


_REPLY = "@@"  # the child's answers start with it: nothing else it prints is mistaken for one


class _TrialProcess:
    """autoseq trials run in a child process on another Keras backend, one per call: the
    backend is fixed per process, and a search on it trains its trials in such a process.
    The child runs one untimed 1-epoch trial first (a search's later trials find the backend's
    runtime started); every timed trial still builds and compiles its own model."""

    def __init__(self, case: str, config: dict, epochs: int, backend: str):
        import json
        import os
        import subprocess

        self.epochs = epochs
        spec = json.dumps({"case": case, "config": config, "epochs": epochs})
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", spec], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self._ask("ready")

    def _ask(self, command: str) -> dict:
        import json

        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            if line.startswith(_REPLY):
                return json.loads(line[len(_REPLY):])
        raise RuntimeError(f"the trial process ended (exit {self.proc.wait()})")

    def __call__(self):
        reply = self._ask("trial")
        assert reply["state"] == "complete" and reply["epochs"] == self.epochs, reply
        self.last = _Last(reply["compiled"])
        return common.Elsewhere(cpu=reply["cpu"])

    def first_step_costs(self) -> dict[bool, float]:
        return {k == "true": v for k, v in self._ask("first-step").items()}

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


@dataclass(frozen=True)
class _Last:
    compiled: bool


def _serve(spec: str) -> None:
    """The child of ``_TrialProcess``: answer ``ready``, ``trial`` and ``first-step`` lines."""
    import json
    import time

    from autoseq.searching._devices import device_setup
    from autoseq.trial._objective import frozen_survivors

    s = json.loads(spec)
    common.quiet_tensorflow()
    data = _data(s["case"])
    # as a search's worker trains its trials (``_WorkerLoop.run``)
    with (tempfile.TemporaryDirectory(prefix="autoseq-bench-") as tmp, frozen_survivors(),
          device_setup()):
        trial = _autoseq_trial(data, s["config"], s["epochs"], Path(tmp) / "timed")
        _autoseq_trial(data, s["config"], 1, Path(tmp) / "warm-up")()
        for line in sys.stdin:
            command = line.strip()
            if command == "trial":
                cpu0 = time.process_time()
                result = trial()
                reply = {"state": result.state, "epochs": result.epochs,
                         "compiled": result.compiled, "cpu": time.process_time() - cpu0}
            elif command == "first-step":
                reply = {str(k).lower(): v for k, v in _first_step_costs(data, s["config"]).items()}
            else:
                reply = {}
            print(_REPLY + json.dumps(reply), flush=True)


def _compile_cost(name: str, case: str, data, config: dict, backend: str,
                  report: common.Report) -> None:
    """What the first training and validation step cost over the second (tracing, and compiling
    with XLA), for the compiled and the plain model: the once-per-trial price of each path, on
    the backend the trials ran on."""
    from autoseq.searching._keras_backend import live_backend

    if backend == live_backend():
        first = _first_step_costs(data, config)
    else:
        child = _TrialProcess(case, config, 1, backend)
        try:
            first = child.first_step_costs()
        finally:
            child.close()
    if backend == "jax":  # uncompiled JAX runs op by op: its first step is no reference
        report.add(f"{name}: first-step cost, compiled", first[True], "s",
                   detail="Keras's JAX backend: the first train + validation step over the "
                          "second (tracing and jit compiling), once per trial")
        return
    report.add(f"{name}: first-step cost, compiled / plain", first[True], "s",
               detail=f"plain (tracing only) {first[False]:.2f} s; XLA adds "
                      f"{first[True] - first[False]:.2f} s per trial")


def _first_step_costs(data, config: dict) -> dict[bool, float]:
    """Seconds the first train + validation step takes over the second, compiled and (not on
    JAX, where the uncompiled step runs op by op and is no reference) plain."""
    import keras

    from autoseq.model._builder import ModelContext, build_model

    x, y = _windows(data, "train", config["lookback"])
    xv, yv = _windows(data, "val", config["lookback"])
    xb, yb = x[: config["batch_size"]], y[: config["batch_size"]]
    ctx = ModelContext(lookback=config["lookback"], n_inputs=data.n_inputs, horizon=data.horizon,
                       n_targets=data.n_targets)
    first = {}
    for jit in (True,) if keras.backend.backend() == "jax" else (True, False):
        keras.backend.clear_session()
        model = build_model(config, ctx, jit_compile=jit)

        def step(model=model):
            model.train_on_batch(xb, yb)
            model.test_on_batch(xv, yv)

        once, _ = common.timed(step)
        again, _ = common.timed(step)
        first[jit] = once - again
    return first


def _search_loop(trials: int, report: common.Report) -> None:
    """A whole ``search()`` of ``trials`` trials against a loop of as many hand-written fits."""
    import autoseq

    c = CASES["airline"]
    file, target, epochs = c.file, c.target, c.epochs
    config = CONFIG | {"lookback": c.models[0][1]}
    space = _fixed_space(config)
    reference, setup = _keras_by_hand(_data("airline"), config, epochs)

    def loop():
        for _ in range(trials):
            setup()
            reference()

    with tempfile.TemporaryDirectory(prefix="autoseq-bench-") as tmp:
        runs = iter(range(100))

        def search():
            autoseq.search(common.EXAMPLES / file, target=target, horizon=c.horizon, space=space,
                           trials=trials, max_epochs=epochs, patience=epochs, report=False,
                           out=Path(tmp) / str(next(runs)))

        t = common.interleaved({"search": search, "loop": loop}, repeats=1, warmup=0)
    ratio = t.wall["search"][0] / t.wall["loop"][0]
    report.add(f"airline: search() of {trials} trials / {trials} hand-written fits", ratio, "",
               detail=f"{t.wall['search'][0]:.1f} s vs {t.wall['loop'][0]:.1f} s; the search "
                      "also reads and checks the CSV, scores baselines, keeps the study in "
                      "SQLite (every epoch, for pruning) and rewrites the leaderboard per trial")


def _compare_search(seconds: float, seeds: tuple[int, ...], report: common.Report) -> None:
    """Default searches of ``seconds`` on the electricity example, ``--compile auto`` then
    ``off``, for each seed: trials finished and best validation loss of each, and their totals
    over the seeds. Each is an ``autoseq search`` command of its own, so ``auto`` picks its
    Keras backend as a user's search does. One seed is one sampler path: past the warm start
    the two modes draw different configurations (the pruner sees different losses), so one
    big configuration drawn by one of them decides a single pair; several seeds average it."""
    import subprocess

    import pandas as pd

    c = CASES["electricity"]
    found: dict[str, list[tuple[int, int, float]]] = {"auto": [], "off": []}
    with tempfile.TemporaryDirectory(prefix="autoseq-bench-") as tmp:
        for seed in seeds:
            for mode in ("auto", "off"):
                out = Path(tmp) / f"{mode}-{seed}"
                subprocess.run([sys.executable, "-m", "autoseq.cli", "search",
                                str(common.EXAMPLES / c.file), "--target", c.target,
                                "--horizon", str(c.horizon), "--test-size", "336",
                                "--trials", "10000", "--timeout", str(seconds),
                                "--seed", str(seed), "--compile", mode, "--no-stat-baselines",
                                "--no-report", "--quiet", "--out", str(out)],
                               check=True, stdout=subprocess.DEVNULL)
                board = pd.read_csv(out / "leaderboard.csv")
                trials = board[board["state"].isin(["complete", "pruned"])]
                found[mode].append((len(trials), int(trials["compiled"].eq(True).sum()),
                                    float(trials["val_loss"].min())))
                print(f"  seed {seed}, --compile {mode}: {found[mode][-1][0]} trials, best val "
                      f"loss {found[mode][-1][2]:.5f}", file=sys.stderr, flush=True)
    n_auto = sum(t[0] for t in found["auto"])
    n_off = sum(t[0] for t in found["off"])
    pairs = "; ".join(f"seed {s}: {a[0]} vs {o[0]} trials, best val loss {a[2]:.4f} vs "
                      f"{o[2]:.4f}" for s, a, o in zip(seeds, found["auto"], found["off"],
                                                             strict=True))
    report.add(f"electricity: trials in {len(seeds)} default search(es) of {seconds:g} s, "
               "--compile auto / off", n_auto / max(n_off, 1), "",
               detail=f"{n_auto} vs {n_off} trials in all ({pairs}); horizon 48, --test-size "
                      "336, no statistical baselines; run one after the other")
    report.extra["compare_search"] = {"seeds": list(seeds), **found}


def run(*, repeats: int = 5, cases: tuple[str, ...] = tuple(CASES), search_trials: int = 4,
        profile: bool = True, compare_search: float = 0,
        search_seeds: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """Measure the ratio of an autoseq trial's wall time to a hand-written Keras fit."""
    common.quiet_tensorflow()
    report = common.Report("trial_overhead", "Trial overhead")
    for case in cases:
        _case(case, repeats, profile, report)
    if search_trials:
        _search_loop(search_trials, report)
    if compare_search:
        _compare_search(compare_search, search_seeds, report)
    report.note("the same model, windows and epochs; both in one process, alternated, after "
                "one warm-up round; the reference validates with Keras' default batch size, "
                "autoseq with 512")
    return report.to_dict()


if __name__ == "__main__":
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int)
    p.add_argument("--case", action="append", choices=sorted(CASES),
                   help="dataset case (repeatable; default: all)")
    p.add_argument("--search-trials", type=int, help="trials of the whole-search figure (0: skip)")
    p.add_argument("--no-profile", action="store_true")
    p.add_argument("--epochs", type=int, help="epochs of the electricity trials (default 20)")
    p.add_argument("--compare-search", type=float, default=0, metavar="SECONDS",
                   help="also run electricity searches of SECONDS each, --compile auto/off")
    p.add_argument("--search-seeds", default="0", metavar="S1,S2,...",
                   help="seeds of the --compare-search pairs (default: 0)")
    p.add_argument("--serve", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.serve:
        _serve(a.serve)
        sys.exit(0)
    if a.epochs:
        CASES["electricity"] = replace(CASES["electricity"], epochs=a.epochs)
    repeats = a.repeats or (3 if a.quick else 5)
    search_trials = a.search_trials if a.search_trials is not None else (2 if a.quick else 4)
    common.main("Trial overhead", run, a, repeats=repeats, cases=tuple(a.case or CASES),
                search_trials=search_trials, profile=not a.no_profile,
                compare_search=a.compare_search,
                search_seeds=tuple(int(x) for x in a.search_seeds.split(",")))
