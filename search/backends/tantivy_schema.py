"""The tantivy index layout: schema, analysers, documents in, and the query tree translated.

CJK text is prepared in Python (search.analysis: folding and bigrams) and then split by a
word tokenizer that lowercases and folds accents, so index and query see the same tokens.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from hashlib import blake2b
from typing import Any

import orjson
import tantivy

from search import analysis
from search.documents import FACET_FIELDS, ClusterDoc
from search.query import And, MatchAll, Node, Not, Or, Phrase, SearchQuery, Term

TEXT_TOKENIZER = "federation_text"
# Indexes no term but keeps the raw value in the fast field: a sort key costs no postings.
FAST_ONLY_TOKENIZER = "federation_fast_only"

# Searchable text fields -> the ClusterDoc fields they are built from.
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title", "subtitle", "other_titles", "series"),
    "author": ("authors",),
    "subject": ("subjects",),
    "publisher": ("publisher", "place"),
}
FIELD_BOOSTS = {"title": 3.0, "author": 2.0, "subject": 1.5, "publisher": 1.0}
PHRASE_BOOST = 1000.0  # constant added to phrase matches in the title: they rank first
FACET_INDEX_FIELD = {name: f"f_{name}" for name in FACET_FIELDS if name != "year"}
YEAR = "year"
SAMPLE = "sample"  # crc32(cluster_id) % SAMPLE_BUCKETS: a uniform random sample of documents
SAMPLE_BUCKETS = 64
# Facets with tens of thousands of values are also written as integer keys (facet_key): a
# terms aggregation over integers needs no term-dictionary lookup per bucket, which cost
# ~1.5 ms a query on the subject facet even for a handful of hits (1M clusters).
KEYED_FACETS = {"subject": "k_subject"}


def text_analyzer() -> tantivy.TextAnalyzer:
    """Return the word analyser of every text field (after Python's CJK preparation)."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def register_tokenizers(index: tantivy.Index) -> None:
    """Register our analysers on an opened index (tantivy does not persist them)."""
    index.register_tokenizer(TEXT_TOKENIZER, text_analyzer())
    index.register_tokenizer(FAST_ONLY_TOKENIZER, _no_tokens())
    raw = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw()).build()
    index.register_fast_field_tokenizer(FAST_ONLY_TOKENIZER, raw)


def _no_tokens() -> tantivy.TextAnalyzer:
    """Return an analyser that drops every token (raw, then remove anything of length >= 1)."""
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw())
    return builder.filter(tantivy.Filter.remove_long(1)).build()


def build_schema() -> tantivy.Schema:
    """Return the schema of the cluster index."""
    sb = tantivy.SchemaBuilder()
    # Not stored: the stored document carries it (each stored field costs indexing time).
    sb.add_text_field("cluster_id", tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        sb.add_text_field(name, tokenizer_name=TEXT_TOKENIZER)
    for name in ("isbn", "clc"):
        sb.add_text_field(name, tokenizer_name="raw", index_option="basic")
    for name in FACET_INDEX_FIELD.values():
        sb.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    sb.add_integer_field(YEAR, indexed=True, fast=True)
    for name in KEYED_FACETS.values():
        sb.add_integer_field(name, indexed=False, fast=True)
    # A fast column, not postings: a range over it is read lazily inside an intersection.
    sb.add_integer_field(SAMPLE, indexed=False, fast=True)
    sb.add_text_field(
        "title_sort", tokenizer_name=FAST_ONLY_TOKENIZER, fast=True, index_option="basic"
    )
    # The stored document: orjson's UTF-8 bytes as they are (a text field would cost a
    # decode here and tantivy's JSON parser an unescape of every quote).
    sb.add_bytes_field("doc", stored=True, indexed=False)
    return sb.build()


_KEYED_SOURCES = [(field, FACET_FIELDS[facet]) for facet, field in KEYED_FACETS.items()]


@lru_cache(maxsize=100_000)
def facet_key(value: str) -> int:
    """Return the integer a keyed facet's value is counted under (53 bits: exact as a float)."""
    return int.from_bytes(blake2b(value.encode(), digest_size=8).digest(), "big") >> 11


_FACET_SOURCES = [(field, FACET_FIELDS[facet]) for facet, field in FACET_INDEX_FIELD.items()]


def _values(value: Any) -> list:
    """Return a document value as a list (None and "" as an empty one)."""
    if not value:
        return []
    return value if value.__class__ is list else [value]


def index_document(
    doc: ClusterDoc, schema: tantivy.Schema, stored: bytes | None = None
) -> tantivy.Document:
    """Return the tantivy document of one cluster document, ready for the writer."""
    # from_dict converts the values once, without a JSON text in between: add_json costs
    # a serialisation here and a parse under the GIL in tantivy (~10 µs per document).
    return tantivy.Document.from_dict(document_fields(doc, stored), schema)


def document_fields(doc: ClusterDoc, stored: bytes | None = None) -> dict[str, Any]:
    """Return the index fields of one cluster document (field name -> value or values).

    ``stored`` is the document already serialised by orjson (a parallel rebuild sends
    documents to its workers that way), kept as the stored document instead of a new dump.
    """
    # Written for speed (it runs once per document of a rebuild, on the one thread that
    # feeds tantivy): one dict, no helpers beyond the analysis caches; tantivy takes a
    # single value or a list for any field.
    get = doc.get
    cluster_id = doc["cluster_id"]
    title = get("title") or ""
    subtitle, others, series = get("subtitle"), get("other_titles"), get("series")
    if subtitle or others or series:
        title_text = analysis.join_for_index(
            [title] + _values(subtitle) + _values(others) + _values(series)
        )
    else:
        title_text = analysis.prepare_for_index(title)
    isbns, issns = get("isbns") or [], get("issns")
    fields: dict[str, Any] = {
        "cluster_id": cluster_id,
        "title": title_text,
        "author": analysis.join_cached(get("authors") or []),
        "subject": analysis.join_cached(get("subjects") or []),
        "publisher": _publisher_text(get("publisher"), get("place")),
        "isbn": analysis.index_isbns(isbns + _values(issns) if issns else _values(isbns)),
        "clc": [c.upper() for c in get("clc") or ()],
        "title_sort": (get("title_sort") or analysis.fold(title))[:64],
        SAMPLE: zlib.crc32(cluster_id.encode()) % SAMPLE_BUCKETS,
        "doc": stored if stored is not None else orjson.dumps(doc),
    }
    for field, name in _FACET_SOURCES:
        value = get(name)
        if value:  # tantivy refuses null; an absent field is what "no value" means
            fields[field] = value
    for field, name in _KEYED_SOURCES:
        values = _values(get(name))
        if values:
            fields[field] = [facet_key(v) for v in values]
    year = get("year")
    if year is not None:
        fields[YEAR] = int(year)
    return fields


@lru_cache(maxsize=20_000)
def _publisher_text(publisher: str | None, place: str | None) -> str:
    """Return the publisher field's text (publisher and place repeat across documents)."""
    return analysis.join_cached(_values(publisher) + _values(place))


class QueryBuilder:
    """Translate the query tree, filters and ranges of a SearchQuery into tantivy queries."""

    def __init__(self, schema: tantivy.Schema) -> None:
        self.schema = schema
        self.analyzer = text_analyzer()

    def tokens(self, text: str) -> list[str]:
        return self.analyzer.analyze(analysis.prepare_for_query(text))

    def text_query(self, node: Node) -> tantivy.Query:
        """Return the scored part of the query (the reader's text)."""
        query = self.node(node) or tantivy.Query.all_query()
        boost = self.whole_phrase_boost(node)
        if boost is None:
            return query
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, query), (tantivy.Occur.Should, boost)]
        )

    def whole_phrase_boost(self, node: Node) -> tantivy.Query | None:
        """Rank titles holding the reader's unfielded words as one phrase first."""
        words = _plain_words(node)
        tokens = self.tokens(" ".join(words)) if words and len(words) > 1 else []
        if len(tokens) < 2:
            return None
        phrase = tantivy.Query.phrase_query(self.schema, "title", tokens)
        return tantivy.Query.const_score_query(phrase, PHRASE_BOOST)

    def node(self, node: Node) -> tantivy.Query | None:
        if isinstance(node, MatchAll):
            return tantivy.Query.all_query()
        if isinstance(node, Term | Phrase):
            return self.leaf(node)
        if isinstance(node, Or):
            parts = [q for q in map(self.node, node.children) if q is not None]
            return _bool([(tantivy.Occur.Should, q) for q in parts])
        if isinstance(node, Not):
            child = self.node(node.child)
            if child is None:
                return None
            return _bool(
                [(tantivy.Occur.Must, tantivy.Query.all_query()), (tantivy.Occur.MustNot, child)]
            )
        return self.conjunction(node)

    def conjunction(self, node: And) -> tantivy.Query | None:
        clauses = []
        for child in node.children:
            if isinstance(child, Not):
                q = self.node(child.child)
                clauses += [(tantivy.Occur.MustNot, q)] if q is not None else []
            else:
                q = self.node(child)
                clauses += [(tantivy.Occur.Must, q)] if q is not None else []
        if clauses and all(occ == tantivy.Occur.MustNot for occ, _ in clauses):
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        return _bool(clauses)

    def leaf(self, node: Term | Phrase) -> tantivy.Query | None:
        if node.field == "isbn":
            forms = analysis.isbn_forms(node.text) or [re.sub(r"[\s-]", "", node.text).upper()]
            return tantivy.Query.term_set_query(self.schema, "isbn", forms)
        if node.field == "class":
            prefix = re.escape(analysis.normalise(node.text).strip().upper())
            return tantivy.Query.regex_query(self.schema, "clc", prefix + ".*") if prefix else None
        tokens = self.tokens(node.text)
        if not tokens:
            return None
        fields = [node.field] if node.field else list(TEXT_FIELDS)
        clauses = [(tantivy.Occur.Should, self.in_field(f, tokens, node)) for f in fields]
        if len(tokens) > 1:
            phrase = tantivy.Query.phrase_query(self.schema, "title", tokens)
            clauses.append(
                (tantivy.Occur.Should, tantivy.Query.const_score_query(phrase, PHRASE_BOOST))
            )
        forms = analysis.isbn_forms(node.text) if node.field is None else []
        if forms:
            clauses.append(
                (tantivy.Occur.Should, tantivy.Query.term_set_query(self.schema, "isbn", forms))
            )
        return _bool(clauses)

    def in_field(self, field: str, tokens: list[str], node: Term | Phrase) -> tantivy.Query:
        if isinstance(node, Phrase) and len(tokens) > 1:
            query = tantivy.Query.phrase_query(self.schema, field, tokens)
        else:
            parts = [self.token_query(field, t) for t in tokens]
            query = parts[0] if len(parts) == 1 else _bool([(tantivy.Occur.Must, p) for p in parts])
        return tantivy.Query.boost_query(query, FIELD_BOOSTS[field])

    def token_query(self, field: str, token: str) -> tantivy.Query:
        if analysis.is_single_cjk(token):
            # Every character starts a bigram or is a run's trailing unigram in the index.
            return tantivy.Query.regex_query(self.schema, field, token + ".?")
        return tantivy.Query.term_query(self.schema, field, token)

    def filters(
        self, filters: Mapping[str, Iterable[str]], query: SearchQuery
    ) -> list[tantivy.Query]:
        """Return the filter clauses: facet selections (OR within a facet) and the year range."""
        # A term set query reads every posting of its values into a bit set up front (a few
        # ms for a value half the index holds); term queries are read lazily, skipping to
        # the documents the reader's words match. So: lazy when words drive the query, a
        # bit set only when the filters alone choose the documents.
        lazy = not isinstance(query.ast, MatchAll)
        out = []
        for facet, values in filters.items():
            field = FACET_INDEX_FIELD.get(facet, YEAR)
            typed = [int(v) for v in values] if facet == "year" else list(values)
            out.append(self.one_of(field, typed, lazy))
        if query.year_from is not None or query.year_to is not None:
            out.append(
                tantivy.Query.range_query(
                    self.schema, YEAR, tantivy.FieldType.Integer, query.year_from, query.year_to
                )
            )
        return out

    def one_of(self, field: str, values: list, lazy: bool) -> tantivy.Query:
        """Match documents holding any of ``values`` in ``field``, every one scored alike."""
        if len(values) == 1 or lazy:
            terms = [tantivy.Query.term_query(self.schema, field, v) for v in values]
            union = _bool([(tantivy.Occur.Should, t) for t in terms])
            return tantivy.Query.const_score_query(union, 1.0)
        return tantivy.Query.term_set_query(self.schema, field, values)

    def combine(self, text: tantivy.Query, filters: list[tantivy.Query]) -> tantivy.Query:
        """Return text AND every filter (filters add the same score to every hit)."""
        if not filters:
            return text
        return _bool([(tantivy.Occur.Must, text)] + [(tantivy.Occur.Must, f) for f in filters])


def _bool(clauses: list[tuple[tantivy.Occur, tantivy.Query]]) -> tantivy.Query | None:
    if not clauses:
        return None
    if len(clauses) == 1 and clauses[0][0] != tantivy.Occur.MustNot:
        return clauses[0][1]
    return tantivy.Query.boolean_query(clauses)


def _plain_words(node: Node) -> list[str] | None:
    """Return the words of a query made only of unfielded terms joined by AND, else None."""
    if isinstance(node, Term) and node.field is None:
        return [node.text]
    if isinstance(node, And) and all(
        isinstance(c, Term) and c.field is None for c in node.children
    ):
        return [c.text for c in node.children]  # type: ignore[union-attr]
    return None
