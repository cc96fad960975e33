"""The report's parts for classification and regression runs: one label or one number per
sequence.

The best trial's network is scored once on the validation and test sequences (as ``autoseq
export`` scores it), next to the majority-class / training-mean baseline; classification adds
the test confusion matrix and per-class precision, recall and F1. Whether a run classifies is a
fact of its data (it has classes); the words that differ between the two are one table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import autoseq.report._figures as figs
import autoseq.report._format as fmt
from autoseq._run_folder import load_trial
from autoseq.report._calibration import calibration_parts
from autoseq.report._content import Facts, Paragraph, Section, Table
from autoseq.report._evidence import Evidence
from autoseq.report._shared import shared_sections, winner_words

logger = logging.getLogger("autoseq")

_PARTS = (("train", "train"), ("val", "validation"), ("test", "test"))


@dataclass
class SequenceScores:
    """A network's (and the baselines') scores on one part of the sequences."""

    part: str
    metrics: dict[str, float]
    baselines: dict[str, dict[str, float]]
    pred: np.ndarray  # class probabilities, or values in the target's units
    truth: np.ndarray  # class indices, or values in the target's units
    report: dict[str, Any] | None = None  # confusion matrix and per-class metrics


def score_sequences(model, data, part: str) -> SequenceScores:
    """Score the trained network (scaled inputs) on ``part`` of ``data`` (a ``SequenceData``)."""
    from autoseq.baselines import sequence_baselines
    from autoseq.metrics import classification_report

    pred = model.predict(data.dataset(part, batch_size=256, targets=False), verbose=0)
    _, metrics = data.evaluate(pred, part)
    baselines = {name: data.evaluate(p, part)[1]
                 for name, p in sequence_baselines(data, part).items()}
    if data.classes:  # class probabilities against class indices
        truth = data.targets(part)
        return SequenceScores(part, metrics, baselines, pred, truth,
                              classification_report(pred, truth, data.classes))
    units = data.target_scaler.inverse(pred, [0])[:, 0]
    return SequenceScores(part, metrics, baselines, units,
                          np.asarray(data.targets(part, scaled=False)).reshape(-1))


def evaluate_sequences(ev: Evidence, *, importance: bool = True) -> None:
    """Score the best network once on the validation and test sequences; a failure becomes a
    note in the report. ``importance`` (lookback blocks, input columns) is not measured here."""
    try:
        model, ev.config = load_trial(ev.run, int(ev.best["trial"]),
                                     partial(ev.run.kind.model_context, ev.data))
        ev.sequences = {part: score_sequences(model, ev.data, part) for part in ("val", "test")}
    except Exception as exc:  # noqa: BLE001 - a custom model may fail here; the rest still shows
        logger.warning("report: evaluating trial %s failed: %s", ev.best["trial"], exc)
        ev.model_note = f"The best model could not be evaluated ({type(exc).__name__}: {exc})."
        ev.sequences = {}
    finally:
        import keras

        keras.backend.clear_session()


def sequence_headline(ev: Evidence) -> tuple[str, str]:
    """What the report's title names: the target, and what the model does."""
    return str(ev.settings.data.get("target", "")), _wording(ev).what


def sequence_sections(ev: Evidence) -> list[Section]:
    """Every section of a classification or regression run's report, in order."""
    metric, label, units = _wording(ev).scored
    return [data_section(ev), winner_section(ev),
            *shared_sections(ev, metric=metric, label=label, units=units),
            results_section(ev)]


def data_section(ev: Evidence) -> Section:
    info = ev.run.info
    d, split = info.get("data") or {}, info.get("split") or {}
    sec = Section("data", "Data")
    lengths = d.get("lengths") or {}
    classes = split.get("classes") or []
    sec.add(Facts((
        ("file", Path(d.get("source", "?")).name),
        ("test file", Path(d["test_source"]).name if d.get("test_source")
         else "none: a stratified share of the file"),
        ("fingerprint (SHA-256)", str(d.get("fingerprint", "?"))[:16] + "…"),
        ("format", f"{d.get('format', '?')} ("
                   + ("one row per sequence step" if d.get("format") == "long"
                      else "one row per sequence") + ")"),
        ("sequences", fmt.integer(d.get("sequences"))
         + (f" (+ {fmt.integer(d.get('test_sequences'))} in the test file)"
            if d.get("test_sequences") else "")),
        ("sequence id", str(d.get("id_col") or "row")),
        ("step order", str(d.get("step_col") or "file order")),
        ("features", ", ".join(d.get("features", [])) or "–"),
        ("target", f"{d.get('target', '?')} ({_target_words(classes)})"),
        ("lengths (training file)", f"{lengths.get('min', '?')}–{lengths.get('max', '?')} steps"
                                    f", median {fmt.num(lengths.get('median'))}"),
        ("max length", f"{split.get('max_length', '?')} ({split.get('truncation', '')}; "
                       f"{fmt.integer(split.get('truncated', 0))} sequence(s) truncated)"),
        ("values filled", f"{fmt.integer(d.get('filled', 0))} interpolated within their "
                          "sequence"),
    )))
    rows = []
    for part, name in _PARTS:
        p = split.get(part) or {}
        lens = p.get("lengths") or {}
        counts = p.get("classes") or {}
        rows.append((name, fmt.integer(p.get("sequences")),
                     f"{lens.get('min', '–')}–{lens.get('max', '–')}",
                     ", ".join(f"{c}: {n}" for c, n in counts.items()) or "–"))
    sec.add(Table(("part", "sequences", "lengths", _wording(ev).counts), tuple(rows),
                  numeric=(False, True, False, False),
                  caption=("Validation is a stratified share of the training file; "
                           f"test is the {split.get('test_from', 'held-out part')}. Features are "
                           "standardised with statistics of the training sequences only.")))
    if ev.data is not None and np.ptp(ev.data.lengths) == 0:
        sec.add(Paragraph(f"Every sequence has {int(ev.data.lengths[0])} steps: no padding."))
    elif ev.data is not None:
        data = ev.data
        sec.add(figs.lengths_figure({name: data.lengths[data.parts[part]]
                                     for part, name in _PARTS}))
    elif ev.data_note:
        sec.add(Paragraph(ev.data_note, kind="note"))
    return sec


def _target_words(classes: list[str]) -> str:
    if not classes:
        return "a number per sequence"
    return f"{len(classes)} classes: {', '.join(map(str, classes[:12]))}"


def winner_section(ev: Evidence) -> Section:
    sec = Section("winner", "The winner")
    if ev.best is None:
        return sec.add(Paragraph("No trial finished with a result.", kind="note"))
    row, wording = ev.best, _wording(ev)
    sec.add(Paragraph(winner_words(ev) + ".", lead=f"Trial {int(row['trial'])}:", kind="key"))
    sec.add(Facts((
        (f"validation loss ({wording.loss})", fmt.num(row.get("val_loss"))),
        ("trainable parameters", fmt.integer(row.get("params"))),
        ("epochs trained", fmt.integer(row.get("epochs"))),
        ("training time", fmt.seconds(row.get("seconds"))),
        ("cuDNN-eligible on GPU", fmt.yes_no(row.get("cudnn_eligible"))),
    )))
    val, test = ev.sequences.get("val"), ev.sequences.get("test")
    if val is None:
        return sec.add(Paragraph(ev.model_note or ev.data_note
                                 or "The best model could not be evaluated.", kind="note"))
    cols = wording.metrics
    rows = [("best model", *[fmt.num(val.metrics.get(k), 4) for k, _ in cols],
             *[fmt.num(test.metrics.get(k), 4) if test else "–" for k, _ in cols])]
    for name, m in val.baselines.items():
        t = test.baselines.get(name) if test else None
        rows.append((name, *[fmt.num(m.get(k), 4) for k, _ in cols],
                     *[fmt.num(t.get(k), 4) if t else "–" for k, _ in cols]))
    sec.add(Table(("model", *[f"val {label}" for _, label in cols],
                   *[f"test {label}" for _, label in cols]), tuple(rows),
                  numeric=(False, *([True] * (2 * len(cols)))), highlight=(0,), name="metrics",
                  caption=f"{fmt.integer(len(val.truth))} validation and "
                          f"{fmt.integer(len(test.truth) if test else 0)} test sequences; the "
                          "test sequences were never seen by the search."))
    sec.add(Paragraph(sequence_skill(ev)))
    return sec


def sequence_skill(ev: Evidence) -> str:
    """The model's key test (else validation) metric against the baseline's."""
    key, label, higher = _wording(ev).key_metric
    part = ev.sequences.get("test") or ev.sequences.get("val")
    if part is None or not part.baselines:
        return "The model could not be scored against the baseline."
    name, base = next(iter(part.baselines.items()))
    where = "held-out test sequences" if part.part == "test" else "validation sequences"
    mine, theirs = part.metrics.get(key), base.get(key)
    better = (mine > theirs) if higher else (mine < theirs)
    verdict = ("better than" if better else "no better than") + f" {name} ({fmt.num(theirs, 4)})"
    tail = "" if better else ": the search found nothing the baseline does not; search longer"
    return f"On the {where} its {label} is {fmt.num(mine, 4)}, {verdict}{tail}."


def results_section(ev: Evidence) -> Section:
    wording = _wording(ev)
    sec = Section("results", wording.results)
    test = ev.sequences.get("test")
    if test is None:
        return sec.add(Paragraph(ev.model_note or ev.data_note
                                 or "The best model could not be evaluated.", kind="note"))
    return wording.show_results(sec, ev, test)


def _class_results(sec: Section, ev: Evidence, test: SequenceScores) -> Section:
    """The test confusion matrix and per-class precision, recall and F1."""
    rep = test.report
    matrix = np.asarray(rep["confusion_matrix"])
    sec.add(figs.confusion_figure(matrix, rep["classes"]))
    rows = tuple((c, fmt.num(m["precision"], 3), fmt.num(m["recall"], 3),
                  fmt.num(m["f1"], 3), fmt.integer(m["support"]))
                 for c, m in rep["per_class"].items())
    sec.add(Table(("class", "precision", "recall", "F1", "test sequences"), rows,
                  numeric=(False, True, True, True, True), name="per_class"))
    sec.add(Paragraph(_confusion_sentence(matrix, rep["classes"])))
    for part in calibration_parts(ev):
        sec.add(part)
    return sec


def _number_results(sec: Section, ev: Evidence, test: SequenceScores) -> Section:
    """Predicted against actual on the test sequences, and the errors' bias and spread."""
    sec.add(figs.scatter_figure(test.truth, test.pred, ev.settings.data.get("target", "target")))
    err = test.truth - test.pred
    return sec.add(Paragraph(f"Errors (actual − predicted): mean {fmt.num(float(np.mean(err)))}, "
                             f"standard deviation {fmt.num(float(np.std(err)))}."))


def _confusion_sentence(matrix: np.ndarray, classes: list[str]) -> str:
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    if off.sum() == 0:
        return "Every test sequence was classified correctly."
    t, p = np.unravel_index(int(np.argmax(off)), off.shape)
    return (f"{fmt.integer(int(off.sum()))} of {fmt.integer(int(matrix.sum()))} test sequences "
            f"are misclassified; the most frequent confusion is class {classes[t]} predicted as "
            f"{classes[p]} ({fmt.integer(int(off[t, p]))} sequences).")


# -- what differs between classifying and predicting a number --------------------------------

@dataclass(frozen=True)
class _Wording:
    """The words (and the results) that differ between classification and regression."""

    what: str  # what the model does, in the report's subtitle
    loss: str  # the training loss that ``val_loss`` holds
    metrics: tuple[tuple[str, str], ...]  # (metric, label): the metrics table's columns
    key_metric: tuple[str, str, bool]  # (metric, label, higher is better): the skill sentence's
    scored: tuple[str, str, str]  # (leaderboard column, label, units): the questions compare it
    counts: str  # the split table's last column
    results: str  # the results section's title
    show_results: Callable[[Section, Evidence, SequenceScores], Section]


_CLASSIFY = _Wording(
    what="classify sequences", loss="log loss",
    metrics=(("accuracy", "accuracy"), ("f1", "macro F1"), ("log_loss", "log loss")),
    key_metric=("accuracy", "accuracy", True),
    scored=("val_loss", "val log loss", "(lower is better)"),
    counts="class counts", results="Test results by class", show_results=_class_results)
_REGRESS = _Wording(
    what="predict a number per sequence", loss="scaled MSE",
    metrics=(("mae", "MAE"), ("rmse", "RMSE")), key_metric=("mae", "MAE", False),
    scored=("val_mae", "val MAE", "in the data's units"),
    counts="–", results="Test predictions", show_results=_number_results)


def _classifies(ev: Evidence) -> bool:
    """A classification run: its split names the classes (a regression run's list is empty)."""
    return bool((ev.run.info.get("split") or {}).get("classes"))


def _wording(ev: Evidence) -> _Wording:
    return _CLASSIFY if _classifies(ev) else _REGRESS
