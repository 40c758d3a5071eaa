"""Stateless, signed resumption tokens: the query and the last key, nothing kept on the server."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from typing import Any

# Long enough for any token we issue; longer input is refused before any decoding work.
MAX_TOKEN_LENGTH = 2048
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\Z")
_SIGNATURE_BYTES = 16


class TokenError(ValueError):
    """The resumption token is garbled, forged or not one of ours."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenCodec:
    """Encode a small JSON state into a URL-safe token and back, with an HMAC-SHA256 seal."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the resumption-token secret must be at least 16 bytes")
        self._secret = secret

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest()
        return _b64encode(digest[:_SIGNATURE_BYTES])

    def encode(self, state: dict[str, Any]) -> str:
        """Return the token for ``state`` (JSON-serialisable)."""
        payload = _b64encode(json.dumps(state, separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._sign(payload)}"

    def decode(self, token: str) -> dict[str, Any]:
        """Return the state sealed in ``token``; raise TokenError when it is not genuine."""
        if len(token) > MAX_TOKEN_LENGTH or not _TOKEN_RE.match(token):
            raise TokenError("The resumption token is malformed")
        payload, signature = token.split(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise TokenError("The resumption token was not issued by this repository")
        try:
            state = json.loads(_b64decode(payload))
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise TokenError("The resumption token is garbled") from exc
        if not isinstance(state, dict):
            raise TokenError("The resumption token is garbled")
        return state
