"""Send ISO 18626 messages to members that run their own ILL system, and read the confirmation.

Timeouts, connection errors, 429 and 5xx are retried with capped exponential back-off (a
Retry-After header is honoured up to the cap). Each message is idempotent at the peer by its
requestingAgencyRequestId and action, so a retry after a lost answer does no harm.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from ill.iso18626.messages import CONFIRMATION_OF, Confirmation, Message
from ill.iso18626.schema import MAX_MESSAGE_BYTES, WireError
from ill.iso18626.xml import from_xml, to_xml

log = logging.getLogger("federation.ill.iso18626")
CONTENT_TYPE = "application/xml; charset=utf-8"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class PeerError(Exception):
    """A message could not be delivered, or the peer's answer is not a valid confirmation."""


@dataclass(frozen=True)
class Peer:
    """A member's own ISO 18626 system: where to send, and the secret that proves it is us."""

    code: str
    endpoint: str
    secret: str = ""


class Iso18626Client:
    """Deliver messages to peers over HTTP(S) and return their confirmations."""

    def __init__(
        self,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        backoff_cap: float = 30.0,
        http: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.http = http or requests.Session()
        self.sleep = sleep

    def send(self, peer: Peer, message: Message) -> Confirmation:
        """Send one message; return the peer's confirmation (OK or ERROR) or raise PeerError."""
        body = to_xml(message)
        headers = {"Content-Type": CONTENT_TYPE, "Accept": "application/xml"}
        if peer.secret:
            headers["Authorization"] = f"Peer {peer.secret}"
        attempt = 0
        while True:
            retry, hint, outcome = self._attempt(peer, body, headers)
            if not retry or attempt >= self.max_retries:
                break
            wait = min(hint if hint is not None else self.backoff * 2**attempt, self.backoff_cap)
            attempt += 1
            log.info("ISO 18626 to %s: %s; retry %d in %.1fs", peer.code, outcome, attempt, wait)
            self.sleep(wait)
        if isinstance(outcome, Confirmation):
            return self._matching(peer, message, outcome)
        raise PeerError(f"{peer.code} ({peer.endpoint}): {outcome}")

    def _attempt(
        self, peer: Peer, body: bytes, headers: dict[str, str]
    ) -> tuple[bool, float | None, Confirmation | str]:
        """Post once; return (worth a retry, the peer's Retry-After, confirmation or reason)."""
        try:
            response = self.http.post(
                peer.endpoint, data=body, headers=headers, timeout=self.timeout, stream=True
            )
        except requests.Timeout:
            return True, None, f"no answer within {self.timeout:g}s"
        except requests.RequestException as exc:
            return True, None, f"cannot connect ({exc.__class__.__name__})"
        with response:
            if response.status_code in RETRY_STATUSES:
                return True, _retry_after(response), f"HTTP {response.status_code}"
            return False, None, self._read_confirmation(response)

    def _read_confirmation(self, response: requests.Response) -> Confirmation | str:
        raw = response.raw.read(MAX_MESSAGE_BYTES + 1, decode_content=True)
        try:
            answer = from_xml(raw)
        except WireError as exc:
            return f"HTTP {response.status_code}, answer is not a valid ISO 18626 message: {exc}"
        if not isinstance(answer, Confirmation):
            return f"HTTP {response.status_code}, answer is not a confirmation"
        return answer

    @staticmethod
    def _matching(peer: Peer, message: Message, answer: Confirmation) -> Confirmation:
        sent = type(message).__name__[0].lower() + type(message).__name__[1:]
        if answer.kind != CONFIRMATION_OF.get(sent):
            raise PeerError(f"{peer.code}: answered a {sent} with a {answer.kind}")
        return answer


def _retry_after(response: requests.Response) -> float | None:
    header = response.headers.get("Retry-After", "").strip()
    return float(header) if header.isdigit() else None
