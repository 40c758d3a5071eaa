"""A third-party OAI-PMH data provider: pyoai's server (PyPI ``oaipmh`` 4.0.0) on loopback.

pyoai has no HTTP layer of its own: ``oaipmh.server.BatchingServer(source, registry,
resumption_batch_size=n).handleRequest(arguments)`` returns the response document, with
resumption tokens that encode the query and a cursor (url-encoded, not signed). We give it an
``IBatchingOAI`` source over real MARC 21 records (RERO ILS demo data, AGPL-3.0, see
tests/data/records/PROVENANCE.md), disseminated as marc21 (the MARCXML record itself) and as
oai_dc (pyoai's own writer, from a Dublin Core map made from the MARC fields), and answer
HTTP with a few lines of WSGI. Dates are pyoai's: naive datetimes meaning UTC.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree
from oaipmh import common, error
from oaipmh.metadata import MetadataRegistry
from oaipmh.server import BatchingServer, oai_dc_writer

from tests.conftest import TEST_DATA
from tests.integration.servers.common import StartResponse, first_values, request_params, respond

RERO_RECORDS = TEST_DATA / "records" / "marc21" / "rero-ils" / "documents_small.xml"
MARC_NS = "http://www.loc.gov/MARC21/slim"
IDENTIFIER_PREFIX = "oai:rero.example.org:"
FORMATS = [
    ("marc21", "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd", MARC_NS),
    ("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
     "http://www.openarchives.org/OAI/2.0/oai_dc/"),
]  # fmt: skip
_M = {"m": MARC_NS}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass(frozen=True)
class Item:
    """One record of the source: its header facts, its MARCXML element and its DC map."""

    identifier: str
    datestamp: datetime  # naive, UTC
    marc: etree._Element
    deleted: bool = False

    def header(self) -> common.Header:
        return common.Header(None, self.identifier, self.datestamp, [], self.deleted)

    @functools.cached_property
    def dc(self) -> dict[str, list[str]]:
        return dublin_core(self.marc)

    def metadata(self) -> common.Metadata | None:
        # pyoai hands the same object to every writer: the marc21 one uses the element, the
        # oai_dc one the map (made once per record, on first use).
        return None if self.deleted else common.Metadata(self.marc, _LazyMap(self))


class _LazyMap(Mapping):
    """An item's Dublin Core map, made only if the oai_dc writer asks for it."""

    def __init__(self, item: Item) -> None:
        self._item = item

    def __getitem__(self, key: str) -> list[str]:
        return self._item.dc[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._item.dc)

    def __len__(self) -> int:
        return len(self._item.dc)


def read_items(path: Path = RERO_RECORDS, deleted: Iterable[str] = ()) -> list[Item]:
    """Read a MARCXML collection: identifier from 001, datestamp from 005."""
    gone = set(deleted)
    root = etree.parse(str(path), _PARSER).getroot()
    items = []
    for marc in root.iterfind("m:record", _M):
        identifier = IDENTIFIER_PREFIX + marc.findtext("m:controlfield[@tag='001']", namespaces=_M)
        stamp = datetime.strptime(
            marc.findtext("m:controlfield[@tag='005']", namespaces=_M)[:14], "%Y%m%d%H%M%S"
        )
        items.append(Item(identifier, stamp, marc, identifier in gone))
    return items


def dublin_core(marc: etree._Element) -> dict[str, list[str]]:
    """Map a few MARC fields to Dublin Core elements (pyoai's oai_dc writer takes such a map)."""

    def values(tag: str, codes: str) -> list[str]:
        out = []
        for field in marc.iterfind(f"m:datafield[@tag='{tag}']", _M):
            text = " ".join(
                (sf.text or "").strip() for sf in field.iterfind("m:subfield", _M)
                if sf.get("code") in codes
            )  # fmt: skip
            if text:
                out.append(text.rstrip(" /:;,."))
        return out

    fixed = marc.findtext("m:controlfield[@tag='008']", namespaces=_M) or ""
    return {
        "title": values("245", "ab")[:1],
        "creator": values("100", "a") + values("110", "a") + values("700", "a"),
        "subject": values("650", "a"),
        "publisher": values("260", "b") + values("264", "b"),
        "date": values("260", "c") + values("264", "c"),
        "identifier": values("020", "a"),
        "language": [fixed[35:38]] if len(fixed) >= 38 and fixed[35:38].strip() else [],
        "type": ["text"],
    }


class RecordSource:
    """pyoai's IBatchingOAI over a list of items, ordered by (datestamp, identifier).

    Method and argument names (camelCase, ``set``) are pyoai's interface.
    """

    def __init__(self, items: list[Item]) -> None:
        self.items = sorted(items, key=lambda i: (i.datestamp, i.identifier))
        self.base_url = "http://127.0.0.1/"

    def identify(self) -> common.Identify:
        earliest = self.items[0].datestamp if self.items else datetime(2000, 1, 1)
        return common.Identify(
            "RERO ILS demo records (served by pyoai 4.0.0)", self.base_url, "2.0",
            ["admin@example.org"], earliest, "persistent", "YYYY-MM-DDThh:mm:ssZ", ["identity"],
        )  # fmt: skip

    def listMetadataFormats(self, identifier: str | None = None) -> list[tuple[str, str, str]]:
        if identifier is not None and not any(i.identifier == identifier for i in self.items):
            raise error.IdDoesNotExistError(f"No item has the identifier {identifier}.")
        return FORMATS

    def listSets(self, cursor: int = 0, batch_size: int = 10) -> list:
        raise error.NoSetHierarchyError("This repository does not support sets.")

    def getRecord(self, metadataPrefix: str, identifier: str):
        self._check_prefix(metadataPrefix)
        for item in self.items:
            if item.identifier == identifier:
                return item.header(), item.metadata(), None
        raise error.IdDoesNotExistError(f"No item has the identifier {identifier}.")

    def listIdentifiers(self, metadataPrefix: str, set: str | None = None, from_=None,
                        until=None, cursor: int = 0, batch_size: int = 10) -> list:  # fmt: skip
        return [
            i.header() for i in self._select(metadataPrefix, set, from_, until, cursor, batch_size)
        ]

    def listRecords(self, metadataPrefix: str, set: str | None = None, from_=None,
                    until=None, cursor: int = 0, batch_size: int = 10) -> list:  # fmt: skip
        chosen = self._select(metadataPrefix, set, from_, until, cursor, batch_size)
        return [(i.header(), i.metadata(), None) for i in chosen]

    def _select(self, prefix, set_spec, from_, until, cursor, batch_size) -> list[Item]:
        self._check_prefix(prefix)
        if set_spec is not None:
            raise error.NoSetHierarchyError("This repository does not support sets.")
        found = [
            i for i in self.items
            if (from_ is None or i.datestamp >= from_) and (until is None or i.datestamp <= until)
        ]  # fmt: skip
        return found[int(cursor) : int(cursor) + int(batch_size)]

    def _check_prefix(self, prefix: str) -> None:
        if prefix not in {f[0] for f in FORMATS}:
            raise error.CannotDisseminateFormatError(f"Unknown metadata format: {prefix}")


def _marc_writer(element: etree._Element, metadata: common.Metadata) -> None:
    element.append(copy.deepcopy(metadata.element()))


class ThirdPartyServer:
    """pyoai's BatchingServer as a WSGI app: real records, marc21 and oai_dc, batched pages."""

    def __init__(self, items: list[Item] | None = None, *, batch_size: int = 50) -> None:
        self.source = RecordSource(items if items is not None else read_items())
        registry = MetadataRegistry()
        registry.registerWriter("marc21", _marc_writer)
        registry.registerWriter("oai_dc", oai_dc_writer)
        self.server = BatchingServer(
            self.source, metadata_registry=registry, resumption_batch_size=batch_size
        )
        self.base_url = ""

    def start(self, endpoints: Any) -> str:
        """Serve on a free loopback port of ``endpoints`` (an EndpointServer); return the URL."""
        self.base_url = self.source.base_url = endpoints.start(self)
        return self.base_url

    def expected(self) -> dict[str, str]:
        """Return every record as identifier -> 'active' or 'deleted'."""
        return {i.identifier: "deleted" if i.deleted else "active" for i in self.source.items}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # pyoai answers OAI errors (and nothing else) itself, always as documents: HTTP 200.
        document = self.server.handleRequest(first_values(request_params(environ)))
        return respond(start_response, document)
