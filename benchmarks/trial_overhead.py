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


class _Fixed:
    """A suggester for a space of constants (never asked), and a reporter that never prunes."""

    def report(self, value: float, epoch: int) -> bool:
        return False


def _data():
    from autoseq.data import ForecastData, load_series

    series = load_series(common.EXAMPLES / "sunspots_monthly.csv", targets=["sunspots"])
    return ForecastData(series, horizon=HORIZON)


def _windows(data, part: str, lookback: int):
    import numpy as np

    o = data.origins(part, lookback)
    x = data.scaled[o[:, None] + np.arange(-lookback, 0)[None, :]]
    y = data.scaled[:, data.target_idx][o[:, None] + np.arange(data.horizon)[None, :]]
    return x, y


def _autoseq_trial(data, epochs: int, out: Path):
    from autoseq._objective import TrialSettings, run_trial
    from autoseq.space import Fixed, SearchSpace

    space = SearchSpace([Fixed(k, v) for k, v in CONFIG.items()], name="bench")
    settings = TrialSettings(max_epochs=epochs, patience=epochs + 1, seed=0)
    counter = [0]

    def trial():
        counter[0] += 1
        result = run_trial(_Fixed(), _Fixed(), number=counter[0], data=data, space=space,
                           settings=settings, trial_dir=out / f"{counter[0]:05d}")
        assert result.state == "complete" and result.epochs == epochs, result
        return result

    return trial


def _keras_by_hand(data, epochs: int):
    """The hand-written reference: what a Keras user writes for the same model and windows."""
    import keras

    lookback, batch = CONFIG["lookback"], CONFIG["batch_size"]
    x, y = _windows(data, "train", lookback)
    xv, yv = _windows(data, "val", lookback)

    def fit():
        model = keras.Sequential([
            keras.Input((lookback, data.n_inputs)),
            keras.layers.LSTM(CONFIG["units"]),
            keras.layers.Dense(data.horizon * data.n_targets),
            keras.layers.Reshape((data.horizon, data.n_targets)),
        ])
        model.compile(optimizer=keras.optimizers.Adam(CONFIG["learning_rate"]), loss="mse",
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


def run(*, repeats: int = 5, epochs: int = 8, profile: bool = True) -> dict[str, Any]:
    """Measure the ratio of an autoseq trial's wall time to a hand-written Keras fit."""
    common.quiet_tensorflow()
    from autoseq._objective import frozen_survivors

    report = common.Report("trial_overhead", "Trial overhead")
    data = _data()
    with tempfile.TemporaryDirectory(prefix="autoseq-bench-") as tmp, frozen_survivors():
        # search() runs its trials inside frozen_survivors(); so do both candidates here.
        trial = _autoseq_trial(data, epochs, Path(tmp))
        reference, setup = _keras_by_hand(data, epochs)
        t = common.interleaved({"autoseq": trial, "keras": reference}, repeats=repeats,
                               setup={"keras": setup})
        breakdown = _profile(trial) if profile else []
    times = t.wall
    ratios = common.paired_ratios(times["autoseq"], times["keras"])
    cpu_ratios = common.paired_ratios(t.cpu["autoseq"], t.cpu["keras"])
    ratio = common.median(ratios)
    n_train = len(data.origins("train", CONFIG["lookback"]))
    report.add("autoseq trial", common.median(times["autoseq"]), "s",
               detail=f"median of {repeats}")
    report.add("hand-written Keras fit", common.median(times["keras"]), "s",
               detail=f"median of {repeats}")
    report.add("ratio autoseq / Keras", ratio, "", goal=f"≤ {GOAL:.2f}", met=ratio <= GOAL,
               detail="median of paired ratios: " + ", ".join(f"{r:.3f}" for r in ratios))
    report.add("ratio of CPU time autoseq / Keras", common.median(cpu_ratios), "",
               detail="process CPU seconds, less sensitive to other load on the machine")
    report.note(f"sunspots_monthly.csv, horizon {HORIZON}, 1-layer LSTM(32), lookback "
                f"{CONFIG['lookback']}, batch {CONFIG['batch_size']}, {epochs} epochs, "
                f"{n_train} training windows; warm-up round not counted")
    if breakdown:
        total = breakdown[0][1] or 1.0
        parts = "; ".join(f"{k} {v:.2f} s ({v / total:.0%})" for k, v in breakdown)
        report.note(f"profile of one trial (cProfile, inflates small calls): {parts}")
        report.extra["profile"] = breakdown
    report.extra["times"] = {"wall": t.wall, "cpu": t.cpu}
    return report.to_dict()


if __name__ == "__main__":
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--no-profile", action="store_true")
    a = p.parse_args()
    repeats = a.repeats or (3 if a.quick else 5)
    common.main("Trial overhead", run, a, repeats=repeats, epochs=a.epochs,
                profile=not a.no_profile)
