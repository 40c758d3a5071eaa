"""`federation members check` against real loopback servers: each failure in plain words."""

import socket
from datetime import UTC, datetime

import pytest

from harvesters.check import check_endpoint
from web.oai.provider import MemoryRepository, MetadataFormat, OAIProvider
from web.oai.server import EndpointServer

pytestmark = pytest.mark.integration

DC = MetadataFormat(
    "oai_dc",
    "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
    "http://www.openarchives.org/OAI/2.0/oai_dc/",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _html_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [b"<!doctype html><html><body><h1>Welcome to our library</h1></body></html>"]


@pytest.fixture
def servers():
    with EndpointServer() as server:
        repo = MemoryRepository(
            "DC only", "http://127.0.0.1/oai", [], [DC], earliest=datetime(2020, 1, 1, tzinfo=UTC)
        )
        yield {
            "dc_only": server.start(OAIProvider(repo).wsgi_app()),
            "html": server.start(_html_app),
        }


def test_unreachable_endpoint_is_reported_plainly():
    url = f"http://127.0.0.1:{_free_port()}/oai"
    report = check_endpoint(url, "marc21", timeout=3)
    assert not report.ok
    assert report.problems == [
        f"cannot connect to {url}: nothing answers there (is the server running?)"
    ]


def test_a_web_page_instead_of_oai_is_reported_plainly(servers):
    report = check_endpoint(servers["html"], "marc21", timeout=3)
    assert not report.ok
    assert "is not an OAI-PMH response: check the base URL" in report.problems[0]
    assert "text/html" in report.problems[0]


def test_a_missing_metadata_format_is_reported_plainly(servers):
    report = check_endpoint(servers["dc_only"], "marc21", timeout=3)
    assert not report.ok
    assert report.repository_name == "DC only"
    assert report.problems == [
        f"{servers['dc_only']} does not offer the metadata format 'marc21' named in the "
        "alliance file; it offers: oai_dc"
    ]
    assert check_endpoint(servers["dc_only"], "oai_dc", timeout=3).ok


def test_cli_check_reports_each_member(servers, runner, tmp_path, monkeypatch):
    import yaml

    from federation.cli import main
    from tests.conftest import DEMO_ALLIANCE

    data = yaml.safe_load(DEMO_ALLIANCE.read_text(encoding="utf-8"))
    members = data["members"]
    members[0]["oai"]["base_url"] = servers["dc_only"]
    members[0]["oai"]["metadata_prefix"] = "oai_dc"
    members[1]["oai"]["base_url"] = servers["html"]
    members[2]["oai"]["base_url"] = f"http://127.0.0.1:{_free_port()}/oai"
    path = tmp_path / "alliance.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("FEDERATION_ALLIANCE_FILE", str(path))
    codes = [m["code"] for m in members[:3]]
    args = ["members", "check", "--timeout", "3"] + [f"--member={c}" for c in codes]
    result = runner.invoke(main, args)
    assert result.exit_code == 1, result.output
    assert f"OK    {members[0]['code']}" in result.output
    assert (
        f"FAIL  {members[1]['code']}" in result.output
        and "not an OAI-PMH response" in result.output
    )
    assert f"FAIL  {members[2]['code']}" in result.output and "cannot connect" in result.output
    assert "1 of 3 endpoints OK." in result.output
