"""Spelling suggestions ("did you mean") from the index's own title words.

A query word that no title contains is replaced by the indexed title word closest to it
(Levenshtein distance, at most 1 for short words and 2 for longer ones; among equally close
words the most frequent wins). Only Latin-script words are corrected: CJK titles are indexed
as characters and bigrams, where an edit distance says little. Elasticsearch would use its own
term suggester; with that backend there are no suggestions yet.
"""

from __future__ import annotations

import re

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from search import analysis
from search.interfaces import SearchBackend

WORD = re.compile(r"(?<![\w:])([A-Za-z]{3,})(?![\w:])")
OPERATORS = {"and", "or", "not"}
FIELD = "title"


def _max_distance(word: str) -> int:
    return 1 if len(word) <= 4 else 2


def closest_word(searcher, word: str) -> str | None:
    """Return the indexed title word nearest to ``word`` (None if none is near enough)."""
    folded = analysis.fold(word)
    if searcher.doc_freq(FIELD, folded) > 0:
        return None
    # Misspellings rarely touch the first letter: candidates share it (ordered by frequency).
    terms = [t for t, _count in searcher.terms_with_prefix(FIELD, folded[:1]) if t.isascii()]
    best = process.extractOne(
        folded, terms, scorer=Levenshtein.distance, score_cutoff=_max_distance(folded)
    )
    return best[0] if best else None


def suggest_spelling(backend: SearchBackend, text: str) -> str | None:
    """Return ``text`` with unknown words replaced by the closest title words, or None."""
    index = getattr(backend, "index", None)
    if not callable(index) or not text:
        return None  # only the tantivy backend lets us read its term dictionary
    searcher = index().searcher()
    changed = False

    def replace(match: re.Match) -> str:
        nonlocal changed
        word = match.group(1)
        if word.lower() in OPERATORS:
            return word
        better = closest_word(searcher, word)
        if better is None:
            return word
        changed = True
        return better

    suggestion = WORD.sub(replace, text)
    return suggestion if changed else None
