"""Simple Dublin Core (oai_dc) records, the format every member must offer.

Mapping: title (+ " : " subtitle, "：" in Chinese), creator (authors), contributor (editors,
translators, with their role as in Chinese catalogues: "李明 译"), subject (headings, then the
bare CLC class number, e.g. "TP393"), description (edition statement, series), publisher,
date (year), type "Text", format (pages), identifier (the ISBN as the member catalogued it),
language (ISO 639-2: chi, eng), relation (original title of a translation).

Holdings are not carried: Dublin Core has no place for call numbers or availability, so a
member that speaks only oai_dc shows what it holds but not where on the shelf or whether a
copy is free.
"""

from __future__ import annotations

from federation.demo.model import Description
from federation.demo.variants import ROLE_ZH, name_zh
from federation.demo.xmlout import render_dc


def dc_record(d: Description) -> bytes:
    """Return the oai_dc record of description ``d``."""
    colon = "：" if d.lang == "chi" else " : "
    title = f"{d.title}{colon}{d.subtitle}" if d.subtitle else d.title
    elements: list[tuple[str, str]] = [("title", title)]
    for name in d.names:
        shown = name_zh(name, d.brackets) if d.lang == "chi" else name.display
        if name.role == "author" or name.corporate:
            elements.append(("creator", shown))
        else:
            label = ROLE_ZH[name.role] if d.lang == "chi" else name.role
            elements.append(("contributor", f"{shown} {label}"))
    if not d.names and d.responsibility:
        elements.append(("creator", d.responsibility))
    elements += [("subject", h.replace("--", " -- ")) for h in d.subjects]
    if d.clc:
        elements.append(("subject", d.clc))
    elements += [("description", d.edition or ""), ("description", d.series or "")]
    elements += [("publisher", d.publisher or ""), ("date", str(d.year_int)), ("type", "Text")]
    elements += [("format", d.pages or ""), ("identifier", d.isbn or ""), ("language", d.lang)]
    if d.original_title:
        elements.append(("relation", d.original_title))
    return render_dc(elements)
