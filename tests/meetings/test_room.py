"""The video room's signalling, with real aiortc peers on loopback: two members join over the
WebSocket, each negotiates one peer connection, the chair gives the floor and the other member's
media reaches the chair through the server."""

import asyncio
import json
import uuid

import httpx
import pytest

from core.testing import live_server, require
from core.users.testing import sign_in
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

try:
    import websockets
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
except ImportError:  # pragma: no cover - the room needs aiortc
    websockets = None


class Peer:
    """A WebRTC client of the room: a socket, one peer connection, what it receives."""

    def __init__(self, socket):
        self.socket = socket
        self.pc = RTCPeerConnection()
        self.received = {"audio": 0, "video": 0}
        self.readers = []

        @self.pc.on("track")
        def on_track(track):
            self.readers.append(asyncio.ensure_future(self._read(track)))

    async def _read(self, track):
        while True:
            await track.recv()
            self.received[track.kind] += 1

    async def next(self, kind):
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), timeout=10))
            if message["type"] == kind:
                return message

    async def connect(self):
        welcome = await self.next("welcome")
        self.pc.addTrack(AudioStreamTrack())
        self.pc.addTrack(VideoStreamTrack())
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.socket.send(json.dumps({"type": "offer", "sdp": self.pc.localDescription.sdp}))
        answer = await self.next("answer")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        return welcome

    async def close(self):
        for reader in self.readers:
            reader.cancel()
        await self.pc.close()


async def wait_until(condition, seconds=10.0):
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.slow
async def test_signalling_connects_aiortc_peers_and_relays_the_floor(platform, client_as):
    require("aiortc", websockets is not None)
    admin = await organizer(platform, client_as)
    bank, _http = await creditor(platform, client_as, "Bank")
    case, claims = await case_with_claims(admin, [
        {"creditor_name": "АО «Банк»", "principal": "500000.00", "user_id": str(bank.id)}])
    set_clock(platform, NOW)
    meeting, _items = await draft_meeting(admin, case["id"], [{"question": "Report", "decision": "general"}])
    assert (await admin.post(f"/api/v1/admin/meetings/{meeting['id']}/convene", json={})).status_code == 200
    set_clock(platform, STARTS)
    r = await (await client_as(user_id=bank.id)).post(f"/api/v1/meetings/{meeting['id']}/registrations",
                                                      json={"claim_id": claims[0]["id"]})
    assert r.status_code == 201, r.text

    async with live_server(platform) as base_url:
        cookies = []
        for user in (admin.user, bank):
            async with httpx.AsyncClient(base_url=base_url) as http:
                await sign_in(http, user.login)
                cookies.append("; ".join(f"{k}={v}" for k, v in http.cookies.items()))
        url = base_url.replace("http", "ws") + f"/meetings/{meeting['id']}/room/ws"
        with pytest.raises(websockets.InvalidStatus):  # not signed in: refused at the handshake
            async with websockets.connect(url):
                pass
        async with websockets.connect(url, additional_headers={"cookie": cookies[0]}) as chair_socket, \
                websockets.connect(url, additional_headers={"cookie": cookies[1]}) as member_socket:
            chair, member = Peer(chair_socket), Peer(member_socket)
            try:
                assert (await chair.connect())["role"] == "organizer"
                welcome = await member.connect()
                assert welcome["role"] == "participant"
                await wait_until(lambda: chair.pc.connectionState == "connected"
                                 and member.pc.connectionState == "connected")
                await member_socket.send(json.dumps({"type": "hand", "up": True}))
                await member_socket.send(json.dumps({"type": "floor", "peer": welcome["peer"]}))
                assert "chair" in (await member.next("error"))["message"]  # only the chair gives the floor
                await chair_socket.send(json.dumps({"type": "floor", "peer": welcome["peer"]}))
                room = platform.service(Rooms).room(uuid.UUID(meeting["id"]))
                await wait_until(lambda: room.floor == welcome["peer"])
                chair_member = next(m for m in room.members.values() if m.role == "organizer")
                # The chair now receives the member's own audio and video through the server.
                await wait_until(lambda: chair_member.stage["audio"].forwarded > 5
                                 and chair_member.stage["video"].forwarded > 2)
                await wait_until(lambda: chair.received["audio"] > 0 and chair.received["video"] > 0)
            finally:
                await chair.close()
                await member.close()
        await wait_until(lambda: not platform.service(Rooms).room(uuid.UUID(meeting["id"])).members)
    journal = await platform.db.fetchrow(
        "SELECT joined_at, left_at FROM meetings_participants WHERE meeting_id = $1", meeting["id"])
    assert journal["joined_at"] is not None and journal["left_at"] is not None
    kinds = [r["kind"] for r in await platform.db.fetch(
        "SELECT kind FROM meetings_events WHERE meeting_id = $1 ORDER BY seq", meeting["id"])]
    assert kinds.count("room_joined") == 2 and kinds.count("room_left") == 2
