"""A simulated year of reader searching for the demo: seeded, labelled simulated.

On a live platform the search and record pages write these events (web/views/search.py
``count_search``, web/views/search_record.py ``count_record_view``). A fresh demo has had no
readers, so its statistics, COUNTER reports and service-gap reports would show no searches at
all. This writes the same kinds with the same fields the pages write, never a reader
identifier, every row marked ``simulated``:

- searches from each district in proportion to its population, times an activity level drawn
  per district (some districts use the platform much less: the gap the reports look for);
- the subject mix (CLC main class) leaning per district, a zero-result share per district;
- about 40% of searches open a record of the real union catalogue, which shows its holders.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from federation import usage
from federation.alliance import Alliance
from federation.models import UsageEvent
from federation.stats.generate import CLC
from ill.simulate import clusters_with_holders

SEARCHES_PER_100K_PEOPLE = 120
MAX_SEARCHES = 8_000
BATCH = 1_000


def already_simulated(session: Session) -> int:
    """Return how many simulated search events the database holds."""
    count = select(func.count()).where(UsageEvent.simulated.is_(True), UsageEvent.kind == "search")
    return session.scalar(count) or 0


def _districts(alliance: Alliance, rng: random.Random) -> list[dict[str, Any]]:
    """The districts holding members, each with its search volume and habits for the year."""
    members: dict[str, list[str]] = {}
    for member in alliance.members:
        members.setdefault(member.region, []).append(member.code)
    out = []
    for region in alliance.regions:
        if region.code not in members:
            continue
        people = region.population or 100_000
        activity = rng.uniform(0.2, 1.5)
        out.append(
            {
                "code": region.code,
                "members": sorted(members[region.code]),
                "searches": max(20, round(people / 100_000 * SEARCHES_PER_100K_PEOPLE * activity)),
                "zero_share": rng.uniform(0.04, 0.2),
                "classes": rng.sample(CLC, 5),  # the subjects this district leans to
            }
        )
    total = sum(d["searches"] for d in out)
    if total > MAX_SEARCHES:
        for d in out:
            d["searches"] = max(20, d["searches"] * MAX_SEARCHES // total)
    return out


def _moment(end: dt.datetime, rng: random.Random) -> dt.datetime:
    """A moment of the past year, in the day and evening hours of Beijing (00:00-14:00 UTC)."""
    day = end - dt.timedelta(days=rng.randrange(1, 365))
    return day.replace(hour=rng.randrange(0, 14), minute=rng.randrange(60), second=0,
                       microsecond=0)  # fmt: skip


def simulate_reader_year(
    db: Any, alliance: Alliance, *, seed: int = 2026, now: dt.datetime | None = None
) -> int:
    """Write a simulated year of searches and record views; return the number of searches."""
    rng = random.Random(seed)
    end = now or dt.datetime.now(dt.UTC)
    with db.session() as session:  # every active cluster with its holders; the seed does the rest
        clusters = sorted((c, sorted(m)) for c, m in clusters_with_holders(session, 1).items())
    events: list[dict[str, Any]] = []
    searches = 0
    for district in _districts(alliance, rng):
        for _ in range(district["searches"]):
            events.extend(_one_search(district, clusters, end, rng))
            searches += 1
    for start in range(0, len(events), BATCH):
        with db.session() as session:
            for event in events[start : start + BATCH]:
                usage.record_usage(session, simulated=True, **event)
            session.commit()
    return searches


def _one_search(
    district: dict[str, Any], clusters: list, end: dt.datetime, rng: random.Random
) -> list[dict[str, Any]]:
    """The events one reader's search makes: the search, and perhaps a record they open."""
    at = _moment(end, rng)
    home = rng.choice(district["members"]) if rng.random() < 0.7 else None
    leaning = rng.random() < 0.6
    clc = rng.choice(district["classes"]) if leaning else rng.choice(CLC)
    found = 0 if rng.random() < district["zero_share"] else int(rng.lognormvariate(3, 1.2)) + 1
    where = {"member_code": home, "region_code": district["code"], "occurred_at": at}
    search = {**where, "clc_class": clc, "value": float(found)}
    if rng.random() < 0.25:
        search["ref"] = "facets:" + rng.choice(["member", "language", "format", "year"])
    made = [{"kind": usage.SEARCH, **search}]
    if not found:
        return [*made, {"kind": usage.SEARCH_ZERO, **search}]
    if clusters and rng.random() < 0.4:
        cluster_id, holders = clusters[rng.randrange(len(clusters))]
        opened = at + dt.timedelta(seconds=rng.randrange(5, 120))
        made.append({"kind": usage.RECORD_VIEW, **where, "cluster_id": cluster_id,
                     "occurred_at": opened})  # fmt: skip
        made.extend(
            {
                "kind": usage.HOLDINGS_VIEW,
                "member_code": code,
                "cluster_id": cluster_id,
                "occurred_at": opened,
            }  # fmt: skip
            for code in holders
        )
    return made
