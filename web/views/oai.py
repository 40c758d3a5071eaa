"""The union catalogue's OAI-PMH 2.0 endpoint at /oai (one record per cluster)."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, request

from web import get_db
from web.identity import public
from web.oai.clusters import ClusterRepository
from web.oai.provider import OAIProvider
from web.ratelimit import limit_blueprint
from web.security import csrf_exempt

bp = Blueprint("oai", __name__)
limit_blueprint(bp, "oai")


def provider() -> OAIProvider:
    """Return the app's union-catalogue provider, made on first use."""
    app = current_app._get_current_object()
    found = app.extensions.get("federation.oai")
    if found is None:
        alliance = app.extensions["federation.alliance"]
        root = request.url_root.rstrip("/")
        repository = ClusterRepository(
            get_db(app),
            f"{alliance.name_en} union catalogue",
            "",  # each answer names the URL it was asked at
            (app.extensions["federation.settings"]["OAI_ADMIN_EMAIL"],),
            record_url=root + "/api/v1/records/{}",
        )
        # Tokens signed with the app's key work across workers and restarts.
        secret = hashlib.sha256(b"oai-tokens:" + app.config["SECRET_KEY"].encode()).digest()
        found = OAIProvider(repository, secret=secret)
        app.extensions["federation.oai"] = found
    return found


@bp.route("/oai", methods=["GET", "POST"])
@public
@csrf_exempt
def endpoint():
    """Answer one OAI-PMH request."""
    params = request.form if request.method == "POST" else request.args
    body = provider().handle(dict(params.lists()), base_url=request.base_url)
    return Response(body, content_type="text/xml; charset=utf-8")
