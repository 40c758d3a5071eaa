"""Staff ILL screens (/ill): incoming and outgoing queues, request detail with timeline and rota,
one-click actions, the reader's identity on demand, pick list, shipping slip, notices.

Every view declares its permission; a request of another member answers 404 (the services
decide). Forms post the version the page showed: a change made meanwhile is a clear conflict.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from federation.policy import Permission
from ill import queries, services
from ill.context import as_utc
from ill.models import IllNotification
from ill.states import SERVICE_LEVELS, SERVICE_TYPES, STATUSES
from web import get_db
from web.identity import current_actor, requires
from web.ill import form_version, http_error, ill_ctx
from web.ill_labels import labels

bp = Blueprint("ill", __name__)


@bp.app_template_filter("ill_time")
def ill_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a stored (UTC) time in the alliance's time zone."""
    if value is None:
        return ""
    tz = ZoneInfo(current_app.extensions["federation.alliance"].time_zone)
    return as_utc(value).astimezone(tz).strftime(fmt)


@bp.context_processor
def _labels():
    return labels()


@bp.get("/")
@requires(Permission.ILL_READ)
def index():
    """Start at the library's outgoing queue."""
    return redirect(url_for("ill.outgoing"))


def _queue_page(side: str):
    status = request.args.get("status") or None
    if status not in STATUSES:
        status = None
    q = (request.args.get("q") or "")[:200]
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) <= 10000 else 1
    actor = current_actor()
    with get_db().session() as session:
        found = queries.queue(session, actor, side, status=status, q=q, page=page)
        unread = queries.unread_count(session, actor)
        return render_template(
            "ill/queue.html", side=side, queue=found, status=status, q=q, unread=unread
        )


@bp.get("/outgoing")
@requires(Permission.ILL_READ)
def outgoing():
    """Requests the library placed for its readers."""
    return _queue_page("outgoing")


@bp.get("/incoming")
@requires(Permission.ILL_READ)
def incoming():
    """Requests other libraries asked this library to supply."""
    return _queue_page("incoming")


@bp.get("/new")
@requires(Permission.ILL_ACT)
def new():
    """The form to place a request (for a catalogue title, or a citation)."""
    return render_template(
        "ill/new.html",
        values=request.args,
        message="",
        service_types=SERVICE_TYPES,
        service_levels=SERVICE_LEVELS,
    )


def _form_fields() -> dict:
    form = request.form
    fields = {
        "service_type": form.get("service_type", "Loan"),
        "service_level": form.get("service_level", "Normal"),
        "needed_by": form.get("needed_by") or None,
        "max_cost": form.get("max_cost") or None,
        "pickup_location": form.get("pickup_location", ""),
        "patron_name": form.get("patron_name") or None,
        "patron_card": form.get("patron_card") or None,
        "note": form.get("note", ""),
        "use_local": form.get("use_local", "1") == "1",
    }
    if form.get("cluster_id"):
        fields["cluster_id"] = form["cluster_id"].strip()
    else:
        keys = ("title", "author", "article_title", "journal", "volume", "issue", "pages", "year")
        fields["citation"] = (
            {k: form.get(k, "").strip() for k in keys} if form.get("title") else None
        )
    return fields


@bp.post("/new")
@requires(Permission.ILL_ACT)
def create():
    """Place the request; on a mistake show the form again with the one-line reason."""
    try:
        with get_db().session() as session:
            req = services.create_request(
                session,
                current_actor(),
                ctx=ill_ctx(),
                idempotency_key=request.form.get("form_key") or None,
                commit=True,
                **_form_fields(),
            )
            rid = req.id
    except services.IllError as exc:
        page = render_template(
            "ill/new.html",
            values=request.form,
            message=str(exc),
            service_types=SERVICE_TYPES,
            service_levels=SERVICE_LEVELS,
        )
        return page, http_error(exc)[0]
    return redirect(url_for("ill.detail", request_id=rid), 303)


def _detail_page(request_id: int, message: str = "", status: int = 200, patron=None):
    actor = current_actor()
    with get_db().session() as session:
        try:
            req = services.get_request(session, actor, request_id)
        except services.NotFound:
            abort(404)
        if actor.role.value == "reader":
            abort(404)  # readers have their own page
        page = render_template(
            "ill/detail.html",
            req=req,
            allowed=queries.allowed_next(actor, req),
            borrower_view=actor.member_code == req.borrower_code,
            message=message,
            patron=patron,
        )
        return page, status


@bp.get("/requests/<int:request_id>")
@requires(Permission.ILL_READ)
def detail(request_id: int):
    """One request: what, for whom (on demand), where it is, its timeline and its rota."""
    return _detail_page(request_id)


def _version() -> int | None:
    return form_version(request.form.get("version", ""))


def _act(request_id: int, change) -> object:
    try:
        with get_db().session() as session:
            change(session)
    except services.NotFound:
        abort(404)
    except (services.IllError, services.IllegalTransition) as exc:
        return _detail_page(request_id, str(exc), http_error(exc)[0])
    return redirect(url_for("ill.detail", request_id=request_id), 303)


@bp.post("/requests/<int:request_id>/status")
@requires(Permission.ILL_ACT)
def supplier_status(request_id: int):
    """The lender's one-click answer."""
    status, message = request.form.get("status", ""), request.form.get("message", "")[:2000]
    return _act(
        request_id,
        lambda s: services.apply_supplier_status(
            s, current_actor(), request_id, status, message, _version(), ctx=ill_ctx(), commit=True
        ),
    )


@bp.post("/requests/<int:request_id>/action")
@requires(Permission.ILL_ACT)
def requester_action(request_id: int):
    """The borrower's one-click action."""
    action, message = request.form.get("action", ""), request.form.get("message", "")[:2000]
    return _act(
        request_id,
        lambda s: services.apply_requester_action(
            s, current_actor(), request_id, action, message, _version(), ctx=ill_ctx(), commit=True
        ),
    )


@bp.post("/requests/<int:request_id>/patron")
@requires(Permission.READER_DATA)
def patron(request_id: int):
    """Show the reader's name and card on the borrower's page (each showing audited)."""
    try:
        with get_db().session() as session:
            data = services.open_patron(session, current_actor(), request_id, ctx=ill_ctx())
    except services.NotFound:
        abort(404)
    page, status = _detail_page(request_id, patron=data)
    return page, status, {"Cache-Control": "no-store"}


@bp.get("/requests/<int:request_id>/slip")
@requires(Permission.ILL_READ)
def slip(request_id: int):
    """A printable shipping slip: from the lender to the borrower (no reader data)."""
    alliance = current_app.extensions["federation.alliance"]
    with get_db().session() as session:
        try:
            req = services.get_request(session, current_actor(), request_id)
        except services.NotFound:
            abort(404)
        if not req.lender_code or current_actor().role.value == "reader":
            abort(404)
        return render_template(
            "ill/slip.html",
            req=req,
            lender=alliance.member(req.lender_code),
            borrower=alliance.member(req.borrower_code),
        )


@bp.get("/picklist")
@requires(Permission.ILL_READ)
def picklist():
    """Requests to take from the shelves, with locations and call numbers (printable)."""
    with get_db().session() as session:
        lines = queries.pick_list(session, current_actor())
        return render_template("ill/picklist.html", lines=lines)


@bp.get("/notifications")
@requires(Permission.ILL_READ)
def notifications():
    """The library's latest ILL notices."""
    with get_db().session() as session:
        notes = queries.notifications(session, current_actor())
        return render_template("ill/notifications.html", notes=notes)


@bp.post("/notifications/read")
@requires(Permission.ILL_ACT)
def mark_read():
    """Mark every notice of the library as read."""
    from sqlalchemy import update

    actor = current_actor()
    with get_db().session() as session:
        session.execute(
            update(IllNotification)
            .where(
                IllNotification.member_code == actor.member_code, IllNotification.read_at.is_(None)
            )
            .values(read_at=ill_ctx().now())
        )
    return redirect(url_for("ill.notifications"), 303)
