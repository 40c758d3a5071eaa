"""The query model every backend answers, and the parser of the reader's query string.

The parser never fails: unbalanced quotes or parentheses and lone operators are read as
plain text, so whatever a reader types gives a search. Both backends translate the same tree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Union

from search.documents import FACET_FIELDS, ClusterDoc

SORTS = ("relevance", "year_desc", "year_asc", "title")
MAX_PAGE_SIZE = 100
MAX_RESULT_WINDOW = 10_000  # Elasticsearch's default index.max_result_window
MAX_QUERY_CHARS = 1_000
MAX_CLAUSES = 64
MAX_DEPTH = 8

# Field prefixes a reader may type, in English and Chinese -> canonical field.
FIELD_ALIASES: dict[str, str] = {
    "title": "title",
    "ti": "title",
    "题名": "title",
    "书名": "title",
    "author": "author",
    "au": "author",
    "作者": "author",
    "著者": "author",
    "责任者": "author",
    "subject": "subject",
    "su": "subject",
    "主题": "subject",
    "主题词": "subject",
    "isbn": "isbn",
    "publisher": "publisher",
    "pb": "publisher",
    "出版社": "publisher",
    "出版者": "publisher",
    "class": "class",
    "clc": "class",
    "分类": "class",
    "分类号": "class",
    "中图分类号": "class",
}
FIELDS = ("title", "author", "subject", "isbn", "publisher", "class")


class QueryError(ValueError):
    """A search request cannot be answered; the message says what to change."""


# --- the tree ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class Phrase:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class MatchAll:
    pass


Node = Union[Term, Phrase, And, Or, Not, MatchAll]  # noqa: UP007 (used at runtime)


def positive_texts(node: Node) -> list[str]:
    """Return the texts of the terms and phrases a hit matches (for highlighting)."""
    if isinstance(node, Term | Phrase):
        return [node.text] if node.field not in ("isbn", "class") else []
    if isinstance(node, And | Or):
        return [t for child in node.children for t in positive_texts(child)]
    return []


# --- the parser -------------------------------------------------------------------------

_QUOTES = str.maketrans({c: '"' for c in "“”„‟「」『』＂〝〞"})
_TOKEN = re.compile(r'\s*(?:(?P<paren>[()])|(?P<quote>"[^"]*"?)|(?P<word>[^\s()"]+))')
_FIELDED = re.compile(r"^(?P<field>[^:\s]+):(?P<rest>.*)$", re.S)


@dataclass
class _Tok:
    kind: str  # "(", ")", "AND", "OR", "NOT", "term", "phrase"
    text: str = ""
    field: str | None = None
    negated: bool = False


def _split_field(word: str) -> tuple[str | None, str]:
    match = _FIELDED.match(word)
    if match:
        name = FIELD_ALIASES.get(match["field"].lower())
        if name:
            return name, match["rest"]
    return None, word


def _lex(text: str) -> list[_Tok]:
    """Split the query into tokens; a quote that is never closed is read as text."""
    text = unicodedata.normalize("NFKC", text[:MAX_QUERY_CHARS]).translate(_QUOTES)
    tokens: list[_Tok] = []
    pending_field: str | None = None
    for match in _TOKEN.finditer(text):
        if match["paren"]:
            tokens.append(_Tok(match["paren"]))
        elif match["quote"]:
            body = match["quote"].strip('"')
            closed = len(match["quote"]) > 1 and match["quote"].endswith('"')
            kind = "phrase" if closed else "term"
            for part in [body] if closed else body.split():
                if part.strip():
                    tokens.append(_Tok(kind, part.strip(), pending_field))
        else:
            tokens.extend(_word_tokens(match["word"], pending_field))
        pending_field = None
        if tokens and tokens[-1].kind == "field":
            pending_field = tokens.pop().field
    return tokens


def _word_tokens(word: str, pending_field: str | None) -> list[_Tok]:
    if word in ("AND", "OR", "NOT", "&&", "||"):
        return [_Tok({"&&": "AND", "||": "OR"}.get(word, word), word)]
    negated = word.startswith("-") and len(word) > 1
    if negated or (word.startswith("+") and len(word) > 1):
        word = word[1:]
    name, rest = _split_field(word)
    if name and not rest:
        return [_Tok("field", field=name)]  # "title:" followed by a quote or a word
    return [_Tok("term", rest if name else word, name or pending_field, negated)]


class _Parser:
    """Recursive descent over tokens: or := and (OR and)*; and := unary+; unary := NOT? atom."""

    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.clauses = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def parse(self) -> Node:
        nodes: list[Node] = []
        while self.peek() is not None:
            node = self.parse_or(0)
            if node is not None:
                nodes.append(node)
            elif self.peek() is not None:
                self.pos += 1  # a stray ")" : skip it
        return _combine(And, nodes) or MatchAll()

    def parse_or(self, depth: int) -> Node | None:
        nodes = [n for n in [self.parse_and(depth)] if n is not None]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.pos += 1
            right = self.parse_and(depth)
            nodes.append(right if right is not None else Term(tok.text))
        return _combine(Or, nodes)

    def parse_and(self, depth: int) -> Node | None:
        nodes: list[Node] = []
        while (tok := self.peek()) is not None and tok.kind not in (")", "OR"):
            if tok.kind == "AND":
                self.pos += 1
                if not nodes:
                    nodes.append(Term(tok.text))
                continue
            node = self.parse_unary(depth)
            if node is not None:
                nodes.append(node)
        return _combine(And, nodes)

    def parse_unary(self, depth: int) -> Node | None:
        tok = self.tokens[self.pos]
        if tok.kind == "NOT":
            self.pos += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in (")", "OR", "AND", "NOT"):
                return Term(tok.text)
            child = self.parse_unary(depth)
            return Not(child) if child is not None else Term(tok.text)
        return self.parse_atom(depth)

    def parse_atom(self, depth: int) -> Node | None:
        tok = self.tokens[self.pos]
        self.pos += 1
        if tok.kind == "(":
            node = self.parse_or(depth + 1) if depth < MAX_DEPTH else None
            if (nxt := self.peek()) is not None and nxt.kind == ")":
                self.pos += 1
            return node
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            return None
        node: Node = (Phrase if tok.kind == "phrase" else Term)(tok.text, tok.field)
        return Not(node) if tok.negated else node


def _combine(kind: type[And] | type[Or], nodes: list[Node]) -> Node | None:
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else kind(tuple(nodes))


def parse_query(text: str) -> Node:
    """Parse the reader's query string into a tree; never raises."""
    return _Parser(_lex(text or "")).parse()


# --- requests and answers ---------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    year_from: int | None = None
    year_to: int | None = None
    facets: Sequence[str] = ()
    sort: str = "relevance"
    page: int = 1
    page_size: int = 20
    highlight: bool = False
    facet_size: int = 20

    def __post_init__(self) -> None:
        _check_query(self)
        # Normalise containers so the query is hashable-ish and safe to share.
        object.__setattr__(
            self, "filters", {k: tuple(str(v) for v in vs) for k, vs in self.filters.items() if vs}
        )
        object.__setattr__(self, "facets", tuple(self.facets))

    @cached_property
    def ast(self) -> Node:
        """Return the parsed query string."""
        return parse_query(self.text)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def _check_query(q: SearchQuery) -> None:
    """Raise QueryError naming what to fix in a search request."""
    known = ", ".join(FACET_FIELDS)
    if q.sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, got {q.sort!r}")
    if not isinstance(q.page, int) or q.page < 1:
        raise QueryError(f"page must be a whole number from 1, got {q.page!r}")
    if not isinstance(q.page_size, int) or not 1 <= q.page_size <= MAX_PAGE_SIZE:
        raise QueryError(f"page_size must be from 1 to {MAX_PAGE_SIZE}, got {q.page_size!r}")
    if q.page * q.page_size > MAX_RESULT_WINDOW:
        raise QueryError(f"only the first {MAX_RESULT_WINDOW} results can be paged through")
    for name in list(q.facets) + list(q.filters):
        if name not in FACET_FIELDS:
            raise QueryError(f"unknown facet {name!r}; known facets: {known}")
    for value in q.filters.get("year", ()):
        if not str(value).lstrip("-").isdecimal() or not str(value).isascii():
            raise QueryError(f"year filter values must be years, got {value!r}")
    for name in ("year_from", "year_to"):
        value = getattr(q, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise QueryError(f"{name} must be a year, got {value!r}")
    if not 1 <= q.facet_size <= 200:
        raise QueryError(f"facet_size must be from 1 to 200, got {q.facet_size!r}")


@dataclass
class Hit:
    cluster_id: str
    score: float | None
    doc: ClusterDoc
    highlights: dict[str, str] = field(default_factory=dict)


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]
    took_ms: float
    # True when facet counts of a very broad query were estimated from a sample of its hits.
    facets_approximate: bool = False


def facet_filters_except(query: SearchQuery, facet: str | None) -> dict[str, tuple[str, ...]]:
    """Return the query's facet filters without those on ``facet`` (multi-select counts)."""
    return {k: tuple(v) for k, v in query.filters.items() if k != facet}


def order_buckets(
    counts: Mapping[Any, int], selected: Sequence[str], size: int
) -> list[tuple[str, int]]:
    """Return the top buckets by count (then value), keeping the reader's selections listed."""
    items = sorted(((str(k), int(c)) for k, c in counts.items() if c > 0), key=_bucket_key)
    top = items[:size]
    shown = {k for k, _ in top}
    top += [(k, int(counts.get(k, counts.get(_as_int(k), 0)))) for k in selected if k not in shown]
    return top


def _bucket_key(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])


def _as_int(value: str) -> int | str:
    return int(value) if value.lstrip("-").isdecimal() and value.isascii() else value


HIGHLIGHT_FIELDS = ("title", "subtitle", "authors", "publisher")


def highlight_doc(doc: ClusterDoc, needles: list[str]) -> dict[str, str]:
    """Return the highlighted display fields of one hit (HTML, <mark> around matches)."""
    from search.analysis import highlight

    out: dict[str, str] = {}
    for name in HIGHLIGHT_FIELDS:
        value = doc.get(name)
        text = "; ".join(value) if isinstance(value, list) else value
        marked = highlight(text or "", needles)
        if marked:
            out[name] = marked
    return out
