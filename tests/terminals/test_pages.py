"""The terminals' pages and APIs: who may see and do what, bad input, the kiosk flow over HTTP,
collections and their reports, and giving unclaimed notes to customers."""

from __future__ import annotations

import re
import uuid

import pytest

from core.access.approvals import Approvals
from core.contracts.terminals import TerminalEvent, TerminalEventKind
from core.ledger import Ledger
from core.testing import app_client, make_identity
from tests.terminals.conftest import rub, until


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
async def client_as(tplatform):
    """Clients signed in with given permissions (on the terminals platform)."""
    import contextlib

    from core.web.app import create_app

    app = create_app(tplatform)
    stack = contextlib.AsyncExitStack()

    async def factory(*permissions, user_id=None):
        identity = make_identity(*permissions, user_id=user_id)
        return await stack.enter_async_context(app_client(tplatform, identity=identity, app=app))

    async with stack:
        yield factory


# -- who may do what ------------------------------------------------------------------------------------


ADMIN_PAGES = ["/admin/terminals", "/admin/terminals/kiosk-1", "/admin/terminals/collections"]


async def test_admin_pages_and_api_are_guarded(kiosk, client_as, tplatform):
    async with app_client(tplatform) as anonymous:
        assert (await anonymous.get("/api/v1/admin/terminals")).status_code == 401
        assert (await anonymous.get("/admin/terminals", headers={"accept": "text/html"})).status_code in (302, 303, 401)
    customer = await client_as()
    for path in [*ADMIN_PAGES, "/api/v1/admin/terminals"]:
        assert (await customer.get(path)).status_code == 403, path
    viewer = await client_as("terminals.view")
    for path in [*ADMIN_PAGES, "/api/v1/admin/terminals", "/api/v1/admin/terminals/kiosk-1/events"]:
        assert (await viewer.get(path)).status_code == 200, path
    denied = await viewer.post("/api/v1/admin/terminals", json={"id": "x", "driver": "ccnet", "port": "/dev/ttyS0"})
    assert denied.status_code == 403
    assert (await viewer.post("/api/v1/admin/terminals/kiosk-1/collections", json={})).status_code == 403
    assert (await viewer.get("/admin/terminals/new")).status_code == 403


async def test_the_admin_list_shows_status_cash_and_the_customer(kiosk, client_as):
    kiosk.start_runner()
    await until(kiosk.online)
    viewer = await client_as("terminals.view")
    page = await viewer.get("/admin/terminals")
    assert 'data-terminal="kiosk-1"' in page.text and 'data-status="online"' in page.text
    terminal = (await viewer.get("/api/v1/admin/terminals/kiosk-1")).json()
    assert terminal["online"] and terminal["device"]["protocol"] == "CCNET"
    assert terminal["device"]["denominations"][:2] == ["10.00", "50.00"]
    assert any(e["kind"] == "line" for e in terminal["events"])


async def test_registering_a_terminal_shows_its_kiosk_key_once(tplatform, client_as):
    admin = await client_as("terminals.manage", "terminals.view")
    page = await admin.post("/admin/terminals", data={"id": "hall-2", "title": "Hall", "driver": "id003",
                                                      "port": "socket://10.0.0.7:4001", "location": "Hall",
                                                      "currency": "RUB", "denominations": "100, 500"})
    assert page.status_code == 201
    key = re.search(r'id="kiosk-key">([^<]+)<', page.text).group(1)
    from plugins.terminals.service import Terminals

    terminals = tplatform.service(Terminals)
    assert await terminals.store.kiosk_key_valid("hall-2", key)
    detail = await admin.get("/admin/terminals/hall-2")
    assert key not in detail.text
    created = await admin.post("/api/v1/admin/terminals", json={"id": "hall-3", "driver": "ccnet",
                                                                "port": "/dev/ttyUSB1"})
    assert created.status_code == 201 and created.json()["kiosk_key"]
    assert created.json()["denominations"] == ["50.00", "100.00", "200.00", "500.00", "1000.00", "2000.00", "5000.00"]


BAD_SETTINGS = [
    ({"id": "Bad Id", "driver": "ccnet", "port": "/dev/ttyS0"}, "id"),
    ({"id": "new", "driver": "ccnet", "port": "/dev/ttyS0"}, "id"),
    ({"id": "t-9", "driver": "mdb", "port": "/dev/ttyS0"}, "driver"),
    ({"id": "t-9", "driver": "ccnet", "port": "rm -rf /"}, "port"),
    ({"id": "t-9", "driver": "ccnet", "port": "emulator"}, "port"),
    ({"id": "t-9", "driver": "ccnet", "port": "/dev/ttyS0", "denominations": ["100", "abc"]}, "denominations"),
    ({"id": "t-9", "driver": "ccnet", "port": "/dev/ttyS0", "denominations": ["0.001"]}, "denominations"),
    ({"id": "t-9", "driver": "ccnet", "port": "/dev/ttyS0", "denominations": []}, "denominations"),
    ({"id": "t-9", "driver": "ccnet", "port": "/dev/ttyS0", "currency": "rubles"}, "currency"),
    ({"id": "t-9", "driver": "ccnet", "port": "/dev/tty\x00S0"}, "port"),
    ({"id": "t-9", "driver": "ccnet"}, "port"),
]


async def test_bad_terminal_settings_are_refused_and_nothing_is_created(tplatform, client_as):
    admin = await client_as("terminals.manage", "terminals.view")
    for body, field in BAD_SETTINGS:
        response = await admin.post("/api/v1/admin/terminals", json=body)
        assert response.status_code in (400, 422), (body, response.text)
        assert field in response.text, (body, response.text)
    form = await admin.post("/admin/terminals", data={"id": "t-9", "driver": "ccnet", "port": "/dev/ttyS0",
                                                      "denominations": "100, fifty"})
    assert form.status_code == 422 and "denominations" in form.text
    assert (await admin.get("/api/v1/admin/terminals")).json() == []


async def test_a_taken_id_is_a_conflict_and_changes_are_audited(kiosk, client_as, tplatform):
    admin = await client_as("terminals.manage", "terminals.view")
    again = await admin.post("/api/v1/admin/terminals", json={"id": "kiosk-1", "driver": "ccnet", "port": "/dev/x"})
    assert again.status_code == 409
    changed = await admin.patch("/api/v1/admin/terminals/kiosk-1", json={"location": "Upstairs",
                                                                        "denominations": ["500"]})
    assert changed.status_code == 200 and changed.json()["denominations"] == ["500.00"]
    assert (await admin.patch("/api/v1/admin/terminals/kiosk-1", json={"port": "nope"})).status_code == 422
    assert (await admin.patch("/api/v1/admin/terminals/nope", json={"title": "x"})).status_code == 404
    assert (await admin.get("/api/v1/admin/terminals/kiosk-1/events?kind=bogus")).status_code == 400
    from core.access.audit import AuditFilter, AuditLog

    entries = await tplatform.service(AuditLog).search(AuditFilter(action="terminals."))
    assert {"terminals.created", "terminals.updated"} <= {e.action for e in entries}


# -- the customer's page and the kiosk --------------------------------------------------------------------------


async def test_a_customer_gets_a_code_and_the_kiosk_takes_their_notes(kiosk, client_as, tplatform):
    kiosk.start_runner()
    anna = await kiosk.customer()
    me = await client_as(user_id=anna.id)
    page = await me.get("/terminals")
    assert page.status_code == 200 and "Test lobby" in page.text
    shown = await me.post("/terminals/code")
    code = re.search(r'data-code="(\d{6})"', shown.text).group(1)
    async with app_client(tplatform) as screen:
        first = await screen.get("/terminals/kiosk/kiosk-1")
        assert 'name="key"' in first.text
        wrong = await screen.post("/terminals/kiosk/kiosk-1/key", data={"key": "nope",
                                                                         "csrf_token": csrf_of(first.text)})
        assert wrong.status_code == 401
        saved = await screen.post("/terminals/kiosk/kiosk-1/key", data={"key": kiosk.key,
                                                                         "csrf_token": csrf_of(first.text)})
        assert saved.status_code == 303
        await until(kiosk.online)
        ask = await screen.get("/terminals/kiosk/kiosk-1")
        assert 'name="code"' in ask.text
        started = await screen.post("/terminals/kiosk/kiosk-1/code", data={"code": code,
                                                                            "csrf_token": csrf_of(ask.text)})
        assert started.status_code == 303 and "error" not in started.headers["location"]
        await until(lambda: kiosk.validator.accepting_notes, what="the device to take notes")
        kiosk.validator.insert(rub("1000"))
        kiosk.validator.insert(rub("500"))
        await until(lambda: _balance_is(kiosk, anna.id, 1500_00), what="the credits")
        screen_now = await screen.get("/terminals/kiosk/kiosk-1")
        assert 'data-minor="150000"' in screen_now.text
        done = await screen.post("/terminals/kiosk/kiosk-1/finish", data={"csrf_token": csrf_of(screen_now.text)})
        thanks = await screen.get(done.headers["location"])
        assert 'id="finished"' in thanks.text
    await until(lambda: not kiosk.validator.accepting_notes, what="the device to stop taking notes")
    assert not kiosk.validator.insert(rub("100"))
    deposits = (await me.get("/api/v1/terminals/deposits")).json()
    assert deposits[0]["total"] == "1500.00" and deposits[0]["notes"] == 2


async def _balance_is(kiosk, user_id, minor):
    return await kiosk.balance(user_id) == minor


async def test_kiosk_codes_are_checked(kiosk, client_as, tplatform):
    kiosk.start_runner()
    await until(kiosk.online)
    anna = await kiosk.customer()
    me = await client_as(user_id=anna.id)
    code = (await me.post("/api/v1/terminals/deposit-codes")).json()["code"]
    async with app_client(tplatform) as software:
        url = "/api/v1/terminals/kiosk/kiosk-1/sessions"
        assert (await software.post(url, json={"code": code})).status_code == 401  # no kiosk key
        key = {"x-kiosk-key": kiosk.key}
        assert (await software.post(url, json={"code": "12"}, headers=key)).status_code == 422
        wrong = "000000" if code != "000000" else "111111"
        assert (await software.post(url, json={"code": wrong}, headers=key)).status_code == 422
        started = await software.post(url, json={"code": code}, headers=key)
        assert started.status_code == 201
        assert (await software.post(url, json={"code": code}, headers=key)).status_code == 422  # used
        current = (await software.get(f"{url}/current", headers=key)).json()
        assert current["session"]["id"] == started.json()["id"]
        finished = (await software.post(f"{url}/current/finish", headers=key)).json()
        assert finished["session"]["end_reason"] == "finished"
        # a new code replaces the old one
        old = (await me.post("/api/v1/terminals/deposit-codes")).json()["code"]
        new = (await me.post("/api/v1/terminals/deposit-codes")).json()["code"]
        if old != new:
            assert (await software.post(url, json={"code": old}, headers=key)).status_code == 422
        for _ in range(12):
            await software.post(url, json={"code": "999999" if new != "999999" else "888888"}, headers=key)
        assert (await software.post(url, json={"code": new}, headers=key)).status_code == 429


async def test_an_expired_code_and_an_offline_terminal_are_refused(kiosk, client_as, tplatform):
    anna = await kiosk.customer()
    code, _ = await kiosk.terminals.deposits.issue_code(anna.id)
    async with app_client(tplatform) as software:
        url = "/api/v1/terminals/kiosk/kiosk-1/sessions"
        offline = await software.post(url, json={"code": code}, headers={"x-kiosk-key": kiosk.key})
        assert offline.status_code == 409  # no worker has the line open
        kiosk.start_runner()
        await until(kiosk.online)
        await tplatform.db.execute("UPDATE terminals_deposit_codes SET expires_at = now() - interval '1 second'")
        expired = await software.post(url, json={"code": code}, headers={"x-kiosk-key": kiosk.key})
        assert expired.status_code == 422


# -- collections ---------------------------------------------------------------------------------------------


async def _stack(kiosk, *amounts: str) -> None:
    """Notes credited as the runner credits them (under a lease)."""
    terminals = kiosk.terminals
    await terminals.store.claim(kiosk.terminal.id, "test-worker")
    for amount in amounts:
        note = TerminalEvent(TerminalEventKind.STACKED, f"n-{uuid.uuid4().hex[:8]}", rub(amount))
        await terminals.crediting.record_note(kiosk.terminal, note, owner="test-worker")
        await terminals.crediting.settle(kiosk.terminal.id, note.event_id)


async def test_a_collection_empties_the_cash_box_into_cash_in_transit(kiosk, client_as, tplatform):
    await _stack(kiosk, "1000", "1000", "500", "100")
    collector = await client_as("terminals.collect", "terminals.view")
    page = await collector.get("/admin/terminals/kiosk-1")
    assert "2,600.00" in page.text or "2 600,00" in page.text
    collection_id = re.search(r'name="collection_id" value="([^"]+)"', page.text).group(1)
    form = {"collection_id": collection_id, "collector": "I. Petrov", "seal": "A-000123"}
    done = await collector.post("/admin/terminals/kiosk-1/collections", data=form)
    assert done.status_code == 303
    report = await collector.get(done.headers["location"])
    assert "A-000123" in report.text and 'id="breakdown"' in report.text
    again = await collector.post("/admin/terminals/kiosk-1/collections", data=form)  # the form sent twice
    assert again.headers["location"] == done.headers["location"]
    assert await kiosk.cash_in_box() == 0
    ledger = tplatform.service(Ledger)
    in_transit = await ledger.find_account(owner="platform", purpose="terminals.in_transit", currency="RUB")
    assert in_transit.balance.posted == -2600_00
    api = (await collector.get(f"/api/v1/admin/terminals/collections/{collection_id}")).json()
    assert api["amount"] == "2600.00" and api["notes"] == 4
    assert api["breakdown"] == [{"denomination": "100.00", "count": 1, "sum": "100.00"},
                                {"denomination": "500.00", "count": 1, "sum": "500.00"},
                                {"denomination": "1000.00", "count": 2, "sum": "2000.00"}]
    await _stack(kiosk, "5000")
    second = (await collector.post("/api/v1/admin/terminals/kiosk-1/collections", json={"seal": "A-2"})).json()
    assert second["amount"] == "5000.00" and second["notes"] == 1 and second["number"] > api["number"]
    empty = (await collector.post("/api/v1/admin/terminals/kiosk-1/collections", json={})).json()
    assert empty["amount"] == "0.00" and empty["transfer_id"] is None
    assert (await collector.post("/api/v1/admin/terminals/nope/collections", json={})).status_code == 404
    assert (await collector.get("/admin/terminals/collections/not-a-uuid")).status_code == 404


async def test_an_unclaimed_note_goes_to_its_owner_after_a_second_person_approves(kiosk, client_as, tplatform):
    anna = await kiosk.customer()
    await _stack(kiosk, "500")  # nobody at the terminal: unclaimed
    note = (await kiosk.terminals.crediting.to_assign(kiosk.terminal.id))[0]
    maker = await client_as("terminals.assign", "terminals.view")
    bad = await maker.post(f"/admin/terminals/kiosk-1/notes/{note.id}/assign", data={"customer": "nobody@x.y"})
    assert bad.status_code == 422
    asked = await maker.post(f"/admin/terminals/kiosk-1/notes/{note.id}/assign", data={"customer": anna.login})
    assert asked.headers["location"].endswith("assign-pending")
    assert await kiosk.balance(anna.id) == 0
    approvals = tplatform.service(Approvals)
    pending = await approvals.list(status="pending", limit=1)
    await approvals.approve(make_identity("terminals.assign"), pending[0].id)
    assert await kiosk.balance(anna.id) == 500_00
    assert await kiosk.terminals.crediting.to_assign(kiosk.terminal.id) == []
