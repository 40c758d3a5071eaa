"""Standard numbers: ISBN, ISSN, LCCN and system control numbers."""

from __future__ import annotations

import re

# A run that starts with a digit and may hold hyphens or spaces: "7-5037-1744-0", "978 7 04".
_ISBN_RUN = re.compile(r"\d[\d\- ]*[\dXx]?")
_ISSN_RUN = re.compile(r"\d{4}\s*-?\s*\d{3}[\dXx]")
_OCLC_PREFIX = re.compile(r"^(?:ocm|ocn|on)", re.I)


def isbn10_is_valid(digits: str) -> bool:
    """Tell whether ten characters (digits, X last) carry a correct ISBN-10 check digit."""
    if len(digits) != 10 or not digits[:9].isdigit() or not digits.isascii():
        return False
    last = digits[9]
    if last in "Xx":
        check = 10
    elif last.isdigit():
        check = ord(last) - 48
    else:
        return False
    codes = digits.encode()
    total = sum((10 - i) * (codes[i] - 48) for i in range(9)) + check
    return total % 11 == 0


def isbn13_check_digit(first12: str) -> str:
    """Return the ISBN-13 (EAN-13) check digit for twelve digits."""
    codes = first12.encode()  # byte sums run in C; 6 * 48 removes the ASCII offset per slice
    total = sum(codes[0:12:2]) - 288 + 3 * (sum(codes[1:12:2]) - 288)
    return str((10 - total % 10) % 10)


def isbn13_is_valid(digits: str) -> bool:
    """Tell whether thirteen digits carry a correct ISBN-13 check digit."""
    return (
        len(digits) == 13
        and digits.isdigit()
        and digits.isascii()
        and digits[:3] in ("978", "979")
        and isbn13_check_digit(digits[:12]) == digits[12]
    )


def _isbn_candidates(text: str):
    for match in _ISBN_RUN.finditer(text):
        compact = match.group().replace("-", "").replace(" ", "").upper()
        if len(compact) > 13 and " " in match.group():
            # "0486266893 12.00": a run swallowed a following number; keep its first token
            compact = match.group().split()[0].replace("-", "").upper()
        yield compact


def normalise_isbn(text: str) -> tuple[str | None, str | None]:
    """Return (ISBN-13, None) for a valid ISBN-10/13 in text, else (None, what was found)."""
    bare = text.strip()
    if len(bare) == 13 and isbn13_is_valid(bare):  # the common case, without a regex
        return bare, None
    found = None
    for compact in _isbn_candidates(text):
        if len(compact) == 13 and isbn13_is_valid(compact):
            return compact, None
        if len(compact) == 10 and isbn10_is_valid(compact):
            core = "978" + compact[:9]
            return core + isbn13_check_digit(core), None
        if found is None and len(compact) >= 9:
            found = compact
    if found is None:
        stripped = text.strip()
        found = stripped if any(c.isdigit() for c in stripped) else None
    return None, found


def normalise_issn(text: str) -> tuple[str | None, str | None]:
    """Return ("NNNN-NNNC", None) for a valid ISSN in text, else (None, what was found)."""
    match = _ISSN_RUN.search(text)
    if match is None:
        stripped = text.strip()
        return None, (stripped or None)
    compact = re.sub(r"[\s-]", "", match.group()).upper()
    total = sum((8 - i) * int(d) for i, d in enumerate(compact[:7]))
    check = (11 - total % 11) % 11
    expected = "X" if check == 10 else str(check)
    issn = f"{compact[:4]}-{compact[4:]}"
    if compact[7] == expected:
        return issn, None
    return None, issn


def normalise_lccn(text: str) -> str | None:
    """Normalise an LCCN the Library of Congress way: "n 78-890351" -> "n78890351"."""
    value = "".join(text.split())
    value = value.split("/", 1)[0]
    if "-" in value:
        left, _, right = value.partition("-")
        value = left + right.zfill(6) if right.isdigit() and len(right) <= 6 else left + right
    return value or None


def split_system_number(text: str) -> tuple[str, str] | None:
    """Split "(OCoLC)ocm00400866" into ("OCoLC", "400866"); unprefixed gets ""."""
    text = text.strip()
    prefix = ""
    if text.startswith("("):
        close = text.find(")")
        if close > 0:
            prefix, text = text[1:close].strip(), text[close + 1 :].strip()
    if not text:
        return None
    if prefix and prefix.upper() == "OCOLC":
        prefix = "OCoLC"
        digits = _OCLC_PREFIX.sub("", text).lstrip("0")
        text = digits or text
    return prefix, text
