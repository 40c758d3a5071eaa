"""A member's copies of a book: call number, shelving location, barcodes and availability.

Call numbers follow the member's practice: CLC class + 种次号 ("TP393/123") for Chinese books,
LC class + Cutter + year ("QA76.73.P98 L88 2001") for English books that have an LC class.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

from federation.demo import wordlists as W
from federation.demo.model import Holding, Item, Manifestation

STATUSES = ("available", "on loan", "in library use only")
# Copies: 70 % available, 22 % on loan, 8 % for use in the library only.
_ON_LOAN_FROM, _IN_LIBRARY_FROM = 0.70, 0.92
_UNLENT = {"地方文献阅览室", "教师资料室"}  # reading rooms: copies are used in the library


def cutter(name: str) -> str:
    """Return a Cutter-like author number ("Smith, John" -> "S65"), the same in every library."""
    letters = [c for c in name.upper() if c.isascii() and c.isalpha()] or ["A"]
    digits = "".join(str(min(9, (ord(c) - 64) // 3)) for c in letters[1:3]).ljust(2, "5")
    return letters[0] + digits


class ShelfList:
    """Hand out call numbers and barcodes for one member, as its cataloguers would."""

    def __init__(self, member: str, kind: str, number: int) -> None:
        self.member = member
        self.kind = kind
        self._next_barcode = (number + 1) * 10_000_000
        self._book_numbers: dict[str, int] = defaultdict(int)

    def holding(self, m: Manifestation, rng: random.Random, now: datetime) -> Holding:
        """Return this member's copies of ``m`` with a fresh call number."""
        class_part, item_part, separator = self._call_number(m, rng)
        location = self._location(m, rng)
        copies = self._copies(m, rng)
        items = [self._item(location, rng, now) for _ in range(copies)]
        return Holding(
            member=self.member,
            call_number=f"{class_part}{separator}{item_part}",
            class_part=class_part,
            item_part=item_part,
            items=items,
        )

    def _call_number(self, m: Manifestation, rng: random.Random) -> tuple[str, str, str]:
        if m.lang != "chi" and m.lcc:
            class_part, _, given_item = m.lcc.partition(" ")
            if given_item:
                return class_part, given_item, " "
            main = next((n for n in m.names if n.role != "translator"), None)
            return class_part, f".{cutter(main.inverted if main else m.title)} {m.year}", " "
        class_part = m.clc or "Z"
        self._book_numbers[class_part] += rng.randint(1, 3)
        return class_part, str(self._book_numbers[class_part]), "/"

    def _location(self, m: Manifestation, rng: random.Random) -> str:
        if m.online:
            return "电子资源"
        places = W.LOCATIONS.get(self.kind, W.LOCATIONS["public"])
        if m.lang != "chi" and "外文图书阅览室" in places:
            return "外文图书阅览室"
        if m.clc and m.clc.startswith(("K295", "K892")) and "地方文献阅览室" in places:
            return "地方文献阅览室"
        if m.clc and m.clc.startswith("Z228") and "少儿图书借阅区" in places:
            return "少儿图书借阅区"
        general = [p for p in places if p not in _UNLENT and p != "少儿图书借阅区"] or list(places)
        return rng.choice(general)

    def _copies(self, m: Manifestation, rng: random.Random) -> int:
        if m.online:
            return 1
        base = 1 + min(4, int(m.popularity))
        if self.kind in ("public", "community") and m.audience == "popular":
            base += 1
        return max(1, min(6, base + rng.choice((-1, 0, 0, 1))))

    def _item(self, location: str, rng: random.Random, now: datetime) -> Item:
        self._next_barcode += rng.randint(1, 40)
        barcode = f"{self._next_barcode:09d}"
        if location == "电子资源":
            return Item(barcode, location, "available")
        if location in _UNLENT:
            return Item(barcode, location, "in library use only")
        draw = rng.random()
        status = STATUSES[(draw >= _ON_LOAN_FROM) + (draw >= _IN_LIBRARY_FROM)]
        due = None
        if status == "on loan":
            due = (now + timedelta(days=rng.randint(1, 45))).strftime("%Y-%m-%d")
        return Item(barcode, location, status, due)
