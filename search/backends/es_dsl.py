"""The Elasticsearch side of the index contract: mapping, documents and the query DSL.

Elasticsearch splits CJK text into bigrams itself (standard tokenizer + ``cjk_width`` +
``cjk_bigram``); Python folds traditional characters to simplified first (Elasticsearch has no
built-in filter for it), so both backends match the same documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from search import analysis
from search.documents import FACET_FIELDS, ClusterDoc
from search.query import (
    And,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    SearchQuery,
    Term,
    facet_filters_except,
)

PHRASE_BOOST = 1000.0
FIELD_BOOSTS = {"title": 3.0, "author": 2.0, "subject": 1.5, "publisher": 1.0}
SEARCH_FIELDS = {f: f"s_{f}" for f in FIELD_BOOSTS}  # query field -> indexed text field
SORT_KEY = "s_sort"

_TEXT = {
    "type": "text",
    "analyzer": "federation_cjk",
    "fields": {"uni": {"type": "text", "analyzer": "federation_unigram"}},
}
_KEYWORD = {"type": "keyword"}


def index_settings(replicas: int, building: bool = False) -> dict[str, Any]:
    """Return the index settings: CJK analysers, and no refresh while a rebuild writes."""
    analyzers = {
        "federation_cjk": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["cjk_width", "lowercase", "asciifolding", "cjk_bigram"],
        },
        "federation_unigram": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["cjk_width", "lowercase", "asciifolding"],
        },
    }
    return {
        "number_of_shards": 1,
        "number_of_replicas": 0 if building else replicas,
        "refresh_interval": "-1" if building else "1s",
        "analysis": {"analyzer": analyzers},
    }


def mappings() -> dict[str, Any]:
    """Return the explicit mapping; fields not listed stay in _source unindexed."""
    properties: dict[str, Any] = {name: _TEXT for name in SEARCH_FIELDS.values()}
    for name in ("cluster_id", "work_id", "isbns", "clc", SORT_KEY, *FACET_FIELDS.values()):
        properties[name] = _KEYWORD
    properties.update(
        year={"type": "short"},
        holding_count={"type": "integer"},
        available_count={"type": "integer"},
        holdings={"type": "object", "enabled": False},
    )
    return {
        "dynamic": False,
        "_source": {"excludes": ["s_*"]},
        "properties": properties,
    }


def _values(doc: Mapping[str, Any], name: str) -> list[str]:
    value = doc.get(name)
    if not value:
        return []
    return [v for v in value if v] if isinstance(value, list) else [value]


def es_document(doc: ClusterDoc) -> dict[str, Any]:
    """Return the _source sent for one cluster: the document plus folded search fields."""
    body: dict[str, Any] = dict(doc)
    sources = {
        "title": ("title", "subtitle", "other_titles", "series"),
        "author": ("authors",),
        "subject": ("subjects",),
        "publisher": ("publisher", "place"),
    }
    for name, fields in sources.items():
        body[SEARCH_FIELDS[name]] = [analysis.normalise(v) for f in fields for v in _values(doc, f)]
    body["isbns"] = analysis.index_isbns(_values(doc, "isbns") + _values(doc, "issns"))
    body["clc"] = [c.upper() for c in _values(doc, "clc")]
    body[SORT_KEY] = (doc.get("title_sort") or analysis.fold(doc.get("title") or ""))[:64]
    return body


# --- queries ----------------------------------------------------------------------------


def _field_match(field: str, text: str, phrase: bool) -> dict[str, Any]:
    name, boost = SEARCH_FIELDS[field], FIELD_BOOSTS[field]
    if analysis.is_single_cjk(text):
        return {"match": {f"{name}.uni": {"query": text, "boost": boost}}}
    if phrase:
        return {"match_phrase": {name: {"query": text, "boost": boost}}}
    return {"match": {name: {"query": text, "operator": "and", "boost": boost}}}


def _phrase_boost(text: str) -> dict[str, Any]:
    phrase = {"match_phrase": {SEARCH_FIELDS["title"]: text}}
    return {"constant_score": {"filter": phrase, "boost": PHRASE_BOOST}}


def leaf(node: Term | Phrase) -> dict[str, Any] | None:
    """Translate one term or phrase; None when it holds nothing searchable."""
    if node.field == "isbn":
        forms = analysis.isbn_forms(node.text) or [node.text.replace("-", "").strip().upper()]
        return {"terms": {"isbns": forms}}
    if node.field == "class":
        prefix = analysis.normalise(node.text).strip().upper()
        return {"prefix": {"clc": prefix}} if prefix else None
    text = analysis.collapse_cjk_spaces(analysis.normalise(node.text)).strip()
    tokens = analysis.token_count(text)
    if not tokens:
        return None
    fields = [node.field] if node.field else list(SEARCH_FIELDS)
    should = [_field_match(f, text, isinstance(node, Phrase)) for f in fields]
    if tokens > 1:
        should.append(_phrase_boost(text))
    forms = analysis.isbn_forms(node.text) if node.field is None else []
    if forms:
        should.append({"terms": {"isbns": forms}})
    return should[0] if len(should) == 1 else {"bool": {"should": should}}


def node_dsl(node: Node) -> dict[str, Any] | None:
    """Translate the query tree into the query DSL."""
    if isinstance(node, MatchAll):
        return {"match_all": {}}
    if isinstance(node, Term | Phrase):
        return leaf(node)
    if isinstance(node, Or):
        parts = [q for q in map(node_dsl, node.children) if q is not None]
        return None if not parts else parts[0] if len(parts) == 1 else {"bool": {"should": parts}}
    if isinstance(node, Not):
        child = node_dsl(node.child)
        return (
            None if child is None else {"bool": {"must": [{"match_all": {}}], "must_not": [child]}}
        )
    must, must_not = [], []
    for child in node.children:
        target, inner = (must_not, child.child) if isinstance(child, Not) else (must, child)
        q = node_dsl(inner)
        if q is not None:
            target.append(q)
    if not must and not must_not:
        return None
    if not must_not and len(must) == 1:
        return must[0]
    return {"bool": {"must": must or [{"match_all": {}}], "must_not": must_not}}


def text_dsl(node: Node) -> dict[str, Any]:
    """Return the scored query, with the whole-query phrase boost of tantivy's backend."""
    query = node_dsl(node) or {"match_all": {}}
    words = _plain_words(node)
    text = analysis.collapse_cjk_spaces(analysis.normalise(" ".join(words or [])))
    if not words or len(words) < 2 or analysis.token_count(text) < 2:
        return query
    return {"bool": {"must": [query], "should": [_phrase_boost(text)]}}


def _plain_words(node: Node) -> list[str] | None:
    if isinstance(node, Term) and node.field is None:
        return [node.text]
    if isinstance(node, And) and all(
        isinstance(c, Term) and c.field is None for c in node.children
    ):
        return [c.text for c in node.children]  # type: ignore[union-attr]
    return None


def facet_filters(filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return one terms filter per facet (OR within a facet, AND across facets)."""
    out = []
    for facet, values in sorted(filters.items()):
        if facet == "year":
            out.append({"terms": {"year": [int(v) for v in values]}})
        else:
            out.append({"terms": {FACET_FIELDS[facet]: list(values)}})
    return out


def search_body(query: SearchQuery) -> dict[str, Any]:
    """Return the whole _search body: query, post_filter, multi-select aggregations, sort."""
    bool_query: dict[str, Any] = {"must": [text_dsl(query.ast)]}
    if query.year_from is not None or query.year_to is not None:
        bounds = {"gte": query.year_from, "lte": query.year_to}
        bool_query["filter"] = [
            {"range": {"year": {k: v for k, v in bounds.items() if v is not None}}}
        ]
    body: dict[str, Any] = {
        "query": {"bool": bool_query},
        "from": query.offset,
        "size": query.page_size,
        "track_total_hits": True,
    }
    if query.filters:
        body["post_filter"] = {"bool": {"filter": facet_filters(query.filters)}}
    if query.facets:
        body["aggs"] = {facet: _facet_agg(query, facet) for facet in query.facets}
    sort = {
        "year_desc": [{"year": {"order": "desc", "missing": "_last"}}],
        "year_asc": [{"year": {"order": "asc", "missing": "_last"}}],
        "title": [{SORT_KEY: {"order": "asc"}}],
    }.get(query.sort)
    if sort:
        body["sort"] = sort + [{"cluster_id": {"order": "asc"}}]
    return body


def _facet_agg(query: SearchQuery, facet: str) -> dict[str, Any]:
    size = query.facet_size + len(query.filters.get(facet, ()))
    field = FACET_FIELDS[facet]
    return {
        "filter": {"bool": {"filter": facet_filters(facet_filters_except(query, facet))}},
        "aggs": {"values": {"terms": {"field": field, "size": size}}},
    }
