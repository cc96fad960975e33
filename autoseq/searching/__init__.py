"""The search stage: ``search()``, the worker that joins a study, parallel workers, study helpers.

Named ``searching`` because ``autoseq.search`` is the public function: a subpackage of that name
would replace it on the ``autoseq`` package once imported.
"""

from autoseq.searching._search import SearchInterrupted, SearchResult, search
from autoseq.searching._worker import WorkerSummary, run_worker

__all__ = ["SearchInterrupted", "SearchResult", "WorkerSummary", "run_worker", "search"]
