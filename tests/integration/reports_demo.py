"""The demo alliance for report tests: every member harvested over loopback OAI-PMH, clustered,
and a simulated year and ten months of ILL and search activity (labelled simulated).

The ILL broker's own simulated year will replace ``simulate_activity`` when it lands; until
then the report tests seed their events here, through ``record_usage`` like every area.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from federation import usage
from federation.models import ClusterRecord, Record
from federation.reports.source import clc_class
from tests.conftest import DEMO_ALLIANCE

# Borrowing per month by library type; rural counties search without a member library.
REQUESTS_PER_MONTH = {"public": 14, "community": 3, "university": 8}
SEARCHES_PER_MONTH = 40


def harvest_demo(db, overrides: dict) -> None:
    """Serve every demo member over loopback OAI-PMH, harvest them fully and cluster them."""
    from federation.alliance import load_alliance
    from federation.demo import build_corpus
    from federation.members import import_alliance
    from federation.settings import load_settings
    from harvesters.services import harvest_all
    from search.dedup.services import rebuild_clusters
    from web.demo import member_profiles, member_repositories
    from web.oai.provider import OAIProvider
    from web.oai.server import EndpointServer

    alliance = load_alliance(DEMO_ALLIANCE)
    with db.session() as s:
        import_alliance(s, alliance)
    repos = member_repositories(alliance, build_corpus(member_profiles(alliance), seed=2026))
    settings = load_settings(overrides, environ={})
    with EndpointServer() as server:
        members = []
        for m in alliance.members:
            url = server.start(OAIProvider(repos[m.code]).wsgi_app())
            members.append(dataclasses.replace(m, oai=dataclasses.replace(m.oai, base_url=url)))
        summaries = harvest_all(db, members, full=True, settings=settings)
    assert all(s.ok for s in summaries), [s.error for s in summaries]
    with db.session() as s:
        rebuild_clusters(s)


def _titles(session) -> list[tuple[str, set[str], str]]:
    """Return (cluster, holders, CLC class) of every clustered title."""
    rows = session.execute(
        select(ClusterRecord.cluster_id, Record.member_code, Record.normalised).join(
            Record, Record.id == ClusterRecord.record_id
        )
    )
    titles: dict[str, tuple[set[str], list[str]]] = {}
    for cluster, member, normalised in rows:
        holders, classes = titles.setdefault(cluster, (set(), []))
        holders.add(member)
        for scheme, number in (normalised or {}).get("classifications", ()):
            if str(scheme).casefold() == "clc":
                classes.append(clc_class(number))
    return sorted((c, h, (cl or [""])[0]) for c, (h, cl) in titles.items())


def simulate_activity(db, alliance, months: list[str], seed: int = 8) -> int:
    """Record simulated requests, fills and searches for each month; return how many events."""
    rng = random.Random(seed)
    count = 0
    with db.session() as session:
        titles = _titles(session)
        for month in months:
            start = datetime(int(month[:4]), int(month[5:]), 3, 2, tzinfo=UTC)
            for member in alliance.members:
                for _ in range(REQUESTS_PER_MONTH.get(member.type, 2)):
                    at = start + timedelta(hours=rng.randrange(24 * 24))
                    count += _request(session, rng, member, titles, at)
            for region in alliance.regions:
                if region.level in ("district", "county"):
                    count += _searches(session, rng, region, start)
    return count


def _request(session, rng, member, titles, at) -> int:
    """One request as the broker logs it: no CLC class; a "no" per lender that declines."""
    cluster, holders, _clc = rng.choice(titles)
    common = {"member_code": member.code, "cluster_id": cluster, "simulated": True}
    lenders = sorted(holders - {member.code})
    usage.record_usage(
        session,
        usage.ILL_REQUESTED,
        occurred_at=at,
        partner_code=lenders[0] if lenders else None,
        **common,
    )
    if not lenders or rng.random() < 0.12:
        for lender in lenders:
            usage.record_usage(
                session, usage.ILL_UNFILLED, occurred_at=at, partner_code=lender, **common
            )
        return 1 + len(lenders)
    hours = rng.choice((6, 12, 20, 30, 48, 72, 96, 150))
    usage.record_usage(
        session,
        usage.ILL_FILLED,
        partner_code=rng.choice(lenders),
        value=hours,
        occurred_at=at + timedelta(hours=hours),
        **common,
    )
    return 2


def _searches(session, rng, region, start) -> int:
    """Searches from a district; one that finds nothing logs search_zero besides search."""
    rural, count = region.kind == "rural", 0
    for _ in range(SEARCHES_PER_MONTH):
        at = start + timedelta(hours=rng.randrange(600))
        fields = {
            "region_code": region.code,
            "clc_class": rng.choice("TTIKFRO"),
            "occurred_at": at,
            "simulated": True,
        }
        usage.record_usage(session, usage.SEARCH, **fields)
        count += 1
        if rng.random() < (0.3 if rural else 0.08):
            usage.record_usage(session, usage.SEARCH_ZERO, **fields)
            count += 1
    return count


def demo_months() -> list[str]:
    """Return the simulated months: 2025 and January to October 2026."""
    return [f"2025-{m:02d}" for m in range(1, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]
