"""Read an alliance file: YAML, then the schemas, then the cross-record checks; first error wins."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError

from federation.alliance.checks import cross_check
from federation.alliance.errors import AllianceFileError, flatten, render_path
from federation.alliance.fields import describe
from federation.alliance.model import DEFAULT_TIME_ZONE, Alliance, IllPolicy
from federation.alliance.positions import Problem, SourceMap
from federation.alliance.schemas import AllianceFileSchema, IllPolicySchema

MAX_BYTES = 5 * 1024 * 1024
WHOLE_FILE = "(file)"
MINIMAL = (
    "a minimal alliance file is a mapping with the keys alliance (name: {zh: ...}), "
    "regions (a list; each with code, name, population, kind), members (a list; each with "
    "code, name, type, region, coordinates, oai, ill, liaison) and cost_sharing; copy "
    "config/example-alliance.yaml and edit it"
)
_YAML_HINTS = {
    "alias": "values starting with * or & must be quoted, e.g. schedule: '*/30 * * * *'",
    "mapping values are not allowed": "a value containing ': ' must be quoted",
    "'\\t'": "indent with spaces, not tabs",
    "expected <block end>": "check the indentation of this line and the one above",
    "not a real date": "write dates as YYYY-MM-DD with a real month and day",
}


class SafeLoader(yaml.SafeLoader):
    """yaml.safe_load's loader, but an impossible date (2026-13-40) is a YAML error with a line."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode):  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a real date ({exc})", node.start_mark
            ) from None


SafeLoader.add_constructor("tag:yaml.org,2002:timestamp", SafeLoader.construct_yaml_timestamp)


def load_alliance(path: str | Path) -> Alliance:
    """Load and check an alliance file; raise AllianceFileError naming the first problem."""
    shown = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise AllianceFileError(
            shown, WHOLE_FILE, "no such file; check the path (setting ALLIANCE_FILE)"
        ) from None
    except IsADirectoryError:
        raise AllianceFileError(shown, WHOLE_FILE, "is a folder; name the YAML file") from None
    except OSError as exc:
        raise AllianceFileError(shown, WHOLE_FILE, f"cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise AllianceFileError(
            shown,
            WHOLE_FILE,
            "is larger than 5 MB; an alliance file "
            "is a few hundred KB at most - is it the right file?",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AllianceFileError(
            shown, WHOLE_FILE, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    return load_alliance_text(text, source=shown)


def load_alliance_text(text: str, source: str = "<string>") -> Alliance:
    """Load and check alliance-file text; ``source`` names it in error messages."""
    data = _parse(text, source)
    where = SourceMap(yaml.compose(text, Loader=yaml.SafeLoader))
    _raise_first(source, where.duplicates, where)
    schema = AllianceFileSchema()
    try:
        alliance = schema.load(data)
    except ValidationError as exc:
        # Report outside the except block so no marshmallow traceback rides along as context.
        problems = list(flatten(exc.messages, data, schema)) or [((), str(exc.messages))]
    else:
        problems = cross_check(alliance)
    _raise_first(source, problems, where)
    return dataclasses.replace(alliance, source=source)


def load_ill_policy(plain: dict[str, Any]) -> IllPolicy:
    """Rebuild an IllPolicy from as_plain() output (e.g. the members table's JSON column)."""
    policy = IllPolicySchema().load(plain)
    return policy if policy.time_zone else dataclasses.replace(policy, time_zone=DEFAULT_TIME_ZONE)


def _parse(text: str, source: str) -> dict:
    try:
        data = yaml.load(text, Loader=SafeLoader)  # noqa: S506 - SafeLoader, dates checked
    except yaml.YAMLError as exc:
        raise _yaml_error(source, exc) from None
    if data is None:
        raise AllianceFileError(source, WHOLE_FILE, f"the file is empty; {MINIMAL}")
    if not isinstance(data, dict):
        raise AllianceFileError(
            source,
            WHOLE_FILE,
            f"the file holds {describe(data)}, not a mapping of keys to values; {MINIMAL}",
        )
    return data


def _yaml_error(source: str, exc: yaml.YAMLError) -> AllianceFileError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    what = f"{context}: {problem}" if context else problem
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    hint = next((h for k, h in _YAML_HINTS.items() if k in f"{what}"), "check the YAML syntax")
    return AllianceFileError(
        source, WHOLE_FILE, f"invalid YAML{where}: {what}; {hint}", mark.line + 1 if mark else None
    )


def _raise_first(source: str, problems: list[Problem], where: SourceMap) -> None:
    """Raise the problem that comes first in the file, if there is any."""
    first = where.first(problems)
    if first is not None:
        path, problem = first
        raise AllianceFileError(source, render_path(path), problem, where.line_of(path))
