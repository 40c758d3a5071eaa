"""The ILL broker inside the web app: its context, and turning service errors into answers."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from federation.roles import Actor, Role
from ill.context import IllContext, context_from_settings, install
from ill.queries import allowed_next
from ill.services import Conflict, Forbidden, IllegalTransition, InvalidRequest, NotFound

# Service error -> (HTTP status, error code)
HTTP_ERRORS: dict[type, tuple[int, str]] = {
    InvalidRequest: (400, "bad_request"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    IllegalTransition: (409, "illegal_transition"),
}


def init_app(app: Flask) -> None:
    """Build the app's ILL context from its settings and alliance (and make it the process's)."""
    ctx = context_from_settings(
        app.extensions["federation.settings"], app.extensions["federation.alliance"]
    )
    app.extensions["ill.context"] = install(ctx)


def ill_ctx() -> IllContext:
    """Return the current app's ILL context."""
    return current_app.extensions["ill.context"]


def form_version(value: str) -> int | None:
    """Return the request version a form posted (None: none, or not a number)."""
    return int(value) if value.isdigit() and len(value) < 10 else None


def http_error(exc: Exception) -> tuple[int, str]:
    """Return the HTTP status and error code of a service error."""
    for kind, answer in HTTP_ERRORS.items():
        if isinstance(exc, kind):
            return answer
    raise exc


def as_dict(request: Any, actor: Actor, *, detail: bool = True) -> dict[str, Any]:
    """Return the request's fields the actor may see (rota only for the borrower)."""
    data = {c.name: getattr(request, c.name) for c in request.__table__.columns}
    data["allowed"] = allowed_next(actor, request)
    if detail:
        data["events"] = list(request.events)
        sees_rota = actor.role is Role.SYSTEM or actor.member_code == request.borrower_code
        data["rota"] = list(request.rota) if sees_rota and actor.role is not Role.READER else []
    return data
