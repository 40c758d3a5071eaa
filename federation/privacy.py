"""Reader data: encrypted at rest, every read and change written to the audit log.

A reader's name and card number exist only on the borrowing library's ILL request, sealed
with the key in ``READER_DATA_KEY`` (generated into the instance folder when unset). The
audit log stores who touched which request and how, never the reader data itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import Session

from federation.models import AuditEvent, utcnow
from federation.roles import Actor


class ReaderDataError(Exception):
    """Reader data cannot be opened: the key is wrong or the value was tampered with."""


class ReaderDataCipher:
    """Seal and open reader data (names, card numbers) with one Fernet key."""

    def __init__(self, key: str | bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ReaderDataError(
                "READER_DATA_KEY is not a Fernet key (url-safe base64 of 32 bytes); "
                "make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from exc

    def seal(self, text: str | None) -> str | None:
        """Return ``text`` encrypted (None and empty text stay as they are)."""
        if not text:
            return text
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, token: str | None) -> str | None:
        """Return the clear text of a sealed value."""
        if not token:
            return token
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as exc:
            raise ReaderDataError("reader data cannot be opened with this key") from exc


def ensure_reader_key(settings: dict[str, Any]) -> str:
    """Return the reader-data key, generating and keeping one in the instance folder if unset."""
    if settings["READER_DATA_KEY"]:
        return settings["READER_DATA_KEY"]
    path = Path(settings["INSTANCE_PATH"]) / "reader_data.key"
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key().decode("ascii")
        path.write_text(key, encoding="ascii")
        path.chmod(0o600)
    settings["READER_DATA_KEY"] = key
    return key


def cipher_from_settings(settings: dict[str, Any]) -> ReaderDataCipher:
    """Return the cipher for the configured (or generated) reader-data key."""
    return ReaderDataCipher(ensure_reader_key(settings))


def audit_row(actor: Actor, action: str, subject: str, detail: str = "") -> dict[str, Any]:
    """Return the audit line of ``actor`` doing ``action`` to ``subject`` as column values
    (for writers that insert rows in bulk; :func:`audit` adds it through the session)."""
    return {
        "at": utcnow(),
        "actor": actor.label[:200],
        "actor_role": actor.role.value,
        "member_code": actor.member_code,
        "action": action[:32],
        "subject": subject[:120],
        "detail": detail[:500],
    }


def audit(
    session: Session, actor: Actor, action: str, subject: str, detail: str = ""
) -> AuditEvent:
    """Append one line to the audit log: ``actor`` did ``action`` ("read", "change", "erase",
    "export") to ``subject`` (e.g. "ill_request:42"). ``detail`` must not hold reader data."""
    event = AuditEvent(**audit_row(actor, action, subject, detail))
    session.add(event)
    return event
