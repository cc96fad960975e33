"""Rendering a ``Report`` to one self-contained HTML file and to Markdown with PNGs beside it."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pandas as pd

from autoseq._io import replace_dir_atomic, write_bytes_atomic, write_text_atomic
from autoseq.leaderboard import escape_formulas
from autoseq.report._content import Report, Table

TEMPLATES = Path(__file__).parent / "templates"
FILES_DIR = "report_files"

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|#~])")
_MD_LINE_START = re.compile(r"^(\s*)([-+*](?=\s|$)|\d+[.)](?=\s|$)|[-=]+$)")


class MarkdownSafe(str):
    """Markdown written by the templates themselves (image links): passed through unescaped."""


def md_escape(value: object) -> str:
    """Escape text for Markdown: it shows as written and can open no HTML, link or table cell.

    ``<``, ``>`` and ``&`` become entities (so ``<script>`` is text, never a tag); Markdown
    punctuation is backslash-escaped; line breaks become spaces so a value stays in its cell.

    Example:
        >>> md_escape("<script>alert(1)</script> | x_1")
        '&lt;script&gt;alert(1)&lt;/script&gt; \\\\| x\\\\_1'
    """
    if value is None:
        return ""
    if isinstance(value, MarkdownSafe):
        return str(value)
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = re.sub(r"\s*[\r\n]+\s*", " ", text)
    # A value that opens a line could start a list or a quote: escape that punctuation.
    return _MD_LINE_START.sub(lambda m: m.group(1) + _escape_marker(m.group(2)), text)


def _escape_marker(marker: str) -> str:
    """``-`` → ``\\-``; ``12.`` → ``12\\.``: the punctuation is what Markdown lets escape."""
    i = len(marker.rstrip(".)")) if marker[:1].isdigit() else 0
    return marker[:i] + "\\" + marker[i:]


def _environments():
    import jinja2

    loader = jinja2.FileSystemLoader(str(TEMPLATES))
    html = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)
    html.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    md = jinja2.Environment(loader=loader, autoescape=False, finalize=md_escape,
                            undefined=jinja2.StrictUndefined, trim_blocks=True,
                            lstrip_blocks=True, keep_trailing_newline=True)
    md.filters["raw"] = MarkdownSafe
    for env in (html, md):
        env.globals["Table"] = Table
        env.tests["table"] = lambda b: type(b).__name__ == "Table"
        env.tests["figure"] = lambda b: type(b).__name__ == "Figure"
        env.tests["facts"] = lambda b: type(b).__name__ == "Facts"
        env.tests["paragraph"] = lambda b: type(b).__name__ == "Paragraph"
    return html, md


def render_html(report: Report) -> str:
    """The report as one HTML page: inline CSS, figures as base64 PNGs, no script, no URL."""
    html, _ = _environments()
    return html.get_template("report.html.j2").render(report=report)


def render_markdown(report: Report) -> str:
    """The report as Markdown, its figures linked from ``report_files/``."""
    _, md = _environments()
    return md.get_template("report.md.j2").render(report=report, files=FILES_DIR)


def write(report: Report, run_dir: Path) -> tuple[Path, Path, Path]:
    """Write ``report.html``, ``report.md`` and ``report_files/`` (figures, table CSVs) atomically.

    The figures folder is built aside and swapped in whole, so no stale figure of an older
    report survives next to a new ``report.md``.
    """
    files = run_dir / FILES_DIR
    tmp = run_dir / f".{FILES_DIR}.tmp{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        for fig in report.figures:
            write_bytes_atomic(tmp / f"{fig.name}.png", fig.png)
        for table in (b for s in report.sections for b in s.blocks if isinstance(b, Table)):
            if table.name:
                frame = pd.DataFrame(list(table.rows), columns=list(table.columns))
                write_text_atomic(tmp / f"{table.name}.csv",
                                  escape_formulas(frame).to_csv(index=False))
        replace_dir_atomic(tmp, files)
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise
    md_path, html_path = run_dir / "report.md", run_dir / "report.html"
    write_text_atomic(md_path, render_markdown(report))
    write_text_atomic(html_path, render_html(report))
    return html_path, md_path, files
