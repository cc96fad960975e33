"""What a panel export serves: one trial, the mean of the best trials, or a blend with a baseline.

Each member is a trial's network made scale-free (``scale_free``: a raw window in, the forecast
in the series' units out). Members may differ in lookback: the exported model takes the longest
window and each member reads the last rows it needs. With neither ``--trial`` nor
``--ensemble``, export weighs on every series' validation windows what a single series' export
weighs (``_selection.choose``): the means of the ``PANEL_SIZES`` best complete trials and their
blends with the best of naive, seasonal naive and the panel's ``linear`` baseline (an ``Anchor``
or ``LinearAnchor`` layer on the window's last rows, so the SavedModel stays one artifact), and
a weighted ensemble of those trials and baselines (``_selection.greedy_weights``), and serves the
lowest on the run's objective (OWA by default).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from autoseq._run_folder import RunFolder, load_trial
from autoseq.data._panel_data import PanelData, side_inputs, taken_inputs
from autoseq.data._panel_linear import PANEL_LINEAR_WINDOWS
from autoseq.exporting._common import (
    best_baseline,
    best_complete,
    check_finite,
    pick_members,
    val_scores,
)
from autoseq.exporting._forecast_wrap import (
    baseline_forecaster,
    blend_forecasters,
    mean_forecasters,
    ordered_inputs,
)
from autoseq.exporting._selection import (
    choose,
    ensemble_name,
    is_trial_component,
    rule,
    trial_component,
    weighted_rule,
)
from autoseq.model import panel_context
from autoseq.panel_baselines import PANEL_OBJECTIVES, score
from autoseq.trial._result import load_trial_json

logger = logging.getLogger("autoseq")

PANEL_SIZES = (1, 2, 3, 5)
"""What a panel export weighs by default: the best trial, the means of the 2, 3 and 5 best."""


@dataclass(frozen=True)
class PanelMember:
    """One trial of a panel export: its configuration, trial record and scale-free model."""

    number: int
    config: dict[str, Any]
    info: dict[str, Any]
    raw: Any
    """Raw window ``[batch, lookback, 1]`` (and ``static [batch, n_static]``, ``future
    [batch, horizon, n_future]``, ``past [batch, past_steps, n_past]`` when it ``takes`` them)
    → forecast ``[batch, horizon, 1]``, series' units."""
    takes: tuple[str, ...] = ()
    """Its inputs beside the window: ``static`` when it uses the static columns, ``future``
    when it uses the known-future covariates, ``past`` when it reads the covariates' past."""

    @property
    def lookback(self) -> int:
        return int(self.config["lookback"])


@dataclass(frozen=True)
class PanelExport:
    """The forecaster a panel export serves: ``model`` takes raw windows ``[batch, width, 1]``
    (and ``static``, ``future``, ``past`` when a member uses them); ``members`` best first;
    ``blend`` the baseline blended in, ``weight`` the networks' share; ``selection`` what
    export weighed on validation (``None`` when ``--trial`` or ``--ensemble`` said what to
    export)."""

    model: Any
    width: int
    members: tuple[PanelMember, ...]
    blend: str | None = None
    weight: float = 1.0
    selection: dict[str, Any] | None = None
    weights: dict[str, float] | None = None
    """A weighted ensemble's components (``trial N`` or a baseline's name) and weights."""

    @property
    def best(self) -> PanelMember:
        return self.members[0]

    @property
    def networks(self) -> bool:
        """Whether the served model holds a network (a weighted ensemble may hold none)."""
        return not self.weights or any(map(is_trial_component, self.weights))

    @property
    def label(self) -> str:
        """``trial 4``, ``best trial (trial 4)``, ``mean of 3 best trials (trials 4, 1, 7)``…"""
        numbers = [m.number for m in self.members]
        if self.selection is None and len(numbers) == 1:
            return f"trial {numbers[0]}"
        name = self.selection["chosen"] if self.selection else ensemble_name(len(numbers))
        trials = f"{'trial' if len(numbers) == 1 else 'trials'} {', '.join(map(str, numbers))}"
        if self.blend and self.weight == 0.0:
            return f"{name} (the networks, {trials}, weighted 0)"
        if self.weights and not self.networks:
            return f"{name} (no network: {trials} validated worse)"
        return f"{name} ({trials})"


def panel_export(run: RunFolder, data: PanelData, *, trial: int | None,
                 ensemble: int | None) -> PanelExport:
    """``trial`` alone, the mean of the ``ensemble`` best complete trials, or (neither given)
    whichever candidate of ``select_panel`` validates best.

    Raises:
        ModelError: no such trial, ``trial`` with ``ensemble``, non-finite weights.
    """
    auto = ensemble is None and trial is None
    numbers = (best_complete(run, max(PANEL_SIZES)) if auto
               else pick_members(run, trial, ensemble or 1))
    members = [_load_member(run, data, n) for n in numbers]
    if not auto:
        return _compose(members, data)
    objective = PANEL_OBJECTIVES.get(run.settings.metric, "owa")
    selection = select_panel(members, data, objective=objective)
    key = f"val_{objective}"
    selection["best_baseline"] = best_baseline(run, key)
    logger.info("export: %s (validation %s: %s)", selection["chosen"], objective.upper(),
                ", ".join(f"{k} {v:.4g}" for k, v in selection[key].items()))
    if selection["weights"]:
        return _weighted(members, data, selection)
    return _compose(members[: selection["size"]], data, selection)


def select_panel(members: list[PanelMember], data: PanelData, *,
                 objective: str = "owa") -> dict[str, Any]:
    """``_selection.choose`` on every series' validation windows: the means of the first k
    ``members`` (best first; k in ``PANEL_SIZES``), their blends with each in-graph baseline
    (naive, seasonal naive at the panel's main season, the panel's ``linear`` baseline) and the
    weighted ensemble of the trials and baselines, scored by ``objective``
    (``owa``, ``smape`` or ``mase`` as ``panel_baselines.score`` computes it).

    Returns:
        ``{"chosen", "size", "blend", "weight", "weights", "metric", "val_<objective>":
        {candidate: score}, "baseline": {"name", "val_<objective>"}, "windows", "rule"}``:
        ``size`` members, ``blend`` the baseline blended in (``None`` for none), ``weight`` the
        networks' share, ``weights`` a weighted ensemble's (``None`` unless it won).
    """
    origins = data.origins("val")
    preds = [raw_forecasts(m.raw, m.lookback, data=data, origins=origins) for m in members]
    bases = {name: raw_forecasts(*baseline_forecaster(data, name), data=data, origins=origins)
             for name in _baselines(data)}
    components = {trial_component(m.number): p for m, p in zip(members, preds, strict=True)}
    picked = choose(preds, PANEL_SIZES, bases, lambda p: score(data, "val", p)[objective],
                    metric=objective.upper(), components=components | bases)
    key = f"val_{objective}"
    return {"chosen": picked["chosen"], "size": picked["size"], "blend": picked["blend"],
            "weight": picked["weight"], "weights": picked["weights"], "metric": objective,
            key: picked["scores"],
            "baseline": {"name": picked["baseline"]["name"], key: picked["baseline"]["score"]},
            "windows": int(len(origins[0])),
            "rule": rule(objective.upper(), PANEL_SIZES, "over every series' validation windows")
            + weighted_rule(objective.upper())}


def raw_forecasts(model, width: int, *, data: PanelData,
                  origins: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``model``'s forecasts ``[W, horizon]`` (float64) of the raw windows of ``width`` steps
    before ``origins`` (``(series, position)``), with what it takes beside them (static rows,
    known-future covariates, the covariates' past)."""
    x, _ = data.windows(*origins, width, targets=False)
    feed = data.feed(x[..., None], origins, taken_inputs(model))
    out = model.predict(feed, batch_size=1024, verbose=0)
    return np.asarray(out, dtype="float64")[..., 0]


def describe_panel(manifest: dict[str, Any], served: PanelExport,
                   data: PanelData) -> dict[str, Any]:
    """Make a panel manifest written for the best member describe what ``served`` serves: its
    window, name, the members' mean, the blend and the selection. Returns ``manifest``."""
    width = served.width
    manifest["forecaster"] = served.label
    manifest["lookback"] = width
    manifest["padding"]["rule"] = (f"a series shorter than {width} steps is padded on the left "
                                   "with its first value")
    manifest["signature"]["input_shape"] = [None, width, 1]
    if len(served.members) > 1:
        if not served.weights:
            manifest["transforms"].append({
                "kind": "ensemble_mean", "where": "inside the model (layer ensemble_mean)",
                "rule": "each member reads the last rows of the window it needs (its "
                        "lookback), divides them by their own scale and multiplies its forecast "
                        "back; the forecasts in the series' units are averaged"})
        manifest["ensemble"] = {
            "trials": [m.number for m in served.members],
            "combine": ("weighted sum of the members' forecasts in the series' units (the "
                        "weighted_mean transform)" if served.weights
                        else "mean of the members' forecasts in the series' units"),
            "members": [{"trial": m.number, "lookback": m.lookback, "hyperparameters": m.config,
                         "val": val_scores(m.info)} for m in served.members]}
    if not served.networks:  # baselines alone: no network, no window scale
        manifest["transforms"] = []
        manifest["networks"] = ("none: the trial described above validated worse than this "
                                "ensemble of baselines and is not part of the model")
    if served.weights:
        manifest["transforms"].append({
            "kind": "weighted_mean", "where": "inside the model (layer weighted_mean)",
            "weights": dict(served.weights),
            "rule": "the sum of each component's forecast (a trial, made scale-free: it divides "
                    "the last rows of the window it needs by their own scale and multiplies its "
                    "forecast back; or an in-graph baseline on the last rows it needs) times its "
                    "weight, in the series' units"})
        _linear_manifest(manifest["transforms"][-1], data, tuple(served.weights))
    if served.blend:
        w = served.weight
        manifest["transforms"].append({
            "kind": "blend_mean", "where": "inside the model (layers baseline, blend_mean)",
            "baseline": served.blend, "weights": {"networks": w, "baseline": 1 - w},
            "rule": f"{w:g} × the networks' forecast (as above) + {1 - w:g} × the baseline's, "
                    "read from the last rows of the window, in the series' units"})
        _linear_manifest(manifest["transforms"][-1], data, (served.blend,))
    if served.selection is not None:
        manifest["selection"] = served.selection
    return manifest


def _linear_manifest(transform: dict[str, Any], data: PanelData, names: tuple[str, ...]) -> None:
    """Describe the panel's ``linear`` baseline in ``transform`` when ``names`` include it."""
    fit = data.linear_fit()
    if fit is not None and fit.name in names:
        transform["linear"] = {
            "lookback": fit.lookback, "ridge": fit.ridge,
            "fitted_on": f"up to {PANEL_LINEAR_WINDOWS:,} training windows drawn from "
                         "every series, each divided by its own scale; window length and "
                         "ridge chosen on every series' last training window",
            "rule": "each forecast step a fixed weighted sum of the last lookback steps "
                    "(weights summing to one: layer baseline)"}


def _load_member(run: RunFolder, data: PanelData, number: int) -> PanelMember:
    from autoseq.model.layers_panel import scale_free

    model, config = load_trial(run, number, partial(panel_context, data))
    check_finite(model, number)
    raw = scale_free(model, lookback=int(config["lookback"]), name=f"trial_{number}")
    return PanelMember(number, config, load_trial_json(run.trial_dir(number)), raw,
                       side_inputs(config, data))


def _compose(members: list[PanelMember], data: PanelData,
             selection: dict[str, Any] | None = None) -> PanelExport:
    """One raw-in, raw-out model: the members' mean (and the selection's blend)."""
    width = max(m.lookback for m in members)
    model = members[0].raw if len(members) == 1 else mean_forecasters(
        [(f"t{m.number}", m.raw, m.lookback, m.takes) for m in members], data,
        layer="ensemble_mean", name="autoseq_panel_ensemble")
    blend = selection["blend"] if selection else None
    weight = float(selection["weight"]) if blend else 1.0
    if blend:
        base, base_width = baseline_forecaster(data, blend)
        takes = ordered_inputs(n for m in members for n in m.takes)
        model = blend_forecasters(model, width, base, base_width, data, extras=takes,
                                  weight=weight)
        width = max(width, base_width)
    return PanelExport(model, width, tuple(members), blend, weight, selection)


def _weighted(members: list[PanelMember], data: PanelData,
              selection: dict[str, Any]) -> PanelExport:
    """``_compose`` for a weighted ensemble: its trials and baselines, each on the last rows of
    the window it needs. Weighing baselines only, it holds no network (the best trial stays
    in ``members`` to describe, outside the graph)."""
    import keras

    weights = selection["weights"]
    kept = [m for m in members if trial_component(m.number) in weights]
    parts, shares = [], []
    for m in kept:
        parts.append((f"t{m.number}", m.raw, m.lookback, m.takes))
        shares.append(weights[trial_component(m.number)])
    for i, name in enumerate(n for n in weights if not is_trial_component(n)):
        base, base_width = baseline_forecaster(data, name)
        parts.append((f"b{i}", keras.Model(base.input, base.output, name=f"baseline_{i}"),
                      base_width, ()))
        shares.append(weights[name])
    model = mean_forecasters(parts, data, layer="weighted_mean", name="autoseq_panel_weighted",
                             weights=tuple(shares))
    return PanelExport(model, max(p[2] for p in parts), tuple(kept or members[:1]), None, 1.0,
                       selection, weights)


def _baselines(data: PanelData) -> list[str]:
    """The in-graph baselines a blend may take, simpler first (as ``simple_forecasts`` names
    them)."""
    m, fit = data.main_season, data.linear_fit()
    return (["naive"] + ([f"seasonal_naive(m={m})"] if m > 1 else [])
            + ([fit.name] if fit is not None else []))


__all__ = ["PANEL_SIZES", "PanelExport", "PanelMember", "describe_panel", "panel_export",
           "raw_forecasts", "select_panel"]
