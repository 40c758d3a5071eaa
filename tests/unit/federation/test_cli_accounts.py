"""`federation users ...` and `federation tokens ...`: one-line errors, secrets printed once."""

import re

from federation.cli import main


def _ok(runner, args, **kw):
    result = runner.invoke(main, args, **kw)
    assert result.exit_code == 0, result.output
    return result.output


def _members(runner):
    _ok(runner, ["db", "upgrade"])
    _ok(runner, ["members", "import"])


def test_create_list_reset_disable_an_account(runner):
    _members(runner)
    out = _ok(
        runner,
        ["users", "create", "ytu.wang", "--role", "ill_staff", "--member", "ytu"],
        input="a good long password\na good long password\n",
    )
    assert "Created ill_staff account ytu.wang of ytu." in out
    assert "a good long password" not in out
    listing = _ok(runner, ["users", "list"])
    assert re.search(r"ytu\.wang\s+ill_staff\s+ytu\s+active", listing)
    reset = _ok(runner, ["users", "reset-password", "ytu.wang"])
    assert "One-time password for ytu.wang" in reset
    _ok(runner, ["users", "disable", "ytu.wang"])
    assert re.search(r"ytu\.wang\s+ill_staff\s+ytu\s+disabled", _ok(runner, ["users", "list"]))


def test_generated_password_is_printed_once(runner):
    _members(runner)
    out = _ok(
        runner, ["users", "create", "admin", "--role", "alliance_admin", "--generate-password"]
    )
    assert re.search(r"Password \(shown only now\): \S{12,}", out)


def test_account_mistakes_are_one_line_errors(runner):
    _members(runner)
    no_member = runner.invoke(
        main, ["users", "create", "r1", "--role", "reader", "--generate-password"]
    )
    assert no_member.exit_code == 2
    assert no_member.output.strip() == "Error: a reader account needs a member (--member CODE)"
    weak = runner.invoke(
        main, ["users", "create", "zhao", "--role", "coordinator"], input="short\nshort\n"
    )
    assert weak.exit_code == 2 and "at least 10 characters" in weak.output
    unknown = runner.invoke(main, ["users", "disable", "ghost"])
    assert unknown.exit_code == 2 and "no account named 'ghost'" in unknown.output


def test_tokens_create_list_revoke(runner):
    _members(runner)
    out = _ok(runner, ["tokens", "create", "--member", "ytu", "--name", "ILS", "--scope", "write"])
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("fed_")
    prefix = secret.split("_")[1]
    listing = _ok(runner, ["tokens", "list"])
    assert prefix in listing and secret not in listing and "never" in listing
    assert f"Revoked token {prefix}." in _ok(runner, ["tokens", "revoke", prefix])
    assert "already revoked" in _ok(runner, ["tokens", "revoke", secret])
    assert re.search(rf"{prefix}\s+ytu\s+write\s+revoked", _ok(runner, ["tokens", "list"]))
    bad = runner.invoke(main, ["tokens", "create", "--member", "nowhere", "--name", "x"])
    assert bad.exit_code == 2 and "no member with code 'nowhere'" in bad.output
