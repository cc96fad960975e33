"""The ``autoseq`` command: a thin adapter over the Python API (parse, call one function, render)."""

from autoseq.cli._commands import cli, main

__all__ = ["cli", "main"]
