"""Harvesting a third-party OAI-PMH data provider: pyoai's server (PyPI ``oaipmh`` 4.0.0).

The server is not ours: pyoai's BatchingServer with its own resumption tokens, datestamps,
error answers and oai_dc writer, serving the 442 real RERO ILS MARC 21 records in pages of 50
(as marc21 and as oai_dc), a few of them marked deleted, over HTTP on loopback.
"""

from __future__ import annotations

import pytest
import requests
from lxml import etree
from sickle import Sickle

from tests.conftest import TEST_DATA
from tests.integration.servers.harness import (
    harvest,
    import_members,
    member_at,
    stored,
    stored_rows,
)
from tests.integration.servers.thirdparty import IDENTIFIER_PREFIX, ThirdPartyServer, read_items
from web.oai.server import EndpointServer

pytestmark = pytest.mark.integration
OAI = "{http://www.openarchives.org/OAI/2.0/}"
GONE = {f"{IDENTIFIER_PREFIX}REROILS:{n}" for n in (75, 101, 161)}


@pytest.fixture(scope="module")
def pyoai():
    """pyoai's server over the RERO records, three of them deleted."""
    server = ThirdPartyServer(read_items(deleted=GONE), batch_size=50)
    with EndpointServer() as endpoints:
        server.start(endpoints)
        yield server


@pytest.fixture
def store(db):
    import_members(db)
    return db


def test_pyoai_serves_valid_pages_that_sickle_harvests_completely(pyoai):
    xsd = etree.XMLSchema(etree.parse(str(TEST_DATA / "schemas" / "oai-pmh-federation.xsd")))
    pages = 0
    for prefix in ("marc21", "oai_dc"):
        params = {"verb": "ListRecords", "metadataPrefix": prefix}
        while params:
            doc = etree.fromstring(requests.get(pyoai.base_url, params=params, timeout=10).content)
            assert xsd.validate(doc), (prefix, pages, xsd.error_log.last_error)
            token = doc.findtext(f"{OAI}ListRecords/{OAI}resumptionToken")
            params = {"verb": "ListRecords", "resumptionToken": token} if token else None
            pages += 1
    assert pages == 2 * 9  # 442 records in pages of 50
    client = Sickle(pyoai.base_url, timeout=10)
    for prefix in ("marc21", "oai_dc"):
        headers = [r.header for r in client.ListRecords(metadataPrefix=prefix)]
        assert {h.identifier: "deleted" if h.deleted else "active" for h in headers} == (
            pyoai.expected()
        )
    assert len(pyoai.expected()) == 442


@pytest.mark.parametrize(
    ("prefix", "record_format"), [("marc21", "marc21"), ("oai_dc", "dc")], ids=["marc21", "oai_dc"]
)
def test_pyoai_is_harvested_completely(store, pyoai, prefix, record_format):
    member = member_at(pyoai.base_url, prefix=prefix, record_format=record_format)
    summary = harvest(store, member)
    assert summary.ok, summary.error
    assert (summary.pages, summary.new, summary.deleted) == (9, 439, 3)
    assert stored(store) == pyoai.expected()
    titled = [r for r in stored_rows(store) if r.status == "active" and r.normalised.get("title")]
    assert len(titled) == 439, "every live record is parsed with its title"


def test_pyoai_no_records_match_makes_an_empty_incremental_run(store, pyoai):
    member = member_at(pyoai.base_url)
    assert harvest(store, member).ok
    again = harvest(store, member)
    assert (again.kind, again.status, again.pages, again.error) == (
        "incremental",
        "completed",
        0,
        None,
    )
    assert again.from_date is not None
    assert stored(store) == pyoai.expected()
