"""The acting user of a web request, and the decorators that make every view ask the policy.

``g.actor`` is set by the sign-in layer (session cookie or API token) before each request;
views never read the session themselves. Every view declares one permission with
:func:`requires` (or :func:`public`); the role × route test reads the declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g

from federation.policy import Permission, allowed
from federation.roles import Actor

F = TypeVar("F", bound=Callable[..., Any])


def current_actor() -> Actor | None:
    """Return who is acting in this request (None when nobody is signed in)."""
    return g.get("actor")


def requires(permission: Permission) -> Callable[[F], F]:
    """Refuse the view unless the actor holds ``permission`` (401 anonymous, 403 otherwise)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if not allowed(actor, permission):
                abort(401 if actor is None else 403)
            return view(*args, **kwargs)

        guarded.permission = permission  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    """Mark a view as open to everyone (declared, so the route test knows it is on purpose)."""
    view.permission = Permission.PUBLIC  # type: ignore[attr-defined]
    return view


def require_member(permission: Permission, member_code: str) -> Actor:
    """Return the actor if it holds ``permission`` on ``member_code``'s objects, else 404.

    404 rather than 403: staff of another member must not learn that the object exists.
    """
    actor = current_actor()
    if not allowed(actor, permission, member_code):
        abort(401 if actor is None else 404)
    return actor  # type: ignore[return-value]


def set_actor_loader(app: Any, loader: Callable[[], Actor | None]) -> None:
    """Make ``loader`` decide ``g.actor`` at the start of every request of ``app``.

    The sign-in layer installs the session/API-token loader; a test may install its own to act
    as a given role. The last loader installed wins.
    """
    app.extensions["federation.actor_loader"] = loader
    if not app.extensions.get("federation.actor_hook"):
        app.extensions["federation.actor_hook"] = True

        @app.before_request
        def _load_actor() -> None:
            g.actor = app.extensions["federation.actor_loader"]()
