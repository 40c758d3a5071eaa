"""A MARC record as plain Python data, read from an lxml element or built by the ISO 2709 reader.

Both MARC 21 and UNIMARC share this shape; only the fields a parser asks for are kept, so the
subfields of notes, local fields and the like are never read.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

# (ind1, ind2, [(code, value), ...])
Field = tuple[str, str, list[tuple[str, str]]]

MARC21_NS = "http://www.loc.gov/MARC21/slim"
UNIMARC_NAMESPACES = (
    "http://www.bncf.firenze.sbn.it/unimarc/slim",
    "http://www.nlc.cn/",  # CNMARC as dp2 / NLC systems publish it
    "info:srw/schema/8/unimarcxml-v0.1",
    "http://www.rba.ru/rusmarc/soft",
    "http://www.nl.go.kr/kormarc/",  # dp2 publishes its CNMARC records under this one too
)
# Leaders where blanks were written as '-' or '#' (dp2, some exports): map them back.
_LEADER_BLANKS = str.maketrans("-#^", "   ")


class MarcData:
    """Leader, control fields and the wanted data fields of one MARC record."""

    __slots__ = ("leader", "control", "fields", "warnings", "tags", "element")

    def __init__(self) -> None:
        self.tags: tuple[str, ...] = ()  # every tag, wanted or not (ISO 2709)
        self.element = None  # the MARCXML <record> read (XML)
        self.leader: str | None = None
        self.control: dict[str, str] = {}
        self.fields: dict[str, list[Field]] = {}
        self.warnings: list[str] = []

    def all_tags(self) -> set[str]:
        """Return every tag in the record, wanted or not (slow for XML: for error messages)."""
        if self.element is not None:
            return tags_present(self.element) | set(self.control)
        return set(self.tags)


def subfield(field: Field, code: str) -> str | None:
    """Return the first non-empty value of a subfield code in a field."""
    for c, value in field[2]:
        if c == code and value:
            return value
    return None


def subfields(field: Field, codes: str) -> list[str]:
    """Return the non-empty values of the given subfield codes, in field order."""
    return [value for c, value in field[2] if c in codes and value]


def first(data: MarcData, tag: str, code: str) -> str | None:
    """Return the first value of tag$code across all fields with that tag."""
    for field in data.fields.get(tag, ()):
        value = subfield(field, code)
        if value:
            return value
    return None


def localname(element) -> str:
    """Return an element's tag without namespace ("" for comments and PIs)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def namespace(element) -> str:
    """Return an element's namespace URI, "" when it has none."""
    tag = element.tag
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].partition("}")[0]
    return ""


def normalise_leader(leader: str, data: MarcData) -> str:
    """Map '-'/'#' blanks to spaces and pad or cut the leader to 24 characters, noting why."""
    leader = leader.translate(_LEADER_BLANKS)
    if len(leader) != 24:
        data.warnings.append(f"leader is {len(leader)} characters, expected 24")
        leader = leader[:24].ljust(24)
    return leader


def unwrap_record(element, expected_ns: Iterable[str], label: str):
    """Return the MARC <record> element to read, or raise ValueError saying what was found."""
    name = localname(element)
    if name == "metadata":  # given the OAI <metadata> wrapper itself: use its payload
        children = [c for c in element if isinstance(c.tag, str)]
        if len(children) != 1:
            raise ValueError(f"<metadata> holds {len(children)} elements, expected one record")
        element = children[0]
        name = localname(element)
    if name == "collection":
        records = [c for c in element if localname(c) == "record"]
        if len(records) != 1:
            raise ValueError(f"<collection> holds {len(records)} records, expected one")
        element = records[0]
        name = localname(element)
    ns = namespace(element)
    if name != "record" or (ns and ns not in expected_ns):
        shown = f"{{{ns}}}{name}" if ns else name
        raise ValueError(f"expected a {label} <record> element, got <{shown}>")
    return element


def read_marcxml(record, wanted: frozenset[str]) -> MarcData:
    """Read leader, control fields and the wanted data fields from a MARCXML <record>."""
    data = MarcData()
    data.element = record
    control = data.control
    fields = data.fields
    order = None  # attribute positions (tag, ind1, ind2), learnt from the record's first datafield
    for child in record:
        values = child.values()
        count = len(values)
        if count == 3:
            if order is None:
                order = _attribute_order(child)
            tag = values[order[0]] if order else None
            if tag is not None and len(tag) == 3:
                ind1, ind2 = values[order[1]], values[order[2]]
            else:  # attributes named or ordered unusually: ask by name
                tag, ind1, ind2 = _named_attributes(child)
        elif count == 0:
            if localname(child) == "leader":
                data.leader = child.text or ""
            continue
        elif count == 1 and len(child) == 0:  # a controlfield: one attribute, no subfields
            tag = values[0]
            if tag not in control:
                control[tag] = child.text or ""
            continue
        else:  # datafield without indicators, or with extra attributes
            tag, ind1, ind2 = _named_attributes(child)
        if tag not in wanted:
            continue
        subs = []
        for sub in child:
            code = sub.values()
            if len(code) != 1:
                code = sub.get("code")
                if code is None:
                    continue
            else:
                code = code[0]
            subs.append((code, sub.text or ""))
        if tag in fields:
            fields[tag].append((ind1, ind2, subs))
        else:
            fields[tag] = [(ind1, ind2, subs)]
    return data


def _attribute_order(datafield) -> tuple[int, int, int] | tuple[()]:
    # Serialisers write the three attributes in one order throughout a record; reading them
    # with one values() call instead of three get() calls is most of MARCXML's parse cost.
    keys = datafield.keys()
    try:
        return keys.index("tag"), keys.index("ind1"), keys.index("ind2")
    except ValueError:
        return ()


def _named_attributes(datafield) -> tuple[str | None, str, str]:
    return datafield.get("tag"), datafield.get("ind1") or " ", datafield.get("ind2") or " "


def tags_present(record) -> set[str]:
    """Return every field tag in a MARCXML record (used only to explain a rejection)."""
    return {t for t in (c.get("tag") for c in record if isinstance(c.tag, str)) if t}


def serialise(element) -> bytes:
    """Serialise the record element once for the record store."""
    return etree.tostring(element, encoding="utf-8")
