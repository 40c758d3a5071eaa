"""Tell members that run their own ISO 18626 system what happened to their requests.

:class:`Outbox` listens to the broker (``IllContext.listeners``). Each change that concerns a
peer becomes an ISO 18626 message, queued on the database session and sent only after the
session commits: a rolled-back change sends nothing, and a peer answering at once sees the
committed request. A message the peer did not take is written on the request's timeline.

In the web application the committed messages are sent by one thread of the process (in
order), not by the request that made the change: a clerk's click does not wait for a slow or
unreachable peer (up to ``ILL_PEER_TIMEOUT`` per attempt, and its retries). At exit the
thread is given ``ILL_PEER_TIMEOUT`` to send what it still holds.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from federation.roles import SYSTEM
from ill.iso18626.client import Iso18626Client, Peer, PeerError
from ill.iso18626.compose import (
    CLUSTER_ID_CODE,
    action_message,
    request_message,
    supplier_message,
    withdrawal_message,
)
from ill.iso18626.messages import Message
from ill.iso18626.peers import parse_peer_secrets, peer_for

__all__ = ["CLUSTER_ID_CODE", "WIRE_ACTIONS", "Outbox", "attach"]

log = logging.getLogger("federation.ill.iso18626")
OUTBOX_KEY = "iso18626_outbox"
LISTENING_KEY = "iso18626_listening"
WIRE_ACTIONS = frozenset(
    {"StatusRequest", "Received", "Cancel", "Renew", "ShippedReturn", "Notification", "Lost"}
)
# Answers a supplier owes to a requester's action (reasonForMessage).
RESPONSES = {
    "Cancel": "CancelResponse",
    "Renew": "RenewResponse",
    "StatusRequest": "StatusRequestResponse",
}
ANSWERS = frozenset({"ExpectToSupply", "WillSupply"})  # a supplier's first answer to a request
DECLINES = frozenset({"Unfilled", "RetryPossible"})  # the broker moves on: not final for the peer
WITHDRAWN_WITHIN = dt.timedelta(minutes=1)  # a lender timed out in this very step
# Timeline events of deliveries (ill_events.event).
FAILED, REFUSED, SETTLED = "PeerMessageFailed", "PeerMessageRefused", "PeerMessageSettled"


@dataclass(frozen=True)
class Pending:
    """A message waiting for its transaction to commit."""

    request_id: int
    peer: Peer
    message: Message


@dataclass
class Outbox:
    """Listen to the broker and send peers their messages once the change is committed."""

    ctx: Any  # ill.context.IllContext: the alliance, the clock, the timeline's log
    secrets: Mapping[str, str]
    client: Iso18626Client = field(default_factory=Iso18626Client)
    database: Any = None  # federation.db.Database: where failed deliveries are written down
    background: bool = False  # send from this process's sending thread, not the caller's
    _sender: _Sender | None = field(default=None, repr=False)

    def peer(self, member_code: str | None) -> Peer | None:
        """Return the member's own system, or None when the platform acts for it."""
        return peer_for(self.ctx.alliance, self.secrets, member_code) if member_code else None

    def __call__(self, name: str, request: Any, detail: dict) -> None:
        """Turn one broker event into the messages peers are owed, queued until commit."""
        now = self.ctx.now().replace(microsecond=0)
        for peer, message in self.messages_for(name, request, detail, now):
            self._queue(request, Pending(request.id, peer, message))

    def messages_for(
        self, name: str, request: Any, detail: dict, now: dt.datetime
    ) -> list[tuple[Peer, Message]]:
        """Return (peer, message) pairs owed for a broker event; empty when no peer is involved."""
        lender, borrower = self.peer(request.lender_code), self.peer(request.borrower_code)
        owed = self._withdrawn(request, now) if name in ("routed", "unfilled") else []
        if lender and borrower:
            return owed  # two outside systems talk to each other directly, not through us
        if name == "routed" and lender:
            owed.append((lender, request_message(request, now)))
        elif name == "requester_action" and detail.get("action") in WIRE_ACTIONS:
            owed += self._after_action(request, detail, lender, borrower, now)
        elif name == "supplier_status" and borrower and detail.get("status") not in DECLINES:
            reason = "RequestResponse" if detail.get("status") in ANSWERS else "StatusChange"
            owed.append(
                (borrower, supplier_message(request, now, reason, detail.get("message", "")))
            )
        elif name == "unfilled" and borrower:
            note = detail.get("reasons", "")
            owed.append((borrower, supplier_message(request, now, "RequestResponse", note)))
        return owed

    def _withdrawn(self, request: Any, now: dt.datetime) -> list[tuple[Peer, Message]]:
        """Return Cancel messages for peer lenders the broker just gave up waiting for."""
        owed = []
        for entry in request.rota:
            peer = self.peer(entry.member_code)
            answered = entry.answered_at
            if answered is not None and answered.tzinfo is None:
                answered = answered.replace(tzinfo=dt.UTC)
            if (
                peer
                and entry.outcome == "timeout"
                and answered
                and now - answered < WITHDRAWN_WITHIN
            ):
                owed.append((peer, withdrawal_message(request, entry.member_code, now)))
        return owed

    @staticmethod
    def _after_action(request, detail, lender, borrower, now) -> list[tuple[Peer, Message]]:
        action, note = detail["action"], detail.get("message", "")
        if lender:
            return [(lender, action_message(request, action, note, now))]
        if borrower and action in RESPONSES:
            return [(borrower, supplier_message(request, now, RESPONSES[action], note, "Y"))]
        return []

    def _queue(self, request: Any, pending: Pending) -> None:
        session = object_session(request)
        if session is None:  # not in a transaction: nothing to wait for
            self.deliver([pending])
            return
        if not session.info.get(LISTENING_KEY):  # once per session; sessions are short
            session.info[LISTENING_KEY] = True
            event.listen(session, "after_commit", self._after_commit)
            event.listen(session, "after_rollback", _discard)
        session.info.setdefault(OUTBOX_KEY, []).append(pending)

    def _after_commit(self, session: Session) -> None:
        queued = session.info.pop(OUTBOX_KEY, [])
        if not queued:
            return
        if not self.background:
            self.deliver(queued)
            return
        if self._sender is None:
            self._sender = _Sender(self.deliver, self.client.timeout)
        self._sender.submit(queued)

    def flush(self, timeout: float) -> bool:
        """Wait until the sending thread has sent what it was given; False on timeout."""
        return self._sender is None or self._sender.flush(timeout)

    def deliver(self, queued: list[Pending]) -> list[Pending]:
        """Send queued messages in order; return those the peer took.

        What a peer did not take goes on the request's timeline: not delivered (sent again
        later by :mod:`ill.iso18626.resend`), or refused with the peer's reasons.
        """
        taken = []
        for pending in queued:
            label = f"ISO 18626 {describe(pending.message)} to {pending.peer.code}"
            try:
                answer = self.client.send(pending.peer, pending.message)
            except PeerError as exc:
                self.note(pending.request_id, FAILED, f"{label} not delivered: {exc}")
                continue
            if answer.ok:
                taken.append(pending)
                continue
            reasons = "; ".join(f"{e.type}: {e.value}" for e in answer.errors)
            self.note(pending.request_id, REFUSED, f"{label} refused: {reasons}")
        return taken

    def note(self, request_id: int, event_name: str, text: str) -> None:
        """Log news of a delivery and write it on the request's timeline for staff to see."""
        log.log(
            logging.INFO if event_name == SETTLED else logging.WARNING,
            "request %s: %s",
            request_id,
            text,
        )
        if self.database is None:
            return
        from ill.broker import log_event
        from ill.models import IllRequest

        with self.database.session() as session:
            request = session.get(IllRequest, request_id)
            if request is not None:
                log_event(
                    session, self.ctx, request, SYSTEM, "broker", event_name, request.status, text
                )


class _Sender:
    """One daemon thread sending committed batches in the order they were committed."""

    def __init__(self, deliver: Any, exit_wait: float) -> None:
        self._deliver = deliver
        self._batches: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="iso18626-outbox", daemon=True)
        self._thread.start()
        atexit.register(self.flush, exit_wait)

    def submit(self, batch: list[Pending]) -> None:
        self._batches.put(batch)

    def _run(self) -> None:
        while True:
            batch = self._batches.get()
            try:
                self._deliver(batch)
            except Exception:  # noqa: BLE001 - one bad batch must not stop the later ones
                log.exception("ISO 18626 outbox: a batch of %d message(s) failed", len(batch))
            finally:
                self._batches.task_done()

    def flush(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._batches.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True


def describe(message: Message) -> str:
    """Return a message's kind and, in brackets, its status or action: 'Request', 'X(Loaned)'."""
    kind = type(message).__name__
    detail = getattr(message, "status", None) or getattr(message, "action", None)
    return f"{kind}({detail})" if detail else kind


def _discard(session: Session) -> None:
    session.info.pop(OUTBOX_KEY, None)


def attach(
    ctx: Any, settings: Mapping[str, Any], database: Any = None, *, background: bool = False
) -> Outbox:
    """Make the broker's context send peers their messages (web, scheduler and CLI call this).

    ``background``: send from a thread of this process once committed (the web application).

    Raises ConfigError when ``ILL_PEER_SECRETS`` is wrong.
    """
    secrets = parse_peer_secrets(
        settings["ILL_PEER_SECRETS"], (m.code for m in ctx.alliance.members)
    )
    outbox = Outbox(
        ctx=ctx,
        secrets=secrets,
        client=Iso18626Client(
            timeout=settings["ILL_PEER_TIMEOUT"], max_retries=settings["ILL_PEER_MAX_RETRIES"]
        ),
        database=database,
        background=background,
    )
    ctx.listeners[:] = [x for x in ctx.listeners if not isinstance(x, Outbox)] + [outbox]
    return outbox
