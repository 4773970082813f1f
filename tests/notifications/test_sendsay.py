"""notify.sendsay: the RPC envelope, REDIRECT, logging in and again when the session expires."""

import json
import uuid

from core.contracts.notifications import EMAIL, Address, DeliveryStatus, OutgoingMessage
from plugins.notify.testing import PROVIDERS, serve


def mail(to: str = "ann@example.com") -> OutgoingMessage:
    return OutgoingMessage(uuid.uuid4(), "access.code", Address(EMAIL, to), "Your code", "Code: 5555\nBye <3",
                           "en", sensitive=True)


async def test_logs_in_follows_the_redirect_and_sends(make_platform):
    async with serve(PROVIDERS["notify.sendsay"]) as running:
        platform = await make_platform(["notify.sendsay"],
                                       settings=running.settings(from_email="bank@example.com", from_name="Bank"))
        channel = platform.registry("notification_channels").get("sendsay")
        message = mail()
        result = await channel.send(message)
        assert result.status is DeliveryStatus.SENT, result
        emulator = running.emulator
        assert emulator.paths == [("/", "login"), ("/general", "login"), ("/general", "issue.send")]
        got = emulator.latest("ann@example.com")
        assert got.subject == "Your code" and got.sender == "bank@example.com" and got.text == message.text
        letter = got.request["letter"]
        assert letter["from.name"] == "Bank" and letter["message"]["html"] == "<p>Code: 5555<br>Bye &lt;3</p>"
        assert got.request["sendwhen"] == "now" and got.request["relink"] == 0
        assert result.provider_ref == got.id.rsplit("-", 1)[1]

        emulator.expire_sessions()
        assert (await channel.send(mail("bob@example.com"))).status is DeliveryStatus.SENT
        assert emulator.paths[-3:] == [("/general", "issue.send"), ("/general", "login"),
                                       ("/general", "issue.send")], "logged in again, then sent"


async def test_the_envelope_is_the_documented_one(make_platform):
    async with serve(PROVIDERS["notify.sendsay"], redirect=False) as running:
        import httpx

        async with httpx.AsyncClient(base_url=running.url) as http:
            bare = await http.post("/", data={"request": json.dumps({"action": "ping"})})
            assert bare.json()["errors"][0]["id"] == "error/request/invalid", "apiversion and json are required"
            login = {"action": "login", "login": "sandbox", "passwd": "sendsay-sandbox-password"}
            answer = await http.post("/", data={"apiversion": "100", "json": "1", "request": json.dumps(login),
                                                "request.id": "1"})
            session = answer.json()["session"]
            ping = {"action": "ping", "session": session}
            assert "pong" in (await http.post("/", data={"apiversion": "100", "json": "1",
                                                         "request": json.dumps(ping)})).json()


async def test_wrong_credentials_are_retried_and_logged_not_failed(make_platform):
    async with serve(PROVIDERS["notify.sendsay"]) as running:
        platform = await make_platform(["notify.sendsay"], settings=running.settings(password="wrong"))
        result = await platform.registry("notification_channels").get("sendsay").send(mail())
        assert result.status is DeliveryStatus.RETRY and "error/auth/failed" in result.error
        assert running.emulator.messages == []
