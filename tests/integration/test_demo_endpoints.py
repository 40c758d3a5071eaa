"""The demo alliance's member endpoints over real HTTP: valid OAI-PMH, harvested completely."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from lxml import etree
from sickle import Sickle

from federation.alliance import load_alliance
from federation.demo import build_corpus
from tests.conftest import DEMO_ALLIANCE, TEST_DATA
from web.demo import member_profiles, member_repositories
from web.oai.provider import OAIProvider
from web.oai.server import EndpointServer

pytestmark = pytest.mark.integration
OAI = "{http://www.openarchives.org/OAI/2.0/}"


@pytest.fixture(scope="module")
def xsd():
    """The official OAI-PMH schema plus the oai_dc, MARC21 and UNIMARC payload schemas."""
    return etree.XMLSchema(etree.parse(str(TEST_DATA / "schemas" / "oai-pmh-federation.xsd")))


@pytest.fixture(scope="module")
def demo():
    """Every demo member's endpoint on a free loopback port, with its corpus."""
    alliance = load_alliance(DEMO_ALLIANCE)
    corpus = build_corpus(member_profiles(alliance), seed=2026)
    repos = member_repositories(alliance, corpus)
    with EndpointServer() as server:
        urls = {}
        for code, repo in repos.items():
            urls[code] = server.start(OAIProvider(repo, page_size=100).wsgi_app())
            repo.base_url = urls[code]
        yield alliance, corpus, urls


def _pages(url: str, prefix: str):
    """Yield every ListRecords page, following resumption tokens, as parsed documents."""
    params = {"verb": "ListRecords", "metadataPrefix": prefix}
    while True:
        doc = etree.fromstring(requests.get(url, params=params, timeout=30).content)
        yield doc
        token = doc.find(f"{OAI}ListRecords/{OAI}resumptionToken")
        if token is None or not (token.text or "").strip():
            return
        params = {"verb": "ListRecords", "resumptionToken": token.text}


def test_every_member_answers_identify_with_a_valid_response(demo, xsd):
    alliance, _corpus, urls = demo
    for member in alliance.members:
        doc = etree.fromstring(
            requests.get(urls[member.code], params={"verb": "Identify"}, timeout=10).content
        )
        assert xsd.validate(doc), (member.code, xsd.error_log.last_error)
        assert member.name_zh in doc.findtext(f"{OAI}Identify/{OAI}repositoryName")


def test_every_page_of_every_member_validates_against_the_official_xsd(demo, xsd):
    alliance, corpus, urls = demo
    for member in alliance.members:
        seen = 0
        pages = 0
        for doc in _pages(urls[member.code], member.oai.metadata_prefix):
            assert xsd.validate(doc), (member.code, pages, xsd.error_log.last_error)
            seen += len(doc.findall(f"{OAI}ListRecords/{OAI}record"))
            pages += 1
        assert seen == len(corpus.records[member.code])
        assert pages > 1, "the demo should exercise resumption tokens"


def test_sickle_harvests_each_member_completely(demo):
    alliance, corpus, urls = demo
    total = 0
    for member in alliance.members:
        sickle = Sickle(urls[member.code], timeout=30)
        headers = [r.header for r in sickle.ListRecords(metadataPrefix=member.oai.metadata_prefix)]
        identifiers = [h.identifier for h in headers]
        expected = corpus.records[member.code]
        assert len(identifiers) == len(set(identifiers)) == len(expected)
        assert set(identifiers) == {r.identifier for r in expected}
        deleted = {h.identifier for h in headers if h.deleted}
        assert deleted == {r.identifier for r in expected if r.deleted}
        dc = sum(1 for _ in sickle.ListIdentifiers(metadataPrefix="oai_dc"))
        assert dc == len(expected), "every member must also serve oai_dc"
        total += len(identifiers)
    assert total >= 5000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alliance_on_free_ports(tmp_path: Path) -> Path:
    """Copy the demo alliance with every member endpoint moved to a free loopback port.

    The demo serves the ports its alliance file names; a demo a developer left running must
    not make this test fail, so the test runs its own copy elsewhere.
    """
    import yaml

    data = yaml.safe_load(DEMO_ALLIANCE.read_text(encoding="utf-8"))
    for member in data["members"]:
        member["oai"]["base_url"] = f"http://127.0.0.1:{_free_port()}/oai"
    path = tmp_path / "alliance.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_demo_command_serves_the_home_page_and_every_endpoint(tmp_path):
    """Run `federation demo` as a user would, wait for it, look, and stop it with Ctrl-C."""
    alliance_file = _alliance_on_free_ports(tmp_path)
    alliance = load_alliance(alliance_file)
    port = _free_port()
    env = {
        **os.environ,
        "FEDERATION_INSTANCE_PATH": str(tmp_path / "instance"),
        "FEDERATION_PORT": str(port),
        "FEDERATION_ALLIANCE_FILE": str(alliance_file),
    }
    env.pop("FEDERATION_DATABASE_URL", None)
    federation = Path(sys.executable).with_name("federation")
    proc = subprocess.Popen([str(federation), "demo"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")))
    reader.start()
    try:
        home = _wait_for(f"http://127.0.0.1:{port}/", proc)
        assert alliance.name_zh in home
        for member in alliance.members:
            identify = requests.get(member.oai.base_url, params={"verb": "Identify"}, timeout=10)
            assert b"<Identify>" in identify.content
        _sign_in_with_the_printed_password(f"http://127.0.0.1:{port}/", lines)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(timeout=10)
    output = "".join(lines)
    assert f"http://127.0.0.1:{port}/" in output
    assert "Harvested" in output and "Indexed" in output
    assert re.search(r"Simulated a year of ILL traffic: [1-9]\d* requests", output)
    assert re.search(r"Rolled up [1-9]\d* usage events for the statistics pages", output)
    assert "Traceback" not in output
    assert proc.returncode == 0, output


def _sign_in_with_the_printed_password(home: str, lines: list[str]) -> None:
    """Sign in as the demo's alliance administrator with the password the console printed."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any("Press Ctrl-C" in line for line in lines):
        time.sleep(0.2)
    printed = re.search(r"^\s+admin\s+(\S+)\s+alliance_admin", "".join(lines), re.M)
    assert printed, "".join(lines)
    browser = requests.Session()
    form = browser.get(home + "sign-in", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    data = {"csrf_token": token, "username": "admin", "password": printed.group(1)}
    browser.post(home + "sign-in", data=data, timeout=10)
    assert browser.get(home + "admin/harvests", timeout=10).status_code == 200


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 120) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the demo stopped early:\n{proc.stdout.read()}")
        try:
            response = requests.get(url, timeout=2)
            if response.status_code == 200:
                return response.text
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    pytest.fail(f"the demo did not answer at {url} within {seconds} s")
