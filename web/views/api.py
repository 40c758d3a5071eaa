"""JSON API, version 1: search, records, facets, members and districts; its OpenAPI document.

Every failure answers with the one error shape (web.errors.error_body): 400 with what to fix
for a bad parameter, 404 for an unknown record, 429 past the rate limit, 503 when the search
engine cannot answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from marshmallow import Schema, ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from federation.members import alliance_overview
from federation.models import Member
from search.dedup.evidence import RULES, WORK_RULES
from search.dedup.services import explain_cluster
from search.documents import FACET_FIELDS
from search.interfaces import SearchBackend, SearchBackendError
from search.query import MAX_RESULT_WINDOW, QueryError, SearchQuery, SearchResult
from web import get_db
from web.errors import error_body
from web.identity import public
from web.ratelimit import limit_blueprint
from web.schemas import (
    DistrictSchema,
    EvidenceSchema,
    FacetArgsSchema,
    MemberSchema,
    RecordResponseSchema,
    SearchArgsSchema,
    SearchResponseSchema,
)

bp = Blueprint("api", __name__)
limit_blueprint(bp, "api")

MAX_CLUSTER_ID = 200


class BadRequest(Exception):
    """A parameter is wrong; ``message`` says what to fix, ``details`` per parameter."""

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})


@bp.after_request
def _no_sniffing(response):
    # Harvested text is returned as catalogued: a browser must never read it as HTML.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest):
    return jsonify(error_body("bad_request", exc.message, exc.details)), 400


@bp.errorhandler(SearchBackendError)
def _backend_down(exc: SearchBackendError):
    current_app.logger.warning("search backend failed: %s", exc)
    message = "the search engine cannot answer just now; try again in a minute"
    return jsonify(error_body("search_unavailable", message)), 503


def search_backend() -> SearchBackend:
    """Return the app's one search backend (made by the search pages' init_app)."""
    return current_app.extensions["federation.search"]


def load_args(schema: Schema, args: MultiDict) -> dict[str, Any]:
    """Load query parameters through ``schema``; raise BadRequest naming what to fix."""
    lists = {name for name, f in schema.fields.items() if f.__class__.__name__ == "List"}
    raw = {k: (args.getlist(k) if k in lists else args.get(k)) for k in args}
    try:
        return schema.load(raw)
    except ValidationError as exc:
        raise BadRequest(_first_message(exc.messages), {"parameters": exc.messages}) from exc


def _first_message(messages: Any) -> str:
    """Return one line: the first problem, prefixed with its parameter."""
    if isinstance(messages, dict):
        name, inner = next(iter(messages.items()))
        text = _first_message(inner)
        if text == "Unknown field.":
            return f"unknown parameter {name!r}; see /api/v1/openapi.json"
        if isinstance(name, int) or text.startswith(str(name)) or name == "_schema":
            return text
        return f"{name}: {text}"
    if isinstance(messages, list) and messages:
        return _first_message(messages[0])
    return str(messages)


def filters_of(values: list[str]) -> dict[str, list[str]]:
    """Turn ``["member:ytu", "year:2001"]`` into ``{"member": ["ytu"], "year": ["2001"]}``."""
    out: dict[str, list[str]] = {}
    for value in values:
        name, _sep, rest = value.partition(":")
        out.setdefault(name, []).append(rest)
    return out


def run_search(**kwargs: Any) -> SearchResult:
    """Build the query and ask the backend; a QueryError becomes a 400."""
    try:
        query = SearchQuery(**kwargs)
    except QueryError as exc:
        raise BadRequest(str(exc)) from exc
    return search_backend().search(query)


@bp.get("/search")
@public
def search():
    """Search the union catalogue: a page of clusters, facet counts and paging links."""
    args = load_args(SearchArgsSchema(), request.args)
    result = run_search(
        text=args["q"],
        filters=filters_of(args["filter"]),
        year_from=args["year_from"],
        year_to=args["year_to"],
        facets=args["facet"] or list(FACET_FIELDS),
        sort=args["sort"],
        page=args["page"],
        page_size=args["page_size"],
        highlight=True,
    )
    hits = [
        {**h.doc, "score": h.score, "highlights": h.highlights, "url": _record_url(h.cluster_id)}
        for h in result.hits
    ]
    body = {
        "total": result.total,
        "page": args["page"],
        "page_size": args["page_size"],
        "hits": hits,
        "facets": _buckets(result),
        "facets_approximate": result.facets_approximate,
        "links": page_links(result.total, args["page"], args["page_size"]),
    }
    return jsonify(SearchResponseSchema().dump(body))


def _record_url(cluster_id: str) -> str:
    return url_for("api.record", cluster_id=cluster_id, _external=True)


def _buckets(result: SearchResult) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [{"value": value, "count": count} for value, count in buckets]
        for name, buckets in result.facets.items()
    }


def page_links(total: int, page: int, page_size: int) -> dict[str, str | None]:
    """Return the self, first, last, next and prev URLs of a search, keeping its parameters."""
    reachable = min(total, MAX_RESULT_WINDOW)
    last = max(1, math.ceil(reachable / page_size))

    def link(number: int) -> str:
        args = {k: request.args.getlist(k) for k in request.args if k != "page"}
        return url_for("api.search", **args, page=number, _external=True)

    return {
        "self": link(page),
        "first": link(1),
        "last": link(last),
        "next": link(page + 1) if page < last else None,
        "prev": link(min(page - 1, last)) if page > 1 else None,
    }


@bp.get("/records/<cluster_id>")
@public
def record(cluster_id: str):
    """Return one cluster with its holdings and why its records were merged."""
    doc = search_backend().get(cluster_id) if len(cluster_id) <= MAX_CLUSTER_ID else None
    if doc is None:
        message = f"no record {cluster_id[:MAX_CLUSTER_ID]!r}: it may have been merged or withdrawn"
        return jsonify(error_body("not_found", message)), 404
    with get_db().session() as session:
        evidence = [e.as_dict() for e in explain_cluster(session, cluster_id)]
    labels = {**RULES, **WORK_RULES}
    why = [{**e, "label": labels.get(e["rule"], ("", e["rule"]))[1]} for e in evidence]
    body = {**doc, "why_merged": EvidenceSchema(many=True).dump(why)}
    return jsonify(RecordResponseSchema().dump(body))


@bp.get("/facets")
@public
def facets():
    """Count facet values for a search (the counts a search page's sidebar shows)."""
    args = load_args(FacetArgsSchema(), request.args)
    result = run_search(
        text=args["q"],
        filters=filters_of(args["filter"]),
        year_from=args["year_from"],
        year_to=args["year_to"],
        facets=args["facet"] or list(FACET_FIELDS),
        facet_size=args["facet_size"],
        page_size=1,
    )
    body = {
        "total": result.total,
        "facets": _buckets(result),
        "facets_approximate": result.facets_approximate,
    }
    return jsonify(body)


@bp.get("/members")
@public
def members():
    """List the alliance's active member libraries."""
    with get_db().session() as session:
        rows = session.scalars(
            select(Member).where(Member.active.is_(True)).order_by(Member.code)
        ).all()
        data = MemberSchema(many=True).dump(rows)
    return jsonify({"members": data, "count": len(data)})


@bp.get("/districts")
@public
def districts():
    """List the districts that have member libraries, with their populations."""
    with get_db().session() as session:
        overview = alliance_overview(session, "en")
    data = DistrictSchema(many=True).dump(
        [{**d.region_fields(), "member_count": len(d.members)} for d in overview.districts]
    )
    return jsonify({"districts": data, "count": len(data)})


@bp.get("/openapi.json")
@public
def openapi():
    """Return the OpenAPI 3 document of this API."""
    from web.openapi import build_spec

    return jsonify(build_spec())


@bp.get("/")
@bp.get("/docs")
@public
def docs():
    """Show the API's reference as a plain page, generated from the OpenAPI document."""
    from web.openapi import build_spec

    return render_template("api/docs.html", spec=build_spec())
