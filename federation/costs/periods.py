"""Settlement periods: a month ("2026-07"), a quarter ("2026-Q3") or a year ("2026")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from federation.costs.errors import CostError

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])\Z")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])\Z")
_YEAR = re.compile(r"(\d{4})\Z")


@dataclass(frozen=True)
class Period:
    """A settlement period and the months it covers."""

    code: str
    months: tuple[str, ...]

    @property
    def first(self) -> str:
        return self.months[0]

    @property
    def last(self) -> str:
        return self.months[-1]

    @property
    def year_fraction(self) -> int:
        """Return how many twelfths of a year the period covers."""
        return len(self.months)

    def window(self, years: int) -> tuple[str, str]:
        """Return the first and last month of the ``years`` years ending with this period."""
        year, month = int(self.last[:4]), int(self.last[5:])
        start = year * 12 + month - 1 - (12 * years - 1)
        return f"{start // 12:04d}-{start % 12 + 1:02d}", self.last


def parse_period(code: str) -> Period:
    """Return the period named by ``code``, or a CostError saying how to write one."""
    text = (code or "").strip()
    if m := _MONTH.match(text):
        return Period(text, (text,))
    if m := _QUARTER.match(text):
        year, quarter = m.group(1), int(m.group(2))
        first = 3 * (quarter - 1) + 1
        return Period(text, tuple(f"{year}-{n:02d}" for n in range(first, first + 3)))
    if m := _YEAR.match(text):
        return Period(text, tuple(f"{text}-{n:02d}" for n in range(1, 13)))
    raise CostError(
        f"{code!r} is not a period; write a month (2026-07), a quarter (2026-Q3) or a year (2026)"
    )
