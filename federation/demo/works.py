"""Invent works and their editions (manifestations) from the word lists, reproducibly."""

from __future__ import annotations

import random
from collections.abc import Callable

from federation.demo import wordlists as W
from federation.demo.isbn import make_isbn13
from federation.demo.model import Manifestation, Name

ORDINALS_EN = {2: "2nd ed.", 3: "3rd ed.", 4: "4th ed."}
REPRINT_PUBLISHERS = ("清华大学出版社", "机械工业出版社", "高等教育出版社", "人民邮电出版社")
TRANSLATION_PUBLISHERS = {
    "academic": (
        "机械工业出版社",
        "清华大学出版社",
        "电子工业出版社",
        "人民邮电出版社",
        "中信出版社",
    ),
    "popular": ("译林出版社", "人民文学出版社", "长江文艺出版社", "作家出版社", "接力出版社"),
}
_ZH_PUBLISHERS = {p[0]: p for p in W.CHINESE_PUBLISHERS}


def chinese_name(rng: random.Random, role: str = "author") -> Name:
    """Return an invented Chinese personal name."""
    given = "".join(rng.choice(W.CHINESE_GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))
    name = rng.choice(W.CHINESE_SURNAMES) + given
    return Name(display=name, inverted=name, role=role)


def western_name(rng: random.Random, role: str = "author") -> Name:
    """Return an invented Western personal name with its Chinese transliteration."""
    given, given_zh = rng.choice(W.WESTERN_GIVEN)
    family, family_zh = rng.choice(W.WESTERN_SURNAMES)
    nationality = rng.choice(W.WESTERN_COUNTRIES)[0]
    return Name(
        display=f"{given} {family}",
        inverted=f"{family}, {given}",
        role=role,
        zh=f"{given_zh}·{family_zh}",
        nationality=nationality,
    )


class WorkFactory:
    """Make works with one or more editions; ids and ISBNs are unique within one factory."""

    def __init__(self, rng: random.Random, latest_year: int) -> None:
        self.rng = rng
        self.latest_year = latest_year
        self.manifestations: list[Manifestation] = []
        self._works = 0
        self._used_isbns: set[str] = set()

    def generate(self, target: int) -> list[Manifestation]:
        """Add works until at least ``target`` manifestations exist; return them all."""
        makers: list[tuple[float, Callable[[], None]]] = [
            (0.42, self.chinese_academic),
            (0.10, self.english_academic),
            (0.18, self.chinese_popular),
            (0.16, self.chinese_fiction),
            (0.07, self.english_fiction),
        ]
        weights = [w for w, _ in makers]
        while len(self.manifestations) < target:
            self.rng.choices(makers, weights)[0][1]()
        return self.manifestations

    def adopt(self, m: Manifestation, work_id: str | None = None) -> str:
        """Add a manifestation made elsewhere (a real seed record); return its work id."""
        m.work_id = work_id or self._new_work()
        m.id = f"m{len(self.manifestations) + 1:06d}"
        if m.isbn13:
            self._used_isbns.add(m.isbn13)
        self.manifestations.append(m)
        return m.work_id

    # -- kinds of work -------------------------------------------------------------------

    def chinese_academic(self) -> None:
        """A Chinese textbook or monograph, often in several editions."""
        rng = self.rng
        zh, _en, clc, lcc = rng.choice(W.ACADEMIC_TOPICS)
        pattern = rng.choice(W.ACADEMIC_PATTERNS)
        title = pattern[0].format(t=zh)
        role = rng.choice(("author", "editor", "editor", "compiler"))
        names = tuple(chinese_name(rng, role) for _ in range(rng.choice((1, 1, 2, 3))))
        form = "教材" if role != "author" else None
        subjects = (f"{zh}--高等学校--{form}" if form else zh,)
        series = rng.choice(W.SERIES_ZH) if form and rng.random() < 0.3 else None
        common = dict(
            lang="chi",
            title=title,
            subtitle=pattern[2],
            names=names,
            audience="academic",
            clc=clc,
            lcc=lcc,
            subjects=subjects,
            series=series,
        )
        editions = rng.choices((1, 2, 3), (0.62, 0.26, 0.12))[0]
        year = rng.randint(1998, self.latest_year - 3 * editions)
        publisher = self._chinese_publisher("academic")
        pages = rng.randint(180, 720)
        work = self._new_work()
        for number in range(1, editions + 1):
            if number > 1 and rng.random() < 0.2:
                publisher = self._chinese_publisher("academic")
            self._add(
                work,
                **common,
                edition=number,
                year=year,
                publisher=publisher,
                pages=int(pages * rng.uniform(0.9, 1.2)),
                size_cm=rng.choice((26, 24, 23)),
                edition_statement=f"第{number}版" if number > 1 else None,
                popularity=rng.lognormvariate(0, 1.0),
            )
            year = min(self.latest_year, year + rng.randint(3, 6))

    def english_academic(self) -> None:
        """An English monograph; some get a Chinese translation or a Chinese reprint."""
        rng = self.rng
        zh, en, clc, lcc = rng.choice(W.ACADEMIC_TOPICS)
        pattern = rng.choice(W.ACADEMIC_PATTERNS)
        names = tuple(western_name(rng) for _ in range(rng.choice((1, 1, 2))))
        work = self._new_work()
        year = rng.randint(1995, self.latest_year - 4)
        pub = rng.choice(W.ENGLISH_PUBLISHERS)
        title_en = pattern[1].format(T=en)
        base = dict(audience="academic", clc=clc, lcc=lcc, popularity=rng.lognormvariate(-0.3, 0.9))
        book = dict(base, lang="eng", title=title_en, subtitle=pattern[3], names=names, size_cm=24)
        for number in range(1, rng.choices((1, 2), (0.75, 0.25))[0] + 1):
            self._add(
                work,
                **book,
                year=year + 5 * (number - 1),
                publisher=pub[0],
                place=pub[1],
                isbn_prefix=(pub[2], pub[3]),
                country=pub[4],
                edition=number,
                edition_statement=ORDINALS_EN.get(number),
                pages=rng.randint(250, 900),
                subjects=(f"{en[0]}{en[1:].lower()}",),
            )
        if rng.random() < 0.45:
            self._translation(work, base, zh, pattern, names, title_en, year, "academic")
        if rng.random() < 0.15:  # an English-language reprint by a Chinese publisher
            self._add(
                work,
                **book,
                year=min(self.latest_year, year + rng.randint(1, 3)),
                publisher=rng.choice(REPRINT_PUBLISHERS),
                edition_statement="英文影印版",
                pages=rng.randint(250, 900),
                subjects=(zh,),
            )

    def chinese_popular(self) -> None:
        """Popular non-fiction for public libraries (cooking, health, local history ...)."""
        rng = self.rng
        zh, _en, clc, lcc = rng.choice(W.POPULAR_TOPICS)
        pattern = rng.choice(W.POPULAR_PATTERNS)
        names = tuple(chinese_name(rng, rng.choice(("author", "compiler"))) for _ in range(1))
        work = self._new_work()
        year = rng.randint(2004, self.latest_year - 1)
        editions = rng.choices((1, 2), (0.85, 0.15))[0]
        for number in range(1, editions + 1):
            self._add(
                work,
                lang="chi",
                title=pattern[0].format(t=zh),
                subtitle=pattern[2],
                names=names,
                audience="popular",
                clc=clc,
                lcc=lcc,
                subjects=(f"{zh}--普及读物",),
                year=min(self.latest_year, year + 4 * (number - 1)),
                publisher=self._chinese_publisher("popular"),
                pages=rng.randint(120, 360),
                size_cm=rng.choice((21, 23, 24)),
                edition=number,
                edition_statement="修订版" if number > 1 else None,
                popularity=rng.lognormvariate(0.4, 1.0),
            )

    def chinese_fiction(self) -> None:
        """A contemporary Chinese novel; some are reissued by another publisher."""
        rng = self.rng
        title_zh, _title_en = self._fiction_title()
        names = (chinese_name(rng),)
        work = self._new_work()
        year = rng.randint(2000, self.latest_year - 1)
        for number in range(1, rng.choices((1, 2), (0.75, 0.25))[0] + 1):
            self._add(
                work,
                lang="chi",
                title=title_zh,
                subtitle=None,
                names=names,
                audience="popular",
                clc=W.FICTION_CLASSES["中"][0],
                lcc=W.FICTION_CLASSES["中"][1],
                subjects=(W.FICTION_CLASSES["中"][2],),
                publisher=self._chinese_publisher("popular"),
                year=min(self.latest_year, year + rng.randint(3, 8) * (number - 1)),
                pages=rng.randint(200, 520),
                size_cm=21,
                edition=number,
                popularity=rng.lognormvariate(0.5, 1.1),
            )

    def english_fiction(self) -> None:
        """An English novel and, usually, its Chinese translation."""
        rng = self.rng
        title_zh, title_en = self._fiction_title()
        names = (western_name(rng),)
        work = self._new_work()
        year = rng.randint(1995, self.latest_year - 3)
        pub = rng.choice(W.FICTION_PUBLISHERS)
        clc, lcc, heading = W.FICTION_CLASSES[names[0].nationality or "美"]
        base = dict(audience="popular", clc=clc, lcc=lcc)
        self._add(
            work,
            **base,
            lang="eng",
            title=title_en,
            subtitle=None,
            names=names,
            year=year,
            publisher=pub[0],
            place=pub[1],
            isbn_prefix=(pub[2], pub[3]),
            country=pub[4],
            pages=rng.randint(220, 480),
            size_cm=21,
            subjects=("Fiction",),
            popularity=rng.lognormvariate(-0.2, 1.0),
        )
        if rng.random() < 0.85:
            pattern = ("{t}", title_en, None, None)
            self._translation(
                work,
                {**base, "popularity": rng.lognormvariate(0.5, 1.0)},
                title_zh,
                pattern,
                names,
                title_en,
                year,
                "popular",
                subjects=(heading,),
            )

    # -- helpers ---------------------------------------------------------------------------

    def _translation(self, work, base, zh, pattern, names, title_en, year, audience, subjects=None):
        """Add the Chinese translation of an English edition to ``work``."""
        rng = self.rng
        translator = chinese_name(rng, "translator")
        self._add(
            work,
            **{**base, "popularity": base.get("popularity", 1.0) * 1.3},
            lang="chi",
            title=pattern[0].format(t=zh),
            subtitle=pattern[2],
            names=names + (translator,),
            year=min(self.latest_year, year + rng.randint(1, 4)),
            publisher=rng.choice(TRANSLATION_PUBLISHERS[audience]),
            pages=rng.randint(240, 760),
            size_cm=rng.choice((24, 26)) if audience == "academic" else 21,
            original_lang="eng",
            original_title=title_en,
            subjects=subjects or (zh,),
        )

    def _fiction_title(self) -> tuple[str, str]:
        rng = self.rng
        form_zh, form_en = rng.choice(W.FICTION_FORMS)
        (a_zh, a_en), (n_zh, n_en) = rng.choice(W.FICTION_ADJECTIVES), rng.choice(W.FICTION_NOUNS)
        return form_zh.format(a=a_zh, n=n_zh), form_en.format(A=a_en, N=n_en)

    def _chinese_publisher(self, audience: str) -> str:
        fits = [p[0] for p in W.CHINESE_PUBLISHERS if p[4] in (audience, "general")]
        return self.rng.choice(fits)

    def _new_work(self) -> str:
        self._works += 1
        return f"w{self._works:06d}"

    def _isbn(self, group: str, registrant: str) -> str:
        width = 9 - len(group) - len(registrant)
        while True:
            isbn = make_isbn13(group, registrant, self.rng.randrange(10**width))
            if isbn not in self._used_isbns:
                self._used_isbns.add(isbn)
                return isbn

    def _add(self, work_id: str, *, isbn_prefix=None, **fields) -> None:
        """Create one manifestation of ``work_id``, filling publisher facts and the ISBN."""
        publisher = fields.get("publisher")
        if publisher in _ZH_PUBLISHERS:
            _name, place, group, registrant, _aud = _ZH_PUBLISHERS[publisher]
            fields.setdefault("place", place)
            fields.setdefault("place_code", W.CHINESE_PLACE_CODES.get(place))
            isbn_prefix = isbn_prefix or (group, registrant)
        if fields.get("lang") == "chi" or publisher in _ZH_PUBLISHERS:
            yuan = max(12, round((fields.get("pages") or 200) * 0.13))
            fields.setdefault("price", f"CNY{yuan}.{self.rng.choice(('00', '80', '50'))}")
        isbn = self._isbn(*isbn_prefix) if isbn_prefix else None
        self.manifestations.append(
            Manifestation(
                id=f"m{len(self.manifestations) + 1:06d}",
                work_id=work_id,
                isbn13=isbn,
                isbn_parts=isbn_prefix,
                **fields,
            )
        )
