"""Signing in and out, and a signed-in person's own account (change the password)."""

from __future__ import annotations

import logging

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from federation.accounts import AccountError, SignInThrottled, authenticate, set_password
from federation.accounts.models import User
from federation.accounts.passwords import verify_password
from federation.policy import Permission
from web import get_db
from web.i18n import _safe_next
from web.identity import current_actor, public, requires
from web.ratelimit import limit_blueprint
from web.security import end_session, start_session

log = logging.getLogger("federation.web.account")
bp = Blueprint("account", __name__)
limit_blueprint(bp, "account")


def role_label(role: str) -> str:
    """Name a role in the reader's language."""
    labels = {
        "reader": _("reader"),
        "ill_staff": _("ILL staff"),
        "member_admin": _("member administrator"),
        "coordinator": _("coordinator"),
        "alliance_admin": _("alliance administrator"),
    }
    return labels.get(role, role)


def account_message(exc: AccountError) -> str:
    """Say an account error in the reader's language (the English text when not translated)."""
    messages = {
        "password_short": _("a password needs at least %(n)d characters"),
        "password_long": _("a password may have at most %(n)d characters"),
        "password_is_name": _("a password must not be the user name"),
        "password_plain": _("a password needs at least %(n)d different characters"),
        "name_taken": _("the user name %(name)s is taken"),
        "name_format": _(
            "a user name has 2–64 characters: lower-case letters, digits, '.', '_' or '-'"
        ),
        "token_name": _("a token needs a name of 1–100 characters (what system uses it)"),
    }
    template = messages.get(getattr(exc, "code", ""))
    return template % exc.params if template else str(exc)


def _sign_in_page(message: str = "", status: int = 200, username: str = ""):
    page = render_template(
        "account/sign_in.html",
        message=message,
        username=username,
        next=_safe_next(request.values.get("next")),
    )
    return page, status


@bp.get("/sign-in")
@public
def sign_in_form():
    """Show the sign-in form."""
    return _sign_in_page()


@bp.post("/sign-in")
@public
def sign_in():
    """Check the user name and password; start a session or say why not."""
    username = request.form.get("username", "")[:64]
    password = request.form.get("password", "")
    address = request.remote_addr or "-"
    try:
        with get_db().session() as s:
            user = authenticate(s, username, password, address)
            user_id, epoch, change = user.id, user.session_epoch, user.must_change_password
    except SignInThrottled as exc:
        log.warning("sign-in throttled for %r from %s", username, address)
        page, _status = _sign_in_page(
            _(
                "Too many failed sign-ins; try again in %(minutes)d minutes.",
                minutes=exc.retry_after // 60 + 1,
            ),
            429,
            username,
        )
        return page, 429, {"Retry-After": str(exc.retry_after)}
    except AccountError:
        log.info("sign-in failed for %r from %s", username, address)
        return _sign_in_page(
            _("The user name or password is wrong, or the account is disabled."), 401, username
        )
    log.info("signed in: %r from %s", username, address)
    start_session(user_id, epoch)
    if change:
        return redirect(url_for("account.profile"))
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/sign-out")
@public
def sign_out():
    """End the session (harmless when nobody is signed in)."""
    end_session()
    return redirect(url_for("home.index"))


@bp.get("/account")
@requires(Permission.SIGNED_IN)
def profile():
    """Show who is signed in, and the form to change the password."""
    return _profile_page()


def _profile_page(message: str = "", ok: bool = False, status: int = 200):
    actor = current_actor()
    with get_db().session() as s:
        user = s.get(User, actor.user_id) if actor and actor.user_id else None
        must_change = bool(user and user.must_change_password)
    page = render_template(
        "account/profile.html",
        actor=actor,
        role_name=role_label(actor.role.value) if actor else "",
        must_change=must_change,
        message=message,
        ok=ok,
    )
    return page, status


@bp.post("/account/password")
@requires(Permission.SIGNED_IN)
def change_password():
    """Change one's own password: the current one, then the new one twice."""
    actor = current_actor()
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        return _profile_page(_("The two new passwords differ."), status=400)
    if actor is None or actor.user_id is None:
        return _profile_page(_("API tokens have no password."), status=400)
    with get_db().session() as s:
        user = s.get(User, actor.user_id)
        if not verify_password(user.password_hash, request.form.get("current_password", "")):
            return _profile_page(_("The current password is wrong."), status=400)
        try:
            set_password(s, user, new)
        except AccountError as exc:
            why = _("The new password is not accepted: %(why)s", why=account_message(exc))
            return _profile_page(why, status=400)
        epoch = user.session_epoch
    # Other sessions of this user end (their epoch is older); this browser stays signed in.
    start_session(actor.user_id, epoch)
    g.must_change_password = False
    return _profile_page(_("Your password has been changed."), ok=True)
