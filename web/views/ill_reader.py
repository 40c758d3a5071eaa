"""A reader's own ILL requests (/ill/mine): ask through the home library, follow, export."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from federation.policy import Permission
from federation.privacy import ReaderDataError, audit
from ill import queries, services
from ill import states as S
from ill.states import SERVICE_TYPES
from search.interfaces import SearchBackendError
from web import get_db
from web.identity import current_actor, requires
from web.ill import form_version, http_error, ill_ctx
from web.ill_labels import STATUS_LABELS, labels
from web.views.search import get_backend

bp = Blueprint("ill_reader", __name__)
EXPORT_COLUMNS = ("id", "title", "service_type", "status", "created_at", "due_at", "closed_at")


@bp.context_processor
def _labels():
    return labels()


@bp.get("/mine")
@requires(Permission.READER_SELF)
def mine():
    """The reader's requests, newest first."""
    with get_db().session() as session:
        rows = queries.reader_requests(session, current_actor())
        return render_template("ill/mine.html", requests=rows)


@bp.get("/mine/<int:request_id>")
@requires(Permission.READER_SELF)
def mine_detail(request_id: int):
    """One of the reader's requests and its progress (no lender internals)."""
    with get_db().session() as session:
        try:
            req = services.get_request(session, current_actor(), request_id)
        except services.NotFound:
            abort(404)
        return _detail(req, "")


def _detail(req, message: str) -> str:
    cancellable = S.CANCEL in queries.allowed_next(current_actor(), req)["actions"]
    return render_template(
        "ill/mine_detail.html", req=req, message=message, cancellable=cancellable
    )


@bp.post("/mine/<int:request_id>/cancel")
@requires(Permission.READER_SELF)
def cancel(request_id: int):
    """Withdraw one of the reader's requests (before the lender has shipped anything)."""
    form = request.form
    try:
        with get_db().session() as session:
            services.apply_requester_action(
                session,
                current_actor(),
                request_id,
                S.CANCEL,
                "cancelled by the reader",
                form_version(form.get("version", "")),
                ctx=ill_ctx(),
                commit=True,
            )
    except services.NotFound:
        abort(404)
    except (services.IllError, services.IllegalTransition) as exc:
        with get_db().session() as session:
            req = services.get_request(session, current_actor(), request_id)
            page = _detail(req, str(exc))
        return page, http_error(exc)[0]
    return redirect(url_for("ill_reader.mine_detail", request_id=request_id), 303)


@bp.get("/mine/export.csv")
@requires(Permission.READER_SELF)
def export():
    """Download the reader's requests as CSV (the export is audited)."""
    actor = current_actor()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    with get_db().session() as session:
        rows = queries.reader_requests(session, actor)
        for r in rows:
            writer.writerow(
                [_safe(getattr(r, c)) for c in EXPORT_COLUMNS[:3]]
                + [str(STATUS_LABELS.get(r.status, r.status))]
                + [_safe(getattr(r, c)) for c in EXPORT_COLUMNS[4:]]
            )
        audit(session, actor, "export", f"reader:{actor.user_id}", f"{len(rows)} ILL requests")
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="my-ill-requests.csv"',
            "Cache-Control": "no-store",
        },
    )


def _safe(value) -> str:
    """Return a CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@bp.get("/ask")
@requires(Permission.READER_SELF)
def ask_form():
    """Ask the home library to borrow a title from another member."""
    cluster_id = (request.args.get("cluster_id") or "")[:64]
    return _ask_page(cluster_id, "")


def _ask_page(cluster_id: str, message: str) -> str:
    return render_template(
        "ill/ask.html",
        cluster_id=cluster_id,
        title=_title_of(cluster_id),
        message=message,
        service_types=SERVICE_TYPES,
    )


def _title_of(cluster_id: str) -> str | None:
    """Return the title the reader is asking for (None: unknown, or no index to ask)."""
    if not cluster_id:
        return None
    try:
        doc = get_backend().get(cluster_id)
    except SearchBackendError:
        return None
    return (doc or {}).get("title") or None


@bp.post("/ask")
@requires(Permission.READER_SELF)
def ask():
    """Submit the request; the home library's staff approve it before it is sent."""
    actor = current_actor()
    form = request.form
    try:
        with get_db().session() as session:
            name, card = _reader_identity(session, actor)
            req = services.create_request(
                session,
                actor,
                ctx=ill_ctx(),
                idempotency_key=form.get("form_key") or None,
                cluster_id=form.get("cluster_id") or None,
                service_type=form.get("service_type", "Loan"),
                needed_by=form.get("needed_by") or None,
                pickup_location=form.get("pickup_location", ""),
                patron_name=name,
                patron_card=card,
                commit=True,
            )
            rid = req.id
    except services.IllError as exc:
        page = _ask_page((form.get("cluster_id") or "")[:64], str(exc))
        return page, http_error(exc)[0]
    return redirect(url_for("ill_reader.mine_detail", request_id=rid), 303)


def _reader_identity(session, actor) -> tuple[str | None, str | None]:
    """Return the reader's name and card from the account (the card is sealed there too)."""
    from federation.accounts.models import User

    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        return actor.name or None, None
    try:
        card = ill_ctx().cipher.open(user.card_sealed)
    except ReaderDataError:
        card = None
    return user.display_name or actor.name or None, card
