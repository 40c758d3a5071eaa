"""Fold catalogue strings into comparable keys: width, case, accents, script, articles, ISBD.

Two members rarely write a title, a name or a publisher the same way: full-width or
half-width characters, traditional or simplified Chinese, "Éditions" or "Editions", "The
complete novels" or "Complete novels", "人民文學出版社" or "人民文学出版社", "Dent" or
"J. M. Dent", "第2版" or "2nd ed.". The functions here turn each into a key that is equal when
the catalogued facts are; they are for matching only, never for display.

Chinese is folded one character at a time with OpenCC's traditional-to-simplified character
table (built once, then ``str.translate``): phrase-level conversion is too slow per record
and char-level folding is consistent, which is all that equality of keys needs.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

# Letters that NFD does not decompose but readers treat as their base letter.
_SPECIAL_LETTERS = {
    "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ł": "l", "Ł": "l",
    "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ı": "i", "ß": "ss",
}  # fmt: skip
# Leading articles dropped from title keys, by MARC language code; "" is used when the record
# gives no language (English and the Romance elisions are the common cases there).
ARTICLES: dict[str, frozenset[str]] = {
    "eng": frozenset({"the", "a", "an"}),
    "fre": frozenset({"le", "la", "les", "l", "un", "une"}),
    "ger": frozenset({"der", "die", "das", "ein", "eine"}),
    "spa": frozenset({"el", "la", "los", "las", "un", "una"}),
    "ita": frozenset({"il", "lo", "la", "i", "gli", "le", "l", "un", "una", "uno"}),
    "por": frozenset({"o", "a", "os", "as", "um", "uma"}),
    "dut": frozenset({"de", "het", "een"}),
    "": frozenset({"the", "a", "an", "l"}),
}
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_TITLE_CUT = re.compile(r"\s?[:=：＝]|\s/\s")  # subtitle, parallel title, responsibility
_TITLE_EDITION = re.compile(
    r"[(\[]\s*(第\s*[0-9一二三四五六七八九十]+\s*版|修订版|修訂版|增订版|增訂版|新版)\s*[)\]]\s*$"
)
# Letters that carry or may carry diacritics (Latin-1 to Greek Extended, Vietnamese, Hangul).
_DECOMPOSABLE = re.compile(r"[\u00c0-\u1fff\uac00-\ud7a3]")
_FOLD_CACHE: dict[str, str] = {}
_CACHE_LIMIT = 400_000


@lru_cache(maxsize=1)
def _translate_table() -> dict[int, str | None]:
    """Build the one-pass table: accents dropped, special letters, traditional -> simplified."""
    table: dict[int, str | None] = {ord(k): v for k, v in _SPECIAL_LETTERS.items()}
    table.update(_t2s_table())
    for code in range(0x0300, 0x0370):  # combining diacritical marks, left by NFD
        table[code] = None
    for code in (0x02BB, 0x02BC, 0x02BE, 0x02BF):  # ʻ ʼ ʾ ʿ of romanisations
        table[code] = None
    return table


def _t2s_table() -> dict[int, str]:
    """Return traditional -> simplified for every character OpenCC's t2s table converts."""
    import opencc  # imported on first use: reading its tables costs a tenth of a second

    converter = opencc.OpenCC("t2s")
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    keys = (line.split("\t", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())
    table = {}
    for key in keys:
        if len(key) == 1:
            simplified = converter.convert(key)
            if simplified != key and len(simplified) == 1:
                table[ord(key)] = simplified
    return table


def fold(text: str | None) -> str:
    """Return text in half-width, lower case, without accents, in simplified Chinese."""
    if not text:
        return ""
    hit = _FOLD_CACHE.get(text)
    if hit is not None:
        return hit
    if text.isascii():
        folded = text.lower()  # NFKC leaves ASCII alone; casefold is lower() there
    else:
        folded = unicodedata.normalize("NFKC", text)
        if _DECOMPOSABLE.search(folded):  # accents: decompose, drop the marks, recompose
            folded = unicodedata.normalize("NFD", folded).translate(_translate_table())
            folded = unicodedata.normalize("NFC", folded)
        else:  # CJK and plain letters: only the character table applies
            folded = folded.translate(_translate_table())
        folded = folded.casefold()
    if len(_FOLD_CACHE) >= _CACHE_LIMIT:  # catalogue strings repeat; a full cache restarts
        _FOLD_CACHE.clear()
    _FOLD_CACHE[text] = folded
    return folded


def words(text: str | None) -> list[str]:
    """Return the folded words of text ("&" read as "and"); CJK runs stay whole."""
    folded = fold(text)
    if "&" in folded:
        folded = folded.replace("&", " and ")
    return _WORD.findall(folded)


def has_cjk(text: str | None) -> bool:
    """Tell whether text holds Chinese, Japanese or Korean ideographs."""
    return bool(text) and not text.isascii() and _CJK.search(text) is not None


def compact(tokens: list[str]) -> str:
    """Join words without spaces (members space Chinese titles differently)."""
    return "".join(tokens)


def drop_article(tokens: list[str], languages: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Drop a leading article of the record's language (or English when it has none)."""
    if len(tokens) < 2:
        return tokens
    for lang in languages or ("",):
        if tokens[0] in ARTICLES.get(lang, ARTICLES[""]):
            return tokens[1:]
    return tokens


def split_title(title: str | None) -> tuple[str, str | None]:
    """Return the title proper and an edition statement catalogued inside the title."""
    if not title:
        return "", None
    text = unicodedata.normalize("NFKC", title).strip()
    found = _TITLE_EDITION.search(text)
    edition = None
    if found:
        edition, text = found.group(1), text[: found.start()].rstrip()
    return text, edition


def title_proper(title: str) -> str:
    """Return the part of a title before a subtitle or parallel title run into it."""
    cut = _TITLE_CUT.search(title)
    return title[: cut.start()] if cut and cut.start() > 0 else title


# -- editions --------------------------------------------------------------------------------

_ZH_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "premiere": 1, "deuxieme": 2, "zweite": 2,
}  # fmt: skip
_EDITION_NUMBER = re.compile(
    r"(\d+)\s*(?:st|nd|rd|th|d|a|e|er|re|eme)?\.?\s*(?:ed|版|aufl|uppl|utg|izd|p\b|painos)"
    r"|\bdi\s*(\d+)\s*ban"  # pinyin of 第N版
)
_ZH_EDITION = re.compile(r"第?\s*([一二三四五六七八九十]+)\s*版")
_FIRST = ("初版", "chu ban", "shohan", "first ed", "1st ed")
_REVISED = ("修订", "增订", "rev", "新版", "new ed", "nouv", "neubearb", "updated")
_FILLER = re.compile(r"\b(?:ed|edition|editions|版|the|a)\b|[^\w]+")


def zh_number(text: str) -> int:
    """Read a Chinese numeral up to 99: 二 2, 十 10, 十二 12, 二十三 23."""
    if "十" not in text:
        return _ZH_DIGITS.get(text[-1:], 0)
    tens, _, units = text.partition("十")
    return _ZH_DIGITS.get(tens, 1) * 10 + _ZH_DIGITS.get(units, 0)


def edition_key(statement: str | None) -> str | None:
    """Return a comparable edition: "2" for 第2版 or 2nd ed., "rev", other text, or None for 1."""
    if not statement:
        return None
    text = fold(statement).strip(" .-[]<>")
    if not text:
        return None
    number = _edition_number(text)
    if number is not None:
        return None if number == 1 else str(number)
    if any(word in text for word in _FIRST):
        return None
    if any(word in text for word in _REVISED):
        return "rev"
    return _FILLER.sub("", text) or None


def _edition_number(text: str) -> int | None:
    found = _EDITION_NUMBER.search(text)
    if found:
        return int(found.group(1) or found.group(2))
    found = _ZH_EDITION.search(text)
    if found:
        return zh_number(found.group(1))
    for word, number in _ORDINAL_WORDS.items():
        if word in text:
            return number
    return None


# -- names and publishers --------------------------------------------------------------------

_NAME_BRACKETS = re.compile(r"[(\[【][^)\]】]{1,6}[)\]】]")  # (美), [英], [等] (after NFKC)
_LIFE_DATES = re.compile(r"\d{3,4}\s*-\s*(?:\d{3,4})?")
# Roles written after a Chinese name, longest first ("编著" before "著").
_ROLE_SUFFIXES = ("编著", "主编", "编译", "编写", "编", "著", "译", "撰", "绘", "等")
# fmt: off
_PUBLISHER_STOP = frozenset({
    "press", "presses", "publishing", "publishers", "publisher", "publications", "publication",
    "pub", "pubs", "books", "book", "co", "company", "inc", "incorporated", "ltd", "limited",
    "corp", "corporation", "llc", "plc", "the", "and", "of", "editions", "edition", "editorial",
    "ed", "verlag", "editora", "editrice", "forlag", "u", "p", "univ", "university", "classics",
    "classic", "group", "media", "house",
})
# fmt: on
_PUBLISHER_ZH = re.compile(r"(?:出版社|出版公司|出版|有限责任公司|有限公司|股份|集团|书局有限)")


def name_key(name: str | None, kind: str = "personal") -> str | None:
    """Return a name's key: a Latin surname, a body's first unit, or a whole CJK name."""
    if not name:
        return None
    text = _strip_name_noise(fold(name))
    cjk = has_cjk(text)
    if kind == "corporate" and not cjk:
        # "American Institute of New York. Photographical Section": the body is the first unit
        return compact(words(text.split(". ", 1)[0])) or None
    tokens = _WORD.findall(text)
    if cjk:  # keep the ideographs: "奥斯丁, J." and "奥斯丁" are one name
        if len(tokens) == 1:
            return tokens[0]
        return compact([t for t in tokens if has_cjk(t)]) or None
    if not tokens:
        return None
    if "," in text:  # "Austen, Jane": the surname comes first
        head = _WORD.findall(text.split(",", 1)[0])
        return head[0] if head else tokens[0]
    return tokens[-1]


def _strip_name_noise(text: str) -> str:
    """Drop bracketed nationality or "et al.", life dates and a trailing role."""
    if "(" in text or "[" in text or "【" in text:
        text = _NAME_BRACKETS.sub("", text)
    if "-" in text:
        text = _LIFE_DATES.sub("", text)
    text = text.rstrip(" .,:;")
    if text.endswith(_ROLE_SUFFIXES):
        role = next(r for r in _ROLE_SUFFIXES if text.endswith(r))
        return text[: -len(role)].rstrip(" .,:;")
    return text


def publisher_key(publisher: str | None) -> str | None:
    """Return a publisher's key: its distinctive words, without "Press", "Inc.", "出版社"."""
    if not publisher:
        return None
    text = fold(publisher)
    if has_cjk(text):
        key = compact(_WORD.findall(_PUBLISHER_ZH.sub(" ", text)))
        return key or None
    tokens = [t for t in words(text) if t not in _PUBLISHER_STOP and len(t) > 1]
    return compact(tokens) or None


def publishers_agree(a: str | None, b: str | None) -> bool | None:
    """Tell whether two publisher keys name one publisher (None when either is unknown)."""
    if not a or not b:
        return None
    if a == b or a.startswith(b) or b.startswith(a):
        return True
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    return len(shorter) >= 4 and shorter in longer


def pages_agree(a: int | None, b: int | None) -> bool | None:
    """Tell whether two page counts describe one book (None when either is unknown)."""
    if not a or not b:
        return None
    return abs(a - b) <= max(3, round(0.015 * max(a, b)))
