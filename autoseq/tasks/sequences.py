"""Labelled sequences of any length: classify them, or regress one number per sequence."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, ClassVar

from autoseq._run_folder import RunFolder, RunSettings
from autoseq.baselines import score_sequence_baselines
from autoseq.data import SequenceData, load_sequences
from autoseq.exceptions import DataError, ModelError, SearchError
from autoseq.exporting._sequences import export_sequences
from autoseq.model import ModelContext, resolve_config, sequence_context
from autoseq.predict._predict import SequenceModel
from autoseq.report._kinds import ReportKind
from autoseq.report._sequences import (
    evaluate_sequences,
    sequence_headline,
    sequence_sections,
    sequence_skill,
)
from autoseq.tasks._base import DataOptions, Task
from autoseq.trial._fit import fit_sequences


class SequenceTask(Task):
    """One sequence per id (long format) or per row (wide); the label is a class or a number.

    Which of the two is decided by the labels (or ``--task``) when the data is read; the data
    object then knows (``n_classes``), and so does everything built from it.
    """

    names: ClassVar[tuple[str, ...]] = ("classify", "regress")
    default_space = "classify"
    # Sequence datasets are usually small (tens to thousands of sequences): an epoch is a few
    # steps, so they need more epochs, and their validation loss is noisier. Classifiers often
    # sit at the chance level's loss for a few epochs before they learn: the pruner waits longer.
    max_epochs = 100
    patience = 10
    prune_warmup = 10
    report = ReportKind(evaluate_sequences, sequence_headline, sequence_skill, sequence_sections)
    recorded = ("max_epochs", "patience", "prune_warmup", "seed", "builder", "deterministic")

    def check_options(self, options: DataOptions, *, metric: str, folds: int) -> None:
        if options.task == "forecast":
            raise DataError("--task forecast reads one series: drop --id-col / --format wide, or "
                            "pass --task classify or regress for sequences")
        if metric != "mse":
            raise SearchError(f"--metric {metric} is for forecasting; sequence trials are ranked "
                              "on log loss (classification) or MSE (regression)")
        if folds != 1:
            raise SearchError(f"--folds {folds} is for forecasting (walk-forward); sequence "
                              "trials validate on a stratified share of the training sequences")
        if options.future_covariates or options.categorical:
            raise DataError("--future-covariate and --categorical are for forecasting a time "
                            "series; drop them, or drop --id-col / --format wide")
        if len(options.targets) != 1:
            raise DataError(f"sequences take one --target (the label column). Received: "
                            f"{', '.join(options.targets)}")

    def read(self, options: DataOptions) -> SequenceData:
        return _read(options.data, target=options.targets[0], features=options.covariates,
                     id_col=options.id_col, step_col=options.step_col or options.time_col,
                     format=options.format, test_file=options.test_file, task=options.task,
                     val_size=options.val_size, test_size=options.test_size,
                     max_length=options.max_length)

    def data_settings(self, data: SequenceData, options: DataOptions) -> dict[str, Any]:
        table, test = data.table, data.test_table
        return {"target": table.target, "id_col": table.id_col, "step_col": table.step_col,
                "format": table.format, "features": list(table.features),
                "test_file": str(Path(test.source).resolve()) if test is not None else None,
                "val_sequences": int(len(data.parts["val"])),
                "test_sequences": None if test is not None else int(len(data.parts["test"])),
                "max_length": options.max_length}

    def fingerprint(self, data: SequenceData) -> str:
        """The training file's fingerprint, combined with the test file's when there is one."""
        table, test = data.table, data.test_table
        if test is None:
            return table.fingerprint
        return hashlib.sha256(f"{table.fingerprint}:{test.fingerprint}".encode()).hexdigest()

    def summary(self, data: SequenceData) -> dict[str, Any]:
        table, test = data.table, data.test_table
        out = table.summary() | {"source": str(Path(table.source).resolve())}
        if test is not None:
            out |= {"test_source": str(Path(test.source).resolve()),
                    "test_fingerprint": test.fingerprint, "test_sequences": len(test.ids)}
        return out

    def rebuild(self, settings: RunSettings, summary: dict[str, Any], *,
                source: str | Path | None = None) -> SequenceData:
        s = settings.data
        test_file = s.get("test_file")
        if test_file and not Path(test_file).is_file():
            raise DataError(f"{test_file}: this run was made with this --test-file, which is "
                            "not at that path on this machine")
        return _read(Path(source or summary["source"]), target=s["target"],
                     features=list(s["features"]), id_col=s["id_col"], step_col=s["step_col"],
                     format=s["format"], test_file=test_file, task=settings.task,
                     val_size=s["val_sequences"],
                     test_size=None if test_file else s["test_sequences"],
                     max_length=s["max_length"])

    def resolve_config(self, space_config: dict[str, Any], data: SequenceData, *,
                       builder: str) -> dict[str, Any]:
        return resolve_config(space_config, builder=builder, sequences=True)

    def model_context(self, data: SequenceData, config: dict[str, Any], *,
                      seed: int = 0) -> ModelContext:
        return sequence_context(data, seed=seed)

    def fit_and_score(self, data: SequenceData, config: dict[str, Any]):
        return fit_sequences

    def training_shape(self, data: SequenceData, config: dict[str, Any]
                       ) -> tuple[int, int] | None:
        """Variable-length sequences are not compiled: each padded length is a new program
        (BasicMotions cut to 30-98 steps: a GRU trial took 13.5 s compiled, 3.4 s not)."""
        if data.lengths.min() != data.lengths.max():
            return None
        return data.max_length, len(data.indices("train"))

    def baselines(self, data: SequenceData, part: str = "val", *, metric: str = "mse") -> list:
        return score_sequence_baselines(data, part)

    def export(self, run: RunFolder, data: SequenceData, *, trial: int | None,
               out: str | Path | None, format: str, refit: bool, ensemble: int | None,
               intervals=None, floor: bool = True):
        if intervals is not None and intervals.explicit:
            raise ModelError("--levels and --quantiles are for forecasting runs; this run "
                             "classifies or regresses whole sequences")
        return export_sequences(run, data, trial=trial, out=out, format=format, refit=refit,
                                ensemble=ensemble or 1)

    def load_predictor(self, folder: Path, manifest: dict[str, Any]) -> SequenceModel:
        return SequenceModel(folder, manifest)

    def describe(self, data: SequenceData) -> str:
        n = [len(data.parts[p]) for p in ("train", "val", "test")]
        lengths = data.lengths
        what = (f"{data.n_classes} classes" if data.n_classes
                else f"regression of '{data.table.target}'")
        return (f"data: {len(data.ids)} sequences of {data.n_inputs} features, lengths "
                f"{lengths.min()}–{lengths.max()} (max {data.max_length}), {what}, split "
                f"{n[0]}/{n[1]}/{n[2]} (train/val/test)")


def _read(source: str | Path, *, target: str, features: list[str] | None, id_col: str | None,
          step_col: str | None, format: str, test_file: str | Path | None, task: str | None,
          val_size, test_size, max_length: int | None) -> SequenceData:
    options = {"target": target, "id_col": id_col, "step_col": step_col, "features": features,
               "format": format}
    table = load_sequences(source, **options)
    test = None
    if test_file is not None:
        test = load_sequences(test_file, **options | {"features": list(table.features)})
    return SequenceData(table, test=test, task=task, val_size=val_size, test_size=test_size,
                        max_length=max_length)
