"""Plain helpers of the reader pages: distances, safe highlights, citations, JSON-LD.

Harvested metadata is untrusted: every function here treats document text as data, never as
markup or as lines of a format it could break out of.
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any

from markupsafe import Markup, escape

from search.documents import ClusterDoc, HoldingDoc

EARTH_RADIUS_KM = 6371.0088
_MARK = re.compile(r"</?mark>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two points in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def holding_distance(holding: HoldingDoc, home: tuple[float, float] | None) -> float | None:
    """Return how far a holding is from the reader's home point, or None when unknown."""
    lat, lon = holding.get("latitude"), holding.get("longitude")
    if home is None or lat is None or lon is None:
        return None
    return haversine_km(home[0], home[1], lat, lon)


def _escape_text(text: str) -> str:
    """Escape text exactly as markupsafe.escape does (& < > ' "), returning a plain str."""
    return (
        text.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def safe_highlight(marked: str | None, plain: str) -> Markup:
    """Return the text with only our own <mark> kept; everything else the backend sent escaped.

    The backend's highlight is split on <mark> tags, unescaped and escaped again, so a title
    holding markup (or a backend that forgot to escape) still shows as text. (Built as one
    string and wrapped once: Markup operations per part were a visible share of a page.)
    """
    if not marked:
        return escape(plain)
    parts = _MARK.split(marked)
    out = [
        f"<mark>{_escape_text(html.unescape(part))}</mark>"
        if index % 2
        else _escape_text(html.unescape(part))
        for index, part in enumerate(parts)
    ]
    return Markup("".join(out))  # noqa: S704 (every part is escaped above; only <mark> added)


def _one_line(value: Any) -> str:
    """Flatten a value to one line: a line break in harvested text must not start a new tag."""
    return _CONTROL.sub(" ", str(value)).strip()


def ris(doc: ClusterDoc, permalink: str) -> str:
    """Return the record as an RIS citation."""
    kind = {"serial": "JOUR", "article": "JOUR", "video": "VIDEO", "map": "MAP"}.get(
        doc.get("format") or "", "BOOK"
    )
    lines = [("TY", kind), ("TI", _full_title(doc))]
    lines += [("AU", a) for a in doc.get("authors") or []]
    lines += [("PY", doc.get("year")), ("PB", doc.get("publisher")), ("CY", doc.get("place"))]
    lines += [("ET", doc.get("edition"))]
    lines += [("SN", i) for i in (doc.get("isbns") or []) + (doc.get("issns") or [])]
    lines += [("KW", s) for s in doc.get("subjects") or []]
    lines += [("LA", lang) for lang in doc.get("languages") or []]
    lines += [("UR", permalink), ("ER", "")]
    out = [f"{tag}  - {_one_line(value)}".rstrip() for tag, value in lines if value is not None]
    return "\r\n".join(out) + "\r\n"


_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def bibtex_escape(value: Any) -> str:
    """Escape text for a BibTeX field in braces (no brace can close the field early)."""
    return "".join(_BIBTEX_SPECIAL.get(c, c) for c in _one_line(value))


def bibtex(doc: ClusterDoc, permalink: str) -> str:
    """Return the record as a BibTeX entry."""
    key = re.sub(r"[^A-Za-z0-9]", "", str(doc.get("cluster_id", ""))) or "record"
    kind = "article" if doc.get("format") in ("article", "serial") else "book"
    fields = [
        ("title", _full_title(doc)),
        ("author", " and ".join(doc.get("authors") or []) or None),
        ("year", doc.get("year")),
        ("publisher", doc.get("publisher")),
        ("address", doc.get("place")),
        ("edition", doc.get("edition")),
        ("isbn", (doc.get("isbns") or [None])[0]),
        ("issn", (doc.get("issns") or [None])[0]),
        ("language", ", ".join(doc.get("languages") or []) or None),
        ("url", permalink),
    ]
    body = ",\n".join(f"  {k} = {{{bibtex_escape(v)}}}" for k, v in fields if v not in (None, ""))
    return f"@{kind}{{{key},\n{body}\n}}\n"


def _full_title(doc: ClusterDoc) -> str:
    title, sub = doc.get("title") or "", doc.get("subtitle")
    return f"{title}: {sub}" if sub else title


def json_ld(doc: ClusterDoc, permalink: str) -> Markup:
    """Return schema.org JSON-LD, safe inside <script>: '<', '>' and '&' are \\u-escaped."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Periodical" if doc.get("format") == "serial" else "Book",
        "@id": permalink,
        "url": permalink,
        "name": _full_title(doc),
        "author": [{"@type": "Person", "name": a} for a in doc.get("authors") or []],
        "datePublished": str(doc["year"]) if doc.get("year") else None,
        "publisher": {"@type": "Organization", "name": doc["publisher"]}
        if doc.get("publisher")
        else None,
        "inLanguage": doc.get("languages") or None,
        "isbn": doc.get("isbns") or None,
        "about": doc.get("subjects") or None,
        "bookEdition": doc.get("edition"),
        "offers": [_offer(h) for h in doc.get("holdings") or []],
    }
    text = json.dumps({k: v for k, v in data.items() if v not in (None, [])}, ensure_ascii=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, code)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)  # noqa: S704 (no <, > or & is left to break out of the script)


def _offer(holding: HoldingDoc) -> dict[str, Any]:
    """Describe one holding as a loan offer by a library (the schema.org bib-extension way)."""
    available = holding.get("availability") == "available"
    offer: dict[str, Any] = {
        "@type": "Offer",
        "businessFunction": "http://purl.org/goodrelations/v1#LeaseOut",
        "offeredBy": {
            "@type": "Library",
            "name": holding.get("member_name_zh") or holding.get("member"),
            "alternateName": holding.get("member_name_en"),
        },
        "availability": "https://schema.org/InStock" if available else None,
        "sku": holding.get("call_number"),
        "availableAtOrFrom": holding.get("location"),
    }
    return {k: v for k, v in offer.items() if v is not None}
