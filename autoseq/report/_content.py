"""What a report is made of: sections holding paragraphs, tables and figures.

The content is plain data, computed once and rendered twice (HTML and Markdown); every string in
it is text, never markup, so the templates escape all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of text; ``lead`` is shown in bold before it."""

    text: str
    lead: str = ""
    kind: str = "text"  # "text", "note" (muted) or "key" (highlighted finding)


@dataclass(frozen=True)
class Table:
    """A table of already formatted cells; ``numeric`` marks right-aligned columns.

    A table with a ``name`` is also written as ``report_files/<name>.csv``.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    numeric: tuple[bool, ...] = ()
    highlight: tuple[int, ...] = ()  # row indexes to emphasise (the winner)
    name: str = ""

    @property
    def wide(self) -> bool:
        """Many columns: the page lets the table use more than the text width."""
        return len(self.columns) > 9

    def align(self, i: int) -> str:
        return "right" if i < len(self.numeric) and self.numeric[i] else "left"


@dataclass(frozen=True)
class Figure:
    """A PNG figure: ``name`` is its file name stem beside the Markdown report."""

    name: str
    title: str
    png: bytes
    width: int
    height: int
    caption: str = ""


@dataclass(frozen=True)
class Facts:
    """A short list of ``label: value`` facts."""

    items: tuple[tuple[str, str], ...]


Block = Paragraph | Table | Figure | Facts


@dataclass
class Section:
    """A titled part of the report; ``id`` is its HTML anchor."""

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block | None) -> Section:
        self.blocks.extend(b for b in blocks if b is not None)
        return self

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]


@dataclass
class Report:
    """The whole report: a title, a summary of key findings and the sections."""

    title: str
    subtitle: str
    summary: list[Paragraph]
    sections: list[Section]
    generated: str
    seconds: float = 0.0

    @property
    def figures(self) -> list[Figure]:
        return [f for s in self.sections for f in s.figures]
