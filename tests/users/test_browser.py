"""In a real browser (Debian's Chromium through Playwright): register, confirm, sign in, sign out; blocking."""

import contextlib
from pathlib import Path

import pytest

from core.testing import live_server, require
from core.users.testing import FAST_HASHING, PASSWORD, latest_code, make_user

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@contextlib.asynccontextmanager
async def chromium():
    require("chromium", HAVE_CHROMIUM)
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def site(make_platform):
    platform = await make_platform(settings=FAST_HASHING)
    async with live_server(platform) as base_url:
        yield platform, base_url


async def sign_in(page, base_url, login, password=PASSWORD):
    await page.goto(f"{base_url}/login")
    await page.get_by_label("E-mail or phone").fill(login)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def test_register_confirm_sign_in_see_zero_and_sign_out(site):
    platform, base_url = site
    async with chromium() as browser:
        page = await (await browser.new_context(locale="en-US")).new_page()
        await page.goto(f"{base_url}/")
        await page.get_by_role("link", name="Register").first.click()
        await page.get_by_label("E-mail or phone").fill("browser.user@example.com")
        await page.get_by_label("Your name").fill("Browser User")
        await page.get_by_label("Password", exact=True).fill(PASSWORD)
        await page.get_by_label("Password again").fill(PASSWORD)
        await page.get_by_role("button", name="Register").click()
        await page.wait_for_url("**/register/confirm?challenge=*")
        code = await latest_code(platform, "browser.user@example.com")
        await page.get_by_label("Code").fill(code)
        await page.get_by_role("button", name="Confirm").click()
        await page.wait_for_url("**/login?done=registered")
        assert "Your account is confirmed" in await page.locator("main").inner_text()
        await sign_in(page, base_url, "browser.user@example.com")
        await page.wait_for_url(f"{base_url}/account")
        balance = page.locator('[data-testid="balances"] .amount').first
        assert "0.00" in await balance.inner_text()
        # On a small phone (WCAG 1.4.10 reflow, 320 CSS px) nothing makes the page scroll sideways.
        await page.set_viewport_size({"width": 320, "height": 640})
        for path in ("/account/security", "/account/profile", "/notifications", "/account"):
            await page.goto(f"{base_url}{path}")
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (path, overflow)
        await page.get_by_role("button", name="Sign out").click()
        await page.wait_for_url("**/login?done=signed_out")
        await page.goto(f"{base_url}/account")
        assert "/login" in page.url, "signed out for real: the account page asks to sign in"


async def test_an_admin_blocks_a_user_who_then_cannot_sign_in(site):
    platform, base_url = site
    admin = await make_user(platform, "browser.admin@example.com", roles=("customer", "admin"))
    victim = await make_user(platform, "browser.victim@example.com", display_name="Victim")
    async with chromium() as browser:
        as_admin = await (await browser.new_context(locale="en-US")).new_page()
        await sign_in(as_admin, base_url, admin.login)
        await as_admin.wait_for_url(f"{base_url}/account")
        await as_admin.goto(f"{base_url}/admin/users?q=browser.victim")
        await as_admin.get_by_role("link", name="Victim").click()
        await as_admin.get_by_label("Reason for blocking").fill("suspicious activity")
        await as_admin.get_by_role("button", name="Block").click()
        await as_admin.wait_for_url("**done=blocked")
        assert "blocked" in (await as_admin.locator("h1").inner_text()).lower()

        as_victim = await (await browser.new_context(locale="en-US")).new_page()
        await sign_in(as_victim, base_url, victim.login)
        error = as_victim.get_by_role("alert")
        assert "blocked" in await error.inner_text()
        assert "/login" in as_victim.url
