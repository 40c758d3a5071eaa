"""Report tables: one shape for the page, the print/PDF layout, CSV, XLSX and the JSON API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Column:
    """A column: its key in each row, its heading in both languages, and how to show values."""

    key: str
    en: str
    zh: str
    kind: str = "int"  # text | int | float | share | code

    def heading(self, locale: str) -> str:
        """Return the heading in the reader's language."""
        return self.en if locale.lower().startswith("en") else self.zh


@dataclass
class Table:
    """A table of the report: every figure a coordinator may export."""

    id: str
    en: str
    zh: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def title(self, locale: str) -> str:
        """Return the title in the reader's language."""
        return self.en if locale.lower().startswith("en") else self.zh

    def as_json(self) -> dict[str, Any]:
        """Return the table as JSON-able data (numbers stay numbers)."""
        return {
            "id": self.id,
            "title": {"en": self.en, "zh": self.zh},
            "columns": [
                {"key": c.key, "en": c.en, "zh": c.zh, "kind": c.kind} for c in self.columns
            ],
            "rows": self.rows,
        }


def show(value: Any, kind: str) -> str:
    """Format one cell for people: shares as percentages, no data as a dash."""
    if value is None or value == "":
        return "–"
    if kind == "share":
        return f"{value * 100:.0f}%"
    if kind == "float":
        return f"{value:,.2f}" if abs(value) < 1 else f"{value:,.1f}"
    if kind == "int":
        return f"{value:,.0f}"
    return str(value)


def plain(value: Any, kind: str) -> Any:
    """Return a cell for a spreadsheet or CSV: numbers rounded, no data empty."""
    if value is None:
        return ""
    if kind in ("share", "float") and isinstance(value, float):
        return round(value, 4)
    return value
