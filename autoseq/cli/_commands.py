"""The ``autoseq`` command: a thin adapter over the Python API."""

from __future__ import annotations

import sys
import traceback

import click

from autoseq import __version__
from autoseq._console import exit_stopped, log_to_stderr
from autoseq._interrupt import terminate_immediately
from autoseq.cli._options import (
    JOBS,
    SIZE,
    STORAGE_ENV,
    columns_option,
    compile_option,
    debug_option,
    grace_option,
    intervals_options,
    joined_columns,
    precision_option,
    quiet_option,
)
from autoseq.exceptions import AutoseqError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="autoseq")
@debug_option
def cli() -> None:
    """AutoML for recurrent sequence models: search, rank, export and report."""


@cli.command()
@click.argument("data", type=click.Path(dir_okay=True, path_type=str))
@click.option("--target", "-t", multiple=True, required=True,
              help="Column to forecast (repeat for several); for sequences, the label column.")
@click.option("--time-col", help="Timestamp column (detected when obvious).")
@columns_option("--covariate", "--covariates", "covariates", aliases=("--feature",),
                help="Past covariate column, or a sequence's feature column (repeatable; "
                     "default: every other numeric column).",
                plural_help="Past covariate columns, comma-separated (same as repeating "
                            "--covariate).")
@columns_option("--future-covariate", "--future-covariates", "future_covariates",
                help="Column known for the steps to forecast too (a weather forecast, holidays, "
                     "a planned price); repeatable. The CSV may continue past the last target "
                     "value with only these filled.",
                plural_help="Known-future covariate columns, comma-separated.")
@click.option("--categorical", multiple=True,
              help="Covariate (or --static-col) holding category codes, one-hot encoded "
                   "(text columns always are); repeatable.")
@click.option("--calendar/--no-calendar", default=True, show_default=True,
              help="Offer calendar features (hour, weekday, day of year… as sin/cos, by the "
                   "frequency) as known-future inputs to trials whose space searches them.")
@click.option("--horizon", "-H", type=click.IntRange(min=1), default=1, show_default=True,
              help="Steps to forecast.")
@click.option("--id-col", help="Sequence id column: DATA holds labelled sequences, one row per "
                               "step (classification / regression).")
@click.option("--series-col", help="Series key column: DATA is a long CSV of many series "
                                   "(series, timestamp, value), forecast by one global network.")
@columns_option("--static-col", "--static-cols", "static_cols",
                help="With --series-col: a column holding one value per series (store size, "
                     "region), offered to the network; text (and --categorical codes) one-hot "
                     "encoded; repeatable.",
                plural_help="Static columns, comma-separated (same as repeating --static-col).")
@click.option("--step-col", help="Column ordering the steps of each sequence [default: the "
                                 "--time-col, else file order].")
@click.option("--format", "format", type=click.Choice(["long", "wide"]), default="long",
              show_default=True, help="wide: one row per sequence, one column per step.")
@click.option("--task", type=click.Choice(["forecast", "classify", "regress", "panel"]),
              help="[default: forecast; for sequences inferred from the labels].")
@click.option("--test-file", type=click.Path(dir_okay=False, path_type=str),
              help="CSV of test sequences [default: a stratified share of DATA].")
@click.option("--max-length", type=click.IntRange(min=1),
              help="Longer sequences keep their last MAX_LENGTH steps [default: the longest "
                   "training sequence].")
@click.option("--space", help="Built-in space name (see 'autoseq spaces') or a YAML file "
                              "[default: default; classify for sequences].")
@click.option("--trials", "-n", type=int, default=20, show_default=True,
              help="Total trials with a result in the study (resuming continues up to it).")
@click.option("--timeout", type=click.FloatRange(min=0), help="Seconds after which no new trial starts; a running trial stops at its next epoch end, keeping its best epoch.")
@click.option("--max-epochs", type=int, help="Epochs per trial [default: 20; 100 for sequences].")
@click.option("--patience", type=click.IntRange(min=1),
              help="Epochs without improvement before early stopping [default: 5; 10 for "
                   "sequences].")
@click.option("--val-size", type=SIZE,
              help="Validation rows (sequences) or fraction [default: 0.15].")
@click.option("--test-size", type=SIZE,
              help="Held-out test rows (sequences) or fraction [default: 0.15].")
@click.option("--out", "-o", help="Run folder [default: results/<file>-<target>].")
@click.option("--storage", envvar=STORAGE_ENV,
              help="Optuna study storage: postgresql://… to share it across machines, or a "
                   "journal file path [default: sqlite:///<out>/study.db; <out>/study.journal "
                   "with --jobs/--gpus; env AUTOSEQ_STORAGE].")
@click.option("--study", default="autoseq", show_default=True,
              help="Optuna study name in the storage.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--deterministic", is_flag=True,
              help="Deterministic TensorFlow ops: identical losses on a rerun (on CPU), slower.")
@click.option("--backend", default="optuna", show_default=True,
              help="Search engine: optuna|keras-tuner.")
@click.option("--algorithm", help="optuna: tpe|random|cmaes|gp [default: tpe]; "
              "keras-tuner: random|bayesian|hyperband [default: random].")
@click.option("--max-gap", type=click.IntRange(min=0), default=12, show_default=True,
              help="Longest run of missing steps to interpolate.")
@click.option("--max-failures", type=click.IntRange(min=1), default=10, show_default=True,
              help="Stop after this many failed trials in a row.")
@click.option("--metric", type=click.Choice(["mse", "mae", "rmse", "smape", "mase", "wql",
                                            "msis"]),
              default="mse", show_default=True,
              help="What trials and baselines are ranked on (val_loss); mse is in scaled units, "
                   "the others in the data's. wql and msis score the networks' quantiles "
                   "(a space with loss: pinball).")
@click.option("--folds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Walk-forward (expanding window) validation folds; trials and baselines are "
                   "ranked on the mean over them (each trial trains once per fold).")
@click.option("--warm-start/--no-warm-start", default=True, show_default=True,
              help="In a new study, try a few forecasting starting configurations first.")
@click.option("--stat-baselines/--no-stat-baselines", default=True, show_default=True,
              help="Rank MSTL + AutoETS / AutoARIMA (statsforecast) beside the trials.")
@click.option("--stat-origins", type=click.IntRange(min=0), default=24, show_default=True,
              help="Validation windows the statistical baselines are scored on, evenly spaced "
                   "(0: all; each costs about a second or two).")
@click.option("--no-report", "report", flag_value=False, default=True,
              help="Do not write report.html / report.md at the end.")
@click.option("--jobs", "-j", type=JOBS, default="auto", show_default=True,
              help="Worker processes on this machine sharing the study. auto: one per core "
                   "(at most 8) when trials train on Keras's JAX backend (a JAX trial keeps "
                   "about one core busy), else this process trains them.")
@click.option("--gpus", help="GPUs for the workers, e.g. 0,1: one worker pinned to each.")
@precision_option
@compile_option
@grace_option
@intervals_options
@quiet_option
@debug_option
def search(data, target, quiet, **kwargs) -> None:
    """Search recurrent architectures for DATA (a CSV) and rank them."""
    from autoseq.cli._render import SearchProgress, print_result
    from autoseq.searching._search import search as run_search

    covariates = joined_columns(kwargs, "covariates")
    kwargs["future_covariates"] = joined_columns(kwargs, "future_covariates")
    kwargs["static_cols"] = joined_columns(kwargs, "static_cols")
    kwargs["categorical"] = list(kwargs["categorical"])
    log_to_stderr(quiet)
    # TensorFlow loads inside the search, once it has chosen the trials' Keras backend (with
    # workers, only they train: this process stays light).
    kwargs["precision"] = kwargs["precision"] or "float32"
    kwargs["compile"] = kwargs["compile"] or "auto"
    with SearchProgress(quiet=quiet) as progress:
        result = run_search(data, target=list(target), covariates=list(covariates) or None,
                            on_event=progress.on_event, **kwargs)
    print_result(result)


@cli.command()
@click.option("--storage", envvar=STORAGE_ENV, required=True,
              help="The study's storage URL or journal file (env AUTOSEQ_STORAGE keeps a "
                   "password out of the process list).")
@click.option("--study", default="autoseq", show_default=True, help="Study name in the storage.")
@click.option("--run-dir", help="Folder for this worker's trials [default: results/<file>-<target>].")
@click.option("--data", help="This machine's copy of the CSV, if not at the study's path.")
@click.option("--trials", "-n", type=click.IntRange(min=1),
              help="Total trials with a result to reach [default: the search's].")
@click.option("--timeout", type=click.FloatRange(min=0), help="Seconds after which no new trial starts; a running trial stops at its next epoch end, keeping its best epoch.")
@click.option("--max-failures", type=click.IntRange(min=1), default=10, show_default=True,
              help="Stop after this many failed trials in a row.")
@precision_option
@compile_option
@click.option("--seed", type=int, help="This worker's seed (sampler and trials) [default: the "
                                        "search's]; need not match the study's.")
@grace_option
@click.option("--worker-index", type=click.IntRange(min=0), hidden=True)
@quiet_option
@debug_option
def worker(storage, study, quiet, **kwargs) -> None:
    """Join an existing study and run its trials with the settings stored in it."""
    from autoseq.searching._worker import run_worker, summary_line

    log_to_stderr(quiet)
    # No _heavy(): the worker loads Keras (quietly) on the backend its trials train on.
    click.echo(summary_line(run_worker(storage, study=study, **kwargs), study=study))


@cli.command()
@click.argument("run", type=click.Path(path_type=str))
@click.option("--trial", type=int, help="Trial number [default: the best].")
@click.option("--out", "-o", help="Model folder [default: RUN/export].")
@click.option("--format", "fmt", type=click.Choice(["savedmodel", "keras", "tflite"]),
              default="savedmodel", show_default=True,
              help="Also write model.keras or model.tflite beside the SavedModel.")
@click.option("--refit/--no-refit", default=None,
              help="Retrain the exported models on train + validation (their best epoch "
                   "count) after choosing them on validation [default: on for a single "
                   "series' forecasts, off for panels and sequences].")
@click.option("--data", help="The training CSV, if it moved since the search.")
@click.option("--no-report", is_flag=True, help="Do not rewrite RUN/report.html.")
@click.option("--ensemble", type=click.IntRange(min=1), default=None,
              help="Average the K best complete trials (forecasts, probabilities or values) "
                   "[default: forecasting: the best trial or the mean of the 3, 5 or 10 best, "
                   "whichever has the lowest validation MAE; panels: the same over the 2, 3 "
                   "or 5 best, on validation OWA; sequences: the best trial].")
@click.option("--no-floor", is_flag=True,
              help="Serve forecasts below zero even for a target that is never negative in "
                   "training and validation [default: raise them to zero].")
@intervals_options
@quiet_option
@debug_option
def export(run, trial, out, fmt, refit, data, no_report, ensemble, no_floor, levels, quantiles,
           quiet) -> None:
    """Export a trial of RUN as a SavedModel that takes raw data (scored once on the test split)."""
    from autoseq.cli._render import print_export
    from autoseq.exporting._export import export as run_export

    log_to_stderr(quiet)
    _heavy()
    print_export(run_export(run, trial=trial, out=out, format=fmt, refit=refit, data=data,
                            report=not no_report, ensemble=ensemble, levels=levels,
                            quantiles=quantiles, floor=not no_floor))


@cli.command()
@click.argument("model", type=click.Path(path_type=str))
@click.argument("data", type=click.Path(path_type=str))
@click.option("--out", "-o", help="Write the predictions to this CSV [default: print them].")
@click.option("--all-origins", is_flag=True,
              help="One forecast from every origin with a full lookback (a backtest).")
@click.option("--max-gap", type=click.IntRange(min=1),
              help="Longest run of missing steps to interpolate [default: the search's].")
@debug_option
def predict(model, data, out, all_origins, max_gap) -> None:
    """Forecast the steps after the last row of DATA, or classify each sequence of DATA, with an
    exported MODEL folder."""
    from autoseq._io import write_text_atomic
    from autoseq.exceptions import DataError
    from autoseq.leaderboard import escape_formulas
    from autoseq.predict import load_model

    _heavy()
    loaded = load_model(model)
    if max_gap is not None and loaded.predicts != "forecast rows":
        raise DataError("--max-gap is for forecasting models: sequences are not re-gridded")
    frame = loaded.predict(data, all_origins=all_origins,
                           **({} if max_gap is None else {"max_gap": max_gap}))
    text = escape_formulas(frame).to_csv(index=False)
    if out:
        write_text_atomic(out, text)
        click.echo(f"{len(frame)} {loaded.predicts} written to {out}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command()
@click.argument("run_dir", metavar="RUN", type=click.Path(file_okay=False, path_type=str))
@click.option("--data", help="The training CSV, if it moved since the search.")
@click.option("--no-importance", "importance", flag_value=False, default=True,
              help="Skip measuring what the model looks at (the slowest part).")
@quiet_option
@debug_option
def report(run_dir, data, importance, quiet) -> None:
    """Write RUN/report.html (self-contained) and RUN/report.md (figures in RUN/report_files)."""
    from autoseq.report import write_report

    log_to_stderr(quiet)
    _heavy()
    paths = write_report(run_dir, data=data, importance=importance)
    click.echo(f"report: {paths.html}")
    click.echo(f"markdown: {paths.markdown} (figures in {paths.files})")


@cli.command()
@click.argument("name", required=False)
@debug_option
def spaces(name: str | None) -> None:
    """List the built-in search spaces, or show one (NAME or a YAML path)."""
    from autoseq.space import list_spaces, load_search_space

    if name:
        click.echo(load_search_space(name).to_yaml(), nl=False)
        return
    for n in list_spaces():
        click.echo(f"{n:<12} {load_search_space(n).description}")


def _heavy() -> None:
    """Load TensorFlow for a command that trains or serves (quietly unless --debug)."""
    if "--debug" not in sys.argv:
        from autoseq._tf import import_tensorflow_quietly, quiet_tensorflow_logger

        import_tensorflow_quietly()
        quiet_tensorflow_logger()  # export and predict run several models' predictions


def main(argv: list[str] | None = None) -> None:
    """Console entry point: exit 2 on bad input, 1 when every trial failed, 130 on Ctrl-C, 143
    on SIGTERM."""
    args = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in args
    if argv is None:  # a process of its own (not a caller's in-process use)
        terminate_immediately()
    try:
        cli.main(args=args, prog_name="autoseq", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        if debug:
            traceback.print_exc()
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        click.echo(f"error: {exc.format_message().rstrip('.')}{hint}", err=True)
        sys.exit(exc.exit_code)
    except AutoseqError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:
        result = getattr(exc, "result", None) or getattr(exc.__cause__, "result", None)
        if result is not None:
            from autoseq.cli._render import print_result

            print_result(result, interrupted=True)
        exit_stopped(exc, own=argv is None)
    sys.exit(0)


if __name__ == "__main__":
    main()
