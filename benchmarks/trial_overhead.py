"""Trial overhead: one autoseq trial vs a hand-written Keras ``fit`` of the same model.

Both train the same LSTM on the same windows for the same epochs, in the same process, timed in
alternation; the figure is the median of the paired ratios. The reference is what a user writes
by hand: NumPy windows, ``Sequential`` model, ``fit(validation_data=...)``. The autoseq trial also
scores the best epoch on validation, writes its weights and history, and clears the session.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

try:
    from benchmarks import _common as common
except ModuleNotFoundError:  # run as a script: python benchmarks/trial_overhead.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import _common as common

GOAL = 1.10
CONFIG = {"cell": "lstm", "depth": 1, "units": 32, "bidirectional": False, "dropout": 0.0,
          "recurrent_dropout": 0.0, "clipping": "none", "learning_rate": 1e-3, "lookback": 48,
          "batch_size": 32, "anchor": "none"}
HORIZON = 12
CASES = {  # name: (file, target, lookback, epochs)
    "sunspots": ("sunspots_monthly.csv", "sunspots", 48, 8),
    "airline": ("airline.csv", "passengers", 12, 20),
}


class _Fixed:
    """A suggester for a space of constants (never asked), and a reporter that never prunes."""

    def report(self, value: float, epoch: int) -> bool:
        return False


def _data(case: str):
    from autoseq.data import ForecastData, load_series

    file, target, _, _ = CASES[case]
    return ForecastData(load_series(common.EXAMPLES / file, targets=[target]), horizon=HORIZON)


def _windows(data, part: str, lookback: int):
    import numpy as np

    o = data.origins(part, lookback)
    x = data.scaled[o[:, None] + np.arange(-lookback, 0)[None, :]]
    y = data.scaled[:, data.target_idx][o[:, None] + np.arange(data.horizon)[None, :]]
    return x, y


def _autoseq_trial(data, config: dict, epochs: int, out: Path):
    from autoseq._objective import TrialSettings, run_trial
    from autoseq.space import Fixed, SearchSpace

    space = SearchSpace([Fixed(k, v) for k, v in config.items()], name="bench")
    settings = TrialSettings(max_epochs=epochs, patience=epochs + 1, seed=0)
    counter = [0]

    def trial():
        counter[0] += 1
        result = run_trial(_Fixed(), _Fixed(), number=counter[0], data=data, space=space,
                           settings=settings, trial_dir=out / f"{counter[0]:05d}")
        assert result.state == "complete" and result.epochs == epochs, result
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
            keras.layers.LSTM(config["units"]),
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


def _case(case: str, repeats: int, profile: bool, report: common.Report) -> float:
    from autoseq._objective import frozen_survivors

    file, _, lookback, epochs = CASES[case]
    config = CONFIG | {"lookback": lookback}
    data = _data(case)
    with tempfile.TemporaryDirectory(prefix="autoseq-bench-") as tmp, frozen_survivors():
        # search() runs its trials inside frozen_survivors(); so do both candidates here.
        trial = _autoseq_trial(data, config, epochs, Path(tmp))
        reference, setup = _keras_by_hand(data, config, epochs)
        t = common.interleaved({"autoseq": trial, "keras": reference}, repeats=repeats,
                               setup={"keras": setup})
        breakdown = _profile(trial) if profile else []
    ratios = common.paired_ratios(t.wall["autoseq"], t.wall["keras"])
    cpu_ratios = common.paired_ratios(t.cpu["autoseq"], t.cpu["keras"])
    ratio = common.median(ratios)
    n_train = len(data.origins("train", lookback))
    what = (f"{file}: LSTM({config['units']}), lookback {lookback}, batch "
            f"{config['batch_size']}, {epochs} epochs, {n_train:,} training windows")
    report.add(f"{case}: autoseq trial", common.median(t.wall["autoseq"]), "s",
               detail=f"median of {repeats}; {what}")
    report.add(f"{case}: hand-written Keras fit", common.median(t.wall["keras"]), "s",
               detail=f"median of {repeats}")
    report.add(f"{case}: ratio autoseq / Keras", ratio, "", goal=f"≤ {GOAL:.2f}",
               met=ratio <= GOAL,
               detail="median of paired ratios: " + ", ".join(f"{r:.3f}" for r in ratios))
    report.add(f"{case}: ratio of CPU time autoseq / Keras", common.median(cpu_ratios), "",
               detail="process CPU seconds, less sensitive to other load on the machine")
    if breakdown:
        total = breakdown[0][1] or 1.0
        parts = "; ".join(f"{k} {v:.2f} s ({v / total:.0%})" for k, v in breakdown)
        report.note(f"{case}: profile of one trial (cProfile, inflates small calls): {parts}")
    report.extra[case] = {"wall": t.wall, "cpu": t.cpu, "profile": breakdown}
    return ratio


def _search_loop(trials: int, report: common.Report) -> None:
    """A whole ``search()`` of ``trials`` trials against a loop of as many hand-written fits."""
    import autoseq
    from autoseq.space import Fixed, SearchSpace

    file, target, lookback, epochs = CASES["airline"]
    config = CONFIG | {"lookback": lookback}
    space = SearchSpace([Fixed(k, v) for k, v in config.items()], name="bench")
    reference, setup = _keras_by_hand(_data("airline"), config, epochs)

    def loop():
        for _ in range(trials):
            setup()
            reference()

    with tempfile.TemporaryDirectory(prefix="autoseq-bench-") as tmp:
        runs = iter(range(100))

        def search():
            autoseq.search(common.EXAMPLES / file, target=target, horizon=HORIZON, space=space,
                           trials=trials, max_epochs=epochs, patience=epochs, report=False,
                           out=Path(tmp) / str(next(runs)))

        t = common.interleaved({"search": search, "loop": loop}, repeats=1, warmup=0)
    ratio = t.wall["search"][0] / t.wall["loop"][0]
    report.add(f"airline: search() of {trials} trials / {trials} hand-written fits", ratio, "",
               detail=f"{t.wall['search'][0]:.1f} s vs {t.wall['loop'][0]:.1f} s; the search "
                      "also reads and checks the CSV, scores baselines, keeps the study in "
                      "SQLite (every epoch, for pruning) and rewrites the leaderboard per trial")


def run(*, repeats: int = 5, cases: tuple[str, ...] = tuple(CASES), search_trials: int = 4,
        profile: bool = True) -> dict[str, Any]:
    """Measure the ratio of an autoseq trial's wall time to a hand-written Keras fit."""
    common.quiet_tensorflow()
    report = common.Report("trial_overhead", "Trial overhead")
    for case in cases:
        _case(case, repeats, profile, report)
    if search_trials:
        _search_loop(search_trials, report)
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
    a = p.parse_args()
    repeats = a.repeats or (3 if a.quick else 5)
    search_trials = a.search_trials if a.search_trials is not None else (2 if a.quick else 4)
    common.main("Trial overhead", run, a, repeats=repeats, cases=tuple(a.case or CASES),
                search_trials=search_trials, profile=not a.no_profile)
