"""What every messaging provider's ``emulator.py`` builds on.

An emulator plays the provider's side on loopback HTTP: it accepts the provider's real
request shapes, checks the credentials, and keeps what it "delivered" so tests and the
sandbox can read it (one-time codes included: emulators are for sandboxes only).
Failures are switchable (:class:`Failure`): the next requests are rejected as the
provider rejects a bad address, left unanswered, or answered with a server error.

Control, for people and scripts alike (JSON):

* ``GET /_emulator``: the failure mode and the kept messages, newest first;
* ``POST /_emulator/modes`` ``{"failure": "rejected" | "timeout" | "server_error" | null}``;
* ``POST /_emulator/reset``: forget the messages, no failure.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException


class Failure(StrEnum):
    #: The provider refuses the message as it refuses an invalid address.
    REJECTED = "rejected"
    #: The provider takes the request and answers only after ``stall_s`` (longer than any client waits).
    TIMEOUT = "timeout"
    #: The provider answers HTTP 500.
    SERVER_ERROR = "server_error"


@dataclass(frozen=True)
class EmulatedMessage:
    """One message the emulated provider accepted."""

    id: str
    channel: str  # "sms", "email", "push"
    to: str
    text: str
    subject: str = ""
    sender: str = ""
    received_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())
    #: The request as the provider received it (minus credentials).
    request: dict[str, Any] = field(default_factory=dict)


class MessagingEmulator:
    """Keeps messages and failure modes; a provider's subclass adds its routes in :meth:`routes`."""

    #: The name in ``/sandbox/<provider>`` and in message ids.
    provider = "provider"

    def __init__(self, *, stall_s: float = 30) -> None:
        self.stall_s = stall_s
        self.messages: list[EmulatedMessage] = []
        self.failure: Failure | None = None
        self._ids = itertools.count(1)

    # -- for tests and the sandbox ------------------------------------------------------

    def reset(self) -> None:
        self.messages.clear()
        self.failure = None

    def fail(self, failure: Failure | str | None) -> None:
        self.failure = Failure(failure) if failure else None

    def latest(self, to: str) -> EmulatedMessage | None:
        """The newest message to ``to`` (as the provider received the address)."""
        return next((m for m in reversed(self.messages) if m.to == to), None)

    # -- for the provider's routes ------------------------------------------------------

    def next_id(self) -> str:
        return f"{self.provider}-{next(self._ids)}"

    def keep(self, channel: str, to: str, text: str, **details: Any) -> EmulatedMessage:
        message = EmulatedMessage(self.next_id(), channel, to, text, **details)
        self.messages.append(message)
        return message

    async def injected_failure(self) -> Failure | None:
        """Play the switched-on failure: stall on TIMEOUT, raise HTTP 500 on SERVER_ERROR.

        Returns :attr:`Failure.REJECTED` for the provider's route to answer in its own words.
        """
        if self.failure is Failure.TIMEOUT:
            await asyncio.sleep(self.stall_s)
        if self.failure is Failure.SERVER_ERROR:
            raise HTTPException(status_code=500, detail=f"{self.provider} emulator: internal error (switched on)")
        return self.failure

    def routes(self) -> list[Any]:
        raise NotImplementedError

    def app(self) -> Litestar:
        emulator = self

        @get("/_emulator", sync_to_thread=False)
        def state() -> dict[str, Any]:
            return {
                "provider": emulator.provider,
                "failure": emulator.failure,
                "messages": [asdict(m) for m in reversed(emulator.messages)],
            }

        @post("/_emulator/modes", status_code=200)
        async def modes(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
            body = await request.json()
            value = body.get("failure") if isinstance(body, dict) else None
            if value not in (None, *Failure):
                return Response({"error": f"failure: one of {', '.join(Failure)} or null"}, status_code=400)
            emulator.fail(value)
            return Response({"failure": emulator.failure})

        @post("/_emulator/reset", status_code=204, sync_to_thread=False)
        def reset() -> None:
            emulator.reset()

        return Litestar(route_handlers=[*self.routes(), state, modes, reset], openapi_config=None)
