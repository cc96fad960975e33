"""The search stage: ``search()``, the worker that joins a study, parallel workers, study helpers.

Named ``searching`` because ``autoseq.search`` is the public function: a subpackage of that name
would replace it on the ``autoseq`` package once imported.

Imports go one way: ``_search`` → ``_session`` → ``_parallel``, and ``_entry`` → ``_worker``;
all of them → the helpers (``_study``, ``_devices``, ``_failures``, ``_task_data``, ``_result``).
"""

from autoseq.searching._result import SearchInterrupted, SearchResult
from autoseq.searching._search import search
from autoseq.searching._worker import WorkerSummary, run_worker

__all__ = ["SearchInterrupted", "SearchResult", "WorkerSummary", "run_worker", "search"]
