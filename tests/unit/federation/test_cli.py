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


def test_index_rebuild_builds_from_the_stored_clusters_or_clusters_again(runner, db):
    from tests.unit.search.test_dedup_services import three_holders

    assert runner.invoke(main, ["members", "import"]).exit_code == 0
    three_holders(db)  # four records of two books, not clustered yet
    fast = runner.invoke(main, ["index", "rebuild"])
    assert fast.exit_code == 0, fast.output
    assert "rebuilt from the stored clusters: 2 cluster documents" in fast.output
    again = runner.invoke(main, ["index", "rebuild", "--recluster"])
    assert again.exit_code == 0, again.output
    assert "every record clustered again: 2 cluster documents" in again.output
    old = runner.invoke(main, ["index", "rebuild", "--keep-clusters"])
    assert old.exit_code == 0 and "--keep-clusters is the default now" in old.output
    both = runner.invoke(main, ["index", "rebuild", "--keep-clusters", "--recluster"])
    assert both.exit_code == 2 and "contradict" in both.output
