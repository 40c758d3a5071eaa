"""Bilingual interface: zh-CN first, English; the reader's choice is kept in a cookie."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, redirect, request
from flask_babel import Babel

from web.identity import public

LOCALES = ("zh_CN", "en")
COOKIE = "lang"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """Pick the reader's language: ?lang=, then the cookie, then the browser, then the default."""
    for candidate in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if candidate in LOCALES:
            return candidate
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best:
        return "en" if best == "en" else "zh_CN"
    return current_app.config["FEDERATION_DEFAULT_LOCALE"]


def _safe_next(target: str | None) -> str:
    """Allow only a path on this site as the place to go back to (no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@bp.get("/lang/<code>")
@public
def switch(code: str):
    """Remember the chosen language and go back to the page the reader was on."""
    response = redirect(_safe_next(request.args.get("next")))
    if code in LOCALES:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def init_app(app: Flask) -> None:
    """Attach Flask-Babel and the language switch."""
    Babel(app, locale_selector=select_locale, default_timezone="Asia/Shanghai")
    app.register_blueprint(bp)

    @app.context_processor
    def _locale_context():
        locale = select_locale()
        other = "en" if locale == "zh_CN" else "zh_CN"
        return {"locale": locale, "other_locale": other, "html_lang": locale.replace("_", "-")}
