"""GPU: seconds per epoch, cuDNN-eligible vs recurrent-dropout LSTMs, mixed precision off/on, and
trials per hour of a search with one worker on one GPU.

The models come from autoseq's builder (2-layer LSTM, 128 units, lookback 96, 8 inputs, 50,000
synthetic windows, batch 256). ``recurrent_dropout > 0`` keeps Keras off the fused cuDNN kernel.
Prints "skipped: no GPU" where TensorFlow sees none. ``--cpu`` runs the same code on the CPU with
tiny sizes, only to check the script.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    from benchmarks import _common as common
except ModuleNotFoundError:  # run as a script: python benchmarks/gpu.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import _common as common

SIZES = {"gpu": {"windows": 50_000, "lookback": 96, "inputs": 8, "units": 128, "batch": 256,
                 "epochs": 3, "trials": 6},
         "cpu": {"windows": 512, "lookback": 16, "inputs": 2, "units": 8, "batch": 64,
                 "epochs": 2, "trials": 2}}


def _seconds_per_epoch(config: dict, size: dict, mixed: bool) -> float:
    import keras
    import numpy as np

    from autoseq.model._builder import ModelContext, build_model, resolve_config

    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    try:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(size["windows"], size["lookback"], size["inputs"])).astype("float32")
        y = rng.normal(size=(size["windows"], 12, 1)).astype("float32")
        cfg = resolve_config(config | {"units": size["units"], "depth": 2,
                                       "lookback": size["lookback"], "batch_size": size["batch"]},
                             builder="rnn", horizon=12, season=1, max_lookback=10**6)
        ctx = ModelContext(lookback=size["lookback"], n_inputs=size["inputs"], horizon=12,
                           n_targets=1)
        model = build_model(cfg, ctx)
        model.fit(x, y, batch_size=size["batch"], epochs=1, verbose=0)  # trace, warm up
        start = time.perf_counter()
        model.fit(x, y, batch_size=size["batch"], epochs=size["epochs"], verbose=0)
        return (time.perf_counter() - start) / size["epochs"]
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _trials_per_hour(size: dict) -> tuple[float, int]:
    import autoseq

    with tempfile.TemporaryDirectory(prefix="autoseq-bench-") as tmp:
        start = time.perf_counter()
        result = autoseq.search(common.EXAMPLES / "sunspots_monthly.csv", target="sunspots",
                                horizon=12, space="fast", trials=size["trials"], max_epochs=10,
                                out=Path(tmp) / "run", seed=0, report=False)
        seconds = time.perf_counter() - start
    done = int(result.leaderboard["state"].isin(["complete", "pruned"]).sum())
    return 3600.0 * done / seconds, done


def run(*, cpu: bool = False) -> dict[str, Any]:
    """Seconds per epoch on the GPU for each configuration, and search throughput."""
    common.quiet_tensorflow()
    import tensorflow as tf

    report = common.Report("gpu", "GPU")
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus and not cpu:
        report.skipped = "no GPU"
        print("  skipped: no GPU", flush=True)
        return report.to_dict()
    size = SIZES["cpu" if cpu else "gpu"]
    device = "CPU (script check only)" if cpu else \
        tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    base = {"cell": "lstm", "dropout": 0.0, "bidirectional": False}
    configs = {"cuDNN-eligible (recurrent_dropout 0)": base | {"recurrent_dropout": 0.0},
               "recurrent_dropout 0.1 (no cuDNN)": base | {"recurrent_dropout": 0.1}}
    times = {}
    for label, config in configs.items():
        for mixed in (False, True):
            s = _seconds_per_epoch(config, size, mixed)
            times[(label, mixed)] = s
            report.add(f"{label}, mixed precision {'on' if mixed else 'off'}", s, "s/epoch")
    eligible, dropout = list(configs)
    report.add("recurrent dropout cost (float32)",
               times[(dropout, False)] / times[(eligible, False)], "x slower")
    report.add("mixed precision speed-up (cuDNN-eligible)",
               times[(eligible, False)] / times[(eligible, True)], "x")
    per_hour, done = _trials_per_hour(size)
    report.add("search throughput, one worker on one GPU", per_hour, "trials/hour",
               detail=f"{done} trials of the 'fast' space on sunspots_monthly.csv, max 10 epochs")
    report.note(f"device: {device}; {size['windows']:,} windows x {size['lookback']} steps x "
                f"{size['inputs']} inputs, 2-layer LSTM({size['units']}), batch {size['batch']}")
    return report.to_dict()


if __name__ == "__main__":
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--cpu", action="store_true", help="run on the CPU with tiny sizes (a check)")
    a = p.parse_args()
    common.main("GPU", run, a, cpu=a.cpu)
