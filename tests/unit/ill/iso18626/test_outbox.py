"""The outbox sends a peer its message only when the change is committed."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from federation.alliance import load_alliance_text
from federation.settings import load_settings
from ill import services
from ill.context import make_context
from ill.iso18626.messages import Request
from ill.iso18626.outbox import Outbox, attach
from tests.conftest import DEMO_ALLIANCE
from tests.integration.servers.iso18626_peer import SimulatedIllSystem
from tests.support.ill import add_cluster, staff
from web.oai.server import EndpointServer

SECRET = "ldu-outbox-test-secret-0123456789"


@pytest.fixture
def peer_ctx(clock, ill_db):
    """The broker's context with ldu running its own ISO 18626 system on loopback."""
    with EndpointServer() as servers:
        peer = SimulatedIllSystem("ldu", SECRET)
        url = servers.start(peer) + "iso18626"
        text = DEMO_ALLIANCE.read_text(encoding="utf-8")
        head, sep, rest = text.partition("  - code: ldu\n")
        anchor = "      response_hours: 24\n"
        alliance = load_alliance_text(
            head + sep + rest.replace(anchor, f"{anchor}      iso18626_endpoint: {url}\n", 1)
        )
        ctx = make_context(alliance, Fernet.generate_key().decode("ascii"), clock)
        settings = load_settings({"ILL_PEER_SECRETS": f"ldu={SECRET}"}, environ={})
        attach(ctx, settings, database=ill_db)
        add_cluster(ill_db, "c-outbox", "离散数学", {"ldu": ["在架"]})
        yield ctx, peer


def place(ill_db, ctx) -> int:
    with ill_db.session() as session:
        return services.create_request(
            session, staff("zhifu-pl"), ctx=ctx, cluster_id="c-outbox", service_type="Loan"
        ).id


def test_a_committed_request_reaches_the_peer(ill_db, peer_ctx):
    ctx, peer = peer_ctx
    rid = place(ill_db, ctx)
    (sent,) = peer.received(Request)
    assert sent.header.requesting_request_id == str(rid)


def test_a_rolled_back_request_sends_nothing(ill_db, peer_ctx):
    ctx, peer = peer_ctx
    with pytest.raises(RuntimeError), ill_db.session() as session:
        services.create_request(
            session, staff("zhifu-pl"), ctx=ctx, cluster_id="c-outbox", service_type="Loan"
        )
        raise RuntimeError("the staff member's page crashed before the commit")
    assert peer.received(Request) == []
    place(ill_db, ctx)  # the next change on a fresh session is sent as usual
    assert len(peer.received(Request)) == 1


def test_attaching_twice_keeps_one_outbox(ill_db, peer_ctx):
    ctx, _peer = peer_ctx
    settings = load_settings({"ILL_PEER_SECRETS": f"ldu={SECRET}"}, environ={})
    attach(ctx, settings)
    assert sum(isinstance(x, Outbox) for x in ctx.listeners) == 1
