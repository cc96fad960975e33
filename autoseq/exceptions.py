"""Errors raised by autoseq. Every error a user can cause is an ``AutoseqError``."""

from __future__ import annotations

__all__ = [
    "AutoseqError",
    "DataError",
    "SearchSpaceError",
    "SearchError",
    "AllTrialsFailedError",
    "ModelError",
    "StorageError",
]


class AutoseqError(Exception):
    """Base class of every error autoseq raises on purpose (CLI exit code 2)."""

    exit_code = 2


class DataError(AutoseqError, ValueError):
    """The input data cannot be used: unreadable, malformed, or too short."""


class SearchSpaceError(AutoseqError, ValueError):
    """A search space (file or Python object) is invalid."""


class SearchError(AutoseqError):
    """A search cannot start or continue (wrong run folder, storage, settings)."""


class StorageError(SearchError):
    """The study storage cannot be reached or opened."""


class AllTrialsFailedError(SearchError):
    """Every trial of a search failed: there is nothing to rank (CLI exit code 1)."""

    exit_code = 1


class ModelError(AutoseqError):
    """A model or model folder cannot be built, exported, verified or loaded."""
