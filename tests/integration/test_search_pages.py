"""The reader pages on real harvested records: demo members served over loopback OAI-PMH,
harvested, clustered, indexed, then searched in Chinese and English through the web app."""

from __future__ import annotations

import dataclasses
import re

import pytest

from federation.alliance import load_alliance
from federation.demo import build_corpus
from federation.members import import_alliance
from federation.roles import Role
from federation.settings import load_settings
from harvesters.services import harvest_all
from search.indexing import rebuild_index
from tests.conftest import DEMO_ALLIANCE
from tests.support.accounts import sign_in_as
from web.demo import member_profiles, member_repositories
from web.oai.provider import OAIProvider
from web.oai.server import EndpointServer

pytestmark = pytest.mark.integration


@pytest.fixture
def indexed(app, db, settings_overrides):
    """Two demo members (MARC 21 and UNIMARC) harvested and indexed into the app's backend."""
    alliance = load_alliance(DEMO_ALLIANCE)
    with db.session() as s:
        import_alliance(s, alliance)
    chosen = [alliance.member("ytu"), alliance.member("ytlib")]
    repos = member_repositories(alliance, build_corpus(member_profiles(alliance), seed=2026))
    settings = load_settings(settings_overrides, environ={})
    with EndpointServer() as server:
        members = []
        for m in chosen:
            url = server.start(OAIProvider(repos[m.code]).wsgi_app())
            members.append(dataclasses.replace(m, oai=dataclasses.replace(m.oai, base_url=url)))
        summaries = harvest_all(db, members, full=True, settings=settings)
    assert all(s.ok for s in summaries), [s.error for s in summaries]
    assert rebuild_index(db, app.extensions["federation.search"]) > 100
    return app


def _first_record_link(body: str) -> str:
    match = re.search(r'<h2 class="hit-title"><a href="(/record/[^"]+)"', body)
    assert match, "no hit on the page"
    return match.group(1)


def test_chinese_search_finds_the_cnmarc_title_and_its_holdings(indexed):
    client = indexed.test_client()
    body = client.get("/search?q=中国发展报告&lang=zh_CN").get_data(as_text=True)
    assert "<mark>中国发展报告</mark>" in body
    assert "高级检索" in body and re.search(r"找到 \d+ 种", body)
    record = client.get(_first_record_link(body) + "?home=ytu").get_data(as_text=True)
    assert "中国发展报告" in record and "索书号" in record
    assert "application/ld+json" in record
    assert "按与烟台大学图书馆的距离排序" in record
    source_url = _first_record_link(body) + "/source?lang=zh_CN"
    assert client.get(source_url).status_code in (401, 302, 303)  # readers: no source records
    sign_in_as(client, indexed, Role.ILL_STAFF, "ytu")
    source = client.get(source_url).get_data(as_text=True)
    payload = re.search(r"<pre[^>]*>(.*?)</pre>", source, re.S).group(1)
    assert "中国发展报告" in payload and "&lt;" in payload and "<" not in payload


def test_english_search_with_a_facet_and_paging(indexed):
    client = indexed.test_client()
    body = client.get("/search?q=history&lang=en").get_data(as_text=True)
    total = int(re.search(r"(\d+) titles? found", body).group(1))
    assert total >= 1
    assert "Refine" in body and 'value="member:ytu"' in body
    narrowed = client.get("/search?q=history&f=member:ytu&lang=en").get_data(as_text=True)
    assert int(re.search(r"(\d+) titles? found", narrowed).group(1)) <= total
    assert "Library: Yantai University Library" in narrowed
    link = _first_record_link(narrowed)
    assert client.get(link + "/cite.ris").get_data(as_text=True).startswith("TY  - ")
    assert client.get(link + "/cite.bib").get_data(as_text=True).startswith("@")
