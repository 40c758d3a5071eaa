"""COUNTER Release 5.1-shaped JSON: the Platform Report (PR) and the alliance ILL report.

Both follow the R5.1 PR schema. The catalogue's metrics map onto COUNTER's as follows:
Searches_Platform = searches run by the member's readers (search events; a search that
finds nothing logs search_zero besides, so it is not counted twice);
Total_Item_Investigations = record and holdings views; Total_Item_Requests = ILL requests.
The ILL report is a PR with one Attribute_Performance per member (``Institution_Name``
attribute): Total_Item_Investigations = ILL requests the member placed, Total_Item_Requests =
requests filled for it. Unique_* metrics need reader sessions, which the platform never keeps.
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from collections import defaultdict

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from federation import usage as u
from federation.alliance.model import Alliance

RELEASE = "5.1"
CREATED_BY = "Library Federation Platform"
PLATFORM_SEARCHES = (u.SEARCH,)
INVESTIGATIONS = (u.RECORD_VIEW, u.HOLDINGS_VIEW)
REQUESTS = (u.ILL_REQUESTED,)


def months_between(first: str, last: str) -> list[str]:
    """Return every month 'YYYY-MM' from ``first`` to ``last`` inclusive."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _sums(session: Session, kinds, first: str, last: str, column: str, simulated: bool) -> dict:
    """Return {(code, kind): {month: quantity}} from the roll-ups for the given side."""
    rows = session.execute(
        text(
            f"SELECT {column}, kind, month, SUM(quantity) FROM usage_rollups "  # noqa: S608
            "WHERE kind IN :kinds AND month >= :first AND month <= :last"
            + ("" if simulated else " AND simulated = false")
            + f" GROUP BY {column}, kind, month"
        ).bindparams(bindparam("kinds", expanding=True)),
        {"kinds": list(kinds), "first": first, "last": last},
    ).all()
    out: dict = defaultdict(lambda: defaultdict(int))
    for code, kind, month, quantity in rows:
        out[(code, kind)][month] += int(quantity or 0)
    return out


def _counts(sums: dict, codes, kinds, months: list[str]) -> dict[str, int]:
    return {m: sum(sums.get((c, k), {}).get(m, 0) for c in codes for k in kinds) for m in months}


def _header(
    report_name: str,
    institution: str,
    code: str,
    first: str,
    last: str,
    attributes: list[str],
    note: str,
) -> dict:
    end = dt.date(int(last[:4]), int(last[5:7]), monthrange(int(last[:4]), int(last[5:7]))[1])
    return {
        "Release": RELEASE,
        "Report_ID": "PR",
        "Report_Name": "Platform Report",
        "Created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Created_By": CREATED_BY,
        "Institution_ID": {"Proprietary": [f"federation:{code}"]},
        "Institution_Name": institution,
        "Registry_Record": "",
        "Report_Attributes": {"Attributes_To_Show": attributes, "Granularity": "Month"},
        "Report_Filters": {"Begin_Date": f"{first}-01", "End_Date": end.isoformat()},
        "Exceptions": [{"Code": 0, "Message": report_name, "Data": note}],
    }


def platform_report(
    session: Session,
    alliance: Alliance,
    first: str,
    last: str,
    member_code: str | None = None,
    simulated: bool = True,
) -> dict:
    """Return the PR for one member's readers (or the whole alliance) from ``first`` to ``last``."""
    months = months_between(first, last)
    codes = [member_code] if member_code else [m.code for m in alliance.members] + [""]
    sums = _sums(
        session,
        (*PLATFORM_SEARCHES, *INVESTIGATIONS, *REQUESTS),
        first,
        last,
        "member_code",
        simulated,
    )
    name = alliance.member(member_code).name_en if member_code else alliance.name_en
    note = "simulated activity included" if simulated else "simulated activity excluded"
    header = _header(
        "Platform Report", name, member_code or "alliance", first, last, ["Access_Method"], note
    )
    performance = [
        {
            "Data_Type": "Platform",
            "Access_Method": "Regular",
            "Performance": {"Searches_Platform": _counts(sums, codes, PLATFORM_SEARCHES, months)},
        },
        {
            "Data_Type": "Book",
            "Access_Method": "Regular",
            "Performance": {
                "Total_Item_Investigations": _counts(sums, codes, INVESTIGATIONS, months),
                "Total_Item_Requests": _counts(sums, codes, REQUESTS, months),
            },
        },
    ]
    return {
        "Report_Header": header,
        "Report_Items": [{"Platform": alliance.name_en, "Attribute_Performance": performance}],
    }


def ill_report(
    session: Session, alliance: Alliance, first: str, last: str, simulated: bool = True
) -> dict:
    """Return the alliance ILL report: requests placed and filled per member and month."""
    months = months_between(first, last)
    sums = _sums(session, (u.ILL_REQUESTED, u.ILL_FILLED), first, last, "member_code", simulated)
    note = (
        "ILL report: Total_Item_Investigations = ILL requests placed by the member, "
        "Total_Item_Requests = its requests filled"
    )
    header = _header(
        "Alliance ILL Report", alliance.name_en, "alliance", first, last, ["Institution_Name"], note
    )
    performance = [
        {
            "Data_Type": "Book",
            "Institution_Name": member.name_en,
            "Performance": {
                "Total_Item_Investigations": _counts(
                    sums, [member.code], [u.ILL_REQUESTED], months
                ),
                "Total_Item_Requests": _counts(sums, [member.code], [u.ILL_FILLED], months),
            },
        }
        for member in alliance.members
    ]
    return {
        "Report_Header": header,
        "Report_Items": [{"Platform": alliance.name_en, "Attribute_Performance": performance}],
    }
