"""Read one OAI-PMH response page: parsed once, with a hardened parser, into plain items.

Each page's bytes go through lxml exactly once (no entity resolution, no network, no huge
trees); the harvest loop then hands each record's metadata element straight to the metadata
parser. A page that is not well-formed only because of characters XML forbids (real feeds
carry them) is cleaned and parsed again; how many characters went is reported on the page.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from lxml import etree

from harvesters.errors import MalformedResponse, oai_error
from harvesters.parsers import strip_illegal_xml_chars
from harvesters.payloads import cut_payloads

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
_O = f"{{{OAI_NS}}}"
ROOT, ERROR, RESPONSE_DATE = f"{_O}OAI-PMH", f"{_O}error", f"{_O}responseDate"
RECORD, HEADER, METADATA = f"{_O}record", f"{_O}header", f"{_O}metadata"
IDENTIFIER, DATESTAMP, SET_SPEC = f"{_O}identifier", f"{_O}datestamp", f"{_O}setSpec"
TOKEN = f"{_O}resumptionToken"
SECONDS, DAY = "YYYY-MM-DDThh:mm:ssZ", "YYYY-MM-DD"  # the two OAI-PMH granularities
VERBS = (
    "Identify",
    "ListMetadataFormats",
    "ListSets",
    "GetRecord",
    "ListIdentifiers",
    "ListRecords",
)

# Numeric character references to code points XML 1.0 forbids (&#1; &#x1F;): libxml2 refuses them.
_ILLEGAL_CHAR_REF = re.compile(
    rb"&#(?:0*(?:[0-8]|1[124-9]|2\d|3[01])|[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]));"
)
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_local = threading.local()


def hardened_parser() -> etree.XMLParser:
    """Return this thread's XML parser: no entities, no network, no huge trees (XXE, bombs)."""
    parser = getattr(_local, "parser", None)
    if parser is None:  # lxml parsers must not be shared between threads
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
        )
        _local.parser = parser
    return parser


@dataclass(slots=True)
class Header:
    """An OAI-PMH record header."""

    identifier: str
    datestamp: str
    deleted: bool = False
    sets: tuple[str, ...] = ()


@dataclass(slots=True)
class Item:
    """One record (or bare header) of a page; ``metadata`` is the element inside <metadata>."""

    header: Header
    metadata: etree._Element | None = None
    raw: bytes | None = None  # the stored form of ``metadata``, when the harvest loop made it
    source: bytes | None = None  # ``metadata`` as standalone XML cut from the page (payloads.py)


@dataclass(slots=True)
class Token:
    """A resumptionToken element; an empty ``value`` closes the list."""

    value: str
    cursor: int | None = None
    complete_list_size: int | None = None
    expiration: str | None = None


@dataclass
class Page:
    """One parsed response: its date, items, resumption token and what cleaning it needed."""

    response_date: str
    verb: str | None
    root: etree._Element | None  # None for a page not parsed here (deferred, or sent away)
    items: list[Item] = field(default_factory=list)
    token: Token | None = None
    illegal_chars: int = 0
    size: int = 0  # bytes received
    retries: int = 0  # failed attempts before this page came
    content: bytes = b""  # the body as received (a worker process may parse it)
    # A deferred page was only scanned (``scan.py``): not parsed yet, ``items`` is empty and
    # ``counted`` says how many records it holds (an estimate until it is normalised).
    deferred: bool = False
    counted: int = 0
    request: dict[str, str] = field(default_factory=dict)  # the arguments that asked for it

    @property
    def next_token(self) -> str | None:
        """Return the token to ask for the next page, None when the list is complete."""
        return self.token.value if self.token is not None and self.token.value else None

    @property
    def item_count(self) -> int:
        """Return how many records (and bare headers) the page holds."""
        return self.counted if self.deferred else len(self.items)


def parse_page(content: bytes, base_url: str = "", verb: str | None = None) -> Page:
    """Parse a response; raise OAIError for an OAI <error>, MalformedResponse if not OAI-PMH."""
    root, illegal = parse_xml(content, base_url, verb)
    if root.tag != ROOT:
        raise MalformedResponse(
            f"{base_url} answered {verb or 'the request'} with an XML document "
            f"<{etree.QName(root).localname}> that is not an OAI-PMH 2.0 response; "
            "check the base URL",
            retriable=False,
        )
    error = root.find(ERROR)
    if error is not None:
        raise oai_error(error.get("code") or "unknown", (error.text or "").strip(), base_url, verb)
    page = Page(
        response_date=(root.findtext(RESPONSE_DATE) or "").strip(),
        verb=verb,
        root=root,
        illegal_chars=illegal,
        size=len(content),
        content=content,
    )
    container = root.find(f"{_O}{verb}") if verb else _verb_element(root)
    if container is not None:
        _read_items(container, page)
    return page


def _cut_sources(page: Page, content: bytes, prefix: str | None, items: list[Item]) -> None:
    """Give each item the bytes of its metadata as the page holds them (see payloads.py)."""
    sources = cut_payloads(content, prefix, [item.metadata for item in items])
    if sources is not None:
        for item, source in zip(items, sources, strict=True):
            item.source = source


def parse_xml(content: bytes, base_url: str = "", verb: str | None = None):
    """Parse bytes hardened; on failure strip illegal characters and retry. Return (root, count)."""
    try:
        return etree.fromstring(content, hardened_parser()), 0
    except etree.XMLSyntaxError as first:
        failure = first
    cleaned, removed = _without_illegal_chars(content)
    if removed:
        try:
            return etree.fromstring(cleaned, hardened_parser()), removed
        except etree.XMLSyntaxError as again:
            failure = again
    message, retriable = _malformed_message(content, base_url, verb, failure)
    raise MalformedResponse(message, retriable) from failure


def _without_illegal_chars(content: bytes) -> tuple[bytes, int]:
    """Return the document re-encoded as UTF-8 without forbidden characters, and their count."""
    content, refs = _ILLEGAL_CHAR_REF.subn(b"", content)
    match = _DECLARED_ENCODING.match(content)
    encoding = match.group(1).decode("ascii") if match else "utf-8"
    try:
        text = content.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return content, refs
    text, chars = strip_illegal_xml_chars(text)
    if not chars and not refs:
        return content, 0
    return _DECLARATION.sub(b"", text.encode("utf-8"), count=1), refs + chars


def _malformed_message(content: bytes, base_url: str, verb: str | None, exc) -> tuple[str, bool]:
    """Say what came instead of XML, and whether asking again might help."""
    head = content[:200].lstrip().lower()
    what = verb or "the request"
    if head.startswith((b"<!doctype html", b"<html")):
        return (
            f"{base_url} answered {what} with an HTML page, not OAI-PMH XML; check the base URL",
            False,
        )
    if not content.strip():
        return f"{base_url} answered {what} with an empty body", True
    return f"{base_url} answered {what} with malformed XML ({exc})", True


def _verb_element(root: etree._Element) -> etree._Element | None:
    for child in root:
        tag = child.tag
        if isinstance(tag, str) and tag.startswith(_O) and tag[len(_O) :] in VERBS:
            return child
    return None


def _read_items(container: etree._Element, page: Page) -> None:
    items = page.items
    carrying: list[Item] | None = []  # items with a <metadata>, if each has its element
    for child in container:
        tag = child.tag
        if tag == RECORD:
            item, wrapped = _record(child)
            items.append(item)
            if wrapped and carrying is not None:
                if item.metadata is None:
                    carrying = None  # spans and elements would not pair up: lxml serialises
                else:
                    carrying.append(item)
        elif tag == HEADER:
            items.append(Item(read_header(child)))
        elif tag == TOKEN:
            page.token = _token(child)
    if carrying and not page.illegal_chars:  # a cleaned page's offsets are not the server's
        _cut_sources(page, page.content, container.prefix, carrying)


def _record(record: etree._Element) -> tuple[Item, bool]:
    """Return the record's item, and whether it has a <metadata> element."""
    header, metadata, wrapped = None, None, False
    for part in record:
        tag = part.tag
        if tag == HEADER:
            header = read_header(part)
        elif tag == METADATA:
            wrapped = True
            for payload in part:
                if isinstance(payload.tag, str):  # skip comments and processing instructions
                    metadata = payload
                    break
    if header is None:
        header = Header(identifier="", datestamp="")
    return Item(header, None if header.deleted else metadata), wrapped


def read_header(header: etree._Element) -> Header:
    """Read identifier, datestamp, deleted status and sets from a <header> element."""
    identifier = datestamp = ""
    sets: list[str] = []
    for part in header:
        tag = part.tag
        if tag == IDENTIFIER:
            identifier = (part.text or "").strip()
        elif tag == DATESTAMP:
            datestamp = (part.text or "").strip()
        elif tag == SET_SPEC:
            sets.append((part.text or "").strip())
    return Header(identifier, datestamp, header.get("status") == "deleted", tuple(sets))


def _token(element: etree._Element) -> Token:
    return Token(
        value=(element.text or "").strip(),
        cursor=_int(element.get("cursor")),
        complete_list_size=_int(element.get("completeListSize")),
        expiration=element.get("expirationDate"),
    )


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Identity:
    """What Identify says about a repository, as the harvester needs it."""

    repository_name: str
    granularity: str  # YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ
    earliest_datestamp: str
    deleted_record: str  # no | transient | persistent
    response_date: str


def read_identify(page: Page) -> Identity:
    """Read an Identify page (a missing or odd granularity is read as day granularity)."""
    node = page.root.find(f"{_O}Identify")
    if node is None:
        raise MalformedResponse("the Identify answer has no <Identify> element")
    granularity = (node.findtext(f"{_O}granularity") or "").strip()
    return Identity(
        repository_name=(node.findtext(f"{_O}repositoryName") or "").strip(),
        granularity=granularity if granularity == SECONDS else DAY,
        earliest_datestamp=(node.findtext(f"{_O}earliestDatestamp") or "").strip(),
        deleted_record=(node.findtext(f"{_O}deletedRecord") or "no").strip(),
        response_date=page.response_date,
    )


def read_metadata_formats(page: Page) -> list[str]:
    """Return the metadata prefixes a ListMetadataFormats page offers."""
    return [(el.text or "").strip() for el in page.root.iter(f"{_O}metadataPrefix")]


def read_sets(page: Page) -> list[tuple[str, str]]:
    """Return (setSpec, setName) of every set on a ListSets page."""
    out = []
    for node in page.root.iter(f"{_O}set"):
        out.append(((node.findtext(SET_SPEC) or "").strip(), node.findtext(f"{_O}setName") or ""))
    return out
