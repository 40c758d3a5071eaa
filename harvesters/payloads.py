"""Each record's payload as the server sent it, cut from the page instead of serialised again.

The record store keeps every record's metadata element as XML bytes (``federation reparse``
parses them again). Serialising each element with lxml cost ~10–17 µs a record, about a tenth
of a harvest's CPU; the same bytes are already in the page. ``cut_payloads`` finds the span
between each ``<metadata ...>`` and ``</metadata>`` with ``bytes.find`` and checks that it is
the whole element lxml read: it starts with that element's start tag and ends with its end tag
(or is one empty-element tag), and there are exactly as many spans as records with metadata.

A span taken out of its page loses the namespace declarations it inherited (the OAI-PMH root's
``xmlns:xsi``, say). Every namespace in scope at the element that its own start tag does not
declare is therefore written into that start tag, which is what lxml's serialiser does too:
the bytes parse to the same tree as ``etree.tostring(element)``.

Anything unusual and the page's records are serialised by lxml as before: a page not in UTF-8,
a page cleaned of characters illegal in XML (the offsets no longer match), a ``metadata``
element (as the page writes OAI-PMH's) inside a payload, a start tag that cannot be read, a
comment or processing instruction before the element.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

from lxml import etree

_NAME = rb"[^\s/>=\"'<]+"
# The element's start tag: its name, then attributes (values quoted; '>' may occur inside).
_START_TAG = re.compile(
    rb"<(" + _NAME + rb")((?:\s+" + _NAME + rb"\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>"
)
_DECLARED = re.compile(rb"\sxmlns(?::(" + _NAME + rb"))?\s*=")
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF8 = frozenset({"utf-8", "utf8"})


def cut_payloads(content: bytes, oai_prefix: str | None, elements: Sequence) -> list | None:
    """Return each element's standalone bytes, in order, or None to serialise with lxml.

    ``elements`` are the payload elements of the page's records, in page order: every record
    with a ``<metadata>`` element has one (the caller gives up on a page where one has none);
    ``oai_prefix`` is the prefix the page writes OAI-PMH elements with (None: the default).
    """
    match = _ENCODING.match(content)
    if match and match.group(1).decode("ascii").lower() not in _UTF8:
        return None
    name = b"metadata" if not oai_prefix else oai_prefix.encode() + b":metadata"
    opening, closing = b"<" + name, b"</" + name + b">"
    out = []
    find, match = content.find, _START_TAG.match
    at = 0
    for element in elements:
        start = find(opening, at)
        tag = match(content, start) if start >= 0 else None
        if tag is None or tag.group(1) != name or tag.group(3):
            return None
        end = find(closing, tag.end())
        if end < 0:
            return None
        payload = _standalone(content[tag.end() : end].strip(), element, opening)
        if payload is None:
            return None
        out.append(payload)
        at = end + len(closing)
    if find(opening, at) >= 0:  # more metadata elements than records: something else is here
        return None
    return out


def _standalone(span: bytes, element, nested: bytes) -> bytes | None:
    """Return ``span`` with the namespaces it inherits declared, if it is exactly ``element``."""
    tag = _START_TAG.match(span)
    if tag is None or nested in span:
        return None
    start_tag = tag.group(0)
    key = (start_tag, element.tag, element.prefix, tuple(element.nsmap.items()))
    head = _heads.get(key)
    if head is None:  # records of one feed share their start tag: work it out once
        head = _head(tag, element)
        if len(_heads) < 1000:
            _heads[key] = head
    if head is False:
        return None
    if tag.group(3):  # an empty-element tag: nothing may follow it
        if tag.end() != len(span):
            return None
    elif not span.endswith(b"</" + tag.group(1) + b">"):
        return None
    if not head:
        return span
    return b"".join([head, span[len(start_tag) :]])


_heads: dict[tuple, bytes | bool] = {}


def _head(tag: re.Match, element) -> bytes | bool:
    """Return the start tag with inherited namespaces declared ("" if none are missing).

    False if the start tag is not the element's (another element, or another prefix).
    """
    qname = tag.group(1)
    prefix, local = element.prefix, etree.QName(element).localname
    if qname != (local if prefix is None else f"{prefix}:{local}").encode():
        return False
    declared = {m.group(1) for m in _DECLARED.finditer(tag.group(2))}
    missing = [
        f" {'xmlns' if ns_prefix is None else 'xmlns:' + ns_prefix}={quoteattr(uri)}".encode()
        for ns_prefix, uri in element.nsmap.items()
        if (None if ns_prefix is None else ns_prefix.encode()) not in declared
    ]
    if not missing:
        return b""
    start_tag = tag.group(0)
    return b"".join([start_tag[: 1 + len(qname)], *missing, start_tag[1 + len(qname) :]])
