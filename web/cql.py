"""A small CQL (Contextual Query Language, SRU's query language) parser onto the query model.

Supported: ``index relation term`` with relations ``=``, ``==``, ``any``, ``all``, ``adj``,
``exact``; bare terms (any index); quoted terms with backslash escapes; ``and``, ``or``,
``not`` (left to right, same precedence, as CQL says) and parentheses; ``cql.allRecords = 1``.
Indexes: title, author, subject, isbn, publisher, anywhere and their dc.*, bath.*, cql.*
spellings. Anything else raises CQLError carrying the SRU diagnostic to answer with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from search.query import (
    MAX_CLAUSES,
    MAX_DEPTH,
    MAX_QUERY_CHARS,
    And,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    Term,
)

# CQL index -> query model field (None: every text field).
INDEXES: dict[str, str | None] = {
    "title": "title",
    "dc.title": "title",
    "bath.title": "title",
    "author": "author",
    "creator": "author",
    "dc.creator": "author",
    "dc.contributor": "author",
    "bath.author": "author",
    "bath.name": "author",
    "subject": "subject",
    "dc.subject": "subject",
    "bath.subject": "subject",
    "isbn": "isbn",
    "bath.isbn": "isbn",
    "dc.identifier": "isbn",
    "publisher": "publisher",
    "dc.publisher": "publisher",
    "anywhere": None,
    "cql.anywhere": None,
    "serverchoice": None,
    "cql.serverchoice": None,
    "keywords": None,
    "cql.keywords": None,
}
NAMED_RELATIONS = ("any", "all", "adj", "exact")
SYMBOL_RELATIONS = ("==", "=")
BOOLEANS = ("and", "or", "not")

_TOKEN = re.compile(
    r"\s*(?:(?P<paren>[()])|(?P<symbol><>|<=|>=|==|=|<|>|/)"
    r'|(?P<quoted>"(?:[^"\\]|\\.)*"?)|(?P<word>[^\s()<>=/"]+))',
    re.S,
)


class CQLError(ValueError):
    """The query cannot be answered: ``uri`` is the SRU diagnostic, ``details`` what failed."""

    def __init__(self, number: int, message: str, details: str = "") -> None:
        super().__init__(message)
        self.uri = f"info:srw/diagnostic/1/{number}"
        self.message = message
        self.details = details


@dataclass
class _Tok:
    kind: str  # paren, symbol, quoted, word
    text: str


def _lex(text: str) -> list[_Tok]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
        kind = match.lastgroup
        if kind is None:
            continue
        value = match[kind]
        if kind == "quoted":
            if not re.fullmatch(r'"(?:[^"\\]|\\.)*"', value, re.S):
                raise CQLError(10, "Query syntax error", "a quoted term is never closed")
            value = re.sub(r"\\(.)", r"\1", value[1:-1], flags=re.S)
        tokens.append(_Tok(kind, value))
    return tokens


class _Parser:
    """cqlQuery := clause (boolean clause)*; clause := '(' cqlQuery ')' | [index rel] term."""

    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.clauses = 0

    def peek(self, ahead: int = 0) -> _Tok | None:
        at = self.pos + ahead
        return self.tokens[at] if at < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise CQLError(10, "Query syntax error", "the query ends too early")
        self.pos += 1
        return tok

    def query(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise CQLError(10, "Query syntax error", f"more than {MAX_DEPTH} nested parentheses")
        node = self.clause(depth)
        while (tok := self.peek()) is not None and not (tok.kind == "paren" and tok.text == ")"):
            word = tok.text.lower() if tok.kind == "word" else ""
            if word == "prox":
                raise CQLError(37, "Unsupported boolean operator", "prox")
            if word not in BOOLEANS:
                raise CQLError(10, "Query syntax error", f"expected and, or, not; got {tok.text!r}")
            self.pos += 1
            if (nxt := self.peek()) is not None and nxt.kind == "symbol" and nxt.text == "/":
                raise CQLError(46, "Unsupported boolean modifier", word)
            right = self.clause(depth)
            node = _join(word, node, right)
        return node

    def clause(self, depth: int) -> Node:
        tok = self.take()
        if tok.kind == "paren" and tok.text == "(":
            node = self.query(depth + 1)
            closing = self.take()
            if closing.text != ")":
                raise CQLError(10, "Query syntax error", "a parenthesis is never closed")
            return node
        if tok.kind not in ("word", "quoted"):
            raise CQLError(10, "Query syntax error", f"unexpected {tok.text!r}")
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise CQLError(10, "Query syntax error", f"more than {MAX_CLAUSES} search clauses")
        if tok.kind == "word" and self._relation_follows():
            return self.fielded(tok.text)
        return _leaf(None, "=", tok.text)

    def _relation_follows(self) -> bool:
        nxt = self.peek()
        if nxt is None:
            return False
        if nxt.kind == "symbol" and nxt.text != "/":
            return True
        after = self.peek(1)
        named = nxt.kind == "word" and nxt.text.lower() in NAMED_RELATIONS + ("within", "encloses")
        return named and after is not None and after.kind in ("word", "quoted")

    def fielded(self, index: str) -> Node:
        relation = self.take().text.lower()
        if (nxt := self.peek()) is not None and nxt.kind == "symbol" and nxt.text == "/":
            raise CQLError(20, "Unsupported relation modifier", relation)
        term = self.take()
        if term.kind not in ("word", "quoted"):
            raise CQLError(10, "Query syntax error", f"expected a term after {index} {relation}")
        name = index.lower()
        if name == "cql.allrecords":
            return MatchAll()
        if name not in INDEXES:
            raise CQLError(16, "Unsupported index", index)
        if relation not in SYMBOL_RELATIONS + NAMED_RELATIONS:
            raise CQLError(19, "Unsupported relation", relation)
        return _leaf(INDEXES[name], relation, term.text)


def _leaf(field: str | None, relation: str, text: str) -> Node:
    words = text.split()
    if not words:
        raise CQLError(27, "Empty term unsupported", "search for at least one word")
    if relation in ("==", "adj", "exact") and len(words) > 1:
        return Phrase(" ".join(words), field)
    if relation == "any" and len(words) > 1:
        return Or(tuple(Term(w, field) for w in words))
    return Term(" ".join(words), field)


def _join(word: str, left: Node, right: Node) -> Node:
    if word == "or":
        return Or((left, right))
    if word == "not":
        return And((left, Not(right)))
    return And((left, right))


def parse_cql(text: str) -> Node:
    """Parse a CQL query into the search query model; raise CQLError with an SRU diagnostic."""
    if not text or not text.strip():
        raise CQLError(7, "Mandatory parameter not supplied", "query")
    if len(text) > MAX_QUERY_CHARS:
        raise CQLError(10, "Query syntax error", f"longer than {MAX_QUERY_CHARS} characters")
    parser = _Parser(_lex(text))
    node = parser.query(0)
    if parser.peek() is not None:
        raise CQLError(10, "Query syntax error", "a closing parenthesis has no opening one")
    return node
