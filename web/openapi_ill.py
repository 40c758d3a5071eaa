"""The ILL part of the OpenAPI document: paths under /ill, from the ILL marshmallow schemas."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from web import schemas_ill as s

_ID = {"in": "path", "name": "request_id", "required": True, "schema": {"type": "integer"}}
_IF_MATCH = {
    "in": "header", "name": "If-Match", "required": False,
    "schema": {"type": "string", "maxLength": 20},
    "description": 'the version last seen, e.g. "3"; a stale one answers 409',
}  # fmt: skip
_IDEMPOTENCY = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "maxLength": 100},
    "description": "the same key places the request once; a repeat answers 200 with it",
}  # fmt: skip
FAILURES = {
    400: "the body or a parameter is wrong; the message says what to fix",
    401: "sign in or send an API token",
    403: "your role or token may not do this",
    404: "no such request for your library",
    409: "the request changed since you read it, or the step is not allowed now",
    429: "too many requests from this client; see Retry-After",
}


def _answer(schema: Any, ok: int, failures: tuple[int, ...]) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(ok): {"description": "OK", "content": {"application/json": {"schema": schema}}}
    }
    for code in failures:
        responses[str(code)] = {
            "description": FAILURES[code],
            "content": {"application/json": {"schema": "Error"}},
        }
    return responses


def _body(schema: Any) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def add_ill_paths(spec: APISpec) -> None:
    """Add the ILL operations to ``spec``."""
    common = (400, 401, 403, 429)
    spec.path("/ill/requests", operations={
        "get": {"operationId": "listIllRequests", "summary": "The library's outgoing or incoming "
                "ILL requests, with counts per status", "parameters": [{"in": "query",
                "schema": s.QueueArgsSchema}], "responses": _answer(s.IllRequestListSchema, 200,
                common)},
        "post": {"operationId": "createIllRequest", "summary": "Place an ILL request for a "
                 "catalogue title or a citation", "parameters": [_IDEMPOTENCY],
                 "requestBody": _body(s.NewRequestSchema),
                 "responses": {**_answer(s.IllRequestSchema, 201, common),
                               **_answer(s.IllRequestSchema, 200, ())}},
    })  # fmt: skip
    spec.path("/ill/requests/{request_id}", operations={
        "get": {"operationId": "getIllRequest", "summary": "One request: timeline, rota with "
                "every score term (borrower only), what you may do next", "parameters": [_ID],
                "responses": _answer(s.IllRequestSchema, 200, (401, 403, 404, 429))},
    })  # fmt: skip
    for path, op_id, summary, schema in (
        ("/ill/requests/{request_id}/status", "answerIllRequest",
         "A lender sends an ISO 18626 supplier status", s.SupplierStatusSchema),
        ("/ill/requests/{request_id}/actions", "actOnIllRequest",
         "The borrower acts (Received, ShippedReturn, Cancel, Renew...)", s.RequesterActionSchema),
    ):  # fmt: skip
        spec.path(path, operations={"post": {
            "operationId": op_id, "summary": summary, "parameters": [_ID, _IF_MATCH],
            "requestBody": _body(schema),
            "responses": _answer(s.IllRequestSchema, 200, (*common, 404, 409)),
        }})  # fmt: skip
    spec.path("/ill/requests/{request_id}/patron", operations={
        "get": {"operationId": "getIllPatron", "summary": "The reader's name and card "
                "(borrowing library only; every read audited)", "parameters": [_ID],
                "responses": _answer(s.PatronSchema, 200, (401, 403, 404, 429))},
    })  # fmt: skip
