"""For other library systems: SRU 2.0 searchRetrieve (CQL; Dublin Core or MARCXML records)
and the OpenSearch description document of the reader search.

SRU reports problems as diagnostics inside a normal answer (HTTP 200), as the standard asks;
a search engine failure is the one exception (503, so a client retries).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app, request, url_for
from lxml import etree

from search.interfaces import SearchBackendError
from search.query import MAX_PAGE_SIZE, MAX_RESULT_WINDOW, MatchAll, Node, SearchQuery
from web.cql import INDEXES, CQLError, parse_cql
from web.identity import public
from web.ratelimit import limit_blueprint
from web.records_xml import dublin_core, marcxml, xml_text

bp = Blueprint("sru", __name__)
limit_blueprint(bp, "sru")

SRU_NS = "http://docs.oasis-open.org/ns/search-ws/sruResponse"
DIAG_NS = "http://docs.oasis-open.org/ns/search-ws/diagnostic"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
ZEEREX_NS = "http://explain.z3950.org/dtd/2.0/"
SRU_MIME = "application/sru+xml; charset=utf-8"
DEFAULT_RECORDS = 10

# recordSchema names a client may send -> (our schema, the URI we answer with)
SCHEMAS: dict[str, tuple[str, str]] = {
    "dc": ("dc", "info:srw/schema/1/dc-v1.1"),
    "oai_dc": ("dc", "info:srw/schema/1/dc-v1.1"),
    "info:srw/schema/1/dc-v1.1": ("dc", "info:srw/schema/1/dc-v1.1"),
    "marcxml": ("marcxml", "info:srw/schema/1/marcxml-v1.1"),
    "marc21": ("marcxml", "info:srw/schema/1/marcxml-v1.1"),
    "info:srw/schema/1/marcxml-v1.1": ("marcxml", "info:srw/schema/1/marcxml-v1.1"),
}


class Diagnostic(Exception):
    """A fatal SRU diagnostic: the request is answered with it and no records."""

    def __init__(self, number: int, message: str, details: str = "") -> None:
        super().__init__(message)
        self.uri = f"info:srw/diagnostic/1/{number}"
        self.message = message
        self.details = details


@dataclass(frozen=True)
class TreeQuery(SearchQuery):
    """A search given as a query tree (from CQL) and a record offset rather than a page."""

    tree: Node = field(default_factory=MatchAll)
    start: int = 0

    @property
    def ast(self) -> Node:  # type: ignore[override]
        return self.tree

    @property
    def offset(self) -> int:
        return self.start


@dataclass(frozen=True)
class _Request:
    tree: Node
    start: int  # 1-based, as SRU counts
    maximum: int
    schema: str
    schema_uri: str


def _sru(tag: str) -> str:
    return f"{{{SRU_NS}}}{tag}"


def _whole(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isdecimal() and raw.isascii()) or not low <= int(raw) <= high:
        raise Diagnostic(6, "Unsupported parameter value", f"{name} must be from {low} to {high}")
    return int(raw)


def read_request() -> _Request:
    """Read the searchRetrieve parameters; raise Diagnostic for what cannot be answered."""
    args = request.args
    operation = args.get("operation", "searchRetrieve")
    if operation != "searchRetrieve":  # SRU 2.0 has no scan here, and no other operation
        raise Diagnostic(4, "Unsupported operation", operation[:100])
    version = args.get("version", "2.0")
    if version not in ("1.1", "1.2", "2.0"):
        raise Diagnostic(5, "Unsupported version", "2.0")
    if args.get("recordXMLEscaping", "xml") != "xml":
        raise Diagnostic(71, "Unsupported record packing", "xml")
    name = args.get("recordSchema", "dc")
    if name not in SCHEMAS:
        raise Diagnostic(66, "Unknown schema for retrieval", name[:200])
    start = _whole("startRecord", 1, 1, MAX_RESULT_WINDOW)
    maximum = _whole("maximumRecords", DEFAULT_RECORDS, 0, MAX_PAGE_SIZE)
    if start - 1 + maximum > MAX_RESULT_WINDOW:
        raise Diagnostic(61, "First record position out of range", str(MAX_RESULT_WINDOW))
    try:
        tree = parse_cql(args.get("query", ""))
    except CQLError as exc:
        raise Diagnostic(int(exc.uri.rsplit("/", 1)[1]), exc.message, exc.details) from exc
    return _Request(tree, start, maximum, *SCHEMAS[name])


@bp.get("/sru")
@public
def search_retrieve():
    """Answer an SRU 2.0 searchRetrieve request (explain when asked, or asked nothing)."""
    operation = request.args.get("operation")
    if operation == "explain" or (operation is None and "query" not in request.args):
        return _xml(_explain_response())
    try:
        wanted = read_request()
    except Diagnostic as exc:
        return _xml(_diagnostic_response(exc))
    query = TreeQuery(tree=wanted.tree, start=wanted.start - 1, page_size=max(1, wanted.maximum))
    try:
        result = current_app.extensions["federation.search"].search(query)
    except SearchBackendError as exc:
        current_app.logger.warning("search backend failed: %s", exc)
        return _xml(_diagnostic_response(Diagnostic(1, "General system error", "try later")), 503)
    docs = [hit.doc for hit in result.hits][: wanted.maximum]
    return _xml(_search_response(wanted, result.total, docs))


def _search_response(wanted: _Request, total: int, docs: list) -> etree._Element:
    root = etree.Element(_sru("searchRetrieveResponse"), nsmap={"sru": SRU_NS})
    etree.SubElement(root, _sru("version")).text = "2.0"
    etree.SubElement(root, _sru("numberOfRecords")).text = str(total)
    if docs:
        records = etree.SubElement(root, _sru("records"))
        for position, doc in enumerate(docs, start=wanted.start):
            records.append(_record(wanted, doc, position))
    following = wanted.start + len(docs)
    if docs and following <= min(total, MAX_RESULT_WINDOW):
        etree.SubElement(root, _sru("nextRecordPosition")).text = str(following)
    return root


def _record(wanted: _Request, doc: dict, position: int) -> etree._Element:
    record = etree.Element(_sru("record"))
    etree.SubElement(record, _sru("recordSchema")).text = wanted.schema_uri
    etree.SubElement(record, _sru("recordXMLEscaping")).text = "xml"
    data = etree.SubElement(record, _sru("recordData"))
    if wanted.schema == "marcxml":
        data.append(marcxml(doc))
    else:
        url = url_for("api.record", cluster_id=doc.get("cluster_id", ""), _external=True)
        data.append(dublin_core(doc, url))
    etree.SubElement(record, _sru("recordPosition")).text = str(position)
    return record


def _diagnostic_response(exc: Diagnostic) -> etree._Element:
    root = etree.Element(_sru("searchRetrieveResponse"), nsmap={"sru": SRU_NS, "diag": DIAG_NS})
    etree.SubElement(root, _sru("version")).text = "2.0"
    etree.SubElement(root, _sru("numberOfRecords")).text = "0"
    diagnostics = etree.SubElement(root, _sru("diagnostics"))
    diagnostic = etree.SubElement(diagnostics, f"{{{DIAG_NS}}}diagnostic")
    etree.SubElement(diagnostic, f"{{{DIAG_NS}}}uri").text = exc.uri
    if exc.details:
        etree.SubElement(diagnostic, f"{{{DIAG_NS}}}details").text = xml_text(exc.details)
    etree.SubElement(diagnostic, f"{{{DIAG_NS}}}message").text = exc.message
    return root


def _xml(root: etree._Element, status: int = 200, mimetype: str = SRU_MIME) -> Response:
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return Response(body, status=status, content_type=mimetype)


def _explain_response() -> etree._Element:
    """Describe the server in ZeeRex: host, indexes, record schemas, record counts."""
    root = etree.Element(_sru("explainResponse"), nsmap={"sru": SRU_NS})
    etree.SubElement(root, _sru("version")).text = "2.0"
    record = etree.SubElement(root, _sru("record"))
    etree.SubElement(record, _sru("recordSchema")).text = "http://explain.z3950.org/dtd/2.0/"
    etree.SubElement(record, _sru("recordXMLEscaping")).text = "xml"
    data = etree.SubElement(record, _sru("recordData"))
    explain = etree.SubElement(data, _zr("explain"), nsmap={"zr": ZEEREX_NS})
    server = etree.SubElement(explain, _zr("serverInfo"), protocol="SRU", version="2.0")
    etree.SubElement(server, _zr("host")).text = request.host.rsplit(":", 1)[0]
    etree.SubElement(server, _zr("port")).text = str(request.environ.get("SERVER_PORT", "80"))
    etree.SubElement(server, _zr("database")).text = "sru"
    indexes = etree.SubElement(explain, _zr("indexInfo"))
    for name in INDEXES:
        index = etree.SubElement(indexes, _zr("index"))
        etree.SubElement(etree.SubElement(index, _zr("map")), _zr("name")).text = name
    schemas = etree.SubElement(explain, _zr("schemaInfo"))
    for short, (_ours, uri) in SCHEMAS.items():
        if not short.startswith("info:"):
            etree.SubElement(schemas, _zr("schema"), identifier=uri, name=short)
    config = etree.SubElement(explain, _zr("configInfo"))
    etree.SubElement(config, _zr("default"), type="numberOfRecords").text = str(DEFAULT_RECORDS)
    etree.SubElement(config, _zr("setting"), type="maximumRecords").text = str(MAX_PAGE_SIZE)
    return root


def _zr(tag: str) -> str:
    return f"{{{ZEEREX_NS}}}{tag}"


@bp.get("/opensearch.xml")
@public
def opensearch():
    """Describe the reader search for browsers and other systems (OpenSearch 1.1)."""
    alliance = current_app.extensions["federation.alliance"]
    root = etree.Element(f"{{{OPENSEARCH_NS}}}OpenSearchDescription", nsmap={None: OPENSEARCH_NS})

    def put(tag: str, text: str | None = None, **attrib: str) -> None:
        element = etree.SubElement(root, f"{{{OPENSEARCH_NS}}}{tag}", attrib)
        if text is not None:
            element.text = xml_text(text)

    put("ShortName", alliance.name_zh[:16])
    put("Description", f"{alliance.name_en}: search every member library at once")
    put("InputEncoding", "UTF-8")
    base = request.url_root.rstrip("/")
    put("Url", type="text/html", template=base + "/search?q={searchTerms}")
    api = base + "/api/v1/search?q={searchTerms}&page={startPage?}"
    put("Url", type="application/json", template=api)
    put("Language", "zh-CN")
    put("Language", "en")
    return _xml(root, mimetype="application/opensearchdescription+xml; charset=utf-8")
