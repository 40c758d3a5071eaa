"""The one-line error of a bad alliance file, and turning marshmallow's errors into it."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

from marshmallow import Schema, fields

from federation.alliance.fields import describe

Path = tuple[str | int, ...]  # str = mapping key, int = list index
MISSING = object()
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")

_TEMPLATES = {
    "Not a valid string.": "expected text, got {got}",
    "Not a valid integer.": "expected a whole number, got {got}",
    "Not a valid number.": "expected a number, got {got}",
    "Not a valid list.": "expected a list (one '- item' per line), got {got}",
    "Invalid input type.": "expected a mapping of keys to values, got {got}",
    "Not a valid mapping type.": "expected a mapping of keys to values, got {got}",
    "Special numeric values (nan or infinity) are not permitted.": (
        "expected a finite number, got {got}"
    ),
    "Number too large.": "the number {got} is too large",
}


class AllianceFileError(Exception):
    """A bad alliance file; str(e) is one line: '<file>: <key.path>: <problem>'."""

    def __init__(self, path: str, key_path: str, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.key_path = key_path
        self.problem = " ".join(str(problem).split())  # always one line
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = self.line and f"line {self.line}" not in self.problem
        where = f" (line {self.line})" if shown else ""
        return f"{self.path}: {self.key_path}: {self.problem}{where}"

    def __reduce__(self) -> tuple:
        return (type(self), (self.path, self.key_path, self.problem, self.line))


def render_path(path: Path) -> str:
    """Render ('members', 3, 'region') as members[3].region; the empty path as (file)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out or "(file)"


def _schema_of(node: Any) -> Schema | None:
    if isinstance(node, Schema):
        return node
    if isinstance(node, fields.Nested):
        return node.schema
    return None


def _unknown(key: Any, schema: Schema | None) -> str:
    allowed = list(schema.load_fields) if schema is not None else []
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "; remove it or fix its spelling."
    return f"unknown key {str(key)!r}{hint} Keys allowed here: {', '.join(allowed)}"


def _missing(key: Any, field: Any) -> str:
    help_text = getattr(field, "metadata", {}).get("help")
    return f"required key {str(key)!r} is missing; add it" + (
        f" ({help_text})" if help_text else ""
    )


def _rewrite(message: str, value: Any, field: Any) -> str:
    if message == "Field may not be null.":
        optional = field is not None and not field.required
        return "is empty (null); give a value" + (" or remove the key" if optional else "")
    template = _TEMPLATES.get(message)
    if template is not None and isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        template += "; remove the quotes around the number"
    if template is None:
        return message[:1].lower() + message[1:] if message[:2] != message[:2].upper() else message
    return template.format(got=describe(value) if value is not MISSING else "nothing")


def _step(data: Any, node: Any, key: Any) -> tuple[str | int, Any, Any]:
    """Return the path step, the value and the schema/field one level below ``key``."""
    schema = _schema_of(node)
    if isinstance(data, list) and isinstance(key, int):
        child = data[key] if 0 <= key < len(data) else MISSING
        return key, child, node.inner if isinstance(node, fields.List) else None
    child = data.get(key, MISSING) if isinstance(data, dict) else MISSING
    field = schema.load_fields.get(key) if schema is not None else None
    return str(key), child, field


def flatten(errors: Any, data: Any, node: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Yield (path, one-line message) for every error in marshmallow's nested error dict."""
    if isinstance(errors, list):
        for message in errors:
            if isinstance(message, dict):
                yield from flatten(message, data, node, path)
            else:
                yield path, _rewrite(str(message), data, node)
        return
    for key, sub in errors.items():
        if key == "_schema":
            yield from flatten(sub, data, node, path)
            continue
        step, child, field = _step(data, node, key)
        if sub == ["Unknown field."]:
            yield (*path, step), _unknown(key, _schema_of(node))
        elif sub == ["Missing data for required field."]:
            yield (*path, step), _missing(key, field)
        elif isinstance(node, fields.Dict) and isinstance(sub, dict) and "value" in sub:
            yield from flatten(sub["value"], child, node.value_field, (*path, step))
        elif isinstance(node, fields.Dict) and isinstance(sub, dict) and "key" in sub:
            yield from flatten(sub["key"], key, node.key_field, (*path, step))
        else:
            yield from flatten(sub, child, field, (*path, step))
