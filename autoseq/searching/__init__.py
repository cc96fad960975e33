"""The search stage: ``search()``, the worker that joins a study, parallel workers, study helpers.

Named ``searching`` because ``autoseq.search`` is the public function: a subpackage of that name
would replace it on the ``autoseq`` package once imported.

Imports go one way: ``_search`` → ``_session`` → ``_parallel``, and ``_entry`` → ``_worker``;
all of them → the helpers (``_study``, ``_devices``, ``_failures``, ``_result``).
"""

from __future__ import annotations

from autoseq._lazy import lazy_attributes

# Loaded on first use: the stage's own modules import this package's siblings freely.
_LAZY = {
    "SearchInterrupted": "autoseq.searching._result",
    "SearchResult": "autoseq.searching._result",
    "search": "autoseq.searching._search",
    "WorkerSummary": "autoseq.searching._worker",
    "run_worker": "autoseq.searching._worker",
}
__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes(__name__, _LAZY)
