"""The OpenAPI 3 document of the JSON API, generated from its marshmallow schemas (apispec).

The operations are a table (path -> summary, parameters schema, answer schema, failures) so
that the document and the views can be read side by side; a test checks the document is valid
OpenAPI and that every API route is in it.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import request

from web import report_schemas, schemas

API_VERSION = "1.0.0"
OPENAPI_VERSION = "3.0.3"

# path -> (operationId, summary, query-parameter schema or None, 200 schema, failure codes)
OPERATIONS: dict[str, tuple[str, str, type | None, type, tuple[int, ...]]] = {
    "/search": (
        "search",
        "Search every member's catalogue at once: clusters, facet counts, paging links",
        schemas.SearchArgsSchema,
        schemas.SearchResponseSchema,
        (400, 429, 503),
    ),
    "/records/{cluster_id}": (
        "getRecord",
        "One cluster (one edition across members) with holdings and why its records merged",
        None,
        schemas.RecordResponseSchema,
        (404, 429, 503),
    ),
    "/facets": (
        "facets",
        "Facet counts for a search, without the hits",
        schemas.FacetArgsSchema,
        schemas.FacetsResponseSchema,
        (400, 429, 503),
    ),
    "/members": (
        "listMembers",
        "The alliance's active member libraries",
        None,
        schemas.MembersResponseSchema,
        (429,),
    ),
    "/districts": (
        "listDistricts",
        "The districts that have member libraries, with populations",
        None,
        schemas.DistrictsResponseSchema,
        (429,),
    ),
    "/reports/gaps": (
        "getServiceGapReport",
        "Service-gap report of a period: gaps in plain words and every table (coordinators; "
        "aggregates only)",
        report_schemas.ReportArgsSchema,
        report_schemas.ReportResponseSchema,
        (400, 401, 403, 429),
    ),
}

FAILURES = {
    400: "a parameter is wrong; the message says what to fix",
    401: "sign in first, or the API token sent is unknown or revoked",
    403: "your role may not read this",
    404: "no such record (merged or withdrawn)",
    429: "too many requests from this client; see Retry-After",
    503: "the search engine cannot answer just now",
}

DESCRIPTION = (
    "Read-only JSON API of the library alliance's union catalogue. Every failure answers "
    '`{"error": {"code", "message", "details"}}`. Requests are limited per client '
    "(see the X-RateLimit-* headers). Harvested metadata is returned as catalogued: "
    "escape it before putting it in HTML. Reading needs no account; a member system may "
    "send its API token as `Authorization: Bearer fed_...` (made by a member administrator, "
    "read or write, revocable) to act as that member."
)
# Optional everywhere: anonymous reading is allowed, and a token identifies a member system.
SECURITY_SCHEMES = {"bearerAuth": {"type": "http", "scheme": "bearer"}}


def build_spec(server_url: str | None = None) -> dict[str, Any]:
    """Return the OpenAPI 3 document as a dict (server URL: this request's /api/v1)."""
    spec = APISpec(
        title="Library alliance union catalogue API",
        version=API_VERSION,
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin()],
        info={"description": DESCRIPTION},
        servers=[{"url": server_url or _server_url()}],
    )
    spec.components.schema("Error", schema=schemas.ErrorSchema)
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    for path, row in OPERATIONS.items():
        spec.path(path=path, operations={"get": _operation(*row)})
    from web.openapi_ill import add_ill_paths

    add_ill_paths(spec)
    return spec.to_dict()


def _server_url() -> str:
    try:
        return request.url_root.rstrip("/") + "/api/v1"
    except RuntimeError:  # no request: a document for a file
        return "/api/v1"


def _operation(
    op_id: str, summary: str, args: type | None, answer: type, failures: tuple[int, ...]
) -> dict[str, Any]:
    parameters: list[Any] = []
    if args is not None:
        parameters.append({"in": "query", "schema": args})
    if op_id == "getRecord":
        parameters.append(
            {
                "in": "path",
                "name": "cluster_id",
                "required": True,
                "schema": {"type": "string", "maxLength": 200},
            }
        )
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": {"application/json": {"schema": answer}}}
    }
    for code in sorted({*failures, 401}):
        responses[str(code)] = {
            "description": FAILURES[code],
            "content": {"application/json": {"schema": "Error"}},
        }
    return {"operationId": op_id, "summary": summary, "parameters": parameters,
            "responses": responses, "security": [{}, {"bearerAuth": []}]}  # fmt: skip
