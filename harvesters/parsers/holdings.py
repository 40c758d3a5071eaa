"""Holdings: which subfields of which field say where a member's copies are.

Every library system puts holdings somewhere else (MARC 21 852, Alma AVA, Koha 952/995,
CNMARC 905), so members can configure it. A configuration is one mapping or a list of them;
the first mapping whose tag occurs in a record is the one used for that record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from harvesters.bibrecord import Holding
from harvesters.parsers.marcdata import Field, MarcData
from harvesters.parsers.text import clean


@dataclass(frozen=True, slots=True)
class HoldingsSpec:
    """Where one field keeps holdings; each setting names subfield codes ("hi" joins $h $i)."""

    tag: str
    library: str = ""  # branch or institution code
    location: str = ""
    call_number: str = ""
    availability: str = ""
    item_count: str = ""  # a subfield holding a number of copies
    per_item: bool = False  # one field per copy: equal library/location/call number are counted


_SETTINGS = tuple(f.name for f in fields(HoldingsSpec))

MARC21_HOLDINGS = (
    HoldingsSpec("852", library="a", location="bc", call_number="hi"),
    HoldingsSpec("AVA", library="b", location="c", call_number="d", availability="e",
                 item_count="f"),  # Alma publishing
    HoldingsSpec("952", library="a", location="c", call_number="o", per_item=True),  # Koha
)  # fmt: skip
UNIMARC_HOLDINGS = (
    HoldingsSpec("995", library="b", location="c", call_number="k", per_item=True),  # Koha, BnF
    HoldingsSpec("852", library="a", location="bc", call_number="h"),  # Sudoc, BSG
    HoldingsSpec("AVA", library="b", location="c", call_number="d", availability="e",
                 item_count="f"),
)  # fmt: skip
# CNMARC 905 (holdings information): $a institution, $c location, $s call number ($d/$e parts).
CNMARC_HOLDINGS = (HoldingsSpec("905", library="a", location="c", call_number="s"),) + (
    UNIMARC_HOLDINGS[2],
    UNIMARC_HOLDINGS[0],
)


def compile_holdings_config(config) -> tuple[HoldingsSpec, ...]:
    """Turn a mapping or a list of mappings into specs; a ValueError says what to fix."""
    if isinstance(config, HoldingsSpec | Mapping):
        config = [config]
    if not isinstance(config, Sequence) or isinstance(config, str) or not config:
        raise ValueError("holdings config must be a mapping or a non-empty list of mappings")
    return tuple(_spec(item) for item in config)


def _spec(item) -> HoldingsSpec:
    if isinstance(item, HoldingsSpec):
        return item
    if not isinstance(item, Mapping):
        raise ValueError(f"holdings config entry {item!r} is not a mapping")
    unknown = sorted(set(item) - set(_SETTINGS))
    if unknown:
        raise ValueError(
            f"unknown holdings setting {unknown[0]!r}; expected one of {', '.join(_SETTINGS)}"
        )
    tag = item.get("tag")
    if not isinstance(tag, str) or len(tag) != 3:
        raise ValueError(f"holdings config needs a three-character 'tag', got {tag!r}")
    values = {k: ("" if v is None else v) for k, v in item.items()}
    for key in _SETTINGS[1:-1]:
        if not isinstance(values.get(key, ""), str):
            raise ValueError(f"holdings setting {key!r} must be a string of subfield codes")
    return HoldingsSpec(**values)


def holding_tags(specs: tuple[HoldingsSpec, ...]) -> frozenset[str]:
    """Return the tags a parser must keep to read these holdings."""
    return frozenset(spec.tag for spec in specs)


def extract_holdings(data: MarcData, specs, member: str | None) -> list[Holding]:
    """Read holdings with the first spec whose tag occurs in the record."""
    for spec in specs:
        found = data.fields.get(spec.tag)
        if found:
            return _read(found, spec, member)
    return []


def _join(values: dict[str, list[str]], codes: str) -> str | None:
    """Join the values of ``codes`` (in the order the codes are given) and clean them."""
    if not codes:
        return None
    if len(codes) == 1:
        parts = values.get(codes)
        if not parts:
            return None
        return clean(parts[0] if len(parts) == 1 else " ".join(parts))
    parts = [value for code in codes for value in values.get(code, ())]
    return clean(" ".join(parts)) if parts else None


def _by_code(field: Field) -> dict[str, list[str]]:
    """Return the field's non-blank subfield values by code, in field order."""
    values: dict[str, list[str]] = {}
    for code, value in field[2]:
        if value and not value.isspace():
            if code in values:
                values[code].append(value)
            else:
                values[code] = [value]
    return values


def _count(text: str | None) -> int | None:
    if text and text.strip().isdigit():
        return int(text.strip())
    return None


def _read(found: list[Field], spec: HoldingsSpec, member: str | None) -> list[Holding]:
    result: list[Holding] = []
    counts: dict[tuple, int] = {}
    for field in found:
        values = _by_code(field)
        key = (_join(values, spec.library), _join(values, spec.location),
               _join(values, spec.call_number), _join(values, spec.availability))  # fmt: skip
        if not any(key[:3]):
            continue
        if spec.per_item:
            counts[key] = counts.get(key, 0) + 1
            continue
        count = _count(_join(values, spec.item_count)) if spec.item_count else None
        result.append(Holding(member, *key, item_count=count))
    for key, count in counts.items():
        result.append(Holding(member, *key, item_count=count))
    return result
