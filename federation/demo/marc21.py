"""MARC 21 records of the demo members, with holdings in 852.

Holdings: one 852 per copy (item), so the item count is the number of 852 fields:

    852 __ $a member code (upper case)  $b shelving location  $h class part  $i item part
           $p barcode  $t copy number  $z availability: "available" | "on loan" |
           "in library use only"  [$x "due yyyy-mm-dd" when on loan]

The full call number is $h + " " + $i for LC numbers and $h + "/" + $i for CLC numbers (the
separator member libraries print on spine labels).
"""

from __future__ import annotations

import re
from datetime import datetime

from federation.demo.model import Description, Holding, Manifestation, Name, RawField
from federation.demo.variants import ROLE_ZH, Style, subdivision_kind
from federation.demo.xmlout import render_marc

# Record length and base address are left blank: they mean nothing in XML.
LEADER = "     " + "nam a22" + "     " + " i " + "4500"
_LOCAL_TAGS = ("001", "003", "005", "852")
_LEADER_JUNK = re.compile(r"[^0-9A-Za-z ]")
_MARC21_SUBDIVISION = {"form": "v", "place": "z", "period": "y", "topic": "x"}
_NONFILING = {"The ": "4", "A ": "2", "An ": "3"}
_RELATORS = {
    "author": "author",
    "editor": "editor",
    "compiler": "compiler",
    "translator": "translator",
}


def marc21_record(
    local_id: str, member: str, stamp: datetime, d: Description, holding: Holding, style: Style
) -> bytes:
    """Return the MARCXML record a member catalogued from description ``d``."""
    fields: list[RawField] = [
        ("001", "", "", (("", local_id),)),
        ("003", "", "", (("", member.upper()),)),
        ("005", "", "", (("", stamp.strftime("%Y%m%d%H%M%S.0")),)),
        ("008", "", "", (("", _f008(stamp, d)),)),
        ("040", " ", " ", (("a", member.upper()), ("b", d.lang), ("c", member.upper()))),
    ]
    if d.isbn or d.price:
        fields.append(("020", " ", " ", _subs(("a", d.isbn), ("c", d.price))))
    if d.original_lang:
        fields.append(("041", "1", " ", (("a", d.lang), ("h", d.original_lang))))
    if d.lcc and d.lang != "chi":
        fields.append(("050", " ", "4", _subs(*zip("ab", d.lcc.split(" ", 1), strict=False))))
    if d.clc:
        fields.append(("084", " ", " ", (("a", d.clc), ("2", "clc"))))
    fields += _names(d)
    if d.original_title:
        fields.append(("240", "1", "0", (("a", d.original_title), ("l", "Chinese"))))
    fields.append(_f245(d, style, has_main=any(f[0] in ("100", "110") for f in fields)))
    if d.edition:
        fields.append(("250", " ", " ", (("a", d.edition),)))
    fields.append(_imprint(d, style))
    if d.pages or d.size:
        pages = _isbd(d.pages, " ;", (style.isbd or d.lang != "chi") and d.size)
        fields.append(("300", " ", " ", _subs(("a", pages), ("c", d.size))))
    if d.series:
        fields.append(("490", "0", " ", (("a", d.series),)))
    fields += _subjects(d)
    fields += holdings_852(member, holding)
    return render_marc("marc21", LEADER, fields)


def marc21_raw(
    local_id: str, member: str, stamp: datetime, m: Manifestation, holding: Holding
) -> bytes:
    """Return a real MARC 21 seed record as a member that copied it would serve it."""
    fields: list[RawField] = [
        ("001", "", "", (("", local_id),)),
        ("003", "", "", (("", member.upper()),)),
        ("005", "", "", (("", stamp.strftime("%Y%m%d%H%M%S.0")),)),
    ]
    for f in m.raw_fields:
        tag = f[0]
        if tag in _LOCAL_TAGS or tag.startswith("9") or not tag.isdigit():
            continue  # local fields of the source library (its items, workflow notes)
        if tag == "035" and any("BNU" in v or v.isdigit() for _c, v in f[3]):
            continue  # the source's own system numbers
        fields.append(f)
    fields += holdings_852(member, holding)
    leader = _LEADER_JUNK.sub(" ", (m.raw_leader or LEADER)[:24].ljust(24))
    leader = "     " + leader[5:9] + "a22     " + leader[17:20] + "4500"
    return render_marc("marc21", leader, fields)


def holdings_852(member: str, holding: Holding) -> list[RawField]:
    """Return one 852 per copy."""
    out: list[RawField] = []
    for number, item in enumerate(holding.items, start=1):
        subs = [
            ("a", member.upper()),
            ("b", item.location),
            ("h", holding.class_part),
            ("i", holding.item_part),
            ("p", item.barcode),
            ("t", str(number)),
            ("z", item.status),
        ]
        if item.due:
            subs.append(("x", f"due {item.due}"))
        out.append(("852", " ", " ", tuple(subs)))
    return out


def _subs(*pairs) -> tuple[tuple[str, str], ...]:
    return tuple((c, v) for c, v in pairs if v)


def _isbd(text: str | None, mark: str, follows) -> str | None:
    """Append ISBD punctuation ``mark`` when another element follows."""
    return f"{text}{mark}" if text and follows else text


def _f008(stamp: datetime, d: Description) -> str:
    country = (d.country or "cc ")[:3].ljust(3)
    books = "    " + " " + " " + "    " + " " + "0" + "0" + "0" + " " + "0" + " "
    return f"{stamp:%y%m%d}s{d.year_int:04d}    {country}{books}{d.lang[:3]} d"


def _f245(d: Description, style: Style, has_main: bool) -> RawField:
    isbd = style.isbd or d.lang != "chi"
    nonfiling = next((n for art, n in _NONFILING.items() if d.title.startswith(art)), "0")
    statement = d.responsibility
    if d.translator_statement:
        statement = f"{statement} ; {d.translator_statement}" if statement else None
    a, b = d.title, d.subtitle
    if isbd:
        a = _isbd(a, " :", b) if b else _isbd(a, " /", statement)
        b = _isbd(b, " /", statement)
    return (
        "245",
        "1" if has_main else "0",
        nonfiling if d.lang != "chi" else "0",
        _subs(("a", a), ("b", b), ("h", "[电子资源]" if d.online else None), ("c", statement)),
    )


def _imprint(d: Description, style: Style) -> RawField:
    isbd = style.isbd or d.lang != "chi"
    place = _isbd(d.place, " :", isbd and d.publisher)
    publisher = _isbd(d.publisher, ",", isbd and d.year)
    return ("264", " ", "1", _subs(("a", place), ("b", publisher), ("c", d.year)))


def _names(d: Description) -> list[RawField]:
    out: list[RawField] = []
    for name in d.names:
        main = not out and name.role != "translator"
        tag = ("110" if name.corporate else "100") if main else ("710" if name.corporate else "700")
        heading = _heading(name, d)
        ind1 = "2" if name.corporate else ("1" if ", " in heading else "0")
        out.append((tag, ind1, " ", _subs(("a", heading), ("e", _role(name, d)))))
    return out


def _heading(name: Name, d: Description) -> str:
    if d.lang == "chi" and name.zh:
        return name.zh  # Chinese catalogues enter Western authors of translations in Chinese
    return name.inverted


def _role(name: Name, d: Description) -> str:
    return ROLE_ZH[name.role] if d.lang == "chi" else _RELATORS[name.role]


def _subjects(d: Description) -> list[RawField]:
    out: list[RawField] = []
    for heading in d.subjects:
        parts = heading.split("--")
        ind2 = "0" if d.lang != "chi" else "4"
        subs = [("a", parts[0])] + [
            (_MARC21_SUBDIVISION[subdivision_kind(p)], p) for p in parts[1:]
        ]
        out.append(("650", " ", ind2, tuple(subs)))
    return out
