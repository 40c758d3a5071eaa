"""A quick reader for the plain ListRecords pages most servers send, beside the lxml reader.

Building an lxml tree of a page and walking one Python proxy per MARC element costs more than
the rest of the normalisation. Most pages, though, are plain: UTF-8, no DTD, comments, CDATA
or processing instructions, unprefixed OAI elements, MARCXML records of leader, controlfield,
datafield and subfield elements. For those the harvester:

1. checks the page is well-formed with libxml2 itself (the same hardened parser settings, no
   tree built, outside the GIL) and reads its resumption token from the page's last bytes
   (:func:`scan_list_page`), so the next page can be asked for at once;
2. reads the records with a few regular expressions that accept only that plain form
   (:func:`read_list_page`) and yields, per record, the header, the MARC fields the parsers
   want (the same :class:`MarcData` ``read_marcxml`` builds) and the record's stored payload,
   byte for byte what ``etree.tostring`` writes for the record element (the page's slice,
   with the namespace declarations lxml copies from the envelope).

Anything else (a comment, an entity other than &amp; &lt; &gt;, an attribute in another
order, a UNIMARC slim record, Dublin Core, ...) makes these functions return None, and the
page goes through the lxml reader as before: the two never disagree, they only differ in
speed (``tests/unit/harvesters/test_quick.py`` compares them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from harvesters.pages import OAI_NS, Header, Token
from harvesters.parsers.marcdata import MarcData

_LIST_VERB = "ListRecords"
_NAME = r"[A-Za-z_][\w.-]*"
_PREFIX = rf"(?:{_NAME}:)?"
_VALUE = r'[^"<>&\t\n]*'  # attribute values lxml writes back unchanged
# Repeated character classes, not repeated groups: the re engine runs them much faster.
_TEXT = r"[^<>&]*(?:&(?:amp|lt|gt|quot|apos);[^<>&]*)*"  # text: lxml writes &quot; &apos; as " '
_SOME_TEXT = rf"(?!<){_TEXT}"  # at least one character (an empty element is written <a/>)
_ANY_TEXT = r"[^<&]*(?:&(?:amp|lt|gt|quot|apos);[^<&]*)*"  # header text: never written back
_WS = r"[ \t\n]*"

# The start of a plain page: declaration, the root in the OAI namespace, responseDate, request.
_HEAD = re.compile(
    rb"(?:<\?xml version=\"1\.0\"(?: encoding=\"(?i:utf-8)\")?(?: standalone=\"(?:yes|no)\")?"
    rb"\?>)?[ \t\n]*<OAI-PMH((?: [\w.:-]+=\"[^\"<>&]*\")*)>[ \t\n]*"
    rb"<responseDate>([^<&]*)</responseDate>[ \t\n]*<request(?: [\w.:-]+=\"[^\"<&]*\")*"
    rb"(?:/>|>[^<]*</request>)[ \t\n]*<ListRecords>"
)
_ROOT_NS = re.compile(rb' xmlns(?::([\w.-]+))?="([^"]*)"')
# The end of a plain page: the token, if any, closes the list.
_TAIL = re.compile(
    rb"(?:<resumptionToken((?: [\w.:-]+=\"[^\"<>&]*\")*)(?:/>|>([^<]*)</resumptionToken>))?"
    rb"[ \t\n]*</ListRecords>[ \t\n]*</OAI-PMH>[ \t\n]*\Z"
)
_ATTR = re.compile(rb' ([\w.:-]+)="([^"]*)"')
_TAIL_WINDOW = 4096

_RECORD = re.compile(
    rf"{_WS}<record><header( status=\"deleted\")?>{_WS}<identifier>({_ANY_TEXT})</identifier>"
    rf"{_WS}<datestamp>({_ANY_TEXT})</datestamp>((?:{_WS}<setSpec>{_ANY_TEXT}</setSpec>)*)"
    rf"{_WS}</header>{_WS}(?:<metadata>{_WS}</metadata>{_WS}|(<metadata>){_WS})?"
)
_RECORD_END = re.compile(rf"{_WS}</record>")
_METADATA_END = re.compile(rf"{_WS}</metadata>{_WS}</record>")
_SET_SPEC = re.compile(rf"<setSpec>({_ANY_TEXT})</setSpec>")
_SUB = (
    rf'<{_PREFIX}subfield code="{_VALUE}"(?:/>|>{_SOME_TEXT}</{_PREFIX}subfield>)'
)
_PAYLOAD = re.compile(
    rf"<({_PREFIX})record((?: xmlns(?::{_NAME})?=\"{_VALUE}\")*)((?: (?!xmlns[:=]){_NAME}"
    rf"(?::{_NAME})?=\"{_VALUE}\")*)>{_WS}"
    rf"(?:<{_PREFIX}leader(?:/>|>{_SOME_TEXT}</{_PREFIX}leader>){_WS})?"
    rf"(?:(?:<{_PREFIX}controlfield tag=\"{_VALUE}\"(?:/>|>{_SOME_TEXT}</{_PREFIX}controlfield>)"
    rf"|<{_PREFIX}datafield tag=\"{_VALUE}\" ind1=\"{_VALUE}\" ind2=\"{_VALUE}\""
    rf"(?:/>|>(?:{_WS}{_SUB})+{_WS}</{_PREFIX}datafield>|>[ \t\n]+</{_PREFIX}datafield>)"
    rf"){_WS})*"
    rf"</{_PREFIX}record>"
)
# Start tags of a payload that _PAYLOAD accepted, with the text that follows each.
_TOKEN = re.compile(
    rf"<{_PREFIX}(leader|controlfield|datafield|subfield)(?: tag=\"({_VALUE})\")?"
    rf"(?: ind1=\"({_VALUE})\" ind2=\"({_VALUE})\")?(?: code=\"({_VALUE})\")?(/?)>([^<]*)"
)
_DECL = re.compile(rf" xmlns(?::({_NAME}))?=\"({_VALUE})\"")


@dataclass(slots=True)
class QuickItem:
    """One record of a plain page: its header, its MARC fields and its stored payload."""

    header: Header
    data: MarcData | None  # None for a deleted record or one without metadata
    payload: bytes | None
    namespace: str = ""  # of the payload's <record> element


def scan_list_page(content: bytes, parser: etree.XMLParser) -> tuple[str, Token | None] | None:
    """Check a plain ListRecords page is well-formed; return (responseDate, token) or None.

    None means "not a plain page" (or not well-formed): read it with the lxml reader, which
    says what is wrong with it.
    """
    if b"<!" in content or b"\r" in content or content.find(b"<?", 1) != -1:
        return None  # DTD, comment, CDATA, processing instruction, CR: the lxml reader
    head = _HEAD.match(content)
    if head is None or _root_default_ns(head.group(1)) != OAI_NS:
        return None
    tail = _TAIL.search(content, max(head.end(), len(content) - _TAIL_WINDOW))
    if tail is None:
        return None
    if tail.group(1) is None and b"resumptionToken" in content:
        return None  # a token somewhere else: the lxml reader finds it
    try:
        etree.fromstring(content, parser)
    except etree.XMLSyntaxError:
        return None
    return _text(head.group(2).decode()).strip(), _token(tail)


def well_formed_parser() -> etree.XMLParser:
    """Return a parser that checks well-formedness without building a tree (one per thread)."""
    return etree.XMLParser(
        target=_Nothing(), resolve_entities=False, no_network=True, huge_tree=False,
        load_dtd=False,
    )  # fmt: skip


class _Nothing:
    """A parser target without callbacks: libxml2 reads the page, nothing is built."""

    def close(self) -> None:
        return None


def _root_default_ns(attributes: bytes) -> str | None:
    for prefix, uri in _ROOT_NS.findall(attributes):
        if not prefix:
            return uri.decode()
    return None


def _token(tail: re.Match) -> Token | None:
    if tail.group(1) is None:
        return None
    attributes = {k.decode(): _text(v.decode()) for k, v in _ATTR.findall(tail.group(1))}
    value = _text((tail.group(2) or b"").decode()).strip()
    return Token(
        value=value,
        cursor=_int(attributes.get("cursor")),
        complete_list_size=_int(attributes.get("completeListSize")),
        expiration=attributes.get("expirationDate"),
    )


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _text(value: str) -> str:
    """Replace the predefined entities (the only ones a plain page has)."""
    if "&" not in value:
        return value
    return (
        value.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


def read_list_page(
    content: bytes, wanted: frozenset[str], indicators: frozenset[str]
) -> list[QuickItem] | None:
    """Read the records of a page :func:`scan_list_page` accepted; None: use the lxml reader."""
    text = content.decode("utf-8")
    head = _HEAD.match(content)
    tail = _TAIL.search(content, max(head.end(), len(content) - _TAIL_WINDOW))
    start = len(content[: head.end()].decode("utf-8"))  # characters, not bytes
    end = len(text) - len(content[tail.start() :].decode("utf-8"))
    inherited = _inherited(head.group(1).decode())
    items: list[QuickItem] = []
    position = start
    while position < end:
        found = _RECORD.match(text, position, end)
        if found is None:
            if text[position:end].strip(" \t\n"):
                return None  # something the plain form does not have
            break
        item, position = _item(text, found, end, wanted, indicators, inherited)
        if item is None:
            return None
        items.append(item)
    return items


def _inherited(root_attributes: str) -> list[tuple[str, str]]:
    """Return the root's namespace declarations as (prefix, uri), in document order."""
    return [(prefix, _text(uri)) for prefix, uri in _DECL.findall(" " + root_attributes.strip())]


def _item(text: str, found: re.Match, end: int, wanted, indicators, inherited):
    """Read one <record> the _RECORD match starts; return (item or None, where it ends)."""
    deleted, identifier, datestamp, sets, metadata = found.groups()
    header = Header(
        _text(identifier).strip(),
        _text(datestamp).strip(),
        deleted is not None,
        tuple(_text(s).strip() for s in _SET_SPEC.findall(sets)) if sets else (),
    )
    if metadata is None:
        closed = _RECORD_END.match(text, found.end(), end)
        return (QuickItem(header, None, None) if closed else None), closed and closed.end()
    match = _PAYLOAD.match(text, found.end(), end)
    closed = match and _METADATA_END.match(text, match.end(), end)
    if not closed:
        return None, 0
    if deleted is not None:  # a tombstone's metadata is not read (as the lxml reader does)
        return QuickItem(header, None, None), closed.end()
    payload = match.group(0)
    prefix, own, _attributes = match.groups()
    declared = _DECL.findall(own)
    namespaces = dict(inherited)
    namespaces.update(declared)
    namespace = namespaces.get(prefix[:-1] if prefix else "")
    if namespace is None and prefix:
        return None, 0  # an undeclared prefix: leave it to lxml
    try:
        data = _marc_data(payload, wanted, indicators)
    except _Odd:
        return None, 0
    stored = _stored_form(payload, match.end(2) - match.start(), declared, inherited)
    return QuickItem(header, data, stored, namespace or ""), closed.end()


def _stored_form(payload: str, cut: int, declared, inherited) -> bytes:
    """Return the payload as ``etree.tostring`` writes the record element.

    lxml writes the element's own namespace declarations, then those of its ancestors
    (nearest first) whose prefix it does not declare, then its attributes.
    """
    if "&quot;" in payload or "&apos;" in payload:  # only in text: attributes have no "&"
        payload = payload.replace("&quot;", '"').replace("&apos;", "'")
    known = {prefix for prefix, _uri in declared}
    extra = "".join(
        f' xmlns:{prefix}="{_attr(uri)}"' if prefix else f' xmlns="{_attr(uri)}"'
        for prefix, uri in inherited
        if prefix not in known and not known.add(prefix)
    )
    if not extra:
        return payload.encode("utf-8")
    return (payload[:cut] + extra + payload[cut:]).encode("utf-8")


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _marc_data(payload: str, wanted: frozenset[str], indicators: frozenset[str]) -> MarcData:
    """Build what ``read_marcxml`` builds, from the start tags of an accepted payload."""
    data = MarcData()
    control = data.control
    fields = data.fields
    tags: list[str] = []
    subs: list | None = None
    for kind, tag, ind1, ind2, code, empty, value in _TOKEN.findall(payload):
        if kind == "subfield":
            if subs is not None:
                if empty:
                    value = ""
                elif "&" in value:
                    value = _text(value)
                subs.append((code, value))
            continue
        subs = None
        if kind == "leader":
            data.leader = "" if empty else _text(value)
            continue
        tags.append(tag)
        if tag not in wanted:
            continue
        if kind == "controlfield":
            if tag[:2] != "00":
                return _odd(payload)
            if tag not in control:
                control[tag] = "" if empty else _text(value)
            continue
        if tag[:2] == "00":
            return _odd(payload)
        subs = []
        field = (ind1 or " ", ind2 or " ", subs) if tag in indicators else (None, None, subs)
        if tag in fields:
            fields[tag].append(field)
        else:
            fields[tag] = [field]
    data.tags = tuple(tags)
    return data


def _odd(payload: str) -> MarcData:
    raise _Odd(payload)


class _Odd(Exception):
    """A wanted control tag in a datafield or the reverse: the lxml reader handles it."""
