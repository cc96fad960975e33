"""Probabilistic forecasts: which intervals and quantiles to serve, and their calibration.

A forecaster's intervals are **split-conformal** on the validation windows, per horizon step and
target: the residuals of the exported model's own point forecast (an ensemble's or a blend's
included) are divided by a per-window scale the model computes from its input window, and the
empirical quantiles of those scores, at the finite-sample conservative ranks, become constant
offsets inside the SavedModel. Every interval is a pair of quantiles (80% is 0.1 and 0.9), so
one mechanism serves ``--levels`` and ``--quantiles``; the offsets are sorted, so quantiles
never cross.

A network trained with the pinball loss (``loss: pinball``) brings its own quantiles:
they are **conformalised** (CQR, Romano, Patterson & Candès 2019, in its asymmetric form):
each served quantile starts from the network's quantiles (interpolated linearly between its
levels) instead of the point forecast, and the offset is the conformal quantile of that
quantile's own residuals, so the band follows the network's width and each end misses at most
its share, however far off the network's quantiles are. The results are sorted, so they never
cross.

The conservative rank of the ``τ`` quantile of ``n`` scores is ``ceil((n + 1) τ)`` above the
median and ``floor((n + 1) τ)`` below it: each side misses at most its share on exchangeable
windows, whatever the network's own errors look like. A level needs ``n ≥ 1 / τ - 1`` windows
per step; when a step has too few, the scores of every step are pooled (each step scaled by its
mean absolute score), and when even the pool is too small the level is refused.

Example:
    >>> spec = interval_spec(levels="80,95", quantiles="0.1,0.5,0.9")
    >>> spec.taus
    (0.025, 0.1, 0.5, 0.9, 0.975)
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from autoseq.exceptions import ModelError
from autoseq.interval_metrics import interval_score, level_bounds, pinball

logger = logging.getLogger("autoseq")

DEFAULT_LEVELS = (80.0, 95.0)
SCALES = ("none", "naive", "seasonal")
"""Per-window scales a calibration weighs: none (plain residuals), the window's mean absolute
step-to-step change, or its mean absolute change over the main season."""
FALLBACK_SCALE = "naive"
"""The scale when the validation windows are too few to compare them: residuals relative to the
window's own variability follow a level that moves between validation and test."""


@dataclass(frozen=True)
class IntervalSpec:
    """Which central intervals (``levels``, %) and quantiles an export serves.

    ``explicit``: the user asked for them, so a level the validation part cannot support is an
    error rather than a warning that drops it.
    """

    levels: tuple[float, ...] = DEFAULT_LEVELS
    quantiles: tuple[float, ...] = ()
    explicit: bool = False

    @property
    def taus(self) -> tuple[float, ...]:
        """Every quantile level served, sorted: the quantiles and each interval's two ends."""
        ends = [t for lv in self.levels for t in level_bounds(lv)]
        return tuple(sorted({round(t, 9) for t in [*ends, *self.quantiles]}))

    def dropping(self, taus: set[float]) -> IntervalSpec:
        """This spec without the levels and quantiles that need any of ``taus``."""
        levels = tuple(lv for lv in self.levels
                       if not {round(t, 9) for t in level_bounds(lv)} & taus)
        quantiles = tuple(q for q in self.quantiles if round(q, 9) not in taus)
        return IntervalSpec(levels=levels, quantiles=quantiles, explicit=self.explicit)


def interval_spec(*, levels: str | tuple[float, ...] | list[float] | None = None,
                  quantiles: str | tuple[float, ...] | list[float] | None = None
                  ) -> IntervalSpec:
    """Validate ``--levels`` / ``--quantiles`` (comma-separated text or numbers).

    ``levels=None`` means the default 80 and 95 %, ``"none"`` no interval.

    Raises:
        ModelError: a level outside (0, 100), a quantile outside (0, 1), duplicates, or
            quantiles not in increasing order.
    """
    explicit = levels is not None or quantiles is not None
    lv = DEFAULT_LEVELS if levels is None else _numbers(levels, "--levels")
    qs = () if quantiles is None else _numbers(quantiles, "--quantiles")
    for v in lv:
        if not 0 < v < 100:
            raise ModelError(f"--levels are interval coverages in percent, each in (0, 100). "
                             f"Received: {v:g}")
    for v in qs:
        if not 0 < v < 1:
            raise ModelError(f"--quantiles are probabilities, each in (0, 1). Received: {v:g}")
    for name, vals in (("--levels", lv), ("--quantiles", qs)):
        if len(set(vals)) != len(vals):
            raise ModelError(f"{name} lists a value twice. Received: "
                             f"{','.join(f'{v:g}' for v in vals)}")
    if list(qs) != sorted(qs):
        raise ModelError(f"--quantiles must be in increasing order. Received: "
                         f"{','.join(f'{v:g}' for v in qs)}; e.g. 0.1,0.5,0.9")
    return IntervalSpec(levels=tuple(sorted(lv)), quantiles=tuple(qs), explicit=explicit)


def _numbers(value, name: str) -> tuple[float, ...]:
    if isinstance(value, str):
        if value.strip().lower() in ("", "none"):
            return ()
        try:
            return tuple(float(v) for v in value.split(","))
        except ValueError:
            raise ModelError(f"{name} takes comma-separated numbers (e.g. "
                             f"{'80,95' if name == '--levels' else '0.1,0.5,0.9'}). "
                             f"Received: {value!r}") from None
    return tuple(float(v) for v in value)


def window_scale(windows: np.ndarray, *, kind: str, lag: int, floor: np.ndarray) -> np.ndarray:
    """Each window's scale ``[n, targets]`` from its target columns ``[n, W, targets]``: the mean
    absolute change over ``lag`` steps (``kind`` naive or seasonal), at least ``floor``; ones
    for ``none``. The model computes the same in float32 (``ConformalBands``)."""
    if kind == "none":
        return np.ones((windows.shape[0], windows.shape[2]))
    diff = np.abs(windows[:, lag:] - windows[:, :-lag]).mean(axis=1)
    return np.maximum(diff, floor)


@dataclass(frozen=True)
class Calibration:
    """Conformal offsets: quantile ``τ`` of step ``h``, target ``t`` is
    ``point + scale(window)[t] · offsets[h, t, q]``."""

    taus: tuple[float, ...]
    offsets: np.ndarray
    scale: str
    lag: int
    floor: np.ndarray
    windows: int
    pooled: bool
    spec: IntervalSpec
    tried: dict[str, float] = field(default_factory=dict)
    mix: np.ndarray | None = None
    """CQR: ``[Qh, Q]``, the served quantiles' interpolation from the network's ``head_taus``
    (quantile ``τ`` is then ``sorted(quantiles @ mix + scale · offsets)``)."""
    head_taus: tuple[float, ...] = ()

    def quantiles(self, pred: np.ndarray, targets_windows: np.ndarray) -> np.ndarray:
        """The calibrated quantiles ``[n, H, targets, Q]`` of forecasts ``pred`` (as
        ``calibrate`` takes them) from windows whose target columns are ``targets_windows``:
        what the served model's ``quantiles`` output computes."""
        scale = window_scale(targets_windows, kind=self.scale, lag=self.lag, floor=self.floor)
        return band_quantiles(_base(pred, self.mix), scale, self.offsets)


def calibrate(pred: np.ndarray, truth: np.ndarray, targets_windows: np.ndarray,
              spec: IntervalSpec, *, season: int, floor: np.ndarray,
              scales: tuple[str, ...] = SCALES, head_taus: tuple[float, ...] = ()
              ) -> Calibration | None:
    """Conformal offsets from validation forecasts ``pred`` / actuals ``truth``
    (``[n, H, targets]``) and each window's target columns ``[n, W, targets]``.

    With ``head_taus``, ``pred`` is a network's own quantiles ``[n, H, targets, Qh]`` at those
    levels, and they are conformalised (CQR) rather than the point.

    Each scale of ``scales`` usable on these windows is calibrated on the first half of the
    windows and scored (mean interval score over the levels, or quantile loss) on the second
    half, a horizon later; the best is calibrated again on all windows.

    Returns:
        ``None`` when no level or quantile is left to serve.

    Raises:
        ModelError: an explicitly requested level needs more windows than there are.
    """
    spec = _supported(spec, len(pred), pred.shape[1])
    if not spec.taus:
        return None
    mix = interpolation_matrix(head_taus, spec.taus) if head_taus else None
    base = _base(pred, mix)
    usable = [s for s in scales if s != "seasonal" or (season > 1 and
                                                      targets_windows.shape[1] > 2 * season)]
    tried = _compare_scales(base, truth, targets_windows, spec, usable, season=season,
                            floor=floor)
    best = min(tried, key=tried.get) if tried else (
        usable[0] if len(usable) == 1 else FALLBACK_SCALE)
    lag = season if best == "seasonal" else 1
    scale = window_scale(targets_windows, kind=best, lag=lag, floor=floor)
    offsets, pooled = _offsets(truth, base, scale, spec.taus)
    return Calibration(taus=spec.taus, offsets=offsets, scale=best, lag=lag,
                       floor=np.asarray(floor, dtype="float64"), windows=len(pred),
                       pooled=pooled, spec=spec, tried=tried, mix=mix,
                       head_taus=tuple(head_taus))


def _base(pred: np.ndarray, mix: np.ndarray | None) -> np.ndarray:
    """What the offsets are added to, ``[n, H, targets, 1 or Q]``: the point, or (CQR) the
    network's quantiles interpolated to the served levels."""
    return pred[..., None] if mix is None else pred @ mix


def split_halves(n: int, horizon: int) -> tuple[slice, slice]:
    """The earlier and the later half of ``n`` chronological windows of ``horizon`` steps, a
    horizon apart so that no outcome of the earlier half is a target of the later one."""
    half = max((n - horizon) // 2, 0)
    return slice(0, half), slice(half + horizon, n)


def interpolation_matrix(head_taus, taus) -> np.ndarray:
    """``[len(head_taus), len(taus)]``: each of ``taus`` as the linear interpolation (in the
    level) of its two neighbours among ``head_taus``; the nearest end outside them."""
    head = np.asarray(head_taus, dtype="float64")
    mix = np.zeros((len(head), len(taus)))
    for j, t in enumerate(taus):
        if t <= head[0] or t >= head[-1]:
            mix[0 if t <= head[0] else -1, j] = 1.0
            continue
        i = int(np.searchsorted(head, t, side="right")) - 1
        w = (t - head[i]) / (head[i + 1] - head[i]) if t > head[i] else 0.0
        mix[i, j], mix[min(i + 1, len(head) - 1), j] = 1 - w, w
    return mix


def band_quantiles(base: np.ndarray, scale: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Quantiles ``[n, H, targets, Q]`` from ``base [n, H, targets, 1 or Q]``, window scales
    ``[n, targets]`` and offsets ``[H, targets, Q]`` (sorted: CQR's per-quantile offsets do not
    keep the order by themselves)."""
    q = base + scale[:, None, :, None] * offsets[None]
    return q if base.shape[-1] == 1 else np.sort(q, axis=-1)


def _offsets(truth: np.ndarray, base: np.ndarray, scale: np.ndarray,
             taus: tuple[float, ...]) -> tuple[np.ndarray, bool]:
    """Offsets ``[H, targets, Q]``: of one set of scores around a point (``base [..., 1]``), or
    each quantile's from its own residuals (CQR)."""
    if base.shape[-1] == 1:
        return conformal_offsets((truth - base[..., 0]) / scale[:, None, :], taus)
    parts = [conformal_offsets((truth - base[..., i]) / scale[:, None, :], (t,))
             for i, t in enumerate(taus)]
    return np.concatenate([o for o, _ in parts], axis=-1), any(p for _, p in parts)


def _compare_scales(base, truth, tw, spec: IntervalSpec, usable: list[str], *, season: int,
                    floor) -> dict[str, float]:
    fit, held = split_halves(*base.shape[:2])
    if len(usable) < 2 or fit.stop < 2 or not _fits(spec.taus, fit.stop, base.shape[1]):
        return {}
    out = {}
    for kind in usable:
        lag = season if kind == "seasonal" else 1
        sc = window_scale(tw, kind=kind, lag=lag, floor=floor)
        offsets, _ = _offsets(truth[fit], base[fit], sc[fit], spec.taus)
        out[kind] = _score(band_quantiles(base[held], sc[held], offsets), truth[held], spec)
    return out


def _score(q: np.ndarray, truth: np.ndarray, spec: IntervalSpec) -> float:
    """Mean interval score over the levels, else the quantile loss (lower is better)."""
    taus = list(spec.taus)
    if spec.levels:
        total = 0.0
        for lv in spec.levels:
            lo, hi = (taus.index(t) for t in level_bounds(lv))
            total += float(np.mean(interval_score(q[..., lo], q[..., hi], truth, lv)))
        return total / len(spec.levels)
    return float(np.mean([pinball(q[..., i], truth, t) for i, t in enumerate(taus)]))


def conformal_offsets(scores: np.ndarray, taus: tuple[float, ...]) -> tuple[np.ndarray, bool]:
    """Offsets ``[H, targets, Q]`` from scores ``[n, H, targets]`` at the conservative ranks;
    pooled over the steps (each scaled by its mean absolute score) when ``n`` per step is too
    few for some ``τ``."""
    n, horizon = scores.shape[:2]
    if _fits(taus, n, 1):
        ordered = np.sort(scores, axis=0)
        offsets = np.stack([_at_rank(ordered, n, t) for t in taus], axis=-1)
        return np.sort(offsets, axis=-1), False
    spread = np.maximum(np.mean(np.abs(scores), axis=0), 1e-12)  # [H, targets]
    pooled = np.sort((scores / spread).reshape(n * horizon, -1), axis=0)
    unit = np.stack([_at_rank(pooled, n * horizon, t) for t in taus], axis=-1)  # [T, Q]
    return np.sort(spread[..., None] * unit[None], axis=-1), True


def _at_rank(ordered: np.ndarray, n: int, tau: float) -> np.ndarray:
    if abs(tau - 0.5) < 1e-12:
        return np.median(ordered, axis=0)
    rank = math.ceil((n + 1) * tau - 1e-9) if tau > 0.5 else math.floor((n + 1) * tau + 1e-9)
    return ordered[min(max(rank, 1), n) - 1]


def needed_windows(tau: float) -> int:
    """Calibration windows a conservative ``τ`` quantile needs: ``ceil(1 / min(τ, 1-τ)) - 1``."""
    return math.ceil(1 / min(tau, 1 - tau) - 1e-9) - 1


def _fits(taus, n: int, horizon: int) -> bool:
    return not _short(taus, n, horizon)


def _short(taus, n: int, horizon: int) -> set[float]:
    """The quantile levels of ``taus`` that ``n`` windows of ``horizon`` steps are too few for."""
    return {t for t in taus if n * horizon < needed_windows(t)}


def supported(spec: IntervalSpec, n: int, horizon: int) -> IntervalSpec:
    """``spec`` without what ``n`` windows of ``horizon`` steps cannot support, silently."""
    return spec.dropping(_short(spec.taus, n, horizon))


def _supported(spec: IntervalSpec, n: int, horizon: int) -> IntervalSpec:
    """``spec`` without what ``n`` windows of ``horizon`` steps cannot support (an error when
    the user asked for it explicitly)."""
    short = _short(spec.taus, n, horizon)
    if not short:
        return spec
    worst = max(short, key=needed_windows)
    what = (f"{100 * (1 - 2 * min(worst, 1 - worst)):g}% interval / quantile {worst:g} needs "
            f"{needed_windows(worst)} validation windows (pooled over the horizon), the "
            f"validation part has {n} of {horizon} steps")
    if spec.explicit:
        raise ModelError(f"{what}: ask for lower --levels or quantiles nearer 0.5, or enlarge "
                         "--val-size")
    logger.warning("intervals: %s; those are left out (ask for lower --levels or enlarge "
                   "--val-size)", what)
    return spec.dropping(short)


def band_columns(intervals: dict, targets: list[str]) -> list[tuple[str, int, int]]:
    """``(column, target index, quantile index)`` of every column ``predict`` writes for a
    manifest's ``intervals``: ``<target>_lo80``, ``<target>_hi80``… then ``<target>_q0.1``…"""
    taus = [round(t, 9) for t in intervals["quantiles"]]
    out = []
    for j, target in enumerate(targets):
        for lv in intervals.get("levels", []):
            lo, hi = level_bounds(float(lv))
            out += [(f"{target}_lo{float(lv):g}", j, taus.index(lo)),
                    (f"{target}_hi{float(lv):g}", j, taus.index(hi))]
        for q in intervals.get("requested_quantiles", []):
            out.append((f"{target}_q{float(q):g}", j, taus.index(round(float(q), 9))))
    return out
