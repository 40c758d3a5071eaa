"""Read what the fetching thread needs from a ListRecords page without parsing it.

To ask for the next page the harvester needs only the resumption token, which a well-behaved
server writes as the list's last element. For the plain pages most servers send (UTF-8, no DTD,
comments, CDATA or processing instructions, the root in the OAI namespace without a prefix,
responseDate and request before <ListRecords>, the token last) :func:`scan_list_page` reads
the responseDate and the token from the page's first and last bytes. The page is then parsed
once, by whichever process normalises it (``offload.py``), instead of once here and once there.

Anything else returns None and the page is parsed here as before (``pages.parse_page``),
which also says what is wrong with it. A page scanned here that turns out not to be
well-formed is asked for again like any malformed page (``OAIClient.complete``).
"""

from __future__ import annotations

import re

from harvesters.pages import OAI_NS, Token

# The start of a plain page: declaration, the root in the OAI namespace, responseDate, request.
_HEAD = re.compile(
    rb"(?:<\?xml version=\"1\.0\"(?: encoding=\"(?i:utf-8)\")?(?: standalone=\"(?:yes|no)\")?"
    rb"\?>)?[ \t\n]*<OAI-PMH((?:[ \t\n]+[\w.:-]+=\"[^\"<>&]*\")*)[ \t\n]*>[ \t\n]*"
    rb"<responseDate>([^<&]*)</responseDate>[ \t\n]*<request(?:[ \t\n]+[\w.:-]+=\"[^\"<]*\")*"
    rb"[ \t\n]*(?:/>|>[^<]*</request>)[ \t\n]*<ListRecords>"
)
_ROOT_DEFAULT_NS = re.compile(rb'[ \t\n]xmlns="([^"]*)"')
# The end of a plain page: the token, if any, is the list's last element.
_TAIL = re.compile(
    rb"(?:<resumptionToken((?:[ \t\n]+[\w.:-]+=\"[^\"<>&]*\")*)[ \t\n]*"
    rb"(?:/>|>([^<]*)</resumptionToken>)[ \t\n]*)?</ListRecords>[ \t\n]*</OAI-PMH>[ \t\n]*\Z"
)
_ATTRIBUTE = re.compile(rb'[ \t\n]([\w.:-]+)="([^"]*)"')
_UNKNOWN_ENTITY = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)")
_TAIL_WINDOW = 8192  # a token longer than this is read by the full parse
_ENTITIES = ((b"&lt;", b"<"), (b"&gt;", b">"), (b"&quot;", b'"'), (b"&apos;", b"'"),
             (b"&amp;", b"&"))  # fmt: skip


def scan_list_page(content: bytes) -> tuple[str, Token | None, int] | None:
    """Return (responseDate, token, records on the page) of a plain page, or None."""
    if _markup(content, b"!", 1) or b"\r" in content or _markup(content, b"?", 2):
        return None  # DTD, comment, CDATA, processing instruction, CR: parse it here
    head = _HEAD.match(content)
    if head is None:
        return None
    default_ns = _ROOT_DEFAULT_NS.search(head.group(1))
    if default_ns is None or default_ns.group(1) != OAI_NS.encode():
        return None
    tail = _TAIL.search(content, max(head.end(), len(content) - _TAIL_WINDOW))
    if tail is None:
        return None
    if tail.group(1) is None and b"resumptionToken" in content:
        return None  # a token somewhere else than last: the parser finds it
    token = _token(tail.group(1), tail.group(2)) if tail.group(1) is not None else None
    if token is False:
        return None
    try:
        response_date = _text(head.group(2)).strip()
    except UnicodeDecodeError:
        return None
    return response_date, token, content.count(b"<header")


def _markup(content: bytes, char: bytes, start: int) -> bool:
    """Tell whether ``<`` + ``char`` occurs from ``start`` on (``<!``, ``<?`` after the head).

    Looks for the rare second byte (memchr speed) and then at the byte before it: searching
    for the pair itself stops at every ``<`` of the page, ~4 times slower on 1 MB pages.
    """
    at = content.find(char, start)
    while at != -1:
        if content[at - 1] == 60:  # "<"
            return True
        at = content.find(char, at + 1)
    return False


def _token(attributes: bytes, value: bytes | None) -> Token | None | bool:
    """Read the token element; False when it holds what only a parser reads right."""
    value = value or b""
    if _UNKNOWN_ENTITY.search(value):
        return False
    try:
        found = {k.decode(): _text(v) for k, v in _ATTRIBUTE.findall(attributes)}
        text = _text(value).strip()
    except UnicodeDecodeError:
        return False
    return Token(
        value=text,
        cursor=_int(found.get("cursor")),
        complete_list_size=_int(found.get("completeListSize")),
        expiration=found.get("expirationDate"),
    )


def _text(raw: bytes) -> str:
    if b"&" in raw:
        for entity, char in _ENTITIES:
            raw = raw.replace(entity, char)
    return raw.decode("utf-8")


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
