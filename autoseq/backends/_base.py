"""What every search backend provides, in autoseq's own terms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from autoseq.exceptions import SearchError
from autoseq.space import Suggester
from autoseq.trial._result import Reporter, TrialResult

TrialFn = Callable[[Suggester, Reporter, int], TrialResult]
"""Runs one trial: ``(suggester, reporter, trial_number) -> TrialResult``."""

STATES = ("complete", "pruned", "failed", "interrupted", "running")
LOST_REASON = "worker died during the trial (process killed or machine lost)"
MAX_RETRY = 2
"""A trial lost with its process is retried at most this many times."""
_META_KEYS = (("fingerprint", "data"), ("space", "search space"), ("settings", "settings"))
PER_WORKER = ("seed",)
"""Settings that are each process's own (like ``--jobs``, ``--gpus`` and ``--precision``, which
are not settings of the study at all): they never stop a process from joining a search."""


@dataclass(frozen=True)
class TrialRecord:
    """One trial as the study stores it, whichever engine ran it."""

    number: int
    state: str
    params: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    @property
    def val_loss(self) -> float | None:
        return self.result.get("val_loss")

    @property
    def config(self) -> dict[str, Any]:
        """The resolved configuration (or the raw drawn values when the trial never resolved)."""
        return self.result.get("config") or dict(self.params)


class Backend(Protocol):
    """A search engine driving trials over an autoseq ``SearchSpace``.

    ``open`` creates or reloads the study and refuses one made for other data or settings;
    ``run`` starts trials until the study holds ``total`` complete-or-pruned trials or
    ``should_stop()`` says so, calling ``on_record`` once each trial is stored; ``records``
    lists every trial in the study.
    """

    name: str

    def open(self, *, meta: dict[str, Any]) -> None: ...

    def run(self, trial_fn: TrialFn, *, total: int, should_stop: Callable[[], bool],
            on_record: Callable[[TrialRecord], None]) -> None: ...

    def records(self) -> list[TrialRecord]: ...

    def close(self) -> None: ...


def count_done(records: list[TrialRecord]) -> int:
    """Trials with a result: complete or pruned."""
    return sum(r.state in ("complete", "pruned") for r in records)


RESUME_REFUSAL = ("{owner} was created with different {what} ({detail}); {new_search} for a new "
                  "search, or the original {what} to resume it")


def check_meta(stored: dict[str, Any], meta: dict[str, Any], *, owner: str, new_search: str,
               refusal: str = RESUME_REFUSAL) -> None:
    """Refuse to resume a search with other data, space or settings than it was created with.

    Per-worker settings (``PER_WORKER``) may differ: each process that joins brings its own.

    Args:
        stored: the meta stored when the search was created (by the backend, or ``run.json``).
        meta: this run's meta (``fingerprint``, ``space``, ``settings``).
        owner: what holds the search, for the message (``study 'autoseq'``).
        new_search: how to start a new search instead (``use another --out folder``).
        refusal: the message, with ``{owner}``, ``{new_search}``, ``{what}`` (data, search space
            or settings) and ``{detail}`` (the first differing entry, both values) filled in.

    Raises:
        SearchError: the first of data, space or settings that differs, naming the first
            differing entry and both values.
    """
    found = meta_difference(stored, meta)
    if found is not None:
        what, detail = found
        raise SearchError(refusal.format(owner=owner, new_search=new_search, what=what,
                                         detail=detail))


def meta_difference(stored: dict[str, Any], meta: dict[str, Any]) -> tuple[str, str] | None:
    """``("settings", "horizon: 5 then, 6 now")`` for the first of data, space and settings
    that differs, per-worker settings aside; ``None`` when they agree.

    Example:
        >>> meta_difference({"settings": {"horizon": 5}}, {"settings": {"horizon": 6}})[1]
        'horizon: 5 then, 6 now'
    """
    for key, what in _META_KEYS:
        old, new = stored.get(key), meta.get(key)
        if key == "settings":
            old, new = _shared(old), _shared(new)
        if old != new:
            return what, _first_difference(old, new, key if key == "fingerprint" else "")
    return None


def _shared(settings: Any) -> Any:
    if not isinstance(settings, dict):
        return settings
    return {k: v for k, v in settings.items() if k not in PER_WORKER}


def _first_difference(old: Any, new: Any, path: str) -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        for k in list(new) + [k for k in old if k not in new]:
            if old.get(k) != new.get(k):
                return _first_difference(old.get(k), new.get(k), f"{path}.{k}" if path else k)
    return f"{path or 'value'}: {_short(old)} then, {_short(new)} now"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:36] + "…" + text[-1]
