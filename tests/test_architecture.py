"""The package's shape, checked from its source: no import cycles, short functions, one task seam.

Function-level imports count: a cycle hidden inside a function is still a cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autoseq"
MAX_FUNCTION_LINES = 80  # signature and code; the docstring aside
# Comparing the kind of run is the task seam's business (autoseq/tasks/), nobody else's.
TASK_COMPARISON = re.compile(
    r"""task\s*(==|!=|\bin\b|\bnot\s+in\b)|\.get\(\s*["']task["']"""
    r"|isinstance\([^)]*\b(SequenceData|ForecastData)\b")


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Modules of the package that ``name`` imports, at any level of its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            found.update(m for m in [base, *(f"{base}.{a.name}" for a in node.names)]
                         if m in MODULES)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in MODULES)
    found.discard(name)
    return found


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_modules():
    edges = {name: _imports(name, path) for name, path in MODULES.items()}
    assert _cycles(edges) == []


def test_the_checker_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _docstring_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """A docstring is documentation, not length: it does not count."""
    first = node.body[0]
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return first.end_lineno - first.lineno + 1
    return 0


def test_no_function_longer_than_the_limit():
    long = []
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1 - _docstring_lines(node)
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} "
                                f"{node.name} ({lines} lines)")
    assert long == []


def test_task_comparisons_only_inside_the_task_seam():
    found = []
    for path in MODULES.values():
        if "tasks" in path.relative_to(PACKAGE).parts[:-1]:
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if TASK_COMPARISON.search(line):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{i}: {line.strip()}")
    assert found == []


@pytest.mark.parametrize("line", ['if data.task == "forecast":', 's.get("task", "forecast")',
                                  'if task in ("classify", "regress"):',
                                  "isinstance(data, SequenceData)"])
def test_the_checker_sees_a_task_comparison(line):
    assert TASK_COMPARISON.search(line)
