"""A MARC record as plain Python data, read from an lxml element or built by the ISO 2709 reader.

Both MARC 21 and UNIMARC share this shape; only the fields a parser asks for are kept, so the
subfields of notes, local fields and the like are never read.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

# (ind1, ind2, [(code, value), ...]); indicators are None when the parser did not ask for them
Field = tuple[str | None, str | None, list[tuple[str, str]]]

MARC21_NS = "http://www.loc.gov/MARC21/slim"
# The BNCF UNIMARC slim schema names its elements rec, lab, cf, df and sf, with attributes t,
# i1, i2 and c; the demo's UNIMARC members publish that form.
BNCF_NS = "http://www.bncf.firenze.sbn.it/unimarc/slim"
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
    if name == "rec" and ns == BNCF_NS and ns in expected_ns:
        return element  # UNIMARC slim's short element names (rec/lab/cf/df/sf)
    if name != "record" or (ns and ns not in expected_ns):
        shown = f"{{{ns}}}{name}" if ns else name
        raise ValueError(f"expected a {label} <record> element, got <{shown}>")
    return element


def read_marcxml(record, wanted: frozenset[str], indicators: frozenset[str]) -> MarcData:
    """Read the leader, wanted control fields and wanted data fields of a MARCXML <record>.

    Every call into lxml costs about as much as the rest of the normalisation, so each field
    costs one get("tag"); indicators are read only for tags in `indicators` (None elsewhere).
    """
    if localname(record) == "rec":
        return _read_short(record, wanted, indicators)
    data = MarcData()
    data.element = record
    control = data.control
    fields = data.fields
    for child in record:
        tag = child.get("tag")
        if tag not in wanted:
            if tag is None and data.leader is None and localname(child) == "leader":
                data.leader = child.text or ""
            continue
        if tag[:2] == "00":
            if tag not in control:
                control[tag] = child.text or ""
            continue
        # comments and processing instructions have no code: leave them out
        subs = [(code, sub.text or "") for sub in child if (code := sub.get("code")) is not None]
        if tag in indicators:
            field = (child.get("ind1") or " ", child.get("ind2") or " ", subs)
        else:
            field = (None, None, subs)
        if tag in fields:
            fields[tag].append(field)
        else:
            fields[tag] = [field]
    return data


def _read_short(record, wanted: frozenset[str], indicators: frozenset[str]) -> MarcData:
    """Read a UNIMARC slim <rec> (short names: lab, cf, df, sf; attributes t, i1, i2, c)."""
    data = MarcData()
    data.element = record
    for child in record:
        tag = child.get("t")
        if tag is None:
            if data.leader is None and localname(child) == "lab":
                data.leader = child.text or ""
            continue
        if tag not in wanted:
            continue
        if tag[:2] == "00":
            data.control.setdefault(tag, child.text or "")
            continue
        subs = [(code, sub.text or "") for sub in child if (code := sub.get("c")) is not None]
        field = (child.get("i1") or " ", child.get("i2") or " ", subs) if tag in indicators else (
            None, None, subs)
        data.fields.setdefault(tag, []).append(field)
    return data


def tags_present(record) -> set[str]:
    """Return every field tag in a MARCXML record (used only to explain a rejection)."""
    attr = "t" if localname(record) == "rec" else "tag"
    return {t for t in (c.get(attr) for c in record if isinstance(c.tag, str)) if t}


def serialise(element) -> bytes:
    """Serialise the record element once for the record store."""
    return etree.tostring(element, encoding="utf-8")
