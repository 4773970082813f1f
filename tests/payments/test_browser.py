"""A customer tops up in Chromium through each provider's emulated page, as in the demo.

The platform runs with ``sandbox = true``: the emulators are mounted in its own app under
``/sandbox/<provider>``, the gateways talk to them over HTTP, callbacks come back over HTTP.
"""

from pathlib import Path

import pytest

from core.sandbox import LoopbackServer
from core.testing import as_identity, free_port, make_identity, require
from plugins.payments.testing import BANK_DETAILS

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.mark.browser
async def test_a_customer_tops_up_in_the_browser_through_each_provider(make_platform):
    require("chromium", CHROMIUM.exists())  # noqa: ASYNC240 - one stat, before anything runs
    from playwright.async_api import async_playwright

    from core.web.app import create_app
    from plugins.payments.service import Payments

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    platform = await make_platform(
        ["payments", "payments.fondy", "payments.wayforpay", "payments.uniteller", "payments.bank_transfer"],
        core={"platform": {"sandbox": True}, "web": {"base_url": base, "default_locale": "en"}},
        settings={"payments.fondy": {"currencies": ["RUB"]}, "payments.wayforpay": {"currencies": ["RUB"]},
                  "payments.bank_transfer": BANK_DETAILS})
    customer = make_identity(locale="en")
    server = await LoopbackServer(as_identity(create_app(platform), customer), port).start()
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
            page = await browser.new_page()
            for gateway in ("fondy", "wayforpay", "uniteller", "bank_transfer"):
                await page.goto(f"{base}/payments/topup")
                await page.fill("#amount", "1500")
                await page.check(f"#gateway-{gateway}")
                await page.click("#topup-submit")
                if gateway == "bank_transfer":
                    await page.wait_for_selector("#reference")
                    await page.click("#sandbox-bank")
                    await page.click("#transfer-form button")
                    await page.click("#return-form button")
                else:
                    # On the provider's page (the pay page sent us here by itself).
                    await page.wait_for_selector("#card-form", timeout=10_000)
                    assert await page.input_value("#card_number") == "4444555511116666"
                    await page.click("#card-form button.pay")
                    await page.wait_for_selector("#outcome")  # "Payment approved", then back to the shop
                await page.wait_for_selector('[data-status="succeeded"]', timeout=15_000)
                assert "The money is on your balance." in await page.inner_text("#outcome")
            await page.goto(f"{base}/payments")
            balance = await page.inner_text("#balance")
            await browser.close()
        payments = platform.service(Payments)
        assert (await payments.available_balance(customer.user_id)).minor == 4 * 150000
        assert "6,000.00" in balance
    finally:
        await server.stop()
