"""Issue 8 in a real browser: a coordinator signs in, reads the demo alliance's service-gap
report, filters it, switches language, and downloads the PDF, whose pages are rendered and
checked not blank. No Content-Security-Policy refusals. Writes docs/screenshots/reports-*.png."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from tests.conftest import DEMO_ALLIANCE, REPO_ROOT
from tests.integration.browser.conftest import MISSING, browser_missing, serve_instance

if browser_missing():
    pytest.skip(MISSING, allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
COORDINATOR = "coordinator-demo"


@pytest.fixture(scope="module")
def report_site(tmp_path_factory) -> Iterator[str]:
    """Serve the harvested demo alliance with simulated activity and a coordinator's account."""
    from federation.alliance import load_alliance
    from federation.roles import Role
    from tests.integration.reports_demo import demo_months, harvest_demo, simulate_activity
    from tests.support.accounts import make_user

    def harvest_and_simulate(db, overrides) -> None:
        harvest_demo(db, overrides)
        simulate_activity(db, load_alliance(DEMO_ALLIANCE), demo_months())

    def coordinator(app) -> None:
        make_user(app, Role.COORDINATOR, username=COORDINATOR)

    with serve_instance(tmp_path_factory, "reports", harvest_and_simulate, coordinator) as url:
        yield url


@pytest.fixture(scope="module")
def signed_in(browser, report_site, tmp_path_factory) -> str:
    """Sign in as the coordinator through the real form; return the saved browser state."""
    from tests.support.accounts import PASSWORD

    context = browser.new_context(base_url=report_site, locale="zh-CN")
    tab = context.new_page()
    tab.goto("/sign-in")
    tab.get_by_label("用户名").fill(COORDINATOR)
    tab.get_by_label("密码").fill(PASSWORD)
    tab.get_by_role("button", name="登录").click()
    expect(tab.locator(".account-nav")).to_be_visible()
    state = str(tmp_path_factory.mktemp("state") / "coordinator.json")
    context.storage_state(path=state)
    context.close()
    return state


def _open(browser, report_site, signed_in, **options):
    context = browser.new_context(base_url=report_site, storage_state=signed_in, **options)
    context.set_default_timeout(20_000)
    tab = context.new_page()
    tab.csp_errors = []
    tab.on(
        "console",
        lambda m: tab.csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return context, tab


@pytest.fixture
def page(browser, report_site, signed_in):
    context, tab = _open(
        browser, report_site, signed_in, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    yield tab
    assert tab.csp_errors == []
    context.close()


def test_the_report_leads_with_three_gaps_and_draws_the_district_map(page: Page):
    page.goto("/reports/gaps?period=2026")
    expect(page.get_by_role("heading", name="服务差距报告 · 2026")).to_be_visible()
    gaps = page.locator(".largest-gaps li")
    expect(gaps).to_have_count(3)
    # the two rural counties without a member library come first
    expect(gaps.nth(0)).to_contain_text("没有成员馆")
    expect(gaps.nth(1)).to_contain_text("没有成员馆")
    districts = page.locator("svg.district-map g.district")
    expect(districts).to_have_count(8)
    expect(page.locator("svg.district-map")).to_contain_text("示意图形，非实测边界")
    expect(page.locator(".notice.simulated")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "reports-desktop.png"))


def test_filters_by_district_and_library_type(page: Page):
    page.goto("/reports/gaps?period=2026")
    page.get_by_label("区县", exact=True).select_option(label="牟平区")
    page.get_by_label("图书馆类型", exact=True).select_option(label="公共图书馆")
    page.get_by_role("button", name="显示").click()
    page.wait_for_url("**district=muping**")
    rows = page.locator("#table-ill tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("牟平区")
    expect(page.locator("#table-types thead")).not_to_contain_text("高校馆")


def test_in_english_on_a_phone(browser, report_site, signed_in):
    context, tab = _open(
        browser,
        report_site,
        signed_in,
        locale="en-GB",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
    )
    tab.goto("/lang/en?next=/reports/gaps%3Fperiod%3D2026")
    expect(tab.locator(".largest-gaps li").first).to_contain_text("no member library for")
    expect(tab.locator("svg.district-map")).to_contain_text("Schematic shapes, not surveyed")
    tab.screenshot(path=str(SCREENSHOTS / "reports-phone.png"))
    context.close()


def test_signed_out_the_report_is_refused(browser, report_site):
    context = browser.new_context(base_url=report_site, locale="zh-CN")
    response = context.new_page().goto("/reports/gaps?period=2026")
    assert response.status == 401 or "/sign-in" in response.url
    context.close()


def test_the_print_layout_has_no_csp_refusals(page: Page):
    page.goto("/reports/gaps?period=2026&print=1")
    expect(page.locator(".largest-gaps li")).to_have_count(3)
    expect(page.locator(".report-filters")).to_have_count(0)


def test_a_period_without_data_says_so(page: Page):
    page.goto("/reports/gaps?period=2019")
    expect(page.locator(".notice.no-data")).to_contain_text("本期没有数据")


def test_the_pdf_has_pages_that_are_not_blank(page: Page):
    import pypdfium2

    # a generous wait, not a timing check: WeasyPrint lays out ~10 pages on a shared machine
    response = page.request.get("/reports/gaps.pdf?period=2026", timeout=180_000)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = pypdfium2.PdfDocument(io.BytesIO(response.body()))
    assert len(pdf) >= 3
    for number in range(len(pdf)):
        image = pdf[number].render(scale=0.5).to_pil().convert("L")
        inked = sum(image.histogram()[:200])  # pixels darker than light grey
        assert inked / (image.width * image.height) > 0.005, f"page {number + 1} is blank"
    text = pdf[0].get_textpage().get_text_range()
    assert "服务差距报告" in text and "没有成员馆" in text
