"""POST /iso18626: ISO 18626 messages from members that run their own ILL system.

The sending agency proves who it is with the member's shared secret from ``ILL_PEER_SECRETS``
(``Authorization: Peer <secret>``) or an API token of the member
(``Authorization: Bearer <token>``, read by the sign-in layer); a signed-in staff member's
session acts for its member too. Every answer is an ISO 18626 confirmation (OK, or ERROR with
the reason), except a wrong content type (415), a body too large (413) and a missing or unknown
credential (401).
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from flask_babel import gettext as _

from federation.policy import Permission
from federation.roles import Actor, Role
from ill.context import context_from_settings, install
from ill.iso18626.bridge import Bridge
from ill.iso18626.outbox import attach
from ill.iso18626.peers import member_for_secret
from ill.iso18626.schema import MAX_MESSAGE_BYTES
from ill.iso18626.services import receive
from ill.iso18626.xml import to_xml
from web.identity import current_actor, requires

bp = Blueprint("iso18626", __name__)
XML_TYPES = frozenset({"application/xml", "text/xml"})
SECRETS_KEY = "federation.iso18626.secrets"
HANDLERS_KEY = "federation.iso18626.handlers"
ILL_CONTEXT_KEY = "ill.context"  # set by web.ill.init_app, which runs first


PEER_SCHEME = "peer"


@bp.before_request
def _authenticate_peer() -> None:
    """Let a peer system act as its member when it presents the member's shared secret."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != PEER_SCHEME:
        return  # an API token or a session: the sign-in layer has decided already
    code = member_for_secret(current_app.extensions[SECRETS_KEY], token.strip())
    if code is None:
        abort(401, description=_("The shared secret is not one of a member's."))
    g.actor = Actor(Role.ILL_STAFF, member_code=code, name="ISO 18626")


@bp.post("/iso18626")
@requires(Permission.ILL_ACT)
def receive_message() -> Response:
    """Answer one ISO 18626 message with its confirmation."""
    if request.mimetype not in XML_TYPES:
        abort(415, description=_("Send ISO 18626 messages as Content-Type: application/xml."))
    data = _read_body()
    from web import get_db

    with get_db().session() as session:
        reply = receive(session, current_actor(), data, current_app.extensions[HANDLERS_KEY])
    return Response(to_xml(reply.confirmation), reply.http_status, mimetype="application/xml")


def _read_body() -> bytes:
    """Return the posted bytes, or answer 413 without reading more than the limit."""
    declared = request.content_length or 0
    data = b"" if declared > MAX_MESSAGE_BYTES else request.stream.read(MAX_MESSAGE_BYTES + 1)
    if declared > MAX_MESSAGE_BYTES or len(data) > MAX_MESSAGE_BYTES:
        limit = _("An ISO 18626 message may be at most %(size)d bytes.", size=MAX_MESSAGE_BYTES)
        abort(413, description=limit)
    return data


# No CSRF token: machines post here. A session cookie cannot be abused from another site,
# because only application/xml or text/xml bodies are read, and a browser sends those
# cross-site only after a CORS preflight, which this endpoint never grants.
receive_message.csrf_exempt = True  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    """Check the peers' shared secrets at start-up, pick the handlers, register the endpoint."""
    alliance = app.extensions["federation.alliance"]
    settings = app.extensions["federation.settings"]
    ctx = app.extensions.get(ILL_CONTEXT_KEY)
    if ctx is None:  # the first area to need the broker's context builds and installs it
        ctx = install(context_from_settings(settings, alliance))
        app.extensions[ILL_CONTEXT_KEY] = ctx
    outbox = attach(
        ctx,
        settings,
        database=app.extensions["federation.db"],
        background=settings["ILL_PEER_SEND_IN_BACKGROUND"],
    )
    app.extensions[SECRETS_KEY] = outbox.secrets
    app.extensions[HANDLERS_KEY] = Bridge(ctx).handlers()
    app.register_blueprint(bp)
