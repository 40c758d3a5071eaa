"""Members' own ISO 18626 systems: shared secrets from settings, endpoints from the alliance."""

from __future__ import annotations

import pytest

from federation.alliance import load_alliance_text
from federation.settings import ConfigError
from ill.iso18626.peers import member_for_secret, parse_peer_secrets, peer_for

from ..iso18626.test_client import SECRET

CODES = ("ytu", "ldu", "ext-univ")


def test_pairs_are_read_with_spaces_and_trailing_commas_allowed():
    secrets = parse_peer_secrets(f" ytu = {SECRET}x , ldu={SECRET}y,", CODES)
    assert secrets == {"ytu": f"{SECRET}x", "ldu": f"{SECRET}y"}
    assert member_for_secret(secrets, f"{SECRET}y") == "ldu"
    assert member_for_secret(secrets, SECRET) is None
    assert parse_peer_secrets("", CODES) == {}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("ytu", "pair 1 must read code=secret"),
        (f"ytu={SECRET},=abc", "pair 2 must read code=secret"),
        (f"nowhere={SECRET}", "unknown member 'nowhere'"),
        (f"ytu={SECRET},ytu={SECRET}z", "'ytu' is given twice"),
        ("ytu=short", "shorter than 16 characters"),
    ],
)
def test_a_bad_secret_setting_stops_start_up_with_one_line(text, fragment):
    with pytest.raises(ConfigError) as info:
        parse_peer_secrets(text, CODES)
    assert str(info.value).startswith("ILL_PEER_SECRETS: ")
    assert fragment in str(info.value) and "\n" not in str(info.value)
    assert SECRET not in str(info.value)  # a secret is never echoed into logs


def test_a_bad_secret_setting_stops_the_app(settings_overrides, db):
    from web import create_app

    with pytest.raises(ConfigError, match="unknown member 'nowhere'"):
        create_app({**settings_overrides, "ILL_PEER_SECRETS": f"nowhere={SECRET}"})


def test_only_members_with_an_endpoint_are_peers(demo_alliance_with_peer):
    alliance = demo_alliance_with_peer
    peer = peer_for(alliance, {"ytu": SECRET}, "ytu")
    assert peer is not None and peer.endpoint == "http://127.0.0.1:5199/iso18626"
    assert peer.secret == SECRET
    assert peer_for(alliance, {}, "ldu") is None
    assert peer_for(alliance, {}, "no-such-member") is None


@pytest.fixture
def demo_alliance_with_peer():
    from tests.conftest import DEMO_ALLIANCE

    text = DEMO_ALLIANCE.read_text(encoding="utf-8")
    text = text.replace(
        "      response_hours: 24\n",
        "      response_hours: 24\n      iso18626_endpoint: http://127.0.0.1:5199/iso18626\n",
        1,
    )
    return load_alliance_text(text)
