"""Bilingual interface: zh-CN first, English; the reader's choice is kept in a cookie."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from babel import Locale
from flask import Blueprint, Flask, current_app, g, redirect, request
from flask_babel import Babel, get_locale, get_translations
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

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


_BABEL_LOCALES = {code: Locale.parse(code) for code in LOCALES}


def _babel_locale() -> Locale:
    """Return the reader's language as a parsed Locale (Flask-Babel parses a string anew on
    every request, reading Babel's list of locales each time)."""
    code = select_locale()
    return _BABEL_LOCALES.get(code) or Locale.parse(code)


def _remember_lang_argument(response):
    """Keep a language chosen with ?lang= for the next pages too (forms, links without it)."""
    chosen = request.args.get("lang")
    if chosen in LOCALES and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


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
    Babel(app, locale_selector=_babel_locale, default_timezone="Asia/Shanghai")
    _install_request_translations(app)
    app.register_blueprint(bp)
    app.after_request(_remember_lang_argument)

    @app.context_processor
    def _locale_context():
        locale = select_locale()
        other = "en" if locale == "zh_CN" else "zh_CN"
        return {"locale": locale, "other_locale": other, "html_lang": locale.replace("_", "-")}


def request_translations():
    """Return this request's translations, looked up once per request and kept on ``g``."""
    found = g.get("_translations")
    if found is None:
        found = g._translations = get_translations()
    return found


def _install_request_translations(app: Flask) -> None:
    """Make templates' _() use :func:`request_translations`.

    Flask-Babel's own callables resolve the locale and domain again for every string; a
    results page has some forty strings, and that lookup was a measurable share of its time.
    """
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
    )
    # _() and gettext() without Jinja's two extra layers of context calls, and with the
    # escaped text of a string without variables kept per catalogue: a results page calls
    # _() some thirty-five times, each a Markup built and %-formatted anew.
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"] = template_gettext


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
    """Jinja's new-style gettext (translated, escaped when autoescaping, always %-formatted
    so ``%%`` reads the same with or without variables) in this request's language."""
    translations = request_translations()
    if not eval_ctx.autoescape:
        return translations.ugettext(string) % variables
    if variables:
        return Markup(translations.ugettext(string)) % variables  # noqa: S704 (our catalogue)
    kept = translations.__dict__.get("_federation_template_text")
    if kept is None:
        kept = translations.__dict__["_federation_template_text"] = {}
    found = kept.get(string)
    if found is None:
        found = kept[string] = Markup(translations.ugettext(string)) % {}  # noqa: S704
    return found


def gettext(string: str, **variables: Any) -> str:
    """Translate ``string`` with this request's translations (looked up once per request)."""
    text = request_translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Translate a message with a plural form; ``%(num)d`` is the number."""
    variables.setdefault("num", num)
    return request_translations().ungettext(singular, plural, num) % variables


_LABELS: dict[tuple[int, str], dict[str, str]] = {}


def translated_labels(table: Mapping[str, Any]) -> dict[str, str]:
    """Return a table of (lazily translated) labels as text in this request's language.

    Kept per language: a lazy label looks the locale and catalogue up each time it is shown,
    and a results page shows some forty of them.
    """
    key = (id(table), str(get_locale()))
    found = _LABELS.get(key)
    if found is None:
        found = _LABELS[key] = {name: str(label) for name, label in table.items()}
    return found
