"""Forecasting suite: autoseq's default search against seasonal naive and refitted MSTL models
on every test origin of a set of public series (issue 15, "Forecasts that hold on any series").

For each dataset: ``autoseq search`` with the default space and settings (target alone, seed 0,
``--timeout BUDGET``), ``autoseq export`` with its defaults, then on the test windows that export
scores (every origin whose first forecast step lies in the test part and whose horizon fits):

* the exported model's test MAE (the manifest's ``metrics.test``, every test origin);
* seasonal naive with the main season;
* MSTL (the dataset's seasons) + AutoETS and + AutoARIMA, **refitted at each origin** on all the
  history before it (AutoETS / AutoARIMA alone, said in a note, when no season fits twice).

Refitting costs about 1–2 s per origin and model on long series, so ``--stat-every N`` scores the
statistical models on every N-th test origin; the exported model and seasonal naive are then
also scored on that subset (from ``autoseq predict --all-origins``) and every ratio against a
statistical model is taken on it. Finished searches are reused (``--fresh`` redoes them); the
statistical scores are cached per origin in ``<out>/stat_cache.json``.

    python benchmarks/forecast_suite.py                       # ten datasets, 900 s each (~6 h on 2 cores)
    python benchmarks/forecast_suite.py --quick --only airline --only uschange
    python benchmarks/forecast_suite.py --budget 300 --stat-every 4 --only electricity

Not part of ``make bench`` (too long). Writes the table into the "Forecasting suite" section of
``benchmarks/RESULTS.md`` (``--results``), leaving the rest of that file alone.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:
    from benchmarks import _common as common
except ModuleNotFoundError:  # run as a script: python benchmarks/forecast_suite.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import _common as common

SHARED = common.ROOT.parent / "shared" / "datasets"
DEFAULT_OUT = common.WORK / "suite"
SECTION = "## Forecasting suite"
STAT_KINDS = ("ets", "arima")
QUICK_BUDGET = 60.0
QUICK_STAT_EVERY = 12


@dataclass(frozen=True)
class Dataset:
    """One series of the suite and its protocol; ``prepare(folder)`` writes the CSV searched
    (time column and target only) and returns its path, or None when the source is missing."""

    name: str
    frequency: str
    target: str
    horizon: int
    test_size: int
    protocol: str
    prepare: Callable[[Path], Path | None]
    data_args: tuple[str, ...] = ()
    """Search options about reading the data that the file needs (never about the models)."""


def _source(file: str) -> Path | None:
    """``examples/FILE``, else the public datasets beside the checkout, else None."""
    for folder in (common.EXAMPLES, SHARED):
        if (folder / file).is_file():
            return folder / file
    return None


def _target_only(file: str, target: str) -> Callable[[Path], Path | None]:
    """Write the time column (the first) and ``target`` of ``file``: the statistical models are
    univariate, so autoseq gets no covariates either (the CLI has no flag for "none": with no
    ``--covariate`` every other numeric column would be one)."""
    def prepare(folder: Path) -> Path | None:
        src = _source(file)
        if src is None:
            return None
        frame = pd.read_csv(src)
        out = folder / f"{Path(file).stem}-{target}.csv"
        frame[[frame.columns[0], target]].to_csv(out, index=False)
        return out
    return prepare


def _m4_weekly(name: str | None, gaps: int = 0) -> Callable[[Path], Path | None]:
    """M4 weekly series ``name`` (``None``: the longest) followed by its 13 official test
    weeks; with ``gaps``, that many weeks (drawn with seed 0, none in the last 200) left out of
    the file, as missing rows."""
    def prepare(folder: Path) -> Path | None:
        train, test = SHARED / "m4_weekly_train.csv", SHARED / "m4_weekly_test.csv"
        if not (train.is_file() and test.is_file()):
            return None
        tr, te = pd.read_csv(train), pd.read_csv(test)
        series = name or tr.groupby("series").size().idxmax()
        frame = pd.concat([tr[tr.series == series], te[te.series == series]])
        frame = frame[["date", "value"]].reset_index(drop=True)
        if gaps:
            rng = np.random.default_rng(0)
            frame = frame.drop(index=rng.choice(np.arange(1, len(frame) - 200), gaps,
                                                replace=False))
        out = folder / f"m4_weekly_{series}{'_gaps' if gaps else ''}.csv"
        frame.to_csv(out, index=False)
        return out
    return prepare


WEEKLY_52 = "H=52, last 104 weeks as test: 53 origins (issue 15's held-out weekly shape)"

DATASETS: tuple[Dataset, ...] = (
    Dataset("airline", "monthly", "passengers", 12, 24,
            "last 24 months as test: 13 origins of 12 months", _target_only("airline.csv",
                                                                             "passengers")),
    Dataset("sunspots", "monthly", "sunspots", 24, 132,
            "last 132 months (one cycle) as test: 109 origins of 24 months",
            _target_only("sunspots_monthly.csv", "sunspots")),
    Dataset("uschange", "quarterly", "Consumption", 4, 8,
            "last 8 quarters as test: 5 origins of 4 quarters; Consumption alone",
            _target_only("uschange.csv", "Consumption")),
    Dataset("m4_weekly", "weekly", "value", 13, 52,
            "longest M4 weekly series + its 13 test weeks, last 52 weeks as test: 40 origins",
            _m4_weekly(None)),
    Dataset("bikeshare", "hourly", "bikers", 24, 672,
            "last 4 weeks of 2011 as test: 649 origins of 24 hours; bikers alone; `--max-gap 24` "
            "(the file misses 22 hours from 2011-01-26 18:00, beyond the default limit of 12)",
            _target_only("bikeshare_hourly_2011.csv", "bikers"), ("--max-gap", "24")),
    Dataset("electricity", "half-hourly", "demand_mw", 48, 336,
            "last week as test: 289 origins of 48 half-hours",
            _target_only("electricity_halfhourly.csv", "demand_mw")),
    Dataset("weekly52_W112_gaps", "weekly", "value", 52, 104,
            f"M4 weekly W112 (trending), 40 weeks left out as gaps; {WEEKLY_52}",
            _m4_weekly("W112", gaps=40)),
    Dataset("weekly52_W152", "weekly", "value", 52, 104, f"M4 weekly W152 (trending); {WEEKLY_52}",
            _m4_weekly("W152")),
    Dataset("weekly52_W183", "weekly", "value", 52, 104, f"M4 weekly W183 (trending); {WEEKLY_52}",
            _m4_weekly("W183")),
    Dataset("weekly52_W137", "weekly", "value", 52, 104, f"M4 weekly W137 (trending); {WEEKLY_52}",
            _m4_weekly("W137")),
)


# --- running autoseq through its CLI -------------------------------------------------------------

def _cli(args: Sequence[str], log: Path) -> tuple[int, float]:
    """``python -m autoseq.cli ARGS`` with this checkout first on the path: ``(rc, seconds)``."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([str(common.ROOT), os.environ.get("PYTHONPATH", "")]))
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log.open("w") as fh:
        rc = subprocess.run([sys.executable, "-m", "autoseq.cli", *args], cwd=common.ROOT, env=env,
                            stdout=fh, stderr=subprocess.STDOUT).returncode
    return rc, time.perf_counter() - start


def _search_and_export(ds: Dataset, csv: Path, run_dir: Path, *, budget: float, fresh: bool,
                       report: bool, search_args: Sequence[str] = ()) -> dict[str, Any]:
    """Search (unless a finished search with this budget and ``search_args`` is there) and
    export; the marker ``suite.json`` in the run folder records the search's budget, extra
    options, exit code and seconds."""
    marker = run_dir / "suite.json"
    logs = run_dir.parent / "logs"
    done = json.loads(marker.read_text()) if marker.is_file() and not fresh else None
    if done is not None and done.get("budget") != budget:
        print(f"  {ds.name}: run folder was searched with {done.get('budget')} s, not {budget} s: "
              "searching again", flush=True)
        done = None
    if done is not None and done.get("search_args", []) != list(search_args):
        print(f"  {ds.name}: run folder was searched with {done.get('search_args', [])}, not "
              f"{list(search_args)}: searching again", flush=True)
        done = None
    if done is None:
        shutil.rmtree(run_dir, ignore_errors=True)
        no_report = [] if report else ["--no-report"]
        rc, seconds = _cli(["search", str(csv), "--target", ds.target, "--horizon",
                            str(ds.horizon), "--test-size", str(ds.test_size), "--timeout",
                            f"{budget:g}", "--out", str(run_dir), "--seed", "0", *no_report,
                            *ds.data_args, *search_args],
                           logs / f"{ds.name}-search.log")
        done = {"budget": budget, "search_args": list(search_args), "search_rc": rc, "search_seconds": seconds,
                "search_load": round(os.getloadavg()[0], 1)}  # fewer trials on a busy machine
        if run_dir.is_dir():
            marker.write_text(json.dumps(done))
    manifest = run_dir / "export" / "autoseq.json"
    # an export written before exports were refitted by default is not the default's
    stale = manifest.is_file() and not json.loads(manifest.read_text()).get("refit")
    if done["search_rc"] == 0 and (done.get("export_rc") != 0 or not manifest.is_file() or stale):
        rc, seconds = _cli(["export", str(run_dir), *([] if report else ["--no-report"])],
                           logs / f"{ds.name}-export.log")
        done |= {"export_rc": rc, "export_seconds": seconds}
        marker.write_text(json.dumps(done))
    return done


def _trials(run_dir: Path) -> tuple[int, int]:
    """Complete and pruned trials of the run's leaderboard."""
    board = run_dir / "leaderboard.csv"
    if not board.is_file():
        return 0, 0
    states = pd.read_csv(board).query("trial == trial")["state"]
    return int((states == "complete").sum()), int((states == "pruned").sum())


def _model_origin_maes(run_dir: Path, csv: Path, fdata, origins: np.ndarray) -> dict[int, float]:
    """The exported model's MAE at each of ``origins`` from ``autoseq predict --all-origins``
    (its ``origin`` column is the last observed step, the row before our origin)."""
    out = run_dir.parent / "predict" / f"{run_dir.name}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    rc, _ = _cli(["predict", str(run_dir / "export"), str(csv), "--all-origins", "--out",
                  str(out)], run_dir.parent / "logs" / f"{run_dir.name}-predict.log")
    if rc != 0:
        return {}
    pred = pd.read_csv(out, parse_dates=["origin"])
    target = fdata.series.targets[0]
    index = fdata.series.frame.index
    y = fdata.raw[:, fdata.target_idx[0]]
    by_origin = {k: g.sort_values("step")[target].to_numpy() for k, g in pred.groupby("origin")}
    maes = {}
    for o in origins:
        f = by_origin.get(index[o - 1])
        if f is not None and len(f) == fdata.horizon:
            maes[int(o)] = float(np.mean(np.abs(f - y[o:o + fdata.horizon])))
    return maes


# --- the references, scored here ---------------------------------------------------------------

def seasonal_naive_maes(y: np.ndarray, origins: np.ndarray, horizon: int,
                        season: int) -> dict[int, float]:
    """Seasonal naive's MAE at each origin: step h repeats the value ``m·(h // m + 1)`` steps
    before it (as ``autoseq.baselines`` forecasts it)."""
    h = np.arange(horizon)
    back = season * (h // season + 1)
    return {int(o): float(np.mean(np.abs(y[o + h - back] - y[o + h]))) for o in origins}


def stat_label(kind: str, seasons: Sequence[int]) -> str:
    trend = "AutoETS" if kind == "ets" else "AutoARIMA"
    return f"MSTL(m={','.join(map(str, seasons))}) + {trend}" if seasons else f"{trend} alone"


def stat_forecasts(y: np.ndarray, horizon: int, seasons: Sequence[int]) -> dict[str, np.ndarray]:
    """MSTL + AutoETS and MSTL + AutoARIMA fitted on all of ``y``, ``horizon`` steps ahead.

    The decomposition is done once and shared: ``MSTL.fit`` is the decomposition followed by the
    trend model's fit on trend + remainder, ``MSTL.predict`` the trend forecast plus each season's
    last cycle repeated — the same for both trend models.
    """
    from statsforecast.models import AutoARIMA, AutoETS

    trends = {"ets": AutoETS(model="ZZN") if seasons else AutoETS(), "arima": AutoARIMA()}
    seas = np.zeros(horizon)
    x = y.astype("float64")
    if seasons:
        from statsforecast.mstl import mstl

        parts = mstl(x=x, period=list(seasons))
        x = (parts["trend"] + parts["remainder"]).to_numpy()
        for m in seasons:
            comp = parts[f"seasonal{m}" if len(seasons) > 1 else "seasonal"].to_numpy()
            seas = seas + np.resize(comp[-m:], horizon)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kind, model in trends.items():
            try:
                out[kind] = model.fit(x).predict(horizon)["mean"] + seas
            except Exception:  # noqa: BLE001 - a failed fit is a missing score, not a crash
                out[kind] = np.full(horizon, np.nan)
    return out


class StatCache:
    """Per-origin MAEs of the statistical models, kept in a JSON file across runs."""

    def __init__(self, path: Path):
        self.path = path
        self.data: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}

    def scores(self, key: str, y: np.ndarray, origins: np.ndarray, horizon: int,
               seasons: Sequence[int]) -> tuple[dict[str, dict[int, float]], float]:
        """``({kind: {origin: mae}}, seconds the refits at ``origins`` took)``; refits only the
        origins not in the cache (the seconds are those of the refits, cached or not)."""
        entry = self.data.setdefault(key, {kind: {} for kind in STAT_KINDS})
        took = entry.setdefault("seconds", {})
        todo = [int(o) for o in origins if str(int(o)) not in entry["ets"]]
        start = time.perf_counter()
        for i, o in enumerate(todo):
            began = time.perf_counter()
            for kind, f in stat_forecasts(y[:o], horizon, seasons).items():
                entry[kind][str(o)] = float(np.mean(np.abs(f - y[o:o + horizon])))
            took[str(o)] = time.perf_counter() - began
            if (i + 1) % 10 == 0 or i + 1 == len(todo):
                print(f"    refitted at {i + 1} of {len(todo)} origins "
                      f"({time.perf_counter() - start:.0f} s)", flush=True)
                self.save()
        return ({kind: {int(o): entry[kind][str(int(o))] for o in origins}
                 for kind in STAT_KINDS}, sum(took.get(str(int(o)), 0.0) for o in origins))

    def save(self) -> None:
        from autoseq._io import write_json_atomic

        write_json_atomic(self.path, self.data)


def _mean(maes: dict[int, float], origins: np.ndarray) -> float | None:
    values = [maes[int(o)] for o in origins if int(o) in maes]
    return float(np.mean(values)) if len(values) == len(origins) else None


# --- one dataset ---------------------------------------------------------------------------------

def run_dataset(ds: Dataset, *, out: Path, budget: float, stat_every: int, fresh: bool,
                cache: StatCache, report_files: bool = False,
                search_args: Sequence[str] = ()) -> dict[str, Any] | str:
    """Search, export and score one dataset: its row, or why it was skipped."""
    from autoseq.run import open_run
    from autoseq.stat_baselines import usable_seasons

    start = time.perf_counter()
    (out / "data").mkdir(parents=True, exist_ok=True)
    csv = ds.prepare(out / "data")
    if csv is None:
        return f"{ds.name}: source file missing (examples/ or ../shared/datasets/)"
    run_dir = out / ds.name
    done = _search_and_export(ds, csv, run_dir, budget=budget, fresh=fresh, report=report_files,
                              search_args=search_args)
    if not (run_dir / "run.json").is_file():
        return f"{ds.name}: the search wrote no run folder (exit {done['search_rc']}; see logs/)"
    run = open_run(run_dir)
    fdata = run.data()
    y = fdata.raw[:, fdata.target_idx[0]].astype("float64")
    origins = fdata.origins("test")
    subset = origins[::stat_every]
    season = fdata.main_season
    snaive = seasonal_naive_maes(y, origins, ds.horizon, season)
    manifest_file = run_dir / "export" / "autoseq.json"
    model_all = model_sub = None
    notes = [f"seasonal naive with m={m} (not the main season): "
             f"{_f(_mean(seasonal_naive_maes(y, origins, ds.horizon, m), origins))}"
             for m in fdata.seasons if m != season and origins[0] >= m]
    if done.get("export_rc", 0) == 0 and manifest_file.is_file():
        test = json.loads(manifest_file.read_text())["metrics"]["test"]
        model_all = float(test["mae"])
        if test.get("windows") != len(origins):
            notes.append(f"export scored {test.get('windows')} windows, the suite {len(origins)}")
        model_sub = model_all
        if len(subset) < len(origins):
            maes = _model_origin_maes(run_dir, csv, fdata, origins)
            model_sub = _mean(maes, subset)
            backtest = _mean(maes, origins)
            if backtest is None or abs(backtest / model_all - 1) > 1e-3:
                notes.append(f"predict --all-origins gives test MAE {backtest} over "
                             f"{len(maes)} of {len(origins)} origins, the manifest {model_all:.4g}")
    seasons = usable_seasons(fdata, int(origins[0]))
    if not seasons:
        notes.append("no season fits twice in the history: AutoETS / AutoARIMA alone")
    key = (f"{ds.name}|{run.info['data']['fingerprint']}|H={ds.horizon}|test="
           f"{fdata.split.bounds('test')}|seasons={seasons}")
    stat, stat_seconds = cache.scores(key, y, subset, ds.horizon, seasons)
    stat_mae = {kind: _mean(stat[kind], subset) for kind in STAT_KINDS}
    valid = [v for v in stat_mae.values() if v is not None and math.isfinite(v)]
    best_stat = min(valid) if valid else None
    complete, pruned = _trials(run_dir)
    snaive_sub = _mean(snaive, subset)
    return {
        "dataset": ds.name, "frequency": ds.frequency, "horizon": ds.horizon,
        "origins": len(origins), "stat_origins": len(subset), "stat_every": stat_every,
        "season": season,
        "seasons": seasons, "snaive": _mean(snaive, origins), "snaive_sub": snaive_sub,
        "ets": stat_mae["ets"], "arima": stat_mae["arima"],
        "ets_label": stat_label("ets", seasons), "arima_label": stat_label("arima", seasons),
        "autoseq": model_all, "autoseq_sub": model_sub,
        "vs_stat": model_sub / best_stat if model_sub is not None and best_stat else None,
        "vs_snaive": model_all / _mean(snaive, origins) if model_all is not None else None,
        "trials": complete + pruned, "complete": complete, "pruned": pruned,
        "search_seconds": done.get("search_seconds"), "search_rc": done.get("search_rc"),
        "export_seconds": done.get("export_seconds"), "stat_seconds": stat_seconds,
        "scoring_seconds": time.perf_counter() - start, "protocol": ds.protocol, "notes": notes,
        "budget": budget, "search_args": list(search_args), "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": _commit(), "load": done.get("search_load", round(os.getloadavg()[0], 1)),
        "cores": common.machine()["cores_usable"],
    }


# --- the table ----------------------------------------------------------------------------------

COLUMNS = ("dataset", "frequency", "H", "test origins", "seasonal naive MAE", "MSTL+ETS",
           "MSTL+ARIMA", "autoseq export MAE", "autoseq / best statistical",
           "autoseq / seasonal naive", "trials finished", "search s")


def _f(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}g}"


def _on_subset(full: float | None, sub: float | None, row: dict[str, Any]) -> str:
    if row["stat_origins"] == row["origins"]:
        return _f(full)
    return f"{_f(full)} ({_f(sub)} on {row['stat_origins']})"


def table_row(row: dict[str, Any]) -> list[str]:
    origins = str(row["origins"]) if row["stat_origins"] == row["origins"] else (
        f"{row['origins']} (statistical: {row['stat_origins']}, 1 in {row['stat_every']})")
    search = row["search_seconds"]
    return [row["dataset"], row["frequency"], str(row["horizon"]), origins,
            f"{_on_subset(row['snaive'], row['snaive_sub'], row)} (m={row['season']})",
            _f(row["ets"]), _f(row["arima"]), _on_subset(row["autoseq"], row["autoseq_sub"], row),
            _f(row["vs_stat"], 3), _f(row["vs_snaive"], 3),
            f"{row['trials']} ({row['complete']} complete, {row['pruned']} pruned)",
            "n/a" if search is None else f"{search:.0f}"]


def summary(rows: Sequence[dict[str, Any]]) -> str:
    scored = [r for r in rows if r["vs_stat"] is not None]
    beats = sum(r["vs_stat"] < 1 for r in scored)
    worse = sum(r["vs_snaive"] is not None and r["vs_snaive"] > 1 for r in rows)
    return (f"autoseq beats the best statistical model on {beats} of {len(scored)} datasets and "
            f"is worse than seasonal naive on {worse} of {len(rows)}")


def _args(row: dict[str, Any]) -> str:
    """`` with `--folds 3` `` for a row searched with extra options, else nothing."""
    extra = row.get("search_args") or []
    return f" with `{shlex.join(extra)}`" if extra else ""


def markdown(rows: Sequence[dict[str, Any]], skipped: Sequence[str]) -> str:
    """The "Forecasting suite" section: the table, the summary and one note per dataset."""
    budgets = sorted({r["budget"] for r in rows})
    lines = [SECTION, "",
             "Written by `benchmarks/forecast_suite.py` (not run by `make bench`), the latest row "
             "of each dataset: autoseq's default search (seed 0, target alone, `--timeout` "
             f"{' / '.join(f'{b:g}' for b in budgets)} s: see each note), default export; MAE on "
             "the test windows export scores. The statistical models are refitted at each scored "
             "origin on all history before it; where they are scored on every N-th origin only, "
             "the figures in brackets are seasonal naive and autoseq on that same subset, and "
             "the ratio to the best statistical model is taken on it.",
             "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(table_row(r)) + " |" for r in rows]
    lines += ["", f"**{summary(rows)}.**", ""]
    for r in rows:
        extra = "".join(f"; {n}" for n in r["notes"])
        lines.append(f"- {r['dataset']}: {r['protocol']}; {r['ets_label']}, {r['arima_label']}; "
                     f"search budget {r['budget']:g} s{_args(r)}; wall: search {_f(r['search_seconds'], 3)} "
                     f"s, export {_f(r['export_seconds'], 3)} s, statistical refits "
                     f"{r['stat_seconds']:.0f} s; {r['measured']}, commit {r['commit']}, "
                     f"load average {r['load']} on {r['cores']} cores{extra}")
    lines += [f"- skipped: {s}" for s in skipped]
    return "\n".join(lines) + "\n"


def write_section(path: Path, text: str) -> None:
    """Replace the "Forecasting suite" section of ``path`` (or append it), keeping the rest."""
    old = path.read_text() if path.is_file() else "# Benchmark results\n"
    start = old.find(SECTION + "\n")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text + ("" if end < 0 else "\n" + old[end + 1:])
    from autoseq._io import write_text_atomic

    write_text_atomic(path, new)


def _latest_rows(path: Path, rows: Sequence[dict[str, Any]], *,
                 order: Sequence[str]) -> list[dict[str, Any]]:
    """Merge ``rows`` into the rows kept in ``path`` (one per dataset, the latest wins), so that
    a run of some datasets (``--only``) leaves the others' rows in the table."""
    from autoseq._io import write_json_atomic

    kept = json.loads(path.read_text()) if path.is_file() else {}
    kept |= {r["dataset"]: r for r in rows}
    write_json_atomic(path, kept)
    return [kept[name] for name in order if name in kept]


def _commit() -> str:
    proc = subprocess.run(["git", "-C", str(common.ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)
    return proc.stdout.strip() or "unknown"


def run(*, budget: float = 900.0, only: Sequence[str] = (), stat_every: int = 1,
        out: Path = DEFAULT_OUT, fresh: bool = False, results: Path | None = None,
        datasets: Sequence[Dataset] = DATASETS, report_files: bool = False,
        search_args: Sequence[str] = ()) -> dict[str, Any]:
    """Run the suite on ``datasets`` (or those named in ``only``); the report holds the rows.

    Args:
        budget: seconds of search per dataset (``--timeout``).
        only: dataset names to run (default: all).
        stat_every: score the statistical models on every N-th test origin.
        out: folder of the run folders, derived CSVs and the statistical cache.
        fresh: search again even where a finished search is there.
        results: write the table into this markdown file's "Forecasting suite" section.
        datasets: the suite's datasets (tests inject tiny ones).
        report_files: let search and export write their reports (off: they cost time).
        search_args: extra ``autoseq search`` options for every dataset (``--folds 3``), to
            measure a setting against the defaults; recorded in each row.
    """
    report = common.Report("forecast_suite", "Forecasting suite")
    unknown = set(only) - {d.name for d in datasets}
    if unknown:
        raise SystemExit(f"--only: unknown dataset(s) {', '.join(sorted(unknown))}; known: "
                         f"{', '.join(d.name for d in datasets)}")
    out.mkdir(parents=True, exist_ok=True)
    cache = StatCache(out / "stat_cache.json")
    rows, skipped = [], []
    for ds in datasets:
        if only and ds.name not in only:
            continue
        print(f"-- {ds.name} ({ds.protocol})", flush=True)
        row = run_dataset(ds, out=out, budget=budget, stat_every=max(1, stat_every),
                          fresh=fresh, cache=cache, report_files=report_files,
                          search_args=search_args)
        if isinstance(row, str):
            report.note(f"skipped {row}")
            skipped.append(row)
            continue
        rows.append(row)
        print("  | " + " | ".join(table_row(row)) + " |", flush=True)
        report.add(f"{ds.name}: autoseq / best statistical", row["vs_stat"],
                   detail=f"on {row['stat_origins']} of {row['origins']} test origins")
        report.add(f"{ds.name}: autoseq / seasonal naive", row["vs_snaive"],
                   detail=f"on all {row['origins']} test origins")
        for note in row["notes"]:
            report.note(f"{ds.name}: {note}")
    if rows:
        report.note(summary(rows))
    kept = _latest_rows(out / "rows.json", rows, order=[d.name for d in datasets])
    text = markdown(kept, skipped)
    if results is not None and rows:
        write_section(results, text)
    report.extra = {"rows": rows, "skipped": skipped, "markdown": text}
    return report.to_dict()


if __name__ == "__main__":
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--budget", type=float, help=f"seconds per search (default 900; quick "
                                                f"{QUICK_BUDGET:g})")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only this dataset (repeatable): "
                        + ", ".join(d.name for d in DATASETS))
    p.add_argument("--stat-every", type=int, help="score the statistical models on every N-th "
                   f"test origin (default 1; quick {QUICK_STAT_EVERY})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="run folders and caches")
    p.add_argument("--fresh", action="store_true", help="search again even if a finished "
                   "search with this budget is there")
    p.add_argument("--results", type=Path, default=common.ROOT / "benchmarks" / "RESULTS.md",
                   help="markdown file whose 'Forecasting suite' section gets the table")
    p.add_argument("--reports", action="store_true", help="let search and export write their "
                   "HTML/markdown reports")
    p.add_argument("--search-args", default="", metavar="OPTIONS",
                   help="extra search options for every dataset, e.g. '--folds 3' (recorded "
                        "in each row; a run folder searched with others is searched again)")
    a = p.parse_args()
    common.main("Forecasting suite", run, a,
                budget=a.budget or (QUICK_BUDGET if a.quick else 900.0), only=a.only,
                stat_every=a.stat_every or (QUICK_STAT_EVERY if a.quick else 1), out=a.out,
                fresh=a.fresh, results=a.results, report_files=a.reports,
                search_args=shlex.split(a.search_args))
