"""ISBN arithmetic for the demo corpus: check digits, ISBN-10/13 conversion, hyphenation."""

from __future__ import annotations

import re

_NON_ISBN = re.compile(r"[^0-9Xx]")


def isbn13_check_digit(first12: str) -> str:
    """Return the ISBN-13 check digit of twelve digits."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def isbn10_check_digit(first9: str) -> str:
    """Return the ISBN-10 check digit (0-9 or X) of nine digits."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(first9))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def make_isbn13(group: str, registrant: str, title_number: int) -> str:
    """Return the 13 digits of the 978 ISBN for a title number within a registrant's range."""
    width = 9 - len(group) - len(registrant)
    body = f"978{group}{registrant}{title_number % 10**width:0{width}d}"
    return body + isbn13_check_digit(body)


def to_isbn10(isbn13: str) -> str | None:
    """Return the ISBN-10 of a 978 ISBN-13 (None for 979 ISBNs, which have none)."""
    if not isbn13.startswith("978"):
        return None
    return isbn13[3:12] + isbn10_check_digit(isbn13[3:12])


def to_isbn13(isbn10: str) -> str:
    """Return the ISBN-13 of an ISBN-10."""
    body = "978" + isbn10[:9]
    return body + isbn13_check_digit(body)


def hyphenate(isbn: str, group: str, registrant: str) -> str:
    """Return an ISBN-10 or ISBN-13 with hyphens after prefix, group, registrant and title."""
    prefix, rest = (isbn[:3] + "-", isbn[3:]) if len(isbn) == 13 else ("", isbn)
    title = rest[len(group) + len(registrant) : -1]
    return f"{prefix}{group}-{registrant}-{title}-{rest[-1]}"


def normalise(text: str) -> str:
    """Strip hyphens, spaces and qualifiers such as '(pbk.)' from a catalogued ISBN."""
    return _NON_ISBN.sub("", text.split("(")[0]).upper()


def is_valid(text: str) -> bool:
    """Tell whether a catalogued ISBN (10 or 13, hyphenated or not) has a valid check digit."""
    digits = normalise(text)
    if len(digits) == 13 and digits.isdigit():
        return isbn13_check_digit(digits[:12]) == digits[12]
    if len(digits) == 10 and digits[:9].isdigit():
        return isbn10_check_digit(digits[:9]) == digits[9]
    return False
