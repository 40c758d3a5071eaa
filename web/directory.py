"""The alliance directory the reader pages name things with: members, districts, home places.

Read on every results page; members change a few times a year, so each worker keeps it for
DIRECTORY_TTL_S seconds instead of querying the database per request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property

from flask import Response, current_app, request
from markupsafe import Markup, escape

from federation.members import list_members
from web import get_db

HOME_COOKIE = "home"


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
    member_regions: dict[str, str] = field(default_factory=dict)  # member code -> region code
    districts: dict[str, Place] = field(default_factory=dict)  # "district:<code>" -> centre
    _options: dict[tuple[str, str | None], Markup] = field(default_factory=dict, repr=False)

    def member_name(self, code: str) -> str:
        place = self.members.get(code) or self.districts.get(code)
        return place.name if place else code

    def place_codes(self, home: str | None) -> tuple[str | None, str | None]:
        """Return (member code, region code) of a chosen home: a library, a district or none."""
        if home and home.startswith("district:"):
            return None, home.removeprefix("district:")
        if home in self.member_regions:
            return home, self.member_regions[home]
        return None, None

    @cached_property
    def member_choices(self) -> list[tuple[str, Place]]:
        """Return the members by name, as a reader picks a home library (computed once)."""
        return sorted(self.members.items(), key=lambda item: item[1].name.lower())

    @cached_property
    def district_choices(self) -> list[tuple[str, Place]]:
        """Return the districts ("district:<code>", centre) by name (computed once)."""
        return sorted(self.districts.items(), key=lambda item: item[1].name.lower())

    def options_html(self, group: str, home: str | None) -> Markup:
        """Return the <option>s of ``group`` ("members" or "districts"), ``home`` selected.

        Kept per directory and home: every results page shows the form, and its options
        rendered by the template were some forty escaped outputs a page.
        """
        key = (group, home)
        found = self._options.get(key)
        if found is None:
            choices = self.member_choices if group == "members" else self.district_choices
            found = Markup("\n    ".join(  # noqa: S704 (code and name escaped)
                f'<option value="{escape(code)}"{" selected" if code == home else ""}>'
                f"{escape(place.name)}</option>"
                for code, place in choices
            ))  # fmt: skip
            if len(self._options) < 1_000:  # homes come from the directory or are ignored
                self._options[key] = found
        return found

    def point(self, home: str | None) -> tuple[float, float] | None:
        place = self.members.get(home or "") or self.districts.get(home or "")
        return (place.latitude, place.longitude) if place else None


DIRECTORY_TTL_S = 60.0


def load_directory(locale: str) -> Directory:
    """Return the members and districts a reader can choose and see named (cached briefly).

    Read on every results page; members change a few times a year, so each worker keeps the
    directory for DIRECTORY_TTL_S seconds instead of querying the database per request.
    """
    cache = current_app.extensions.setdefault("federation.directory", {})
    found = cache.get(locale)
    now = time.monotonic()
    if found is None or found[0] < now:
        found = cache[locale] = (now + DIRECTORY_TTL_S, read_directory(locale))
    return found[1]


def read_directory(locale: str) -> Directory:
    """Read the members and districts from the database."""
    directory = Directory(locale)
    spots: dict[str, list[Place]] = {}
    with get_db().session() as session:
        for m in list_members(session):
            place = Place(m.name(locale), m.latitude, m.longitude)
            directory.members[m.code] = place
            directory.regions[m.region_code] = m.region.name(locale)
            directory.member_regions[m.code] = m.region_code
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
