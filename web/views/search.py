"""Reader search pages without JavaScript: results with facets, chips, sort and paging;
the record page with holdings nearest first, merge evidence, citations and JSON-LD."""

from __future__ import annotations

import atexit
import dataclasses
from dataclasses import dataclass

from flask import (
    Blueprint,
    Flask,
    current_app,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from federation import usage
from search.backends import backend_from_settings
from search.documents import FACET_FIELDS, ClusterDoc
from search.interfaces import SearchBackend, SearchBackendError
from search.query import SORTS, QueryError, SearchQuery, SearchResult
from search.suggest import suggest_spelling
from web import i18n
from web import usage as web_usage
from web.directory import Directory, chosen_home, load_directory, remember_home
from web.i18n import select_locale, translated_labels
from web.identity import public
from web.ratelimit import limit_blueprint
from web.usage import usage_buffer
from web.views.home import TYPE_LABELS
from web.views.search_export import holding_distance, safe_highlight

bp = Blueprint("search", __name__)
limit_blueprint(bp, "search")

PAGE_SIZE = 20
FACET_SIZE = 10
MAX_EDITIONS = 20
ADVANCED_FIELDS = ("title", "author", "subject", "isbn", "publisher", "class")
FACET_LABELS = {
    "member": _l("Library"),
    "region": _l("District"),
    "library_type": _l("Library type"),
    "format": _l("Format"),
    "language": _l("Language"),
    "year": _l("Year"),
    "subject": _l("Subject"),
    "class": _l("CLC class"),
}
SORT_LABELS = {
    "relevance": _l("Relevance"),
    "year_desc": _l("Newest first"),
    "year_asc": _l("Oldest first"),
    "title": _l("Title A-Z"),
}
FORMAT_LABELS = {
    "book": _l("Book"),
    "serial": _l("Serial"),
    "article": _l("Article"),
    "e-resource": _l("E-resource"),
    "map": _l("Map"),
    "music score": _l("Music score"),
    "audio": _l("Audio"),
    "video": _l("Video"),
}
LANGUAGE_LABELS = {
    "chi": _l("Chinese"),
    "zho": _l("Chinese"),
    "eng": _l("English"),
    "jpn": _l("Japanese"),
    "rus": _l("Russian"),
    "fre": _l("French"),
    "ger": _l("German"),
}
AVAILABILITY_LABELS = {
    "available": _l("available"),
    "on loan": _l("on loan"),
    "in library use only": _l("in library use only"),
}


def init_app(app: Flask) -> None:
    """Create the app's one search backend, close it at exit, register the pages."""
    backend = backend_from_settings(app.extensions["federation.settings"])
    app.extensions["federation.search"] = backend
    atexit.register(backend.close)
    web_usage.init_app(app)
    app.jinja_env.globals["indexed_title_count"] = indexed_title_count
    from web.views import search_record  # noqa: F401  (adds the record pages to ``bp``)

    app.register_blueprint(bp)


def get_backend() -> SearchBackend:
    """Return the current app's search backend."""
    return current_app.extensions["federation.search"]


def indexed_title_count() -> int | None:
    """Return how many titles (clusters) can be searched, or None if the index is unreadable."""
    try:
        return get_backend().count()
    except SearchBackendError:
        return None


def facet_label(directory: Directory, facet: str, value: str) -> str:
    """Return the words a reader sees for one facet value."""
    if facet == "member":
        return directory.member_name(value)
    if facet == "region":
        return directory.regions.get(value, value)
    table = _VALUE_LABELS.get(facet)
    return translated_labels(table).get(value, value) if table else value


_VALUE_LABELS = {"library_type": TYPE_LABELS, "format": FORMAT_LABELS, "language": LANGUAGE_LABELS}


# --- the results page -----------------------------------------------------------------


def _int_arg(name: str) -> int | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    if not (value.lstrip("-").isdecimal() and value.isascii()) or len(value) > 6:
        raise QueryError(_("%(field)s must be a whole number.", field=name))
    return int(value)


def query_text(args: MultiDict) -> str:
    """Join the box and the advanced fields into one query string (field:"value" clauses)."""
    parts = [(args.get("q") or "").strip()]
    for name in ADVANCED_FIELDS:
        value = (args.get(name) or "").replace('"', " ").strip()
        if value:
            parts.append(f'{name}:"{value}"')
    return " ".join(p for p in parts if p)


def chosen_filters(args: MultiDict) -> dict[str, list[str]]:
    """Read the facet filters: every ?f=<facet>:<value> (repeatable, so multi-select works)."""
    filters: dict[str, list[str]] = {}
    for item in args.getlist("f"):
        name, sep, value = item.partition(":")
        if not sep or not value:
            raise QueryError(_("A filter must look like facet:value."))
        if value not in filters.setdefault(name, []):
            filters[name].append(value)
    return filters


def build_query(args: MultiDict) -> SearchQuery:
    """Turn the request's parameters into a SearchQuery; QueryError says what to fix."""
    sort = args.get("sort") or "relevance"
    page = _int_arg("page") or 1
    return SearchQuery(
        text=query_text(args),
        filters=chosen_filters(args),
        year_from=_int_arg("year_from"),
        year_to=_int_arg("year_to"),
        facets=list(FACET_FIELDS),
        sort=sort if sort in SORTS else "relevance",
        page=max(page, 1),
        page_size=PAGE_SIZE,
        highlight=True,
        facet_size=FACET_SIZE,
    )


def url_with(drop: tuple[str, str] | None = None, **changes: object) -> str:
    """Return this search's URL with one parameter value dropped and/or others replaced."""
    args = MultiDict(request.args)
    args.pop("home", None)
    if drop is not None:
        args.setlist(drop[0], [v for v in args.getlist(drop[0]) if v != drop[1]])
    for name, value in changes.items():
        if value is None:
            args.pop(name, None)
        else:
            args.setlist(name, [str(value)])
    if "page" not in changes:
        args.pop("page", None)  # a new filter or sort starts again on page 1
    return url_for("search.results", **args.to_dict(flat=False))


def relaxed_query(text: str) -> str | None:
    """Return a looser query for an empty result: any of the words instead of all of them."""
    words = [w for w in text.replace('"', " ").split() if w.upper() not in ("AND", "OR", "NOT")]
    if len(words) < 2:
        return None
    return " OR ".join(words)


@bp.get("/search")
@public
def results():
    """Show a page of hits with facets, applied-filter chips, sort and paging."""
    locale = select_locale()
    directory = load_directory(locale)
    home = chosen_home(directory)
    status = 200
    result: SearchResult | None = None
    error = None
    try:
        query = build_query(request.args)
        result = get_backend().search(query)
    except QueryError as exc:
        query, error, status = None, str(exc), 400
    except SearchBackendError as exc:
        current_app.logger.warning("search failed: %s", exc)
        query, error, status = None, _("Search is unavailable right now."), 503
    relaxed = suggestion = None
    if result is not None and query is not None:
        count_search(query, result, directory.place_codes(home))
        if result.total == 0:
            relaxed = relaxed_query(query.text)
        suggestion = better_spelling(query, result)
    page = render_template(
        "search/results.html",
        query=query,
        result=result,
        error=error,
        relaxed=relaxed,
        suggestion=suggestion,
        suggestion_url=suggestion and url_with(q=suggestion, **dict.fromkeys(ADVANCED_FIELDS)),
        hidden_filters=hidden_filters(query, result),
        directory=directory,
        home=home,
        facet_label=lambda f, v: facet_label(directory, f, v),
        facet_labels=translated_labels(FACET_LABELS),
        sort_labels=translated_labels(SORT_LABELS),
        url_with=url_with,
        page_count=_page_count(result),
        facet_rows=facet_rows(result, directory),
        hits_html=hits_html(hit_rows(result, directory, home)),
    )
    return remember_home(make_response(page, status), home)


def facet_rows(result: SearchResult | None, directory: Directory) -> list[tuple[str, Markup]]:
    """Return each non-empty facet as (legend, its buckets' list items as HTML).

    Built here rather than in the template: some eighty buckets per page, each three escaped
    outputs in the template, were a visible share of the page's time. The values and labels
    repeat from page to page, so their escaped text is kept (:func:`escaped`).
    """
    if result is None:
        return []
    chosen = set(request.args.getlist("f"))
    legends = translated_labels(FACET_LABELS)
    rows = []
    for facet, buckets in result.facets.items():
        if buckets:
            items = []
            for value, count in buckets:
                fv = f"{facet}:{value}"
                checked = " checked" if fv in chosen else ""
                label = escaped(facet_label(directory, facet, value))
                items.append(
                    f'<li><label><input type="checkbox" name="f" value="{escaped(fv)}"{checked}>'
                    f'\n            {label} <span class="count">({int(count)})</span></label></li>'
                )
            html = Markup("\n          ".join(items))  # noqa: S704 (values escaped above)
            rows.append((legends.get(facet, facet), html))
    return rows


_ESCAPED: dict[str, str] = {}
_ESCAPED_MAX = 50_000


def escaped(text: str) -> str:
    """Return ``text`` escaped for HTML, kept per worker (facet values recur on every page)."""
    found = _ESCAPED.get(text)
    if found is None:
        if len(_ESCAPED) >= _ESCAPED_MAX:
            _ESCAPED.clear()
        found = _ESCAPED[text] = str(escape(text))
    return found


@dataclass
class HitRow:
    """One hit as the results page shows it: link, highlighted fields, availability line."""

    url: str
    title: Markup
    subtitle: Markup | None
    authors: Markup | None
    year: object
    format: str | None
    publisher: Markup | None
    availability: str


def hit_rows(result: SearchResult | None, directory: Directory, home: str | None) -> list[HitRow]:
    """Return the page's hits ready to show (built here: per-hit template calls were a large
    share of the page's time)."""
    if result is None:
        return []
    formats = translated_labels(FORMAT_LABELS)
    to_url = current_app.url_map.converters["default"](current_app.url_map).to_url
    record_url = url_for("search.record", cluster_id="CLUSTER").rsplit("CLUSTER", 1)
    rows = []
    for hit in result.hits:
        doc, marks = hit.doc, hit.highlights
        authors, subtitle, publisher = doc.get("authors"), doc.get("subtitle"), doc.get("publisher")
        fmt = doc.get("format")
        rows.append(HitRow(
            url=to_url(hit.cluster_id).join(record_url),
            title=safe_highlight(marks.get("title"), doc.get("title") or ""),
            subtitle=safe_highlight(marks.get("subtitle"), subtitle) if subtitle else None,
            authors=safe_highlight(marks.get("authors"), "; ".join(authors)) if authors else None,
            year=doc.get("year"),
            format=formats.get(fmt, fmt) if fmt else None,
            publisher=safe_highlight(marks.get("publisher"), publisher) if publisher else None,
            availability=availability_text(availability_line(doc, directory, home)),
        ))  # fmt: skip
    return rows


def hits_html(rows: list[HitRow]) -> Markup:
    """Return the hits' list items as HTML (eight template outputs per hit, each escaped
    again, were a visible share of the page: the highlighted fields are escaped already)."""
    out = []
    for row in rows:
        meta = "".join(
            f'\n            <span class="{css}">{value}</span>'
            for css, value in (
                ("authors", row.authors),
                ("year", escaped(str(row.year)) if row.year else None),
                ("format", escaped(row.format) if row.format else None),
                ("publisher", row.publisher),
            )
            if value
        )
        subtitle = f'<span class="subtitle">: {row.subtitle}</span>' if row.subtitle else ""
        # The whitespace between the parts as the template had it (it shows as spaces).
        out.append(
            f'<li class="hit">\n          <h2 class="hit-title"><a href="{escape(row.url)}">'
            f"{row.title}</a>\n            {subtitle}</h2>\n"
            f'          <p class="hit-meta">{meta}\n          </p>\n'
            f'          <p class="availability">{escape(row.availability)}</p>\n        </li>'
        )
    return Markup("\n        ".join(out))  # noqa: S704 (every field escaped or safe_highlight's)


def availability_text(info: Availability) -> str:
    """Say how many libraries hold a title, how many have it available, and the nearest."""
    if info.available:
        text = i18n.ngettext(
            "available at %(num)d library", "available at %(num)d libraries", info.available
        )
    else:
        text = i18n.ngettext(
            "held by %(num)d library, none available now",
            "held by %(num)d libraries, none available now",
            info.libraries,
        )
    if info.nearest:
        nearest = i18n.gettext(
            "nearest: %(name)s, %(km)s km", name=info.nearest, km=f"{info.nearest_km:.1f}"
        )
        text = f"{text}; {nearest}"
    return text


FEW_RESULTS = 3  # at most this many titles found: offer a spelling suggestion


def better_spelling(query: SearchQuery, result: SearchResult) -> str | None:
    """Return a respelt query for a page with few results, if it finds more titles."""
    if result.total > FEW_RESULTS or query.page != 1 or not query.text:
        return None
    try:
        suggestion = suggest_spelling(get_backend(), query.text)
        if suggestion is None:
            return None
        probe = dataclasses.replace(query, text=suggestion, facets=[], page_size=1,
                                    highlight=False)  # fmt: skip
        return suggestion if get_backend().search(probe).total > result.total else None
    # A suggestion is a nicety, never an error page (tantivy reports I/O trouble as ValueError).
    except (QueryError, SearchBackendError, ValueError) as exc:
        current_app.logger.info("no spelling suggestion for %r: %s", query.text, exc)
        return None


def hidden_filters(query: SearchQuery | None, result: SearchResult | None) -> list[str]:
    """Return the chosen filters the facet lists do not show, so the form still sends them."""
    if query is None:
        return list(dict.fromkeys(request.args.getlist("f")))
    shown = {
        f"{facet}:{value}" for facet, buckets in (result.facets if result else {}).items()
        for value, _count in buckets
    }  # fmt: skip
    chosen = [f"{facet}:{v}" for facet, values in query.filters.items() for v in values]
    return [fv for fv in chosen if fv not in shown]


def count_search(
    query: SearchQuery, result: SearchResult, place: tuple[str | None, str | None]
) -> None:
    """Count a search (and a zero-result one) for the statistics; later pages are not counted.

    ``value`` is the number of titles found; ``ref`` names the facets used ("facets:a,b").
    """
    if query.page != 1:
        return
    member, region = place
    fields = {
        "member_code": member,
        "region_code": region,
        "clc_class": clc_main_class(query),
        "value": float(result.total),
        "ref": ("facets:" + ",".join(sorted(query.filters)))[:64] if query.filters else None,
    }
    usage_buffer().add(usage.SEARCH, **fields)
    if result.total == 0:
        usage_buffer().add(usage.SEARCH_ZERO, **fields)


def clc_main_class(query: SearchQuery) -> str | None:
    """Return the CLC main class (one letter) a search was limited to, if any."""
    chosen = query.filters.get("class") or [request.args.get("class") or ""]
    first = chosen[0].strip()[:1].upper()
    return first if first.isascii() and first.isalpha() else None


def _page_count(result: SearchResult | None) -> int:
    if result is None:
        return 0
    return max(1, min(-(-result.total // PAGE_SIZE), 10_000 // PAGE_SIZE))


@dataclass
class Availability:
    libraries: int
    available: int
    nearest: str | None = None
    nearest_km: float | None = None


def availability_line(doc: ClusterDoc, directory: Directory, home: str | None) -> Availability:
    """Count the libraries holding (and with a copy available) and find the nearest one."""
    holdings = doc.get("holdings") or []
    libraries = {h.get("member") for h in holdings}
    available = [h for h in holdings if h.get("availability") == "available"]
    info = Availability(len(libraries), len({h.get("member") for h in available}))
    point = directory.point(home)
    candidates = available or holdings
    if point is not None and candidates:
        near = min(candidates, key=lambda h: _distance_or_far(h, point))
        distance = holding_distance(near, point)
        if distance is not None:  # holdings without coordinates have no "nearest"
            info.nearest = _holding_name(near, directory.locale)
            info.nearest_km = distance
    return info


def _distance_or_far(holding: dict, point: tuple[float, float]) -> float:
    distance = holding_distance(holding, point)
    return float("inf") if distance is None else distance


def _holding_name(holding: dict, locale: str) -> str:
    key = "member_name_en" if locale == "en" else "member_name_zh"
    return holding.get(key) or holding.get("member") or ""
