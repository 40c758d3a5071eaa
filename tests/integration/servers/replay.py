"""Replay recorded OAI-PMH responses of real repositories over HTTP on loopback.

A ``Route`` maps request arguments to a recorded file (under tests/data/oai/) and the HTTP
status the repository answered with; the recordings' own resumption tokens chain their pages
(token -> file). Where a recording lacks a verb the harvester asks before listing (Identify,
ListMetadataFormats, ListSets), the route holds a small generated answer instead, marked
``generated`` in the request log and in PROVENANCE.md. A request no route matches gets a
404 text answer and is kept in ``unmatched()``: a test can then say which request it did
not expect.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from lxml import etree

from tests.conftest import TEST_DATA
from tests.integration.servers.common import (
    RequestLog,
    StartResponse,
    first_values,
    request_params,
    respond,
)
from web.oai.dates import format_datestamp
from web.oai.render import envelope, serialize, sub

RECORDINGS = TEST_DATA / "oai"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
GENERATED = "generated"


class _Any:
    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()  # a route value that matches whatever the request sends


@dataclass(frozen=True)
class Route:
    """Answer requests with exactly these argument names (values equal, or ANY) with a file."""

    params: Mapping[str, Any]
    source: str  # path under tests/data/oai, or GENERATED
    status: int = 200
    body: bytes | None = None  # the generated answer, when source is GENERATED

    def matches(self, args: Mapping[str, str]) -> bool:
        """Tell whether a request's arguments fit this route."""
        if set(args) != set(self.params):
            return False
        return all(v is ANY or args[k] == v for k, v in self.params.items())


class ReplayServer:
    """A WSGI app answering each request with the first route that matches it."""

    def __init__(self, routes: Sequence[Route], folder: Path = RECORDINGS) -> None:
        self.routes = list(routes)
        self.folder = folder
        self.log = RequestLog()
        self.base_url = ""

    def start(self, endpoints: Any) -> str:
        """Serve on a free loopback port of ``endpoints`` (an EndpointServer); return the URL."""
        self.base_url = endpoints.start(self)
        return self.base_url

    def unmatched(self) -> list[dict[str, str]]:
        """Return the arguments of every request no route answered."""
        return [e.params for e in self.log.all() if e.source is None]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        args = first_values(request_params(environ))
        route = next((r for r in self.routes if r.matches(args)), None)
        if route is None:
            self.log.add(args, status=404)
            text = f"no recording answers {sorted(args.items())}\n".encode()
            return respond(start_response, text, 404, "text/plain; charset=utf-8")
        self.log.add(args, status=route.status, source=route.source)
        body = route.body if route.body is not None else (self.folder / route.source).read_bytes()
        return respond(start_response, body, route.status, headers=[("X-Replay", route.source)])


# -- routes from the recordings' own indexes --------------------------------------------------


def routes_from_index(folder: str, host: str) -> list[Route]:
    """Return a route per recorded interaction with ``host`` in ``folder``/INDEX.json.

    Only interactions whose file was copied into tests/data/oai get a route.
    """
    routes = []
    for entry in json.loads((RECORDINGS / folder / "INDEX.json").read_text("utf-8")):
        uri = urlsplit(entry["uri"])
        path = f"{folder}/{entry['file']}"
        if uri.hostname != host or not (RECORDINGS / path).is_file():
            continue
        routes.append(Route(dict(parse_qsl(uri.query)), path, entry["status"]))
    return routes


def token_of(path: str) -> str:
    """Return the resumption token a recorded page ends with."""
    root = etree.parse(str(RECORDINGS / path)).getroot()
    return next(iter(root.iter(f"{OAI}resumptionToken"))).text.strip()


# -- generated answers for verbs a recording lacks --------------------------------------------


def _document(verb: str | None) -> tuple[Any, Any]:
    now = format_datestamp(datetime.now(UTC))
    root = envelope(now, "http://replay.invalid/oai", {"verb": verb} if verb else None)
    return root, sub(root, verb) if verb else root


def generated_identify(name: str, granularity: str = "YYYY-MM-DDThh:mm:ssZ") -> Route:
    """Return a generated Identify answer for a repository whose recording has none."""
    root, node = _document("Identify")
    for tag, text in (
        ("repositoryName", f"{name} (replayed; Identify generated)"),
        ("baseURL", "http://replay.invalid/oai"),
        ("protocolVersion", "2.0"),
        ("adminEmail", "replay@example.org"),
        ("earliestDatestamp", "2000-01-01T00:00:00Z" if "T" in granularity else "2000-01-01"),
        ("deletedRecord", "no"),
        ("granularity", granularity),
    ):
        sub(node, tag, text)
    return Route({"verb": "Identify"}, GENERATED, body=serialize(root))


def generated_formats(*formats: tuple[str, str, str]) -> Route:
    """Return a generated ListMetadataFormats answer: (prefix, schema, namespace) each."""
    root, node = _document("ListMetadataFormats")
    for prefix, schema, namespace in formats:
        element = sub(node, "metadataFormat")
        sub(element, "metadataPrefix", prefix)
        sub(element, "schema", schema)
        sub(element, "metadataNamespace", namespace)
    return Route({"verb": "ListMetadataFormats"}, GENERATED, body=serialize(root))


def generated_sets(*specs: str) -> Route:
    """Return a generated ListSets answer naming ``specs``."""
    root, node = _document("ListSets")
    for spec in specs:
        element = sub(node, "set")
        sub(element, "setSpec", spec)
        sub(element, "setName", spec)
    return Route({"verb": "ListSets"}, GENERATED, body=serialize(root))


# -- what a recorded list holds ---------------------------------------------------------------


@dataclass
class Listed:
    """What a chain of recorded ListRecords pages says about each identifier (the last word)."""

    deleted: set[str] = field(default_factory=set)
    with_metadata: set[str] = field(default_factory=set)
    unidentified: int = 0  # records whose header has no identifier: they cannot be stored

    @property
    def identifiers(self) -> set[str]:
        return self.deleted | self.with_metadata


def listed(*paths: str) -> Listed:
    """Read recorded ListRecords pages in order; a later page's word on a record wins."""
    out = Listed()
    for path in paths:
        root = etree.parse(str(RECORDINGS / path)).getroot()
        for record in root.iter(f"{OAI}record"):
            header = record.find(f"{OAI}header")
            identifier = (header.findtext(f"{OAI}identifier") or "").strip()
            if not identifier:
                out.unidentified += 1
                continue
            out.deleted.discard(identifier)
            out.with_metadata.discard(identifier)
            gone = header.get("status") == "deleted"
            (out.deleted if gone else out.with_metadata).add(identifier)
    return out


# -- the replayed repositories ----------------------------------------------------------------

MARC_SLIM = ("http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
             "http://www.loc.gov/MARC21/slim")  # fmt: skip


@dataclass(frozen=True)
class Replay:
    """A replayed repository: its routes, what to harvest and the pages a full harvest reads."""

    name: str
    routes: list[Route]
    prefix: str
    record_format: str
    pages: tuple[str, ...]  # recorded ListRecords pages of a full harvest, in order
    sets: tuple[str, ...] = ()

    def expected(self) -> Listed:
        """Return what the recorded pages say about each record."""
        return listed(*self.pages)


def _list(path: str, status: int = 200, **params: Any) -> Route:
    return Route({"verb": "ListRecords", **params}, path, status)


def zenodo() -> Replay:
    """Zenodo 2026 (oaipmh-scythe cassettes): three pages chained by opaque tokens, 422 errors."""
    routes = routes_from_index("zenodo-scythe", "zenodo.org")
    # An incremental harvest asks from its last run: Zenodo's recorded answer to a later
    # `from` stands for "nothing changed since" (noRecordsMatch with HTTP 422).
    noth = "zenodo-scythe/list_records__02_ListRecords_noRecordsMatch.xml"
    routes.append(_list(noth, 422, metadataPrefix="oai_dc", **{"from": ANY}))
    pages = tuple(f"zenodo-scythe/list_records__0{n}_ListRecords.xml" for n in (5, 9, 8))
    return Replay("zenodo", routes, "oai_dc", "dc", pages)


def zenodo_expired() -> Replay:
    """Zenodo with its first token refused (recorded badResumptionToken, HTTP 422).

    The harvester must ask again from the newest datestamp it committed; that request is
    answered with the recorded second page, whose token leads on to the third.
    """
    base = zenodo()
    first = base.pages[0]
    refused = "zenodo-scythe/list_records__10_ListRecords_badResumptionToken.xml"
    routes = [
        _list(refused, 422, resumptionToken=token_of(first)),
        _list(base.pages[1], metadataPrefix="oai_dc", **{"from": ANY}),
        *base.routes,
    ]
    return Replay("zenodo-expired", routes, "oai_dc", "dc", base.pages)


def sickle(broken: bool = False) -> Replay:
    """Sickle's fixtures: four pages whose tokens are file names, the same records repeated."""
    routes = [
        Route({"verb": "Identify"}, "sickle/Identify.xml"),
        Route({"verb": "ListMetadataFormats"}, "sickle/ListMetadataFormats.xml"),
        _list("sickle/ListRecords.xml", metadataPrefix="oai_dc"),
    ]
    if broken:  # the third page is not XML at all
        routes.append(_list("sickle/ListRecordsBroken.xml", resumptionToken="ListRecords3.xml"))
    for n in (2, 3, 4):
        routes.append(_list(f"sickle/ListRecords{n}.xml", resumptionToken=f"ListRecords{n}.xml"))
    routes.append(_list("sickle/noRecordsMatch.xml", metadataPrefix="oai_dc", **{"from": ANY}))
    pages = ("sickle/ListRecords.xml", "sickle/ListRecords2.xml")
    if not broken:
        pages += ("sickle/ListRecords3.xml", "sickle/ListRecords4.xml")
    return Replay("sickle-broken" if broken else "sickle", routes, "oai_dc", "dc", pages)


def vufind() -> Replay:
    """An anonymised Ex Libris Alma marc21 page (100 records), then VuFindHarvest's token pages."""
    folder = "vufindharvest"
    routes = [
        Route({"verb": "Identify"}, f"{folder}/identify_response.xml"),
        generated_formats(("marc21", *MARC_SLIM)),
        _list(f"{folder}/marc.xml", metadataPrefix="marc21"),
        _list(f"{folder}/list_records_token_response.xml", resumptionToken="fakeresumptiontoken"),
        _list(f"{folder}/list_records_response.xml", resumptionToken="more"),
    ]
    pages = tuple(
        f"{folder}/{name}.xml"
        for name in ("marc", "list_records_token_response", "list_records_response")
    )
    return Replay("vufind", routes, "marc21", "marc21", pages)


def inspire() -> Replay:
    """INSPIRE-HEP 2014: two MARCXML records (marc: prefix) in one page."""
    page = "invenio-oaiharvester-arxiv/sample_inspire_response_listrecords.xml"
    routes = [
        generated_identify("INSPIRE-HEP"),
        generated_formats(("marcxml", *MARC_SLIM)),
        _list(page, metadataPrefix="marcxml"),
    ]
    return Replay("inspire", routes, "marcxml", "marc21", (page,))


def arxiv() -> Replay:
    """arXiv 2015-16: sets cs (46 records) and physics (150), a format we do not parse."""
    folder = "invenio-oaiharvester-arxiv"
    cs = f"{folder}/sample_arxiv_response_listrecords_cs.xml"
    physics = f"{folder}/sample_arxiv_response_listrecords_physics.xml"
    routes = [
        generated_identify("arXiv", granularity="YYYY-MM-DD"),
        generated_formats(
            ("arXiv", "http://arxiv.org/OAI/arXiv.xsd", "http://arxiv.org/OAI/arXiv/")
        ),
        generated_sets("cs", "physics"),
        _list(cs, metadataPrefix="arXiv", set="cs"),
        _list(physics, metadataPrefix="arXiv", set="physics"),
        # arXiv's recorded answer to a selective harvest that matched nothing (HTTP 200).
        _list(
            f"{folder}/sample_empty_response.xml", metadataPrefix="arXiv", set=ANY, **{"from": ANY}
        ),  # fmt: skip
    ]
    return Replay("arxiv", routes, "arXiv", "dc", (cs, physics), sets=("cs", "physics"))


def eur_dspace() -> Replay:
    """Erasmus University Rotterdam DSpace (OCLC OAICat), 2003-04: 81 records, 2 deleted."""
    folder = "pyoai-eur-dspace"  # pyoai's fake1/0000n.xml saved as fake1-0000n-<verb>.xml
    page = f"{folder}/fake2-00002-ListRecords.xml"
    routes = [
        Route({"verb": "Identify"}, f"{folder}/fake1-00001-Identify.xml"),
        Route({"verb": "ListMetadataFormats"}, f"{folder}/fake1-00002-ListMetadataFormats.xml"),
        # Recorded with from=2004-01-01; here it answers the full harvest.
        _list(page, metadataPrefix="oai_dc"),
    ]
    return Replay("eur-dspace", routes, "oai_dc", "dc", (page,))


REPLAYS = {
    "zenodo": zenodo,
    "sickle": sickle,
    "vufind": vufind,
    "inspire": inspire,
    "arxiv": arxiv,
    "eur-dspace": eur_dspace,
}
