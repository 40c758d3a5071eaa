"""Character sets found in ISO 2709 records: MARC-8, ISO 5426, UTF-8 and double-encoded UTF-8."""

from __future__ import annotations

import contextlib
import io
import re
import unicodedata

from pymarc.marc8 import MARC8ToUnicode

# ISO 5426 (UNIMARC 100$a/26-27 = "03"): bytes 0xC0-0xDF are combining marks written BEFORE
# the letter they modify; the rest of the upper half are spacing characters and letters.
_ISO5426_COMBINING = {
    0xC0: "\u0309", 0xC1: "\u0300", 0xC2: "\u0301", 0xC3: "\u0302", 0xC4: "\u0303",
    0xC5: "\u0304", 0xC6: "\u0306", 0xC7: "\u0307", 0xC8: "\u0308", 0xC9: "\u0308",
    0xCA: "\u030a", 0xCB: "\u0315", 0xCC: "\u0313", 0xCD: "\u030b", 0xCE: "\u031b",
    0xCF: "\u030c", 0xD0: "\u0327", 0xD1: "\u031c", 0xD2: "\u0326", 0xD3: "\u0328",
    0xD4: "\u0325", 0xD5: "\u032e", 0xD6: "\u0323", 0xD7: "\u0324", 0xD8: "\u0332",
    0xD9: "\u0333", 0xDA: "\u0329", 0xDB: "\u032d", 0xDD: "\u0360",
}  # fmt: skip
_ISO5426_SPACING = {
    0x88: "\x98", 0x89: "\x9c",  # non-sort begin / end
    0xA1: "¡", 0xA2: "„", 0xA3: "£", 0xA4: "$", 0xA5: "¥", 0xA6: "†", 0xA7: "§", 0xA8: "′",
    0xA9: "‘", 0xAA: "“", 0xAB: "«", 0xAC: "♭", 0xAD: "©", 0xAE: "℗", 0xAF: "®", 0xB0: "ʻ",
    0xB1: "ʼ", 0xB2: "‚", 0xB6: "‡", 0xB7: "·", 0xB8: "″", 0xB9: "’", 0xBA: "”", 0xBB: "»",
    0xBC: "♯", 0xBD: "ʹ", 0xBE: "ʺ", 0xBF: "¿", 0xE1: "Æ", 0xE2: "Đ", 0xE6: "Ĳ", 0xE8: "Ł",
    0xE9: "Ø", 0xEA: "Œ", 0xEC: "Þ", 0xF1: "æ", 0xF2: "đ", 0xF3: "ð", 0xF5: "ı", 0xF6: "ĳ",
    0xF8: "ł", 0xF9: "ø", 0xFA: "œ", 0xFB: "ß", 0xFC: "þ",
}  # fmt: skip

# UTF-8 that was decoded as Latin-1 and encoded again: "Ã©" for "é", "Å\x9f" for "ş".
_MOJIBAKE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf]")


def decode_iso5426(data: bytes) -> tuple[str, int]:
    """Decode ISO 5426 bytes; return the text and the number of unmapped bytes."""
    out: list[str] = []
    marks: list[str] = []
    unknown = 0
    for byte in data:
        if byte < 0x80:
            out.append(chr(byte))
        elif byte in _ISO5426_COMBINING:
            marks.append(_ISO5426_COMBINING[byte])
            continue
        elif byte in _ISO5426_SPACING:
            out.append(_ISO5426_SPACING[byte])
        else:
            unknown += 1
            out.append("\ufffd")
        if marks:
            out.extend(marks)
            marks.clear()
    return unicodedata.normalize("NFC", "".join(out)), unknown


def decode_marc8(data: bytes) -> str:
    """Decode MARC-8 bytes with pymarc's tables (escape sequences reset per value)."""
    if b"\x1b$1" not in data:
        return MARC8ToUnicode(quiet=True).translate(data)
    # pymarc prints truncated CJK (EACC) characters to stderr even when quiet; keep the log clean
    with contextlib.redirect_stderr(io.StringIO()):
        return MARC8ToUnicode(quiet=True).translate(data)


def repair_double_utf8(text: str) -> str | None:
    """Undo one round of UTF-8-read-as-Latin-1; return None when text does not look like that."""
    if _MOJIBAKE.search(text) is None:
        return None
    try:
        repaired = text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None
    return repaired


def is_utf8(data: bytes) -> bool:
    """Tell whether bytes are well-formed UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
