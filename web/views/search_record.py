"""The record page: full description, holdings nearest first, other editions, why the records
were merged, citations (RIS, BibTeX), schema.org JSON-LD and, for staff, the source records."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, abort, make_response, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from federation import usage
from federation.models import Record
from federation.policy import Permission, allowed
from harvesters.store import CorruptPayload, decompress
from search.dedup import storage as dedup_storage
from search.dedup.evidence import RULES, WORK_RULES
from search.dedup.services import explain_cluster
from search.documents import ClusterDoc
from search.interfaces import SearchBackendError
from web import get_db
from web.directory import chosen_home, load_directory, remember_home
from web.i18n import select_locale
from web.identity import current_actor, public, requires
from web.usage import usage_buffer
from web.views.search import (
    AVAILABILITY_LABELS,
    FORMAT_LABELS,
    LANGUAGE_LABELS,
    MAX_EDITIONS,
    _holding_name,
    bp,
    get_backend,
)
from web.views.search_export import bibtex, holding_distance, json_ld, ris

MAX_SOURCE_BYTES = 200_000  # a source record shown to staff is cut here


@dataclass
class HoldingGroup:
    district: str
    distance: float | None
    holdings: list[tuple[dict, float | None]]


def group_holdings(doc: ClusterDoc, point: tuple[float, float] | None, locale: str):
    """Group holdings by district, nearest district and nearest library first."""
    key = "region_name_en" if locale == "en" else "region_name_zh"
    groups: dict[str, HoldingGroup] = {}
    for h in doc.get("holdings") or []:
        name = h.get(key) or h.get("region") or ""
        group = groups.setdefault(name, HoldingGroup(name, None, []))
        group.holdings.append((h, holding_distance(h, point)))
    for group in groups.values():
        group.holdings.sort(key=lambda p: (_or_far(p[1]), _holding_name(p[0], locale)))
        group.distance = group.holdings[0][1]
    return sorted(groups.values(), key=lambda g: (_or_far(g.distance), g.district))


def _or_far(distance: float | None) -> float:
    return float("inf") if distance is None else distance


def other_editions(doc: ClusterDoc) -> list[ClusterDoc]:
    """Return the other clusters of the same work (newest first)."""
    work = doc.get("work_id")
    if not work:
        return []
    with get_db().session() as session:
        ids = sorted(dedup_storage.clusters_in_works(session, [work]) - {doc["cluster_id"]})
    backend = get_backend()
    docs = [d for d in (backend.get(cid) for cid in ids[:MAX_EDITIONS]) if d]
    return sorted(docs, key=lambda d: -(d.get("year") or 0))


def merge_evidence(doc: ClusterDoc, locale: str) -> list[dict]:
    """Say, in the reader's language, why each record joined this cluster."""
    names = {h.get("record_id"): _holding_name(h, locale) for h in doc.get("holdings") or []}
    with get_db().session() as session:
        evidence = explain_cluster(session, doc["cluster_id"])
    rows = []
    for e in evidence:
        words = {**RULES, **WORK_RULES}.get(e.rule, (e.rule, e.rule))
        rows.append(
            {
                "rule": words[1] if locale == "en" else words[0],
                "record": names.get(e.record_id, e.record_id),
                "matched": names.get(e.matched_record_id, e.matched_record_id),
                "values": "; ".join(f"{k}: {v}" for k, v in sorted(e.values.items())),
            }
        )
    return rows


def _doc_or_404(cluster_id: str) -> ClusterDoc:
    if len(cluster_id) > 200:
        abort(404)
    try:
        doc = get_backend().get(cluster_id)
    except SearchBackendError:
        abort(503)
    if doc is None:
        abort(404, description=_("No such record: it may have been merged or withdrawn."))
    return doc


@bp.get("/record/<cluster_id>")
@public
def record(cluster_id: str):
    """Show one title: description, holdings nearest first, editions, evidence, citations."""
    doc = _doc_or_404(cluster_id)
    locale = select_locale()
    directory = load_directory(locale)
    home = chosen_home(directory)
    point = directory.point(home)
    permalink = url_for("search.record", cluster_id=cluster_id, _external=True)
    page = render_template(
        "search/record.html",
        doc=doc,
        groups=group_holdings(doc, point, locale),
        home=home,
        directory=directory,
        editions=other_editions(doc),
        evidence=merge_evidence(doc, locale),
        permalink=permalink,
        json_ld=json_ld(doc, permalink),
        format_labels=FORMAT_LABELS,
        language_labels=LANGUAGE_LABELS,
        availability_labels=AVAILABILITY_LABELS,
        staff=is_staff_request(),
    )
    count_record_view(doc, directory.place_codes(home))
    return remember_home(make_response(page), home)


def count_record_view(doc: ClusterDoc, place: tuple[str | None, str | None]) -> None:
    """Count the record view (for the reader's home) and one holdings view per library shown."""
    member, region = place
    buffer = usage_buffer()
    buffer.add(usage.RECORD_VIEW, member_code=member, region_code=region,
               cluster_id=doc["cluster_id"])  # fmt: skip
    for code in sorted({h.get("member") for h in doc.get("holdings") or [] if h.get("member")}):
        buffer.add(usage.HOLDINGS_VIEW, member_code=code, cluster_id=doc["cluster_id"])


def _download(body: str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _safe_name(cluster_id: str) -> str:
    return "".join(c for c in cluster_id if c.isalnum() or c in "-_") or "record"


@bp.get("/record/<cluster_id>/cite.ris")
@public
def record_ris(cluster_id: str):
    """Download the record as an RIS citation."""
    doc = _doc_or_404(cluster_id)
    permalink = url_for("search.record", cluster_id=cluster_id, _external=True)
    body = ris(doc, permalink)
    return _download(body, "application/x-research-info-systems", f"{_safe_name(cluster_id)}.ris")


@bp.get("/record/<cluster_id>/cite.bib")
@public
def record_bibtex(cluster_id: str):
    """Download the record as a BibTeX entry."""
    doc = _doc_or_404(cluster_id)
    permalink = url_for("search.record", cluster_id=cluster_id, _external=True)
    body = bibtex(doc, permalink)
    return _download(body, "application/x-bibtex", f"{_safe_name(cluster_id)}.bib")


def is_staff_request() -> bool:
    """Tell whether the signed-in user is staff who may see the harvested source records."""
    return allowed(current_actor(), Permission.STAFF_VIEWS)


@dataclass
class SourceRecord:
    member: str
    identifier: str
    datestamp: str
    prefix: str
    status: str
    text: str
    truncated: bool


def source_records(record_ids: list[int]) -> list[SourceRecord]:
    """Return the stored payloads of a cluster's records, as harvested (decoded, not parsed)."""
    with get_db().session() as session:
        rows = session.scalars(select(Record).where(Record.id.in_(record_ids)).order_by(Record.id))
        out = []
        for r in rows:
            try:
                raw = decompress(r.raw) if r.raw else b""
            except CorruptPayload:
                raw = b""
            text = raw[:MAX_SOURCE_BYTES].decode("utf-8", errors="replace")
            out.append(
                SourceRecord(
                    r.member_code,
                    r.oai_identifier,
                    r.datestamp,
                    r.metadata_prefix,
                    r.status,
                    text,
                    len(raw) > MAX_SOURCE_BYTES,
                )
            )
    return out


@bp.get("/record/<cluster_id>/source")
@requires(Permission.STAFF_VIEWS)
def record_source(cluster_id: str):
    """Show staff the harvested source records (MARC / Dublin Core XML) behind one title."""
    doc = _doc_or_404(cluster_id)
    records = source_records([int(i) for i in doc.get("record_ids") or []])
    return render_template("search/source.html", doc=doc, records=records)
