"""ILL REST API (/api/v1/ill): queues, placing requests, lenders' statuses, borrowers' actions.

Creation takes an ``Idempotency-Key`` header (the same key places the request once; the
repeat answers 200 with the first one). Changes take the version the caller last saw, as
``If-Match: "<version>"`` or ``"version"`` in the body: a stale one answers 409. Every
failure uses the one error shape; another member's request is 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from marshmallow import Schema, ValidationError

from federation.policy import Permission
from ill import queries, services
from ill.schemas import first_error
from web import get_db
from web.errors import error_body
from web.identity import current_actor, requires
from web.ill import as_dict, http_error, ill_ctx
from web.ratelimit import limit_blueprint
from web.schemas_ill import (
    IllRequestListSchema,
    IllRequestSchema,
    PatronSchema,
    QueueArgsSchema,
    RequesterActionSchema,
    SupplierStatusSchema,
)

bp = Blueprint("ill_api", __name__)
limit_blueprint(bp, "api")
ONE = IllRequestSchema()


class BadInput(Exception):
    """The body or a parameter is wrong; the message says what to fix."""


@bp.errorhandler(BadInput)
def _bad_input(exc: BadInput):
    return jsonify(error_body("bad_request", str(exc))), 400


@bp.errorhandler(services.IllError)
@bp.errorhandler(services.IllegalTransition)
def _service_error(exc: Exception):
    status, code = http_error(exc)
    return jsonify(error_body(code, str(exc))), status


def _load(schema: Schema, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadInput("send a JSON object (Content-Type: application/json)")
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise BadInput(first_error(exc.messages)) from None


def _body() -> dict[str, Any]:
    return request.get_json(silent=True)  # type: ignore[return-value]


def _expected_version(body_version: int | None) -> int | None:
    header = (request.headers.get("If-Match") or "").strip().removeprefix("W/").strip('"')
    if header and header != "*":
        if not header.isdigit() or len(header) > 9:
            raise BadInput('If-Match: give the version you last saw, e.g. If-Match: "3"')
        return int(header)
    return body_version


def _one(req, status: int = 200):
    response = jsonify(ONE.dump(as_dict(req, current_actor())))
    response.headers["ETag"] = f'"{req.version}"'
    return response, status


@bp.get("/requests")
@requires(Permission.ILL_READ)
def list_requests():
    """List the member's outgoing or incoming requests, with counts per status."""
    args = _load(QueueArgsSchema(), request.args.to_dict())
    actor = current_actor()
    with get_db().session() as session:
        page = queries.queue(
            session,
            actor,
            args["side"],
            status=args["status"],
            q=args["q"],
            page=args["page"],
            page_size=args["page_size"],
        )
        data = {
            "total": page.total,
            "page": page.page,
            "page_size": page.page_size,
            "counts": page.counts,
            "requests": [as_dict(r, actor, detail=False) for r in page.requests],
        }
        return jsonify(IllRequestListSchema().dump(data))


@bp.post("/requests")
@requires(Permission.ILL_ACT)
def create_request():
    """Place a request for the caller's library (Idempotency-Key header recommended)."""
    body = _body()
    if not isinstance(body, dict):
        raise BadInput("send a JSON object (Content-Type: application/json)")
    key = (request.headers.get("Idempotency-Key") or "").strip() or None
    if key and (len(key) > 100 or not key.isprintable()):
        raise BadInput("Idempotency-Key: at most 100 printable characters")
    fields = {k: v for k, v in body.items() if k not in ("simulated", "ctx", "idempotency_key")}
    with get_db().session() as session:
        before = (
            services.find_by_key(session, current_actor().member_code or "", key) if key else None
        )
        req = services.create_request(
            session,
            current_actor(),
            ctx=ill_ctx(),
            idempotency_key=key,
            commit=True,
            **fields,
        )
        return _one(req, 200 if before is not None else 201)


@bp.get("/requests/<int:request_id>")
@requires(Permission.ILL_READ)
def get_request(request_id: int):
    """One request with its timeline (and, for the borrower, its rota with every score term)."""
    with get_db().session() as session:
        return _one(services.get_request(session, current_actor(), request_id))


@bp.post("/requests/<int:request_id>/status")
@requires(Permission.ILL_ACT)
def supplier_status(request_id: int):
    """A lender answers with an ISO 18626 supplier status."""
    with get_db().session() as session:
        services.get_request(session, current_actor(), request_id)  # 404 before reading the body
        data = _load(SupplierStatusSchema(), _body())
        req = services.apply_supplier_status(
            session,
            current_actor(),
            request_id,
            data["status"],
            data["message"],
            _expected_version(data["version"]),
            ctx=ill_ctx(),
            commit=True,
        )
        return _one(req)


@bp.post("/requests/<int:request_id>/actions")
@requires(Permission.ILL_ACT)
def requester_action(request_id: int):
    """The borrower acts: Received, ShippedReturn, Cancel, Renew, Lost, Notification..."""
    with get_db().session() as session:
        services.get_request(session, current_actor(), request_id)  # 404 before reading the body
        data = _load(RequesterActionSchema(), _body())
        req = services.apply_requester_action(
            session,
            current_actor(),
            request_id,
            data["action"],
            data["message"],
            _expected_version(data["version"]),
            ctx=ill_ctx(),
            commit=True,
        )
        return _one(req)


@bp.get("/requests/<int:request_id>/patron")
@requires(Permission.READER_DATA)
def patron(request_id: int):
    """The reader's name and card (the borrowing library's staff only; audited)."""
    with get_db().session() as session:
        data = services.open_patron(session, current_actor(), request_id, ctx=ill_ctx())
        response = jsonify(PatronSchema().dump(data))
    response.headers["Cache-Control"] = "no-store"
    return response
