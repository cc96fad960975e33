"""Search efficiency: best validation loss against wall time, autoseq vs random search vs KerasTuner.

Three searches get the same wall-clock budget on the same real series, for each of several seeds:

* (a) autoseq as shipped: default space, TPE sampler, median pruning;
* (b) autoseq with random sampling and no pruning (same space, same trials);
* (c) KerasTuner ``RandomSearch`` over a typical hand-written LSTM/GRU hypermodel (plain
  keras_tuner code: cell, 1-2 layers, units, dropout, learning rate; a fixed lookback of one
  season), trained on autoseq's windows with early stopping like autoseq's trials.

Every search is scored on the same validation windows (autoseq's ``ForecastData`` validation
origins), in scaled MSE, so the losses compare. Only trials that *finished* inside the budget
count. Each search runs in its own fresh process (the clock starts once TensorFlow is imported);
the order of the three is rotated from seed to seed so that a busy spell of a shared machine does
not always hit the same one.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    from benchmarks import _common as common
except ModuleNotFoundError:  # run as a script: python benchmarks/search_efficiency.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import _common as common

DATASETS = {  # name: (file, target, horizon)
    "airline": ("airline.csv", "passengers", 12),
    "sunspots": ("sunspots_monthly.csv", "sunspots", 12),
    "uschange": ("uschange.csv", "Consumption", 8),
}
METHODS = {
    "a": "autoseq default (TPE + median pruning)",
    "b": "autoseq random search, no pruning",
    "c": "KerasTuner RandomSearch, hand-written hypermodel",
}
MAX_EPOCHS, PATIENCE = 20, 5
GOAL = 0.5


def _dataset(name: str) -> tuple[Path, str, int]:
    file, target, horizon = DATASETS[name]
    path = common.ROOT / "examples" / file
    if not path.exists():
        path = common.ROOT.parent / "shared" / "datasets" / file
    return path, target, horizon


# -- children: one search each -----------------------------------------------------------------
def _quiet() -> None:
    import logging
    import warnings

    common.quiet_tensorflow()
    logging.getLogger("autoseq").setLevel(logging.ERROR)  # "search stopped early: timeout"
    warnings.filterwarnings("ignore", category=UserWarning, module="keras")


def _child_autoseq(method: str, dataset: str, seed: int, budget: float, out: Path) -> dict:
    _quiet()
    import autoseq

    csv, target, horizon = _dataset(dataset)
    trials: list[tuple[float, float]] = []
    start = time.monotonic()

    def on_event(event: dict) -> None:
        if event["kind"] == "trial" and event["record"].state in ("complete", "pruned"):
            trials.append((time.monotonic() - start, float(event["record"].val_loss)))

    kwargs = {"algorithm": "tpe", "pruner": "median"} if method == "a" else \
        {"algorithm": "random", "pruner": "none"}
    result = autoseq.search(csv, target=target, horizon=horizon, space="default",
                            trials=100_000, timeout=budget, max_epochs=MAX_EPOCHS,
                            patience=PATIENCE, out=out, seed=seed, report=False,
                            on_event=on_event, **kwargs)
    baseline = min(b.loss for b in result.baselines)
    return {"trials": trials, "wall": time.monotonic() - start, "baseline": baseline}


def _child_kerastuner(dataset: str, seed: int, budget: float, out: Path) -> dict:
    _quiet()
    import keras
    import keras_tuner

    from autoseq.data import ForecastData, load_series

    csv, target, horizon = _dataset(dataset)
    start = time.monotonic()
    data = ForecastData(load_series(csv, targets=[target]), horizon=horizon)
    lookback = data.main_season if data.main_season > 1 else 2 * horizon
    keras.utils.set_random_seed(seed)
    train = data.dataset("train", lookback=lookback, batch_size=32, shuffle=True, seed=seed)
    val = data.dataset("val", lookback=lookback, batch_size=512)

    # --- what a user writes -------------------------------------------------------------------
    def build_model(hp):
        cell = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[
            hp.Choice("cell", ["lstm", "gru"])]
        layers = hp.Int("layers", 1, 2)
        model = keras.Sequential([keras.Input((lookback, data.n_inputs))])
        for i in range(layers):
            model.add(cell(hp.Int(f"units_{i}", 16, 128, step=16),
                           return_sequences=i < layers - 1))
            model.add(keras.layers.Dropout(hp.Float(f"dropout_{i}", 0.0, 0.3, step=0.1)))
        model.add(keras.layers.Dense(horizon * data.n_targets))
        model.add(keras.layers.Reshape((horizon, data.n_targets)))
        lr = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
        model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")
        return model

    tuner = keras_tuner.RandomSearch(build_model, objective="val_loss", max_trials=100_000,
                                     seed=seed, directory=str(out), project_name="kt",
                                     overwrite=True)
    # --- the benchmark's clock: stop at the budget, note when each trial's result is known ---
    trials: list[tuple[float, float]] = []

    class Clock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.best = math.inf

        def on_epoch_end(self, epoch, logs=None):
            self.best = min(self.best, float((logs or {}).get("val_loss", math.inf)))
            if time.monotonic() - start > budget:
                self.model.stop_training = True
                tuner.oracle.max_trials = len(tuner.oracle.trials)  # start no other trial

        def on_train_end(self, logs=None):
            if math.isfinite(self.best):
                trials.append((time.monotonic() - start, self.best))

    tuner.search(train, validation_data=val, epochs=MAX_EPOCHS, verbose=0, callbacks=[
        keras.callbacks.EarlyStopping(patience=PATIENCE, restore_best_weights=True), Clock()])
    return {"trials": trials, "wall": time.monotonic() - start, "lookback": lookback}


# -- analysis ------------------------------------------------------------------------------------
def best_at(trials: list[list[float]], t: float) -> float:
    """Best loss among the trials that finished by time ``t`` (inf if none had)."""
    return min((loss for end, loss in trials if end <= t), default=math.inf)


def time_to_reach(trials: list[list[float]], target: float, budget: float) -> float:
    """When the best-so-far first got to ``target`` or below (inf if not within ``budget``)."""
    for end, _ in sorted(trials):
        if end > budget:
            break
        if best_at(trials, end) <= target:
            return end
    return math.inf


def _finite_median(values: list[float]) -> float:
    return common.median(values) if values else math.inf


def summarise(runs: dict[str, dict[int, dict]], budget: float, report: common.Report) -> None:
    """Add the figures: final bests, the curve, time for (a) to reach (c)'s final best."""
    seeds = sorted(runs["c"])
    for m, label in METHODS.items():
        finals = [best_at(runs[m][s]["trials"], budget) for s in seeds]
        counts = [sum(end <= budget for end, _ in runs[m][s]["trials"]) for s in seeds]
        report.add(f"({m}) {label}: best val loss", common.median(finals), "(scaled MSE)",
                   detail="per seed: " + ", ".join(f"{v:.4g}" for v in finals)
                   + f"; trials finished in budget: {', '.join(map(str, counts))}")
    fractions = (0.1, 0.25, 0.5, 0.75, 1.0)
    curve = {m: [common.median([best_at(runs[m][s]["trials"], f * budget) for s in seeds])
                 for f in fractions] for m in METHODS}
    report.extra["curve"] = {"fractions": fractions, **curve}
    header = " | ".join(f"{f * budget:.0f} s" for f in fractions)
    report.note(f"median best val loss by wall time ({header}): " + "; ".join(
        f"({m}) " + ", ".join(f"{v:.4g}" for v in curve[m]) for m in METHODS))
    reach, own, ratios_budget, ratios_own = [], [], [], []
    for s in seeds:
        c_trials = runs["c"][s]["trials"]
        target = best_at(c_trials, budget)
        t_c = time_to_reach(c_trials, target, budget)
        t_a = time_to_reach(runs["a"][s]["trials"], target, budget)
        reach.append(t_a)
        own.append(t_c)
        ratios_budget.append(t_a / budget)
        ratios_own.append(t_a / t_c if math.isfinite(t_c) else math.inf)
    per_seed = ", ".join("not reached" if not math.isfinite(t) else f"{t:.0f} s" for t in reach)
    r_budget = _finite_median(ratios_budget)
    report.add("time for (a) to reach (c)'s final best / wall budget", r_budget, "",
               goal=f"≤ {GOAL}", met=r_budget <= GOAL,
               detail=f"per seed: {per_seed} of {budget:.0f} s")
    r_own = _finite_median(ratios_own)
    report.add("time for (a) to reach (c)'s final best / time (c) took to find it", r_own, "",
               detail="stricter reading of the goal; (c) found its best at "
                      + ", ".join(f"{t:.0f} s" for t in own))
    baseline = runs["a"][seeds[0]].get("baseline")
    if baseline is not None:
        report.note(f"best baseline (seasonal naive or naive) on the same windows: "
                    f"{baseline:.4g}")


def _in_child(kind: str, **kwargs: Any) -> dict:
    with tempfile.TemporaryDirectory(prefix="autoseq-bench-") as tmp:
        out = Path(tmp) / "out.json"
        args = [sys.executable, __file__, "--child", kind, "--out-json", str(out)]
        for k, v in kwargs.items():
            args += [f"--{k.replace('_', '-')}", str(v)]
        subprocess.run(args, check=True)
        return json.loads(out.read_text())


def run(*, budget: float = 60.0, seeds: int = 3, dataset: str = "airline") -> dict[str, Any]:
    """Run the three searches for each seed and compare them."""
    report = common.Report("search_efficiency", "Search efficiency")
    csv, target, horizon = _dataset(dataset)
    runs: dict[str, dict[int, dict]] = {m: {} for m in METHODS}
    work = common.WORK / "search"
    order = list(METHODS)
    for seed in range(seeds):
        for m in order[seed % 3:] + order[:seed % 3]:
            out = work / f"{m}-seed{seed}"
            shutil.rmtree(out, ignore_errors=True)
            runs[m][seed] = _in_child(m, dataset=dataset, seed=seed, budget=budget, out=out)
            n = sum(end <= budget for end, _ in runs[m][seed]["trials"])
            print(f"  seed {seed} ({m}): {n} trials in {budget:.0f} s, best "
                  f"{best_at(runs[m][seed]['trials'], budget):.4g}", flush=True)
    lookback = runs["c"][0].get("lookback")
    report.note(f"{csv.name}, target {target}, horizon {horizon}; budget {budget:.0f} s per "
                f"search, seeds 0-{seeds - 1}; max {MAX_EPOCHS} epochs, patience {PATIENCE}; "
                f"(a), (b): space 'default'; (c): lookback {lookback}, batch 32")
    summarise(runs, budget, report)
    report.extra["runs"] = runs
    return report.to_dict()


def _child_main(argv: list[str]) -> None:
    import argparse

    p = argparse.ArgumentParser()
    p.add_argument("--child", required=True, choices=list(METHODS))
    p.add_argument("--out-json", type=Path, required=True)
    p.add_argument("--dataset", default="airline")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget", type=float, default=60.0)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args(argv)
    if a.child == "c":
        result = _child_kerastuner(a.dataset, a.seed, a.budget, a.out)
    else:
        result = _child_autoseq(a.child, a.dataset, a.seed, a.budget, a.out)
    a.out_json.write_text(json.dumps(result))


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child_main(sys.argv[1:])
    else:
        p = common.parser(__doc__.splitlines()[0])
        p.add_argument("--budget", type=float, help="seconds per search (default 60; quick 20)")
        p.add_argument("--seeds", type=int, help="seeds per method (default 3; quick 1)")
        p.add_argument("--dataset", default="airline", choices=sorted(DATASETS))
        a = p.parse_args()
        common.main("Search efficiency", run, a, budget=a.budget or (20.0 if a.quick else 60.0),
                    seeds=a.seeds or (1 if a.quick else 3), dataset=a.dataset)
