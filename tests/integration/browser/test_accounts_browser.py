"""Issue 9 in a real browser: sign in through the form, see who is signed in, add a colleague's
account, sign out; a wrong password says so; no page breaks the Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import DEMO_ALLIANCE
from tests.integration.browser.conftest import MISSING, browser_missing, serve_instance

if browser_missing():
    pytest.skip(MISSING, allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.browser]
PASSWORD = "browser test secret"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    """Serve the app with the demo alliance's members and one member administrator (no harvest)."""
    from federation.accounts import create_user
    from federation.alliance import load_alliance
    from federation.members import import_alliance

    def members_and_an_administrator(db, overrides) -> None:
        with db.session() as s:
            import_alliance(s, load_alliance(DEMO_ALLIANCE))
        with db.session() as s:
            create_user(s, "ytu-admin", PASSWORD, "member_admin", "ytu", "Liu Fang")
            long_name = "Yantai University interlibrary-loan and document delivery staff"
            create_user(s, "ytu-long", PASSWORD, "member_admin", "ytu", long_name)

    with serve_instance(tmp_path_factory, "accounts-browser", members_and_an_administrator) as url:
        yield url


@pytest.fixture
def page(browser, site) -> Iterator[Page]:
    """A fresh Chinese-preferring page that records every CSP refusal on the console."""
    context = browser.new_context(base_url=site, locale="zh-CN")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.csp_errors = []
    tab.on(
        "console",
        lambda m: tab.csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield tab
    context.close()


def _sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="登录").click()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_sign_in_add_a_colleague_and_sign_out(page: Page):
    _sign_in(page, "ytu-admin", PASSWORD)
    header = page.locator(".account-nav")
    expect(header).to_contain_text("Liu Fang")
    header.get_by_role("link", name="账户管理").click()
    expect(page.locator("h1")).to_have_text("账户管理")
    page.get_by_label("用户名").fill("ytu-zhang")
    page.get_by_label("向同事显示的姓名").fill("Zhang Min")
    page.get_by_label("角色").select_option("ill_staff")
    page.get_by_label("密码（至少 10 个字符）").fill("zhang's long secret")
    page.get_by_role("button", name="添加账户").click()
    expect(page.get_by_role("status")).to_have_text("账户 ytu-zhang 已创建。")
    expect(page.locator("table.data")).to_contain_text("Zhang Min")
    header.get_by_role("button", name="退出登录").click()
    expect(page.locator(".account-nav")).to_contain_text("登录")
    page.goto("/account")
    expect(page.locator("h1")).to_contain_text("401")
    _sign_in(page, "ytu-zhang", "zhang's long secret")
    expect(page.locator(".account-nav")).to_contain_text("Zhang Min")
    assert page.csp_errors == []


def test_a_wrong_password_is_told_and_nobody_is_signed_in(page: Page):
    _sign_in(page, "ytu-admin", "not the password")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误，或账户已停用。")
    expect(page.locator(".account-nav")).not_to_contain_text("Liu Fang")
    assert page.csp_errors == []


def test_on_a_phone_a_long_account_name_does_not_widen_the_page(browser, site):
    """ILL clerks read their queues on phones: the header wraps, nothing scrolls sideways."""
    context = browser.new_context(
        base_url=site, locale="zh-CN", viewport={"width": 360, "height": 740}, is_mobile=True
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    try:
        _sign_in(tab, "ytu-long", PASSWORD)
        expect(tab.locator(".account-nav")).to_contain_text("Yantai University")
        for path in ("/", "/account", "/search?q=x"):
            tab.goto(path)
            overflow = tab.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} is {overflow}px wider than the phone's screen"
    finally:
        context.close()
