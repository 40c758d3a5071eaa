"""Notices to a member's staff: a row for the in-app list, and an e-mail sent after the commit.

The mailer is chosen by settings: ``console`` (default) writes the message to the log,
``smtp`` sends it through the configured server. Notices never carry reader data.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

from federation.models import utcnow
from ill.store import NOTICES

log = logging.getLogger("federation.ill.mail")
_PENDING = "ill_pending_mail"


class Mailer(Protocol):
    """Something that sends one e-mail."""

    def send(self, to: str, subject: str, body: str) -> None: ...


class ConsoleMailer:
    """Write e-mails to the log instead of sending them (the default, and for the demo)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, to: str, subject: str, body: str) -> None:
        """Log the message and keep it (tests read ``sent``)."""
        self.sent.append((to, subject, body))
        log.info("mail to %s: %s\n%s", to, subject, body)


class SmtpMailer:
    """Send e-mails through an SMTP server."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        user: str = "",
        password: str = "",
        starttls: bool = False,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls = user, password, starttls

    def send(self, to: str, subject: str, body: str) -> None:
        """Send one plain-text message; failures are logged, never raised into the broker."""
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, to, subject
        msg.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail to %s not sent (%s): %s", to, exc, subject)


def mailer_from_settings(settings: dict[str, Any]) -> Mailer:
    """Return the mailer the settings ask for."""
    if settings.get("MAIL_BACKEND", "console") == "smtp":
        return SmtpMailer(
            settings["SMTP_HOST"],
            settings["SMTP_PORT"],
            settings["MAIL_FROM"],
            settings.get("SMTP_USER", ""),
            settings.get("SMTP_PASSWORD", ""),
            settings.get("SMTP_STARTTLS", False),
        )
    return ConsoleMailer()


def notify(unit: Any, ctx: Any, member_code: str, kind: str, text: str) -> None:
    """Add an in-app notice for ``member_code``'s staff and queue its e-mail for after commit.

    The notice is written with the change's ``unit`` (:class:`ill.store.Unit`).
    """
    request = unit.request
    unit.add(
        NOTICES,
        {
            "member_code": member_code,
            "request_id": request.id,
            "created_at": utcnow(),
            "kind": kind,
            "text": text[:1000],
            "read_at": None,
        },
    )
    address = _liaison_email(ctx, member_code)
    if ctx.mailer is not None and address:
        subject = f"[ILL #{request.id}] {text[:120]}"
        _queue(
            unit.session,
            ctx.mailer,
            address,
            subject,
            f"{text}\n\nRequest #{request.id}: {request.title}",
        )


def _liaison_email(ctx: Any, member_code: str) -> str | None:
    try:
        return ctx.alliance.member(member_code).liaison.email
    except KeyError:
        return None


def _queue(session: Session, mailer: Mailer, to: str, subject: str, body: str) -> None:
    """Send after the transaction commits: a rolled-back change sends nothing."""
    pending = session.info.setdefault(_PENDING, [])
    if not pending and not session.info.get("ill_mail_hooked"):
        session.info["ill_mail_hooked"] = True
        event.listen(session, "after_commit", _flush_mail)
        event.listen(session, "after_rollback", _drop_mail)
    pending.append((mailer, to, subject, body))


def _flush_mail(session: Session) -> None:
    for mailer, to, subject, body in session.info.pop(_PENDING, []):
        mailer.send(to, subject, body)


def _drop_mail(session: Session) -> None:
    session.info.pop(_PENDING, None)
