"""CJK-aware text analysis shared by every search backend.

Chinese has no spaces between words, so Chinese text is matched by overlapping character
bigrams (as Elasticsearch's ``cjk_bigram`` filter does). Before that, text is folded so a
reader finds a title whatever form it was catalogued in: compatibility and full-width forms
(NFKC), traditional characters (to simplified, per character), Latin case and accents.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

# Han ideographs, kana and hangul: the scripts cjk_bigram treats as CJK.
_CJK_CLASS = (
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
CJK_RUN = re.compile(f"[{_CJK_CLASS}]+")
_CJK_SPACE = re.compile(f"(?<=[{_CJK_CLASS}])\\s+(?=[{_CJK_CLASS}])")
_WORD_CHAR = re.compile(r"[0-9a-z]")


@cache
def _t2s_table() -> dict[int, str]:
    """Build the traditional -> simplified table, one character to one character."""
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    table: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        source, _, targets = line.partition("\t")
        target = targets.split(" ")[0] if targets else ""
        # Only 1:1 mappings keep offsets stable (highlighting maps folded text back).
        if len(source) == 1 and len(target) == 1 and source != target:
            table[ord(source)] = target
    return table


def normalise(text: str) -> str:
    """Fold full-width and compatibility forms (NFKC) and traditional to simplified characters."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(_t2s_table())


@cache
def _fold_char(char: str) -> str:
    """Fold one character for matching: normalise, lowercase, drop accents."""
    folded = normalise(char).lower()
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c)) or folded


def fold(text: str) -> str:
    """Fold text for comparison: NFKC, simplified characters, lowercase, no accents."""
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(c) for c in text)


def _bigrams(run: str, trailing_unigram: bool) -> str:
    if len(run) == 1:
        return f" {run} "
    grams = " ".join(run[i : i + 2] for i in range(len(run) - 1))
    # The run's last character as a unigram makes every character the first character of
    # some token, so a one-character query can be answered by a prefix match.
    return f" {grams} {run[-1]} " if trailing_unigram else f" {grams} "


def prepare_for_index(text: str) -> str:
    """Return text whose CJK runs are spelled as space-separated bigrams, for a word tokenizer."""
    text = normalise(text)
    if text.isascii():
        return text
    return CJK_RUN.sub(lambda m: _bigrams(m.group(), True), text)


def prepare_for_query(text: str) -> str:
    """Return query text spelled as the index spells it (bigrams, no trailing unigram)."""
    text = _CJK_SPACE.sub("", normalise(text))
    if text.isascii():
        return text
    return CJK_RUN.sub(lambda m: _bigrams(m.group(), False), text)


def collapse_cjk_spaces(text: str) -> str:
    """Drop spaces between CJK characters (readers type them; catalogues do not have them)."""
    return _CJK_SPACE.sub("", text)


_ALNUM = re.compile(r"[^\W_]+")


def token_count(text: str) -> int:
    """Count the word and bigram tokens a query text yields (as both backends split it)."""
    return len(_ALNUM.findall(prepare_for_query(text)))


def join_for_index(values: Iterable[str | None]) -> str:
    """Prepare several values as one text, with a gap so phrases do not run across values."""
    return " \n ".join(prepare_for_index(v) for v in values if v)


@lru_cache(maxsize=100_000)
def prepare_cached(text: str) -> str:
    """Prepare a value that repeats across documents (author, subject, publisher) once."""
    return prepare_for_index(text)


def join_cached(values: list[str]) -> str:
    """Join values prepared through the cache, with the gap of join_for_index."""
    if len(values) == 1 and values[0]:
        return prepare_cached(values[0])
    return " \n ".join(prepare_cached(v) for v in values if v)


def is_single_cjk(token: str) -> bool:
    """Tell whether a query token is one CJK character (matched by prefix on bigrams)."""
    return len(token) == 1 and CJK_RUN.fullmatch(token) is not None


# --- ISBN -------------------------------------------------------------------------------

_ISBN_CHARS = re.compile(r"[\s\-‐‑‒–—]")


def _isbn10_check(digits9: str) -> str:
    total = sum((10 - i) * int(d) for i, d in enumerate(digits9))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _isbn13_check(digits12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits12))
    return str((10 - total % 10) % 10)


def isbn_forms(text: str) -> list[str]:
    """Return the ISBN-13 and ISBN-10 spellings of an ISBN typed any way, or [] if not one."""
    raw = _ISBN_CHARS.sub("", normalise(text)).upper()
    if raw.startswith("ISBN"):
        raw = raw[4:].lstrip(":")
    if re.fullmatch(r"\d{9}[\dX]", raw) and _isbn10_check(raw[:9]) == raw[9]:
        thirteen = "978" + raw[:9]
        return [thirteen + _isbn13_check(thirteen), raw]
    if re.fullmatch(r"97[89]\d{10}", raw) and _isbn13_check(raw[:12]) == raw[12]:
        forms = [raw]
        if raw.startswith("978"):
            forms.append(raw[3:12] + _isbn10_check(raw[3:12]))
        return forms
    return []


_PLAIN_ISBN = re.compile(r"(?:\d{9}[\dX]|97[89]\d{10})")


def index_isbns(values: list[str]) -> list[str]:
    """Return every form of every ISBN of a document (both forms, digits only)."""
    if len(values) % 2 == 0 and all(_PLAIN_ISBN.fullmatch(v) for v in values):
        return values  # already both forms, as ClusterDoc promises
    out: dict[str, None] = {}
    for value in values:
        for form in isbn_forms(value) or [_ISBN_CHARS.sub("", value).upper()]:
            out[form] = None
    return list(out)


# --- highlighting -----------------------------------------------------------------------


def _needle_pattern(needle: str) -> str:
    body = re.escape(needle)
    if _WORD_CHAR.match(needle[0]):
        body = r"(?<![0-9a-z])" + body
    if _WORD_CHAR.match(needle[-1]):
        body += r"(?![0-9a-z])"
    return body


@lru_cache(maxsize=1024)
def _needles_pattern(needles: tuple[str, ...]) -> re.Pattern | None:
    """Return the pattern of a query's needles (longest first), folded; None if there are none."""
    wanted = sorted({fold(n) for n in needles if n.strip()}, key=len, reverse=True)
    return re.compile("|".join(_needle_pattern(n) for n in wanted)) if wanted else None


def highlight(text: str, needles: Iterable[str], tag: str = "mark") -> str | None:
    """Return HTML-escaped text with every needle wrapped in <tag>, or None if none occurs."""
    pattern = _needles_pattern(tuple(needles))
    if not text or pattern is None:
        return None
    if text.isascii():  # folding is lowercasing: offsets stay as they are
        spans = [m.span() for m in pattern.finditer(text.lower())]
    else:
        folded_parts = [_fold_char(c) if not c.isascii() else c.lower() for c in text]
        starts: list[int] = []  # folded offset -> original index
        for index, part in enumerate(folded_parts):
            starts.extend([index] * len(part))
        folded = "".join(folded_parts)
        spans = [(starts[m.start()], starts[m.end() - 1] + 1) for m in pattern.finditer(folded)]
    if not spans:
        return None
    out, last = [], 0
    for begin, end in spans:
        out.append(html.escape(text[last:begin]))
        out.append(f"<{tag}>{html.escape(text[begin:end])}</{tag}>")
        last = end
    out.append(html.escape(text[last:]))
    return "".join(out)
