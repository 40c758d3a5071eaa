"""Templates' _(): translated in the request's language, escaped, formatted as Jinja's own."""

from __future__ import annotations

from markupsafe import Markup


def _render(app, source: str, lang: str) -> str:
    with app.test_request_context(f"/?lang={lang}"):
        return app.jinja_env.from_string(source).render()


def test_translated_per_request_language_and_kept_apart(app):
    for _ in range(2):  # the second time from the kept text
        assert _render(app, '{{ _("Search") }}', "en") == "Search"
        assert _render(app, '{{ _("Search") }}', "zh_CN") == "检索"
        assert _render(app, '{{ gettext("Search") }}', "zh_CN") == "检索"


def test_variables_are_escaped_and_percent_reads_the_same_either_way(app):
    html = _render(app, '{{ _("Search for any of the words: %(q)s", q="<b>x</b>") }}', "en")
    assert html == "Search for any of the words: &lt;b&gt;x&lt;/b&gt;"
    for _ in range(2):
        assert _render(app, '{{ _("100%% <i>sure</i>") }}', "en") == "100% <i>sure</i>"
    assert (
        _render(app, '{{ _("%(n)s%% of <i>it</i>", n="<5>") }}', "en") == "&lt;5&gt;% of <i>it</i>"
    )


def test_without_autoescape_the_text_is_plain(app):
    with app.test_request_context("/?lang=en"):
        template = app.jinja_env.from_string(
            '{% autoescape false %}{{ _("a %(v)s", v="<b>") }}{% endautoescape %}'
        )
        html = template.render()
        assert html == "a <b>" and not isinstance(html, Markup)
