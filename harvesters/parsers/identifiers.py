"""Standard numbers: ISBN, ISSN, LCCN and system control numbers."""

from __future__ import annotations

import re

# A run that starts with a digit and may hold hyphens or spaces: "7-5037-1744-0", "978 7 04".
_ISBN_RUN = re.compile(r"\d[\d\- ]*[\dXx]?")
_ISSN_RUN = re.compile(r"\d{4}\s*-?\s*\d{3}[\dXx]")
_SYSNO = re.compile(r"^\s*\(([^)]*)\)\s*(.*?)\s*$")
_OCLC_PREFIX = re.compile(r"^(?:ocm|ocn|on)", re.I)


def isbn10_is_valid(digits: str) -> bool:
    """Tell whether ten characters (digits, X last) carry a correct ISBN-10 check digit."""
    if len(digits) != 10 or not digits[:9].isdigit():
        return False
    last = digits[9]
    if last in "Xx":
        check = 10
    elif last.isdigit():
        check = int(last)
    else:
        return False
    total = sum((10 - i) * int(d) for i, d in enumerate(digits[:9])) + check
    return total % 11 == 0


def isbn13_check_digit(first12: str) -> str:
    """Return the ISBN-13 (EAN-13) check digit for twelve digits."""
    odd = int(first12[0]) + int(first12[2]) + int(first12[4]) + int(first12[6])
    odd += int(first12[8]) + int(first12[10])
    even = int(first12[1]) + int(first12[3]) + int(first12[5]) + int(first12[7])
    even += int(first12[9]) + int(first12[11])
    return str((10 - (odd + 3 * even) % 10) % 10)


def isbn13_is_valid(digits: str) -> bool:
    """Tell whether thirteen digits carry a correct ISBN-13 check digit."""
    return (
        len(digits) == 13
        and digits.isdigit()
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
    match = _SYSNO.match(text)
    if match:
        prefix, value = match.group(1).strip(), match.group(2)
    else:
        prefix, value = "", text.strip()
    if not value:
        return None
    if prefix.upper() == "OCOLC":
        prefix = "OCoLC"
        digits = _OCLC_PREFIX.sub("", value).lstrip("0")
        value = digits or value
    return prefix, value
