"""The demo's emulated terminal, the watchdog, the worker loop in a real worker, and the command line."""

from __future__ import annotations

import asyncio
import os
import re

from click.testing import CliRunner

from core.demo import load_demo
from core.testing import app_client, make_identity
from core.users.service import Users
from plugins.terminals import sandbox
from plugins.terminals.demo import KIOSK_KEY, SECOND_KIOSK_KEY, SECOND_TERMINAL, TERMINAL
from plugins.terminals.service import Terminals
from tests.terminals.conftest import FAST, PLUGINS, KioskHarness, rub, until


async def test_the_demo_terminal_runs_on_its_emulator(make_platform):
    platform = await make_platform(PLUGINS, settings=FAST, core={"platform": {"sandbox": True},
                                                                 "web": {"default_locale": "en"}})
    steps: list[str] = []
    await load_demo(platform, steps.append)
    await load_demo(platform, steps.append)  # idempotent
    terminals = platform.service(Terminals)
    assert [(t.id, t.driver, t.port) for t in await terminals.store.list()] == [
        (TERMINAL, "ccnet", "emulator"), (SECOND_TERMINAL, "id003", "emulator")]
    assert await terminals.accounts.cash_in_box(TERMINAL, "RUB") == 1500_00
    assert await terminals.store.kiosk_key_valid(TERMINAL, KIOSK_KEY)
    assert await terminals.store.kiosk_key_valid(SECOND_TERMINAL, SECOND_KIOSK_KEY)
    harness = KioskHarness(platform, "ccnet")
    harness.terminal = await terminals.store.get(TERMINAL)
    harness.start_runner()
    try:
        await until(harness.online, what="the demo terminal online")
        second = await terminals.store.get(SECOND_TERMINAL)
        await until(lambda: _online(terminals, SECOND_TERMINAL), what="the ID-003 demo terminal online")
        assert sandbox.device(SECOND_TERMINAL).name == "id003" and second.driver == "id003"
        device = sandbox.device(TERMINAL)
        assert device is not None
        async with app_client(platform, identity=make_identity("terminals.manage", "terminals.view")) as admin:
            page = await admin.get(f"/admin/terminals/{TERMINAL}/emulator")
            assert page.status_code == 200 and "insert" in page.text
            said = await admin.post(f"/admin/terminals/{TERMINAL}/emulator", data={"command": "insert 100"})
            assert "device%20takes%20no%20notes" in said.headers["location"]  # nobody at the kiosk
            anna = await platform.service(Users).find("anna@example.com")
            await harness.start_session(anna)
            await until(lambda: device.validator.accepting_notes)
            await admin.post(f"/admin/terminals/{TERMINAL}/emulator", data={"command": "insert 500"})
            await until(lambda: _cash(terminals, 2000_00), what="the note in the demo cash box")
            status = await admin.get(f"/admin/terminals/{TERMINAL}/emulator")
            assert "cassette 1 notes" in status.text
    finally:
        await harness.close()
    assert sandbox.device(TERMINAL) is None and sandbox.device(SECOND_TERMINAL) is None  # the worker stopped: so did its emulators


async def _online(terminals, terminal_id):
    terminal = await terminals.store.get(terminal_id)
    return terminal.status == "online" and terminal.device_state in ("disabled", "idle")


async def _cash(terminals, minor):
    return await terminals.accounts.cash_in_box(TERMINAL, "RUB") == minor


async def test_the_watchdog_reports_a_silent_terminal_once(kiosk, tplatform):
    kiosk.start_runner("w-1")
    await until(kiosk.online)
    await kiosk.crash_runner(kiosk.runners[0][0])
    await tplatform.db.execute("UPDATE terminals_terminals SET status = 'online', "
                               "last_seen_at = now() - interval '5 minutes'")
    first = await tplatform.tasks.get("terminals.watchdog").fn(tplatform)
    again = await tplatform.tasks.get("terminals.watchdog").fn(tplatform)
    assert first["offline"] == 1 and again["offline"] == 0
    terminal = await kiosk.refreshed()
    assert terminal.status == "offline" and "no worker" in terminal.status_detail
    lines = await kiosk.notes("line")
    assert any("no worker" in e.detail for e in lines)


async def test_a_line_that_fails_is_reported_and_opened_again(kiosk):
    kiosk.validator.mute = True  # the device stops answering
    kiosk.start_runner()
    await until(lambda: _line_event(kiosk, "cannot open the line"), what="the failure")
    terminal = await kiosk.refreshed()
    assert terminal.status == "offline"
    kiosk.validator.mute = False
    await until(kiosk.online, what="the line open again")


async def _line_event(kiosk, text: str) -> bool:
    return any(text in e.detail for e in await kiosk.notes("line"))


async def test_faults_show_on_the_terminal_and_clear(kiosk):
    kiosk.start_runner()
    await until(kiosk.online)
    kiosk.validator.remove_cassette()
    await until(lambda: _status(kiosk, "fault"), what="the fault")
    assert (await kiosk.refreshed()).status_detail == "cassette_removed"
    kiosk.validator.replace_cassette()
    await until(lambda: _status(kiosk, "online"), what="the fault to clear")


async def _status(kiosk, status: str) -> bool:
    return (await kiosk.refreshed()).status == status


async def test_switching_a_terminal_off_closes_its_line(kiosk):
    runner = kiosk.start_runner()
    await until(kiosk.online)
    await kiosk.terminals.store.update(kiosk.terminal.id, {"active": False})
    await until(lambda: kiosk.terminal.id not in runner.lines, what="the line to close")
    terminal = await kiosk.refreshed()
    assert terminal.lease_owner is None and terminal.status == "offline"


async def test_two_workers_share_terminals_without_sharing_a_line(tplatform):
    harness = KioskHarness(tplatform, "ccnet")
    await harness.open()
    try:
        one, two = harness.start_runner("w-1"), harness.start_runner("w-2")
        await until(harness.online)
        await asyncio.sleep(0.2)
        holders = [r for r in (one, two) if harness.terminal.id in r.lines]
        assert len(holders) == 1
        assert (await harness.refreshed()).lease_owner == holders[0].owner
    finally:
        await harness.close()


def test_the_runner_is_a_worker_loop(tplatform):
    assert [loop.name for loop in tplatform.tasks.worker_loops()] == ["terminals.runner"]
    assert "terminals.watchdog" in tplatform.tasks


def test_the_emulator_command_puts_a_device_on_a_link(tmp_path):
    from core.cli import cli

    link = tmp_path / "ttyV1"
    result = CliRunner().invoke(cli, ["terminals", "emulator", "nope", "--link", str(link)])
    assert result.exit_code != 0 and "known: ccnet, id003" in result.output
    help_text = CliRunner().invoke(cli, ["terminals", "emulator", "--help"]).output
    assert "--link" in help_text and "insert 100" in help_text


async def test_the_emulator_console_works_the_device(tmp_path):
    """What ``kopilka terminals emulator ccnet --link PATH`` runs: a pty at PATH and a console."""
    import sys

    link = tmp_path / "ttyV1"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "core.cli", "terminals", "emulator", "ccnet", "--link", str(link),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "KOPILKA_DEPLOYMENT": "demo"})
    try:
        await until(link.exists, timeout=30, what="the link")
        from plugins.terminals.ccnet.driver import CcnetDriver

        session = await CcnetDriver().open(str(link), terminal_id="t", currency="RUB")
        await session.enable([rub("100")])
        process.stdin.write(b"insert 100\nstatus\n")
        await process.stdin.drain()
        stacked = None
        for _ in range(100):
            stacked = next((e for e in await session.poll() if e.needs_acknowledgement), None)
            if stacked:
                break
            await asyncio.sleep(0.02)
        assert stacked is not None and stacked.amount == rub("100")
        await session.acknowledge(stacked)
        await session.close()
    finally:
        process.terminate()
        out, _err = await asyncio.wait_for(process.communicate(), timeout=10)
    assert re.search(rb"inserted 100", out)
