"""Index documents as XML records for other library systems: Dublin Core and MARCXML.

Built with lxml, so every harvested value is text, never markup. Characters XML 1.0 cannot
carry (control characters, lone surrogates) are dropped rather than failing the whole answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree

from search.documents import ClusterDoc

DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
MARC_NS = "http://www.loc.gov/MARC21/slim"

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# BibRecord.format -> MARC leader/06 (type of record) and /07 (bibliographic level).
_LEADER_TYPE = {"book": "am", "serial": "as", "article": "ab", "e-resource": "mm", "map": "em",
                "music score": "cm", "audio": "jm", "video": "gm", "image": "km", "kit": "om",
                "mixed": "pc", "object": "rm", "other": "am"}  # fmt: skip


def xml_text(value: object) -> str:
    """Return ``value`` as text XML 1.0 can hold."""
    return _NOT_XML.sub("", str(value))


def _sub(
    parent: etree._Element, name: str, text: object, attrib: dict[str, str] | None = None
) -> etree._Element:
    element = etree.SubElement(parent, name, attrib or {})
    element.text = xml_text(text)
    return element


def full_title(doc: ClusterDoc) -> str:
    """Return title and subtitle as one line."""
    title, subtitle = doc.get("title") or "", doc.get("subtitle")
    return f"{title} : {subtitle}" if subtitle else title


def dublin_core(doc: ClusterDoc, record_url: str | None = None) -> etree._Element:
    """Return an oai_dc:dc element for the cluster."""
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS})

    def put(name: str, values: Iterable[object]) -> None:
        for value in values:
            if value not in (None, ""):
                _sub(root, f"{{{DC_NS}}}{name}", value)

    put("title", [full_title(doc)])
    put("creator", doc.get("authors") or [])
    put("subject", list(doc.get("subjects") or []) + list(doc.get("clc") or []))
    put("publisher", [doc.get("publisher")])
    put("date", [doc.get("year")])
    put("type", [doc.get("format")])
    put("language", doc.get("languages") or [])
    put("identifier", [f"urn:isbn:{i}" for i in doc.get("isbns") or []])
    put("identifier", [f"urn:issn:{i}" for i in doc.get("issns") or []])
    put("identifier", [record_url])
    put("relation", doc.get("series") or [])
    return root


def marcxml(doc: ClusterDoc) -> etree._Element:
    """Return a MARC 21 slim record for the cluster (one 852 per member's holding)."""
    root = etree.Element(f"{{{MARC_NS}}}record", nsmap={"marc": MARC_NS})
    kind = _LEADER_TYPE.get(doc.get("format") or "", "am")
    _sub(root, f"{{{MARC_NS}}}leader", f"00000n{kind} a2200000 i 4500")
    _sub(root, f"{{{MARC_NS}}}controlfield", doc.get("cluster_id", ""), {"tag": "001"})
    for isbn in doc.get("isbns") or []:
        _field(root, "020", "  ", [("a", isbn)])
    for issn in doc.get("issns") or []:
        _field(root, "022", "  ", [("a", issn)])
    for number in doc.get("clc") or []:
        _field(root, "084", "  ", [("a", number), ("2", "clc")])
    authors = doc.get("authors") or []
    if authors:
        _field(root, "100", "1 ", [("a", authors[0])])
    title = [("a", doc.get("title") or ""), ("b", doc.get("subtitle"))]
    _field(root, "245", ("1" if authors else "0") + "0", title)
    _field(root, "250", "  ", [("a", doc.get("edition"))])
    imprint = [("a", doc.get("place")), ("b", doc.get("publisher")), ("c", doc.get("year"))]
    _field(root, "264", " 1", imprint)
    _field(root, "300", "  ", [("a", f"{doc['pages']} p.") if doc.get("pages") else ("a", None)])
    for series in doc.get("series") or []:
        _field(root, "490", "0 ", [("a", series)])
    for subject in doc.get("subjects") or []:
        _field(root, "650", " 4", [("a", subject)])
    for author in authors[1:]:
        _field(root, "700", "1 ", [("a", author)])
    for holding in doc.get("holdings") or []:
        _field(root, "852", "  ", _holding_subfields(holding))
    return root


def _holding_subfields(holding: dict) -> list[tuple[str, object]]:
    return [
        ("a", holding.get("member")),
        ("b", holding.get("location")),
        ("h", holding.get("call_number")),
        ("z", holding.get("availability")),
    ]


def _field(root: etree._Element, tag: str, indicators: str, subfields) -> None:
    """Add a datafield with the subfields that have a value (none: no field)."""
    present = [(code, value) for code, value in subfields if value not in (None, "")]
    if not present:
        return
    field = etree.SubElement(
        root, f"{{{MARC_NS}}}datafield", tag=tag, ind1=indicators[0], ind2=indicators[1]
    )
    for code, value in present:
        _sub(field, f"{{{MARC_NS}}}subfield", value, {"code": code})
