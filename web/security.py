"""Who is signed in, and the defences every response gets.

- the actor loader: a bearer API token, else the session cookie, else nobody;
- CSRF: every state-changing request carries the session's token (bearer-token calls need none);
- every view must declare a permission: undeclared views are refused at start and per request;
- security headers on every response; session cookies HttpOnly, SameSite=Lax, Secure.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
from datetime import timedelta

from flask import Flask, Response, abort, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _

from federation.roles import Actor
from web.identity import set_actor_loader

log = logging.getLogger("federation.web.security")

SESSION_LIFETIME = timedelta(hours=8)  # a working day; then sign in again
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Endpoints Flask itself adds (static files) cannot carry our decorator attribute.
BUILTIN_PUBLIC = frozenset({"static"})
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class UndeclaredViewError(RuntimeError):
    """A view declares no permission: the app refuses to start with it."""


def _host_is_loopback(host: str) -> bool:
    name = host[1 : host.find("]")] if host.startswith("[") else host.split(":", 1)[0]
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class SessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions that are Secure everywhere except plain HTTP on loopback.

    Browsers treat http://127.0.0.1 and http://localhost as secure contexts; the demo and the
    tests run there. Any other host gets Secure cookies, so they never travel over plain HTTP.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        return request.is_secure or not _host_is_loopback(request.host)


# -- the acting user ---------------------------------------------------------------------------


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def load_actor() -> Actor | None:
    """Return the actor of this request: API token, then session cookie, else None."""
    from federation.accounts import actor_for_token, actor_for_user
    from federation.accounts.models import User
    from web import get_db

    token = _bearer()
    if token is not None:
        with get_db().session() as s:
            actor = actor_for_token(s, token)
        if actor is None:
            abort(401, description="The API token is unknown or revoked.")
        g.bearer = True
        g.rate_key = "token:" + token.split("_")[1]  # its public prefix: one member system
        return actor
    user_id = session.get("uid")
    if user_id is None:
        return None
    with get_db().session() as s:
        user = s.get(User, user_id)
        if user is None or not user.active or user.session_epoch != session.get("epoch"):
            session.clear()  # a reset password or a disabled account ends older sessions
            return None
        g.must_change_password = user.must_change_password
        return actor_for_user(user)


def start_session(user_id: int, epoch: int) -> None:
    """Sign ``user_id`` in on this browser: a fresh session (no fixation) and CSRF token."""
    session.clear()
    session.permanent = True
    session["uid"] = user_id
    session["epoch"] = epoch
    session[CSRF_FIELD] = secrets.token_urlsafe(32)


def end_session() -> None:
    """Sign out: forget everything the session held."""
    session.clear()


# -- CSRF ----------------------------------------------------------------------------------------


def csrf_token() -> str:
    """Return this session's CSRF token (made on first use), for forms and scripts."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def csrf_exempt(view):
    """Let a view accept unsafe methods without a CSRF token (public, read-only protocols)."""
    view.csrf_exempt = True
    return view


def _check_csrf() -> None:
    if request.method in SAFE_METHODS or g.get("bearer") or request.routing_exception:
        return  # unknown addresses and wrong methods get their own 404/405
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "csrf_exempt", False):
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get(CSRF_FIELD) or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(
            400,
            description=_(
                "This form has expired or did not come from this site; "
                "reload the page and try again."
            ),
        )


# -- declared permissions ------------------------------------------------------------------------


def undeclared_endpoints(app: Flask) -> list[str]:
    """Return the endpoints whose view declares no permission."""
    return sorted(
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint not in BUILTIN_PUBLIC and getattr(view, "permission", None) is None
    )


def check_declared(app: Flask) -> None:
    """Raise :class:`UndeclaredViewError` if any view declares no permission."""
    missing = undeclared_endpoints(app)
    if missing:
        raise UndeclaredViewError("views without @requires(...) or @public: " + ", ".join(missing))


def _refuse_undeclared() -> None:
    endpoint = request.endpoint
    if endpoint is None or endpoint in BUILTIN_PUBLIC:
        return  # 404/405 are answered by the error handlers
    view = current_app.view_functions.get(endpoint)
    if getattr(view, "permission", None) is None:
        log.error("refused %s: view %s declares no permission", request.path, endpoint)
        abort(403, description="This address declares no permission and is refused.")


NUL_TOLERANT_BLUEPRINTS = frozenset({"sru"})


def _refuse_nul() -> None:
    """Refuse NUL characters in the address, form or JSON body: no stored text may hold one.

    (PostgreSQL refuses them in text columns; SQLite would store them and cut titles short.)
    SRU answers bad queries itself, with a diagnostic in the protocol's own XML.
    """
    if request.blueprint in NUL_TOLERANT_BLUEPRINTS:
        return
    values = list(request.args.values())
    if request.mimetype == "application/x-www-form-urlencoded":
        values += list(request.form.values())
    body_nul = request.is_json and b"\\u0000" in (request.get_data(cache=True) or b"")
    if body_nul or any("\x00" in value for value in values):
        abort(400, description=_("The request contains a NUL character, which no field accepts."))


PASSWORD_CHANGE_ALLOWED = frozenset(
    {"account.profile", "account.change_password", "account.sign_out", "i18n.switch", "static"}
)


def _force_password_change():
    """Send someone whose password an administrator reset to choose a new one first."""
    if g.get("must_change_password") and request.endpoint not in PASSWORD_CHANGE_ALLOWED:
        from flask import redirect, url_for

        return redirect(url_for("account.profile"))
    return None


# -- headers -------------------------------------------------------------------------------------


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.status_code == 401 and _bearer() is not None:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'  # RFC 6750
    if g.get("actor") is not None:
        # Pages for a signed-in person must not be kept by shared caches or the back button.
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Install the sessions, the actor loader, CSRF, the permission check and the headers."""
    hops = app.config.get("FEDERATION_PROXY_HOPS", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Rate limits, sign-in throttling and Secure cookies need the client's own address/scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.session_interface = SessionInterface()
    # Flask's config has defaults for all of these: assign, do not setdefault.
    app.config["SESSION_COOKIE_NAME"] = "federation_session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    # Forms are small: a few fields. Bodies as a whole are capped by MAX_CONTENT_LENGTH.
    app.config["MAX_FORM_MEMORY_SIZE"] = 64 * 1024
    app.config["MAX_FORM_PARTS"] = 100
    app.before_request(_refuse_undeclared)
    set_actor_loader(app, load_actor)
    app.before_request(_refuse_nul)  # after the loader: a wrong API token is a 401 first
    app.before_request(_check_csrf)  # after the loader: bearer calls are exempt
    app.before_request(_force_password_change)
    app.after_request(_add_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["csrf_field"] = CSRF_FIELD

    @app.context_processor
    def _actor_context():
        from federation.policy import Permission, allowed

        actor = g.get("actor")
        return {"current_actor": actor, "can": lambda name: allowed(actor, Permission(name))}
