"""The alliance file's iso18626_endpoint key: http(s) URLs of members' own ISO 18626 systems."""

from __future__ import annotations

from pathlib import Path

import pytest

from federation.alliance import AllianceFileError, load_alliance_text

MINIMAL = Path(__file__).resolve().parents[2] / "data" / "alliance" / "good" / "minimal.yaml"
KEY_PATH = "members[0].ill.iso18626_endpoint"


def with_endpoint(value: str) -> str:
    """Return the minimal alliance file with the first member's ISO 18626 endpoint set."""
    text = MINIMAL.read_text(encoding="utf-8")
    anchor = "      response_hours: 24\n"
    assert anchor in text
    return text.replace(anchor, f"{anchor}      iso18626_endpoint: {value}\n", 1)


def test_an_https_endpoint_marks_the_member_as_running_its_own_system():
    alliance = load_alliance_text(with_endpoint("https://ill.east.example.org/iso18626"))
    east, west = alliance.members[0], alliance.members[1]
    assert east.ill.runs_own_iso18626
    assert east.ill.iso18626_endpoint == "https://ill.east.example.org/iso18626"
    assert not west.ill.runs_own_iso18626


def test_a_loopback_http_endpoint_is_accepted():
    alliance = load_alliance_text(with_endpoint("http://127.0.0.1:5199/iso18626"))
    assert alliance.members[0].ill.iso18626_endpoint == "http://127.0.0.1:5199/iso18626"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("ftp://ill.example.org/iso18626", "use an http:// or https:// URL"),
        ("file:///etc/passwd", "use an http:// or https:// URL"),
        ("javascript:alert(1)", "use an http:// or https:// URL"),
        ("https://", "names no host"),
        ("https://user:pw@ill.example.org/iso18626", "do not put a user name or password"),
        ("ill.example.org/iso18626", "use an http:// or https:// URL"),
        ("42", "expected text"),
    ],
)
def test_a_bad_endpoint_stops_loading_with_one_line_naming_the_key(value, fragment):
    with pytest.raises(AllianceFileError) as info:
        load_alliance_text(with_endpoint(value), source="alliance.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"alliance.yaml: {KEY_PATH}: ")
    assert fragment in message
