from federation.alliance import load_alliance
from federation.cli import main
from tests.conftest import DEMO_ALLIANCE


def test_help_lists_the_commands(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("db", "members", "demo", "serve"):
        assert command in result.output
    sub = runner.invoke(main, ["members", "--help"])
    for command in ("import", "list", "check"):
        assert command in sub.output


def test_db_upgrade_then_members_import_and_list(runner):
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    from alembic.script import ScriptDirectory

    from federation.db import MIGRATIONS_DIR

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert f"revision {head} " in result.output
    result = runner.invoke(main, ["members", "import"])
    assert result.exit_code == 0, result.output
    alliance = load_alliance(DEMO_ALLIANCE)
    assert f"{len(alliance.members)} created" in result.output
    again = runner.invoke(main, ["members", "import"])
    assert f"0 created, 0 updated, {len(alliance.members)} unchanged" in again.output
    listing = runner.invoke(main, ["members", "list"])
    for member in alliance.members:
        assert member.code in listing.output
        assert member.name_zh in listing.output


def test_a_bad_alliance_file_stops_with_one_line(runner, tmp_path):
    bad = tmp_path / "alliance.yaml"
    bad.write_text("alliance: [unclosed\n", encoding="utf-8")
    result = runner.invoke(main, ["members", "import", "--file", str(bad)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and str(bad) in lines[0]
    assert "Traceback" not in result.output


def test_a_bad_setting_stops_with_one_line(runner, monkeypatch):
    monkeypatch.setenv("FEDERATION_PORT", "not-a-port")
    result = runner.invoke(main, ["members", "list"])
    assert result.exit_code == 2
    assert "PORT must be a whole number" in result.output
    assert "Traceback" not in result.output
