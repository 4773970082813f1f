"""The video room page in Chromium with a fake camera: the page's script joins, negotiates with the
server's aiortc peer and the chair sees the member's hand go up."""

import asyncio
import uuid
from pathlib import Path

import pytest

from core.testing import live_server, require
from core.users.testing import PASSWORD
from plugins.meetings.room import Rooms
from tests.meetings.helpers import (
    NOW,
    STARTS,
    case_with_claims,
    creditor,
    draft_meeting,
    organizer,
    set_clock,
)

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        "--disable-features=WebRtcHideLocalIpsWithMdns"]


async def wait_until(condition, seconds=20.0):
    for _ in range(int(seconds / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.browser
async def test_the_room_page_connects_in_chromium(platform, client_as):
    require("chromium", HAVE_CHROMIUM)
    from playwright.async_api import async_playwright

    admin = await organizer(platform, client_as)
    bank, _http = await creditor(platform, client_as, "Bank")
    case, claims = await case_with_claims(admin, [
        {"creditor_name": "АО «Банк»", "principal": "500000.00", "user_id": str(bank.id)}])
    set_clock(platform, NOW)
    meeting, _items = await draft_meeting(admin, case["id"], [{"question": "Report", "decision": "general"}])
    assert (await admin.post(f"/api/v1/admin/meetings/{meeting['id']}/convene", json={})).status_code == 200
    set_clock(platform, STARTS)
    http = await client_as(user_id=bank.id)
    assert (await http.post(f"/api/v1/meetings/{meeting['id']}/registrations",
                            json={"claim_id": claims[0]["id"]})).status_code == 201
    room = platform.service(Rooms).room(uuid.UUID(meeting["id"]))

    async with live_server(platform) as base, async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            pages = []
            for user in (admin.user, bank):
                context = await browser.new_context(base_url=base, locale="en-US")
                login = await context.request.post("/api/v1/auth/login",
                                                   data={"login": user.login, "password": PASSWORD})
                assert login.ok, await login.text()
                page = await context.new_page()
                await page.goto(f"/meetings/{meeting['id']}/room")
                await page.click("#join")
                pages.append(page)
            await wait_until(lambda: len(room.members) == 2 and all(
                m.pc is not None and m.pc.connectionState == "connected" for m in room.members.values()))
            chair, member = pages
            await member.click("#hand")
            await chair.wait_for_selector("#members li:has-text('✋')", timeout=10_000)
            await chair.click("#members li:has-text('Bank') button")
            await wait_until(lambda: room.floor is not None and room.members[room.floor].role == "participant")
            await member.wait_for_selector("#yield:not([disabled])", timeout=10_000)
        finally:
            await browser.close()
    await wait_until(lambda: not room.members)
