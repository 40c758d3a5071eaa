"""Read the real seed records shipped in config/demo/seed/ into the generator's neutral model.

The seed files are copied unchanged from public sources (see config/demo/seed/PROVENANCE.md):
Library of Congress MARC 21 records (ISO 2709) and Beijing Normal University CNMARC and
MARC 21 records (SRU responses). Each becomes a Manifestation carrying its original fields,
so the first member that speaks the record's format can serve it nearly as catalogued.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pymarc
from lxml import etree

from federation.demo.isbn import is_valid, normalise, to_isbn13
from federation.demo.model import Manifestation, Name, RawField

SEED_DIR = Path(__file__).resolve().parents[2] / "config" / "demo" / "seed"
LOC_FILES = ("loc-booksall-2014-part01-0001.mrc", "loc-pymarc-marc.dat", "loc-pymarc-test.dat")
BNU_CNMARC = "bnu-cnmarc-sru.xml"
BNU_MARC21 = "bnu-marc21-sru.xml"
CNMARC_NS = "http://www.nlc.cn/"
MARC_NS = "http://www.loc.gov/MARC21/slim"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_YEAR = re.compile(r"(1[5-9]\d\d|20\d\d)")
_PAGES = re.compile(r"(\d+)\s*(?:p\b|pages|页)")
_CM = re.compile(r"(\d+)\s*cm")
_ISBD_END = re.compile(r"[\s:/;=,.]+$")
_CJK = re.compile(r"[\u4e00-\u9fff]")

# Rough LC class -> CLC class, so English seed books fall into a CLC set (longest prefix wins).
_LCC_TABLE = """
    QA76=TP3 QA=O1 QB=P1 QC=O4 QD=O6 QE=P5 QK=Q94 QL=Q95 QR=Q93 Q=Q RX=R2 R=R PZ=I712.4
    PS=I712 PR=I561 PQ=I565 PT=I516 PN=I0 PE=H31 P=H KF=D971.2 LAW=D9 K=D9 J=D HF=F7 HG=F83
    HB=F0 HX=D0 HQ=C91 HA=C8 H=C E=K712 F=K712 DS=K3 DT=K4 DA=K56 D=K C=K81 BF=B84 BJ=B82
    B=B9 GV=G8 G=K9 L=G4 M=J6 NA=TU N=J TX=TS97 TR=J4 TN=TD TD=X TC=TV TA=TU T=T S=S U=E V=E
    Z=G25 A=Z
"""
_LCC_TO_CLC = dict(pair.split("=") for pair in _LCC_TABLE.split())
# Chinese records without a class number (e-books): class by a word of the title.
_CLC_BY_WORD = (("小说", "I247.7"), ("散文", "I267"), ("随笔", "I267"), ("杂文", "I266"))


def load_seeds() -> list[Manifestation]:
    """Return every seed record as a Manifestation (ids and work ids still unset)."""
    seeds = [_from_marc21(r, "loc") for name in LOC_FILES for r in _read_iso2709(name)]
    seeds += [_from_cnmarc(r) for r in _read_xml(BNU_CNMARC, CNMARC_NS)]
    seeds += [_from_marc21(r, "bnu") for r in _read_xml(BNU_MARC21, MARC_NS) if r[0][7] != "a"]
    return seeds


def lcc_to_clc(lcc: str | None) -> str | None:
    """Return a rough CLC class for an LC class number."""
    for length in (4, 3, 2, 1):
        if lcc and lcc[:length] in _LCC_TO_CLC:
            return _LCC_TO_CLC[lcc[:length]]
    return None


# -- reading ----------------------------------------------------------------------------

Parsed = tuple[str, list[RawField]]  # leader, fields (control fields have empty indicators)


def _read_iso2709(name: str) -> Iterator[Parsed]:
    with open(SEED_DIR / name, "rb") as handle:
        reader = pymarc.MARCReader(handle, to_unicode=True, force_utf8=True, permissive=True)
        for record in reader:
            if record is None:  # a broken record in a seed file: skip it, the rest are fine
                continue
            fields: list[RawField] = []
            for f in record.fields:
                if f.is_control_field():
                    fields.append((f.tag, "", "", (("", f.data),)))
                else:
                    subs = tuple((s.code, s.value) for s in f.subfields)
                    fields.append((f.tag, f.indicators.first, f.indicators.second, subs))
            yield str(record.leader), fields


def _read_xml(name: str, ns: str) -> Iterator[Parsed]:
    tree = etree.parse(str(SEED_DIR / name), _PARSER)
    for record in tree.iter(f"{{{ns}}}record"):
        fields: list[RawField] = []
        for el in record:
            tag = el.get("tag", "")
            if el.tag == f"{{{ns}}}controlfield":
                fields.append((tag, "", "", (("", el.text or ""),)))
            elif el.tag == f"{{{ns}}}datafield":
                subs = tuple((sf.get("code", ""), sf.text or "") for sf in el)
                fields.append((tag, el.get("ind1", " "), el.get("ind2", " "), subs))
        yield record.findtext(f"{{{ns}}}leader") or "", fields


def _subfield(fields: list[RawField], tag: str, code: str) -> str | None:
    for f in fields:
        if f[0] == tag:
            for c, value in f[3]:
                if c == code and value.strip():
                    return value.strip()
    return None


def _all(fields: list[RawField], tag: str) -> list[RawField]:
    return [f for f in fields if f[0] == tag]


def _clean(text: str | None) -> str | None:
    return _ISBD_END.sub("", text).strip() or None if text else None


def _isbn(text: str | None) -> str | None:
    if not text or not is_valid(text):
        return None
    digits = normalise(text)
    return digits if len(digits) == 13 else to_isbn13(digits)


def _int(pattern: re.Pattern[str], text: str | None) -> int | None:
    numbers = [int(n) for n in pattern.findall(text or "")]
    return max(numbers) if numbers else None


# -- MARC 21 ----------------------------------------------------------------------------


def _from_marc21(parsed: Parsed, source: str) -> Manifestation:
    leader, fields = parsed
    title = _clean(_subfield(fields, "245", "a")) or "[无题名]"
    imprint = "264" if _all(fields, "264") and not _all(fields, "260") else "260"
    f008 = _subfield(fields, "008", "") or ""
    lang = "chi" if _CJK.search(title) else (f008[35:38].strip() or "eng")
    lcc = " ".join(filter(None, (_subfield(fields, "050", "a"), _subfield(fields, "050", "b"))))
    clc = _bnu_class(fields, title) if source == "bnu" else lcc_to_clc(lcc)
    year_text = _subfield(fields, imprint, "c") or f008[7:11]
    return Manifestation(
        id="",
        work_id="",
        lang=lang,
        title=title,
        subtitle=_clean(_subfield(fields, "245", "b")),
        names=tuple(_marc21_names(fields)),
        responsibility=_clean(_subfield(fields, "245", "c")),
        year=_int(_YEAR, year_text) or 1900,
        publisher=_clean(_subfield(fields, imprint, "b")),
        place=_clean(_subfield(fields, imprint, "a")),
        audience="academic",
        edition_statement=_subfield(fields, "250", "a"),
        pages=_int(_PAGES, _subfield(fields, "300", "a")),
        size_cm=_int(_CM, _subfield(fields, "300", "c")),
        isbn13=_isbn(_subfield(fields, "020", "a")),
        clc=clc,
        lcc=lcc or None,
        subjects=tuple(_headings(fields, "650")),
        country=f008[15:18] if len(f008) >= 18 else "xxu",
        online="电子资源" in (_subfield(fields, "245", "h") or ""),
        source=source,
        raw_format="marc21",
        raw_fields=tuple(fields),
        raw_leader=leader,
    )


def _marc21_names(fields: list[RawField]) -> Iterator[Name]:
    seen: set[str] = set()
    statement = _subfield(fields, "245", "c") or ""
    for tag in ("100", "110", "700", "710"):
        for f in _all(fields, tag):
            subs = dict(f[3])
            name = _clean(subs.get("a"))
            if not name or "t" in subs or name in seen:
                continue  # name-title entries point at other works
            seen.add(name)
            role = _role(subs.get("e") or subs.get("4") or statement)
            display = " ".join(reversed(name.split(", ", 1))) if ", " in name else name
            yield Name(display, name, role, corporate=tag.endswith("10"))


def _role(text: str) -> str:
    """Guess a role from a relator or a statement of responsibility ("主编", "edited by")."""
    if text.endswith("译") or "translat" in text:
        return "translator"
    if "编著" in text:
        return "compiler"
    return "editor" if "编" in text or "edited" in text or text.startswith("ed") else "author"


def _headings(fields: list[RawField], tag: str) -> Iterator[str]:
    for f in _all(fields, tag):
        parts = [_clean(v) for c, v in f[3] if c in "axyzvj"]
        if any(parts):
            yield "--".join(p for p in parts if p)


def _bnu_class(fields: list[RawField], title: str) -> str | None:
    call = _subfield(fields, "AVA", "d")
    if call:
        return call.split()[0]
    return next((clc for word, clc in _CLC_BY_WORD if word in title), None)


# -- CNMARC -----------------------------------------------------------------------------


def _from_cnmarc(parsed: Parsed) -> Manifestation:
    leader, fields = parsed
    title = _subfield(fields, "200", "a") or "[无题名]"
    return Manifestation(
        id="",
        work_id="",
        lang=_subfield(fields, "101", "a") or "chi",
        title=title,
        subtitle=_subfield(fields, "200", "e"),
        names=tuple(_cnmarc_names(fields)),
        responsibility=_subfield(fields, "200", "f"),
        year=_int(_YEAR, _subfield(fields, "210", "d")) or 1990,
        publisher=_subfield(fields, "210", "c"),
        place=_subfield(fields, "210", "a"),
        place_code=_subfield(fields, "102", "b"),
        audience="academic",
        edition_statement=_subfield(fields, "205", "a"),
        pages=_int(_PAGES, _subfield(fields, "215", "a")),
        size_cm=_int(_CM, _subfield(fields, "215", "d")),
        isbn13=_isbn(_subfield(fields, "010", "a")),
        price=_subfield(fields, "010", "d"),
        clc=_subfield(fields, "690", "a"),
        subjects=tuple(_headings(fields, "606")),
        online=_subfield(fields, "200", "b") == "电子资源",
        source="bnu",
        raw_format="unimarc",
        raw_fields=tuple(fields),
        raw_leader=leader,
    )


def _cnmarc_names(fields: list[RawField]) -> Iterator[Name]:
    for tag in ("701", "702", "711", "712"):
        for f in _all(fields, tag):
            name = dict(f[3]).get("a")
            if name:
                role = _role(dict(f[3]).get("4") or "")
                yield Name(name, name, role, corporate=tag.startswith("71"))
