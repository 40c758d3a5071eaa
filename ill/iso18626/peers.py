"""Which members run their own ISO 18626 system, where it listens, and the secret it shares."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping

from federation.alliance.model import Alliance
from federation.settings import ConfigError
from ill.iso18626.client import Peer

SETTING = "ILL_PEER_SECRETS"
MIN_SECRET_LENGTH = 16


def parse_peer_secrets(text: str, member_codes: Iterable[str]) -> dict[str, str]:
    """Read ``code=secret,code=secret``; raise ConfigError naming the pair and the fix."""
    known = set(member_codes)
    secrets: dict[str, str] = {}
    for number, pair in enumerate(filter(None, (p.strip() for p in text.split(","))), 1):
        code, sep, secret = (part.strip() for part in pair.partition("="))
        if not sep or not code or not secret:
            raise ConfigError(f"{SETTING}: pair {number} must read code=secret")
        if code not in known:
            raise ConfigError(f"{SETTING}: pair {number}: unknown member {code!r}")
        if code in secrets:
            raise ConfigError(f"{SETTING}: member {code!r} is given twice; keep one secret")
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"{SETTING}: the secret of {code!r} is shorter than {MIN_SECRET_LENGTH} "
                "characters; use a long random one (e.g. python -m secrets)"
            )
        secrets[code] = secret
    return secrets


def member_for_secret(secrets: Mapping[str, str], token: str) -> str | None:
    """Return the member whose shared secret is ``token`` (compared in constant time)."""
    found = None
    for code, secret in secrets.items():
        if hmac.compare_digest(secret.encode(), token.encode()):
            found = code
    return found


def peer_for(alliance: Alliance, secrets: Mapping[str, str], member_code: str) -> Peer | None:
    """Return the member's own ISO 18626 system, or None when the platform acts for it."""
    try:
        member = alliance.member(member_code)
    except KeyError:
        return None
    endpoint = member.ill.iso18626_endpoint
    if not endpoint:
        return None
    return Peer(code=member_code, endpoint=endpoint, secret=secrets.get(member_code, ""))
