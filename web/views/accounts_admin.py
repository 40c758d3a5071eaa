"""Account and API-token pages: alliance administrators manage every account, a member's
administrator its own member's staff, readers and tokens. Secrets are shown once."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from federation.accounts import (
    AccountError,
    create_token,
    create_user,
    disable_user,
    enable_user,
    find_token,
    list_tokens,
    list_users,
    reset_password,
    revoke_token,
)
from federation.accounts.manage import may_manage, roles_creatable, scope_of
from federation.accounts.models import User
from federation.models import Member
from federation.policy import Permission
from federation.privacy import audit, cipher_from_settings
from federation.roles import MEMBER_SCOPED, Role
from web import get_db
from web.i18n import select_locale
from web.identity import current_actor, requires
from web.views.account import account_message, role_label

bp = Blueprint("accounts_admin", __name__)


def _members(session, actor) -> list[tuple[str, str]]:
    scope = scope_of(actor)
    query = select(Member).where(Member.active.is_(True)).order_by(Member.code)
    if scope is not None:
        query = query.where(Member.code == scope)
    locale = select_locale()
    return [(m.code, m.name(locale)) for m in session.scalars(query)]


def _accounts_page(message: str = "", secret: str = "", status: int = 200, error: bool = False):
    actor = current_actor()
    with get_db().session() as s:
        users = list_users(s, scope_of(actor))
        members = _members(s, actor)
    page = render_template(
        "admin/accounts.html",
        users=users,
        members=members,
        roles=[(r.value, role_label(r.value)) for r in roles_creatable(actor)],
        role_label=role_label,
        message=message,
        secret=secret,
        error=error,
    )
    return page, status


@bp.get("/accounts")
@requires(Permission.MANAGE_ACCOUNTS)
def accounts():
    """List the accounts this administrator manages, with the form to add one."""
    return _accounts_page()


def _new_account_values(actor) -> tuple[str, str | None]:
    role = request.form.get("role", "")
    if role not in {r.value for r in roles_creatable(actor)}:
        raise AccountError(_("You may not create accounts with that role."))
    member = request.form.get("member_code") or None
    if Role(role) not in MEMBER_SCOPED:
        member = None
    elif not may_manage(actor, member):
        raise AccountError(_("You may only create accounts of your own library."))
    return role, member


@bp.post("/accounts")
@requires(Permission.MANAGE_ACCOUNTS)
def create_account():
    """Create an account with a password set by the administrator."""
    actor = current_actor()
    try:
        role, member = _new_account_values(actor)
        card = request.form.get("card_number", "").strip()[:64] if role == "reader" else ""
        sealed = cipher_from_settings(current_app.extensions["federation.settings"]).seal(card)
        with get_db().session() as s:
            user = create_user(
                s,
                request.form.get("username", ""),
                request.form.get("password", ""),
                role,
                member,
                display_name=request.form.get("display_name", ""),
                card_sealed=sealed or None,
                created_by=actor.label,
            )
            if card:
                audit(s, actor, "change", f"user:{user.id}", "reader card number recorded")
            name = user.username
    except AccountError as exc:
        return _accounts_page(account_message(exc), status=400, error=True)
    return _accounts_page(_("Account %(name)s created.", name=name))


def _audit_reader(session, user: User, detail: str) -> None:
    """Log changes to a reader's account: reader data is audited, staff accounts are not."""
    if user.role == Role.READER.value:
        audit(session, current_actor(), "change", f"user:{user.id}", detail)


def _managed_user(session, user_id: int) -> User:
    """Return the account if this administrator manages it; 404 otherwise (not even its id)."""
    user = session.get(User, user_id)
    actor = current_actor()
    if user is None or not may_manage(actor, user.member_code):
        abort(404)
    if user.id == actor.user_id:
        abort(400, description=_("Use your own account page to change your own password."))
    return user


@bp.post("/accounts/<int:user_id>/reset-password")
@requires(Permission.MANAGE_ACCOUNTS)
def reset_account_password(user_id: int):
    """Give an account a one-time password, shown once, to be changed at next sign-in."""
    with get_db().session() as s:
        user = _managed_user(s, user_id)
        temporary = reset_password(s, user)
        _audit_reader(s, user, "password reset by an administrator")
        name = user.username
    message = _("New one-time password for %(name)s (shown only now):", name=name)
    return _accounts_page(message, secret=temporary)


@bp.post("/accounts/<int:user_id>/disable")
@requires(Permission.MANAGE_ACCOUNTS)
def disable_account(user_id: int):
    """Disable an account: it cannot sign in and its sessions end."""
    with get_db().session() as s:
        user = _managed_user(s, user_id)
        disable_user(s, user)
        _audit_reader(s, user, "account disabled")
        name = user.username
    return _accounts_page(_("Account %(name)s disabled.", name=name))


@bp.post("/accounts/<int:user_id>/enable")
@requires(Permission.MANAGE_ACCOUNTS)
def enable_account(user_id: int):
    """Let a disabled account sign in again."""
    with get_db().session() as s:
        user = _managed_user(s, user_id)
        enable_user(s, user)
        _audit_reader(s, user, "account enabled")
        name = user.username
    return _accounts_page(_("Account %(name)s enabled.", name=name))


def _tokens_page(message: str = "", secret: str = "", status: int = 200, error: bool = False):
    actor = current_actor()
    with get_db().session() as s:
        tokens = list_tokens(s, scope_of(actor))
        members = _members(s, actor)
    page = render_template(
        "admin/tokens.html",
        tokens=tokens,
        members=members,
        message=message,
        secret=secret,
        error=error,
    )
    return page, status


@bp.get("/tokens")
@requires(Permission.MANAGE_ACCOUNTS)
def tokens():
    """List the API tokens of the members this administrator manages."""
    return _tokens_page()


@bp.post("/tokens")
@requires(Permission.MANAGE_ACCOUNTS)
def create_api_token():
    """Create a token for a member system and show it once."""
    actor = current_actor()
    member = request.form.get("member_code", "")
    if not may_manage(actor, member):
        return _tokens_page(_("You may only create tokens for your own library."), "", 400, True)
    try:
        with get_db().session() as s:
            issued = create_token(
                s,
                member,
                request.form.get("name", ""),
                request.form.get("scope", ""),
                created_by=actor.label,
            )
    except AccountError as exc:
        return _tokens_page(account_message(exc), status=400, error=True)
    message = _("Token for %(name)s created. Copy it now: it is shown only once.", name=issued.name)
    return _tokens_page(message, secret=issued.secret)


@bp.post("/tokens/<int:token_id>/revoke")
@requires(Permission.MANAGE_ACCOUNTS)
def revoke_api_token(token_id: int):
    """Revoke a token: the member system's next call is refused."""
    with get_db().session() as s:
        token = find_token(s, token_id)
        if token is None or not may_manage(current_actor(), token.member_code):
            abort(404)
        revoke_token(s, token)
        name = token.name
    return _tokens_page(_("Token %(name)s revoked.", name=name))
