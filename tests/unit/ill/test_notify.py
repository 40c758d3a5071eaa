"""ILL notices by e-mail through a real SMTP conversation on loopback."""

from __future__ import annotations

import pytest

from ill.notify import ConsoleMailer, SmtpMailer, mailer_from_settings
from tests.support.ill import place
from tests.support.smtp import SmtpSink


@pytest.fixture
def sink():
    server = SmtpSink()
    yield server
    server.close()


def test_the_lender_is_mailed_through_smtp_when_asked_to_supply(ill_db, ctx, cluster, sink):
    ctx.mailer = mailer_from_settings(
        {
            "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": sink.port,
            "MAIL_FROM": "ill@alliance.test",
        }
    )
    assert isinstance(ctx.mailer, SmtpMailer)
    rid = place(ill_db, ctx, cluster_id=cluster)
    ((sender, rcpts, message),) = sink.received
    assert sender == "<ill@alliance.test>" and rcpts == ["lisi@example.org"]
    assert message["Subject"].startswith(f"[ILL #{rid}] New ILL request")
    body = message.get_payload(decode=True).decode("utf-8")
    assert "数据结构" in body and "王小明" not in body and "20260001" not in body


def test_an_unreachable_smtp_server_does_not_stop_the_request(ill_db, ctx, cluster, sink):
    port = sink.port
    sink.close()  # nobody listens any more
    ctx.mailer = SmtpMailer("127.0.0.1", port, "ill@alliance.test")
    rid = place(ill_db, ctx, cluster_id=cluster)
    assert rid > 0


def test_console_is_the_default_mailer():
    assert isinstance(mailer_from_settings({}), ConsoleMailer)
