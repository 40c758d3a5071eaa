"""Issue 5 in a real browser: a reader searches in Chinese and English, refines with facets,
pages, opens a record with holdings nearest first, switches language, exports a citation, and
does the whole search by keyboard alone. Also writes the README's screenshots."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.browser.conftest import MISSING, browser_missing

if browser_missing():
    pytest.skip(MISSING, allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
ZH_COUNT = re.compile(r"找到 (\d+) 种")
EN_COUNT = re.compile(r"(\d+) titles? found")


def _count(page: Page, pattern: re.Pattern) -> int:
    status = page.locator(".result-count")
    expect(status).to_have_text(pattern)
    return int(pattern.search(status.inner_text()).group(1))


def _english(page: Page, path: str) -> None:
    """Choose English with the language switch, landing on ``path``."""
    page.goto(f"/lang/en?next={quote(path)}")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def _search_from_home(page: Page, words: str) -> None:
    page.goto("/")
    page.get_by_role("searchbox").fill(words)
    page.get_by_role("searchbox").press("Enter")
    page.wait_for_url("**/search?*")


def test_chinese_search_from_the_home_page_highlights_the_title(page: Page):
    _search_from_home(page, "中国发展报告")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert _count(page, ZH_COUNT) >= 1
    expect(page.locator(".hit-title mark").first).to_have_text("中国发展报告")
    expect(page.get_by_role("heading", name="检索结果")).to_be_visible()


def test_english_search_lists_hits_in_english(page: Page):
    _english(page, "/search?q=history")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert _count(page, EN_COUNT) >= 1
    expect(page.locator(".hit-title a").first).to_contain_text(re.compile("history", re.I))
    expect(page.get_by_role("heading", name="Refine")).to_be_visible()


def test_a_facet_narrows_the_results_and_its_chip_removes_it(page: Page):
    _english(page, "/search?q=history")
    total = _count(page, EN_COUNT)
    page.locator('input[type=checkbox][value="member:ytu"]').check()
    page.get_by_role("button", name="Apply filters").click()
    chip = page.locator("a.chip", has_text="Library: Yantai University Library")
    expect(chip).to_be_visible()
    assert _count(page, EN_COUNT) <= total
    expect(page.locator('input[type=checkbox][value="member:ytu"]')).to_be_checked()
    chip.click()
    expect(page.locator("a.chip")).to_have_count(0)
    assert _count(page, EN_COUNT) == total
    expect(page.locator('input[type=checkbox][value="member:ytu"]')).not_to_be_checked()


def test_paging_to_page_two_shows_the_next_twenty(page: Page):
    _english(page, "/search?q=中国")
    assert _count(page, EN_COUNT) > 20
    first_page = page.locator(".hit-title a").all_inner_texts()
    page.get_by_role("navigation", name="Result pages").get_by_role("link", name="2").click()
    expect(page.locator('.pager [aria-current="page"]')).to_have_text("2")
    expect(page.locator("ol.hits")).to_have_attribute("start", "21")
    expect(page.locator(".pager a[rel=prev]")).to_be_visible()
    assert page.locator(".hit-title a").all_inner_texts() != first_page


def _open_first_record(page: Page, words: str) -> str:
    page.goto(f"/search?q={words}")
    link = page.locator(".hit-title a").first
    title = link.inner_text()
    link.click()
    page.wait_for_url("**/record/*")
    return title


def _distances(table) -> list[float]:
    cells = table.locator("tbody tr td:last-child").all_inner_texts()
    return [float(c.split()[0]) for c in cells if c.strip() != "—"]


def _open_record_held_by_several(page: Page) -> None:
    """Open the first hit (on a broad search) that more than one library holds."""
    page.goto("/search?q=经济")
    several = page.locator(".hit").filter(
        has=page.locator(".availability", has_text=re.compile(r"^\s*([2-9]|\d{2,}) 所图书馆"))
    )
    several.first.locator(".hit-title a").click()
    page.wait_for_url("**/record/*")


def test_record_page_lists_holdings_nearest_first_after_choosing_home(page: Page):
    _open_record_held_by_several(page)
    expect(page.get_by_text("选择您的常用图书馆")).to_be_visible()
    page.locator("#home-select").select_option("ytu")
    page.get_by_role("button", name="就近使用").click()
    expect(page.get_by_text("按与烟台大学图书馆的距离排序")).to_be_visible()
    expect(page.locator("#home-select")).to_have_value("ytu")
    tables = page.locator("table.holding-table")
    expect(tables.first).to_be_visible()
    per_table = [_distances(t) for t in tables.all()]
    assert sum(map(len, per_table)) >= 2, "the record should be held by several libraries"
    for distances in per_table:
        assert distances == sorted(distances)
    nearest = [d[0] for d in per_table if d]
    assert nearest == sorted(nearest)


def test_language_switch_goes_to_english_and_back(page: Page):
    page.goto("/search?q=海洋")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    zh_heading = page.locator("#results-title").inner_text()
    page.get_by_role("navigation", name="语言").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#results-title")).to_have_text("Search results")
    expect(page.locator("#q")).to_have_value("海洋")
    page.get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#results-title")).to_have_text(zh_heading)
    assert zh_heading != "Search results"


def test_ris_link_downloads_a_citation_with_the_title(page: Page):
    title = _open_first_record(page, "中国发展报告")
    with page.expect_download() as info:
        page.get_by_role("link", name="RIS").click()
    body = Path(info.value.path()).read_text(encoding="utf-8")
    assert body.startswith("TY  - ")
    assert title.split(":")[0].strip() in body
    assert info.value.suggested_filename.endswith(".ris")


def _tab_to(page: Page, selector: str, limit: int = 200) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_whole_results_page_works_by_keyboard_alone(page: Page):
    _english(page, "/search")
    _tab_to(page, "#q")
    page.keyboard.type("history")
    page.keyboard.press("Enter")
    total = _count(page, EN_COUNT)
    _tab_to(page, 'input[type=checkbox][name="f"]')
    checked = page.evaluate("document.activeElement.value")
    page.keyboard.press("Space")
    _tab_to(page, "button.apply")
    page.keyboard.press("Enter")
    expect(page.locator("a.chip")).to_have_count(1)
    expect(page.locator(f'input[type=checkbox][value="{checked}"]')).to_be_checked()
    assert _count(page, EN_COUNT) <= total
    _tab_to(page, ".hit-title a")
    title = page.evaluate("document.activeElement.textContent").strip()
    page.keyboard.press("Enter")
    page.wait_for_url("**/record/*")
    expect(page.locator("#record-title")).to_contain_text(title)


def test_screenshots_of_home_results_and_record(page: Page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, name in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/")
        expect(page.locator("#intro-title")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / f"home-{name}.png", full_page=True)
        page.goto("/search?q=中国发展报告")
        expect(page.locator(".hit").first).to_be_visible()
        page.screenshot(path=SCREENSHOTS / f"results-{name}.png", full_page=True)
        _open_record_held_by_several(page)
        page.goto(page.url + "?home=ytu")
        expect(page.locator("table.holding-table").first).to_be_visible()
        page.screenshot(path=SCREENSHOTS / f"record-{name}.png", full_page=True)
        for kind in ("home", "results", "record"):
            assert (SCREENSHOTS / f"{kind}-{name}.png").stat().st_size > 10_000


def test_a_misspelt_search_offers_the_right_spelling(page: Page):
    _english(page, "/search?q=histroy")
    suggestion = page.locator(".suggestion a")
    expect(suggestion).to_have_text("history")
    suggestion.click()
    assert _count(page, EN_COUNT) >= 1
    expect(page.locator("#q")).to_have_value("history")


def test_feedback_from_the_footer_and_back_to_the_search(page: Page):
    _english(page, "/search?q=history")
    page.get_by_role("contentinfo").get_by_role("link", name="Feedback").click()
    expect(page.get_by_role("heading", name="Tell us what could be better")).to_be_visible()
    page.get_by_label("What is it about?").select_option("service")
    page.get_by_label("Your message").fill("Please open on Sunday mornings.")
    page.get_by_label("Your library (optional)").select_option("ytlib")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    page.get_by_role("link", name="Back to the page you were on").click()
    page.wait_for_url("**/search?q=history*")
    expect(page.locator("#q")).to_have_value("history")


def test_home_results_and_record_load_without_a_failed_request_or_console_error(page: Page):
    """What a reader's browser fetches on its own (the tab icon, styles) all arrives, and no
    page logs an error (a Content-Security-Policy refusal would)."""
    failures: list[str] = []
    page.on("response", lambda r: r.status >= 400 and failures.append(f"{r.status} {r.url}"))
    page.on("console", lambda m: m.type == "error" and failures.append(m.text))
    page.goto("/")
    expect(page.locator("link[rel=icon]")).to_have_count(1)
    page.goto("/search?q=中国发展报告")
    expect(page.locator(".hit").first).to_be_visible()
    _open_record_held_by_several(page)
    page.wait_for_load_state("networkidle")
    assert failures == []
