"""Checks across records: unique codes, known regions and members, a region tree without cycles."""

from __future__ import annotations

import difflib

from federation.alliance.model import Alliance, Region

Problem = tuple[tuple, str]
_RANK = {"province": 0, "city": 1, "district": 2, "county": 2}


def cross_check(alliance: Alliance) -> list[Problem]:
    """Return every cross-record problem as (key path, message); the loader reports the first."""
    problems: list[Problem] = []
    problems += _duplicates("regions", [r.code for r in alliance.regions], "region")
    problems += _duplicates("members", [m.code for m in alliance.members], "member")
    problems += _region_tree(alliance.regions)
    problems += _leaf_facts(alliance)
    problems += _member_references(alliance)
    problems += _cost_sharing_references(alliance)
    return problems


def _suggest(code: str, known: list[str]) -> str:
    close = difflib.get_close_matches(code, known, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    return f"known codes: {shown}"


def _duplicates(section: str, codes: list[str], what: str) -> list[Problem]:
    first: dict[str, int] = {}
    problems = []
    for index, code in enumerate(codes):
        if code in first:
            problems.append(
                (
                    (section, index, "code"),
                    f"the {what} code {code!r} is already used by {section}"
                    f"[{first[code]}]; give each {what} its own code",
                )
            )
        first.setdefault(code, index)
    return problems


def _region_tree(regions: tuple[Region, ...]) -> list[Problem]:
    by_code = {r.code: r for r in regions}
    known = list(by_code)
    problems = []
    for index, region in enumerate(regions):
        if region.parent is None:
            continue
        parent = by_code.get(region.parent)
        if parent is None:
            problems.append(
                (
                    (("regions", index, "parent")),
                    f"unknown parent region {region.parent!r}; use the code of another "
                    f"region in this file or null, {_suggest(region.parent, known)}",
                )
            )
        elif region.level and parent.level and _RANK[region.level] <= _RANK[parent.level]:
            problems.append(
                (
                    ("regions", index, "level"),
                    f"a {region.level} cannot lie inside the {parent.level} "
                    f"{parent.code!r}; fix the level or the parent",
                )
            )
    problems += _cycles(regions, by_code)
    return problems


def _cycles(regions: tuple[Region, ...], by_code: dict[str, Region]) -> list[Problem]:
    reported: set[str] = set()
    problems = []
    for index, region in enumerate(regions):
        chain, code = [], region.code
        while code is not None and code in by_code and code not in chain:
            chain.append(code)
            code = by_code[code].parent
        if code == region.code and region.code not in reported:
            reported.update(chain)
            loop = " -> ".join([*chain, region.code])
            problems.append(
                (
                    ("regions", index, "parent"),
                    f"the regions form a cycle ({loop}); the top region needs parent: null",
                )
            )
    return problems


def _leaf_facts(alliance: Alliance) -> list[Problem]:
    parents = {r.parent for r in alliance.regions}
    problems = []
    for index, region in enumerate(alliance.regions):
        if region.code in parents:
            continue
        if region.population is None:
            problems.append(
                (
                    ("regions", index, "population"),
                    f"required for {region.code!r}, which has no sub-regions; give "
                    "the number of people living there, e.g. population: 528000",
                )
            )
        if region.kind is None:
            problems.append(
                (
                    ("regions", index, "kind"),
                    f"required for {region.code!r}, which has no sub-regions; "
                    "use urban, rural or mixed",
                )
            )
    return problems


def _member_references(alliance: Alliance) -> list[Problem]:
    known = [r.code for r in alliance.regions]
    fte = alliance.cost_sharing.size_measure == "fte"
    problems = []
    for index, member in enumerate(alliance.members):
        if member.region not in known:
            problems.append(
                (
                    ("members", index, "region"),
                    f"unknown region {member.region!r}; use the code of a region "
                    f"listed under regions, {_suggest(member.region, known)}",
                )
            )
        if fte and member.fte is None:
            problems.append(
                (
                    ("members", index, "fte"),
                    "required because cost_sharing.size_measure is fte; give the "
                    "full-time-equivalent students and staff, e.g. fte: 12000",
                )
            )
    return problems


def _cost_sharing_references(alliance: Alliance) -> list[Problem]:
    members = [m.code for m in alliance.members]
    regions = [r.code for r in alliance.regions]
    base = ("cost_sharing",)
    problems = []
    groups = alliance.cost_sharing.ill_fees.reciprocal_agreements
    for g, group in enumerate(groups):
        for i, code in enumerate(group):
            if code not in members:
                problems.append(
                    (
                        (*base, "ill_fees", "reciprocal_agreements", g, i),
                        f"unknown member {code!r}; {_suggest(code, members)}",
                    )
                )
    for code in alliance.cost_sharing.district_subsidies:
        if code not in regions:
            problems.append(
                (
                    (*base, "district_subsidies", code),
                    f"unknown region {code!r}; {_suggest(code, regions)}",
                )
            )
    return problems
