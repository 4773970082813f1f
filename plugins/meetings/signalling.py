"""Signalling for the video room over a WebSocket: ``/meetings/{id}/room/ws``.

The browser (or any WebRTC client) opens the socket signed in, as the meeting's organizer or as an
admitted participant, and exchanges JSON messages:

=====================================  =========================================================
client sends                           server answers
=====================================  =========================================================
``{"type": "offer", "sdp": "..."}``    ``{"type": "answer", "sdp": "..."}`` (gathered, no trickle)
``{"type": "hand", "up": true}``       a ``state`` to everyone
``{"type": "floor", "peer": "p1"}``    chair only (``null`` takes it back; a speaker may yield)
``{"type": "ping"}``                   ``{"type": "pong"}``
=====================================  =========================================================

On joining the server sends ``welcome`` (your peer id, role, ICE servers and the room's state), and a
``state`` (members, hands, who has the floor) after every change. Errors come as ``{"type": "error",
"message": ...}``; the socket closes with 4403 (not yours, or another site's page), 4404 (no such room)
or 4409 (the room is full). Joining and leaving go to the registration journal (time in, time out) and
to the meeting's event chain.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from core.access import identity_of, requires_login
from plugins.meetings import chain
from plugins.meetings.common import fetch_case, fetch_meeting, manages
from plugins.meetings.registration import RegistrationService
from plugins.meetings.room import Member, RoomFull, Rooms

log = logging.getLogger(__name__)
MAX_MESSAGE = 64 * 1024


def same_origin(socket: WebSocket[Any, Any, Any]) -> bool:
    """A page of another site must not open the room with the user's cookie (cross-site WebSocket hijacking)."""
    origin = socket.headers.get("origin")
    if not origin:
        return True  # not a browser
    return urlsplit(origin).netloc == socket.headers.get("host", "")


async def _who(socket: WebSocket[Any, Any, Any], meeting_id: UUID) -> Member | None:
    platform = socket.app.state.platform
    identity = identity_of(socket)
    try:
        meeting = await fetch_meeting(platform.db, meeting_id)
    except Exception:
        return None
    if meeting["status"] not in ("convened", "open"):
        return None
    case = await fetch_case(platform.db, meeting["case_id"])
    if manages(identity, case):
        return Member(identity.display_name or "Chair", "organizer", socket.send_json, identity.user_id)
    rows = [r for r in await platform.service(RegistrationService).of_user(meeting_id, identity.user_id)
            if r["status"] == "admitted"]
    if not rows:
        return None
    name = identity.display_name or ", ".join(r["creditor_name"] for r in rows)
    return Member(name, "participant", socket.send_json, identity.user_id, tuple(r["id"] for r in rows))


async def _journal(socket: WebSocket[Any, Any, Any], meeting_id: UUID, member: Member, joined: bool) -> None:
    platform = socket.app.state.platform
    registration = platform.service(RegistrationService)
    for participant_id in member.participant_ids:
        await registration.mark_presence(participant_id, joined=joined)
    async with platform.db.transaction():
        await chain.append(platform.db, meeting_id, "room_joined" if joined else "room_left",
                           {"peer": member.peer_id, "user": str(member.user_id), "role": member.role,
                            "participants": [str(p) for p in member.participant_ids]},
                           f"user:{member.user_id}")


@websocket("/meetings/{meeting_id:uuid}/room/ws", guards=[requires_login], name="meetings-room-ws")
async def room_socket(socket: WebSocket[Any, Any, Any], meeting_id: FromPath[UUID]) -> None:
    if not same_origin(socket):
        await socket.close(code=4403, reason="cross-site")
        return
    member = await _who(socket, meeting_id)
    await socket.accept()
    if member is None:
        await socket.send_json({"type": "error", "message": "no room for you here"})
        await socket.close(code=4404)
        return
    room = socket.app.state.platform.service(Rooms).room(meeting_id)
    try:
        await room.join(member)
    except RoomFull:
        await socket.send_json({"type": "error", "message": "the room is full"})
        await socket.close(code=4409)
        return
    await _journal(socket, meeting_id, member, True)
    try:
        while True:
            message = await socket.receive_json()
            if not isinstance(message, dict):
                continue
            await _handle(room, member, message)
    except WebSocketDisconnect:
        pass
    finally:
        await room.leave(member)
        with contextlib.suppress(Exception):
            await _journal(socket, meeting_id, member, False)


async def _handle(room: Any, member: Member, message: dict[str, Any]) -> None:
    kind = message.get("type")
    try:
        if kind == "offer":
            sdp = message.get("sdp")
            if not isinstance(sdp, str) or len(sdp) > MAX_MESSAGE:
                raise ValueError("an offer needs its SDP")
            await member.send(await room.offer(member, sdp))
        elif kind == "hand":
            await room.raise_hand(member, bool(message.get("up")))
        elif kind == "floor":
            peer = message.get("peer")
            await room.give_floor(member, peer if isinstance(peer, str) else None)
        elif kind == "ping":
            await member.send({"type": "pong"})
        else:
            raise ValueError(f"unknown message type {kind!r}")
    except (ValueError, LookupError, PermissionError) as exc:
        await member.send({"type": "error", "message": str(exc)})


ROUTES = [room_socket]
