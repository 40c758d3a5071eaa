"""UNIMARC records in Chinese (CNMARC) practice, with holdings in 905 and items in 995.

Bibliographic fields: 010 ISBN/price, 100 general data, 101 language, 102 country, 200
title ($a title, $b 电子资源, $e other title, $f responsibility, $g translator), 205 edition,
210 place/publisher/year, 215 pages/size, 225 series, 500 original title of a translation,
606 subjects, 690 CLC class, 701/702/711 names, 801 record source.

Holdings (local fields, as Chinese library systems export them):

    905 __ $a member code (upper case)  $d class part  $e item part (书次号)  $s call number
    995 __ one per copy: $b owning member  $c holding member  $e shelving location
           $f barcode  $k call number  $s availability: "available" | "on loan" |
           "in library use only"  [$n due date yyyy-mm-dd when on loan]

The BNCF UNIMARC slim schema allows lower-case subfield codes only, so the pinyin that CNMARC
systems carry in $A ($9 in the CNMARC standard) is written as $9, and other upper-case codes
of the seed records are left out.
"""

from __future__ import annotations

from datetime import datetime

from federation.demo.model import Description, Holding, Manifestation, RawField
from federation.demo.variants import ROLE_ZH, name_zh, subdivision_kind
from federation.demo.xmlout import render_marc

LEADER = "     nam0 22     " + " i " + "450 "
LEADER_ONLINE = "     nlm0 22     " + " i " + "450 "
_COUNTRIES = {"xxu": "US", "mau": "US", "nju": "US", "nyu": "US", "enk": "GB", "gw ": "DE"}
_UNIMARC_SUBDIVISION = {"form": "j", "place": "y", "period": "z", "topic": "x"}
_DROP = {"001", "005", "035", "090", "099"}


def unimarc_record(
    local_id: str, member: str, stamp: datetime, d: Description, holding: Holding
) -> bytes:
    """Return the UNIMARC slim record a member catalogued from description ``d``."""
    fields: list[RawField] = [
        ("001", "", "", (("", local_id),)),
        ("005", "", "", (("", stamp.strftime("%Y%m%d%H%M%S.0")),)),
        ("100", " ", " ", (("a", _f100(stamp, d)),)),
        ("101", "1" if d.original_lang else "0", " ", _subs(("a", d.lang), ("c", d.original_lang))),
        ("102", " ", " ", _subs(("a", _country(d)), ("b", d.place_code))),
        ("105", " ", " ", (("a", "y   z   000yy"),)),
        ("106", " ", " ", (("a", "r"),)),
        ("801", " ", "0", (("a", "CN"), ("b", member.upper()), ("c", f"{stamp:%Y%m%d}"))),
    ]
    fields += _description(d)
    fields += [("606", "0", " ", _subject(h)) for h in d.subjects]
    if d.clc:
        fields.append(("690", " ", " ", (("a", d.clc), ("v", "5"))))
    fields += _names(d)
    fields += holdings_905_995(member, holding)
    return render_marc("unimarc", LEADER_ONLINE if d.online else LEADER, fields)


def _description(d: Description) -> list[RawField]:
    """Return the ISBD areas: 010, 200, 205, 210, 215, 225 and 500."""
    title = _subs(
        ("a", d.title),
        ("b", "电子资源" if d.online else None),
        ("e", d.subtitle),
        ("f", d.responsibility),
        ("g", d.translator_statement),
    )
    fields: list[RawField] = [
        ("010", " ", " ", _subs(("a", d.isbn), ("d", d.price))),
        ("200", "1", " ", title),
        ("205", " ", " ", _subs(("a", d.edition))),
        ("210", " ", " ", _subs(("a", d.place), ("c", d.publisher), ("d", d.year))),
        ("215", " ", " ", _subs(("a", d.pages), ("d", d.size))),
        ("225", "2", " ", _subs(("a", d.series))),
        ("500", "1", "0", _subs(("a", d.original_title))),
    ]
    return [f for f in fields if f[3]]  # an area with nothing in it is left out


def unimarc_raw(
    local_id: str, member: str, stamp: datetime, m: Manifestation, holding: Holding
) -> bytes:
    """Return a real CNMARC seed record as a member that copied it would serve it."""
    fields: list[RawField] = [
        ("001", "", "", (("", local_id),)),
        ("005", "", "", (("", stamp.strftime("%Y%m%d%H%M%S.0")),)),
        ("801", " ", "2", (("a", "CN"), ("b", member.upper()), ("c", stamp.strftime("%Y%m%d")))),
    ]
    for tag, ind1, ind2, subs in m.raw_fields:
        if tag in _DROP or tag.startswith("9") or not tag.isdigit():
            continue  # the source library's system numbers, call numbers and items
        kept = tuple(("9" if c == "A" else c, v) for c, v in subs if c == "A" or not c.isupper())
        fields.append((tag, ind1, ind2, kept))
    fields += holdings_905_995(member, holding)
    return render_marc("unimarc", LEADER_ONLINE if m.online else LEADER, fields)


def holdings_905_995(member: str, holding: Holding) -> list[RawField]:
    """Return the 905 holdings summary and one 995 per copy."""
    code = member.upper()
    out: list[RawField] = [
        (
            "905",
            " ",
            " ",
            (
                ("a", code),
                ("d", holding.class_part),
                ("e", holding.item_part),
                ("s", holding.call_number),
            ),
        ),
    ]
    for item in holding.items:
        subs = [
            ("b", code),
            ("c", code),
            ("e", item.location),
            ("f", item.barcode),
            ("k", holding.call_number),
            ("s", item.status),
        ]
        if item.due:
            subs.append(("n", item.due))
        out.append(("995", " ", " ", tuple(subs)))
    return out


def _subs(*pairs) -> tuple[tuple[str, str], ...]:
    return tuple((c, v) for c, v in pairs if v)


def _f100(stamp: datetime, d: Description) -> str:
    audience = "k  " if d.subjects and "教材" in d.subjects[0] else "m  "
    script = "ea" if d.lang == "chi" else "ba"
    return f"{stamp:%Y%m%d}d{d.year_int:04d}    {audience}y0chiy50      {script}"


def _country(d: Description) -> str:
    return "CN" if d.lang == "chi" or not d.country else _COUNTRIES.get(d.country, "US")


def _subject(heading: str) -> tuple[tuple[str, str], ...]:
    parts = heading.split("--")
    subs = [("a", parts[0])]
    subs += [(_UNIMARC_SUBDIVISION[subdivision_kind(p)], p) for p in parts[1:]]
    return tuple(subs)


def _names(d: Description) -> list[RawField]:
    out: list[RawField] = []
    for name in d.names:
        if name.corporate:
            out.append(("711", "0", "2", (("a", name.display), ("4", "编"))))
            continue
        tag = "702" if name.role == "translator" else "701"
        if d.lang == "chi":
            out.append(
                (tag, " ", "0", (("a", name_zh(name, d.brackets)), ("4", ROLE_ZH[name.role])))
            )
        else:
            family, _, given = name.inverted.partition(", ")
            out.append((tag, " ", "1", _subs(("a", family), ("b", given), ("4", "070"))))
    return out
