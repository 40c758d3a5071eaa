"""A few real rows for the report's database source: demo members, records, clusters, events.

    c1 (TP312) held by ytu (Laishan) and ldu (Zhifu)
    c2 (I247)  held by muping-pl (Muping)
    c3 (TP3)   held by ytu only
March 2026 (Asia/Shanghai): muping-pl asks for c1 (ytu fills it in 30 h) and c3 (ytu says no,
still unfilled); longkou-pl asks for c2 and cancels; ytlib (Zhifu) asks for c1 (ldu, in Zhifu,
fills it in 10 h); searches from Muping (one of two finds nothing) and Qixia (finds nothing).
"""

from __future__ import annotations

from datetime import UTC, datetime

from federation import usage
from federation.alliance import load_alliance
from federation.members import import_alliance
from federation.models import Cluster, ClusterRecord, ReaderFeedback, Record

MARCH = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
HOLDINGS = {
    "c1": (("ytu", "TP312"), ("ldu", "TP312")),
    "c2": (("muping-pl", "I247"),),
    "c3": (("ytu", "TP3"),),
}


def seed(session, alliance_path) -> None:
    """Import the demo alliance and add the records, clusters and events above."""
    import_alliance(session, load_alliance(alliance_path))
    session.flush()
    for cluster, holders in HOLDINGS.items():
        session.add(Cluster(id=cluster, size=len(holders)))
        for member, clc in holders:
            record = Record(
                member_code=member,
                oai_identifier=f"oai:{member}:{cluster}",
                datestamp="2026-01-01",
                status="active",
                metadata_prefix="marc21",
                normalised={"title": cluster, "classifications": [["CLC", clc]]},
            )
            session.add(record)
            session.flush()
            session.add(ClusterRecord(record_id=record.id, cluster_id=cluster, rule="seed"))
    _events(session)


def _ill(session, kind: str, borrower: str, cluster: str, at=MARCH, **more) -> None:
    # as the broker logs them: no CLC class (the report takes the title's)
    usage.record_usage(
        session,
        kind,
        member_code=borrower,
        cluster_id=cluster,
        occurred_at=at,
        simulated=True,
        **more,
    )


def _events(session) -> None:
    _ill(session, usage.ILL_REQUESTED, "muping-pl", "c1", partner_code="ytu")
    _ill(session, usage.ILL_FILLED, "muping-pl", "c1", partner_code="ytu", value=30.0)
    _ill(session, usage.ILL_REQUESTED, "muping-pl", "c3", partner_code="ytu")
    _ill(session, usage.ILL_UNFILLED, "muping-pl", "c3", partner_code="ytu")  # ytu said no
    _ill(session, usage.ILL_REQUESTED, "longkou-pl", "c2", partner_code="muping-pl")
    _ill(session, usage.ILL_CANCELLED, "longkou-pl", "c2", partner_code="muping-pl")
    # 2026-02-28 17:00 UTC is 1 March 01:00 in Yantai: a March event
    late_feb = datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
    _ill(session, usage.ILL_REQUESTED, "ytlib", "c1", at=late_feb, partner_code="ldu")
    _ill(session, usage.ILL_FILLED, "ytlib", "c1", at=late_feb, partner_code="ldu", value=10.0)
    # a search that finds nothing logs search_zero besides search
    for kind, region in (
        (usage.SEARCH, "muping"),
        (usage.SEARCH, "muping"),
        (usage.SEARCH_ZERO, "muping"),
        (usage.SEARCH, "qixia"),
        (usage.SEARCH_ZERO, "qixia"),
    ):
        usage.record_usage(
            session, kind, region_code=region, clc_class="T", occurred_at=MARCH, simulated=True
        )
    session.add(
        ReaderFeedback(
            member_code="muping-pl",
            category="collection",
            message="请多买计算机书 (Zhang San, card 123)",
            created_at=MARCH,
        )
    )
