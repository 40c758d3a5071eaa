"""Reader search pages without JavaScript: results with facets, chips, sort and paging;
the record page with holdings nearest first, merge evidence, citations and JSON-LD."""

from __future__ import annotations

import atexit
from dataclasses import dataclass, field

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from federation.members import list_members
from search.backends import backend_from_settings
from search.documents import FACET_FIELDS, ClusterDoc
from search.interfaces import SearchBackend, SearchBackendError
from search.query import SORTS, QueryError, SearchQuery, SearchResult
from web import get_db
from web.i18n import select_locale
from web.identity import public
from web.ratelimit import limit_blueprint
from web.views.home import TYPE_LABELS
from web.views.search_export import holding_distance, safe_highlight

bp = Blueprint("search", __name__)
limit_blueprint(bp, "search")

PAGE_SIZE = 20
FACET_SIZE = 10
HOME_COOKIE = "home"
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


# --- the alliance directory (names and places of members and districts) ---------------


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float


@dataclass
class Directory:
    """Names of members and districts, and the places a reader may call home."""

    locale: str
    members: dict[str, Place] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)
    districts: dict[str, Place] = field(default_factory=dict)  # "district:<code>" -> centre

    def member_name(self, code: str) -> str:
        place = self.members.get(code) or self.districts.get(code)
        return place.name if place else code

    def point(self, home: str | None) -> tuple[float, float] | None:
        place = self.members.get(home or "") or self.districts.get(home or "")
        return (place.latitude, place.longitude) if place else None


def load_directory(locale: str) -> Directory:
    """Read the members and districts a reader can choose and see named."""
    directory = Directory(locale)
    spots: dict[str, list[Place]] = {}
    with get_db().session() as session:
        for m in list_members(session):
            place = Place(m.name(locale), m.latitude, m.longitude)
            directory.members[m.code] = place
            directory.regions[m.region_code] = m.region.name(locale)
            spots.setdefault(m.region_code, []).append(place)
    for code, places in spots.items():
        # A district's centre: the mean of its libraries (close enough within one city).
        lat = sum(p.latitude for p in places) / len(places)
        lon = sum(p.longitude for p in places) / len(places)
        directory.districts[f"district:{code}"] = Place(directory.regions[code], lat, lon)
    return directory


def chosen_home(directory: Directory) -> str | None:
    """Return the reader's home library or district: ?home=, then the cookie; else None."""
    if "home" in request.args and not request.args["home"]:
        return None  # "not chosen" picked on purpose
    for code in (request.args.get("home"), request.cookies.get(HOME_COOKIE)):
        if code and directory.point(code) is not None:
            return code
    return None


def remember_home(response: Response, home: str | None) -> Response:
    """Keep a newly chosen home in a cookie (not personal data: a library or district code)."""
    if "home" in request.args and not request.args["home"]:
        response.delete_cookie(HOME_COOKIE, samesite="Lax")
    elif home and request.args.get("home") == home:
        response.set_cookie(HOME_COOKIE, home, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def facet_label(directory: Directory, facet: str, value: str) -> str:
    """Return the words a reader sees for one facet value."""
    if facet == "member":
        return directory.member_name(value)
    if facet == "region":
        return directory.regions.get(value, value)
    table = {"library_type": TYPE_LABELS, "format": FORMAT_LABELS, "language": LANGUAGE_LABELS}
    return str(table.get(facet, {}).get(value, value))


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
    relaxed = None
    if result is not None and result.total == 0 and query is not None:
        relaxed = relaxed_query(query.text)
    page = render_template(
        "search/results.html",
        query=query,
        result=result,
        error=error,
        relaxed=relaxed,
        directory=directory,
        home=home,
        availability=lambda doc: availability_line(doc, directory, home),
        facet_label=lambda f, v: facet_label(directory, f, v),
        facet_labels=FACET_LABELS,
        sort_labels=SORT_LABELS,
        format_labels=FORMAT_LABELS,
        url_with=url_with,
        safe_highlight=safe_highlight,
        page_count=_page_count(result),
    )
    return remember_home(make_response(page, status), home)


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
        info.nearest = _holding_name(near, directory.locale)
        info.nearest_km = holding_distance(near, point)
    return info


def _distance_or_far(holding: dict, point: tuple[float, float]) -> float:
    distance = holding_distance(holding, point)
    return float("inf") if distance is None else distance


def _holding_name(holding: dict, locale: str) -> str:
    key = "member_name_en" if locale == "en" else "member_name_zh"
    return holding.get(key) or holding.get("member") or ""
