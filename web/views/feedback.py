"""Reader feedback: a small form linked from every page, and the list coordinators read.

The form asks for a category, a message and, if the reader wishes, a home library; never a
name or an e-mail address. Coordinators and alliance administrators (FEEDBACK_READ) list it,
filtered by period (month, quarter or year in the alliance's time zone) and member library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, select

from federation.models import ReaderFeedback
from federation.policy import Permission
from web import get_db
from web.i18n import select_locale
from web.identity import public, requires
from web.views.search import load_directory

bp = Blueprint("feedback", __name__)

MAX_MESSAGE = 2000
LIST_LIMIT = 200
CATEGORIES = {
    "search": _l("Searching the catalogue"),
    "record": _l("A record or its details"),
    "service": _l("A library's service"),
    "other": _l("Something else"),
}


class FeedbackSchema(Schema):
    """What a reader may send: a category, a message, a library code, the page they were on."""

    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    message = fields.String(required=True, validate=validate.Length(min=1, max=MAX_MESSAGE))
    member = fields.String(load_default="", validate=validate.Length(max=32))
    page = fields.String(load_default="", validate=validate.Length(max=300))


def _safe_page(path: str) -> str:
    """Keep the page the reader came from only if it is a path on this site."""
    return path if path.startswith("/") and not path.startswith("//") else ""


def _form_errors(form: dict[str, str], members: dict) -> dict[str, str]:
    """Return one readable message per field that must be fixed (empty when all is well)."""
    errors: dict[str, str] = {}
    try:
        FeedbackSchema().load(form)
    except ValidationError as exc:
        messages = {
            "category": _("Choose what your feedback is about."),
            "message": _("Write a message of 1 to %(max)d characters.", max=MAX_MESSAGE),
            "member": _("Choose a library from the list, or none."),
            "page": _("The page address is too long."),
        }
        errors = {name: messages[name] for name in exc.messages if name in messages}
    if form.get("member") and form["member"] not in members:
        errors["member"] = _("Choose a library from the list, or none.")
    return errors


@bp.get("/feedback")
@public
def form():
    """Show the feedback form."""
    directory = load_directory(select_locale())
    values = {"page": _safe_page(request.args.get("page", ""))[:300], "category": "", "message": ""}
    values["member"] = request.cookies.get("home", "")
    return render_template("feedback/form.html", values=values, errors={},
                           categories=CATEGORIES, directory=directory)  # fmt: skip


@bp.post("/feedback")
@public
def submit():
    """Store a reader's feedback; on a mistake show the form again with everything kept."""
    locale = select_locale()
    directory = load_directory(locale)
    values = {name: request.form.get(name, "") for name in ("category", "message", "member")}
    values["message"] = values["message"].strip()
    values["page"] = _safe_page(request.form.get("page", ""))[:300]
    errors = _form_errors(values, directory.members)
    if errors:
        return render_template("feedback/form.html", values=values, errors=errors,
                               categories=CATEGORIES, directory=directory), 400  # fmt: skip
    member = values["member"] or None
    with get_db().session() as session:
        session.add(
            ReaderFeedback(
                category=values["category"],
                message=values["message"],
                member_code=member,
                region_code=directory.member_regions.get(member or ""),
                page=values["page"],
                locale=locale,
            )
        )
    return render_template("feedback/thanks.html", page=values["page"])


# --- the coordinators' list -------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive


PERIOD_RE = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")


def parse_period(text: str, zone: ZoneInfo) -> Period | None:
    """Read "2026", "2026-11" or "2026-Q4" as a span in time zone ``zone``; else None."""
    match = PERIOD_RE.match(text.strip())
    if not match:
        return None
    year = int(match.group(1))
    if match.group(2):
        first, months = int(match.group(2)), 1
    elif match.group(3):
        first, months = (int(match.group(3)) - 1) * 3 + 1, 3
    else:
        first, months = 1, 12
    end_month = first + months
    start = datetime(year, first, 1, tzinfo=zone)
    end = datetime(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1, tzinfo=zone)
    return Period(text.strip(), start.astimezone(UTC), end.astimezone(UTC))


def _filtered(query, period: Period | None, member: str):
    if period is not None:
        query = query.where(
            ReaderFeedback.created_at >= period.start, ReaderFeedback.created_at < period.end
        )
    if member:
        query = query.where(ReaderFeedback.member_code == member)
    return query


@bp.get("/feedback/list")
@requires(Permission.FEEDBACK_READ)
def listing():
    """List reader feedback, newest first, filtered by period and member library."""
    directory = load_directory(select_locale())
    period_text = request.args.get("period", "").strip()
    member = request.args.get("member", "").strip()
    zone = alliance_zone()
    period = parse_period(period_text, zone) if period_text else None
    error = None
    if period_text and period is None:
        error = _("Write the period as a year (2026), a month (2026-11) or a quarter (2026-Q4).")
    elif member and member not in directory.members:
        error = _("Choose a library from the list.")
    rows, total = [], 0
    if error is None:
        with get_db().session() as session:
            base = _filtered(select(ReaderFeedback), period, member)
            total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
            newest = base.order_by(ReaderFeedback.created_at.desc(), ReaderFeedback.id.desc())
            rows = list(session.scalars(newest.limit(LIST_LIMIT)))
            session.expunge_all()
    page = render_template(
        "feedback/list.html",
        rows=rows,
        total=total,
        limit=LIST_LIMIT,
        period=period_text,
        member=member,
        error=error,
        directory=directory,
        categories=CATEGORIES,
        local_time=lambda moment: _local_time(moment, zone),
    )
    return page, 400 if error else 200


def alliance_zone() -> ZoneInfo:
    """Return the alliance's time zone (periods and times on screen are local)."""
    return ZoneInfo(current_app.extensions["federation.alliance"].time_zone)


def _local_time(moment: datetime, zone: ZoneInfo) -> str:
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; they were stored in UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
