"""The meeting's video room: aiortc on the server relays the floor to everyone (meetings.md §3.5, option B).

Each browser holds one peer connection with the server, with one audio and one video transceiver
both ways, negotiated once at joining: there is never a renegotiation (aiortc does not fire
``negotiationneeded``). Up goes the participant's microphone and camera; down comes the *stage*: the
audio and video of whoever has the floor. The chair (the organizer) gives and takes the floor,
participants raise a hand: at most one speaker at a time, as in a court hearing, so the server never
mixes audio and every viewer needs one video stream (last-N = 1).

Costs (measured, see README): every uplink is decoded (about 1 % of a core per audio stream) so that it
can be switched onto the stage at once, and every downlink is encoded for its viewer (aiortc has no
encoded-frame forwarding): about 2.6 % of a core per listener for audio and 10-12 % per viewer for
360p video. That is why the relay is for small rooms (``room_max_participants``); a large meeting
needs an external SFU (option A), with this room's signalling and floor control unchanged.

Frames are copied for each viewer before they are re-timed: encoders run in worker threads, and
several of them sharing one decoded frame hung the event loop in the measurements of §3.4.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.meetings.settings import MeetingsSettings

log = logging.getLogger(__name__)

AUDIO_RATE = 48000
AUDIO_SAMPLES = 960  # 20 ms
VIDEO_CLOCK = 90000
VIDEO_FPS = 15
FILLER_SIZE = (320, 240)
#: How long a viewer waits for the speaker's next frame before sending silence or a still frame.
FRAME_WAIT = 0.25

Send = Callable[[dict[str, Any]], Awaitable[None]]


class RoomFull(Exception):
    pass


def copy_frame(frame: Any) -> Any:
    """A private copy of a decoded frame, safe to re-time and to hand to an encoder thread."""
    if isinstance(frame, VideoFrame):
        copy = VideoFrame(frame.width, frame.height, frame.format.name)
    else:
        copy = AudioFrame(format=frame.format.name, layout=frame.layout.name, samples=frame.samples)
        copy.sample_rate = frame.sample_rate
    for source, target in zip(frame.planes, copy.planes, strict=True):
        target.update(bytes(source)[: target.buffer_size].ljust(target.buffer_size, b"\0"))
    return copy


def silence() -> AudioFrame:
    frame = AudioFrame(format="s16", layout="stereo", samples=AUDIO_SAMPLES)
    frame.sample_rate = AUDIO_RATE
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    return frame


def dark_frame() -> VideoFrame:
    frame = VideoFrame(FILLER_SIZE[0], FILLER_SIZE[1], "yuv420p")
    luma, *chroma = frame.planes
    luma.update(b"\x10" * luma.buffer_size)
    for plane in chroma:
        plane.update(b"\x80" * plane.buffer_size)
    return frame


class StageTrack(MediaStreamTrack):
    """What one viewer receives: the floor holder's audio or video, or silence / a dark frame."""

    def __init__(self, room: Room, member: Member, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.room = room
        self.member = member
        self._source: MediaStreamTrack | None = None
        self._proxy: MediaStreamTrack | None = None
        self._started: float | None = None
        self._pts = 0
        self._filler_at: float | None = None
        self.forwarded = 0

    def _follow(self) -> None:
        source = self.room.stage_source(self.member, self.kind)
        if source is not self._source:
            if self._proxy is not None:
                self._proxy.stop()
            self._source = source
            self._proxy = self.room.relay.subscribe(source, buffered=False) if source is not None else None

    async def _pace(self, seconds_ahead: float) -> None:
        """Keep filler frames at real-time speed."""
        assert self._started is not None
        wait = self._started + seconds_ahead - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def recv(self) -> Any:
        if self.readyState != "live":
            raise MediaStreamError
        if self._started is None:
            self._started = time.monotonic()
        self._follow()
        frame = None
        if self._proxy is not None:
            try:
                frame = copy_frame(await asyncio.wait_for(self._proxy.recv(), timeout=FRAME_WAIT))
                self.forwarded += 1
            except (TimeoutError, MediaStreamError):
                frame = None
        if self.kind == "audio":
            if frame is None:
                await self._pace(self._pts / AUDIO_RATE)
                frame = silence()
            frame.pts = self._pts
            frame.time_base = fractions.Fraction(1, frame.sample_rate)
            self._pts += frame.samples
            return frame
        if frame is None:
            now = time.monotonic()
            self._filler_at = max(self._filler_at or now, now - 1) + 1 / VIDEO_FPS
            if self._filler_at > now:
                await asyncio.sleep(self._filler_at - now)
            frame = dark_frame()
        self._pts = max(self._pts + 1, int((time.monotonic() - self._started) * VIDEO_CLOCK))
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return frame

    def stop(self) -> None:
        if self._proxy is not None:
            self._proxy.stop()
        super().stop()


@dataclass(eq=False)
class Member:
    name: str
    role: str  # organizer | participant
    send: Send
    user_id: UUID | None = None
    participant_ids: tuple[UUID, ...] = ()
    peer_id: str = field(default_factory=lambda: secrets.token_urlsafe(8))
    hand: bool = False
    pc: RTCPeerConnection | None = None
    uplink: dict[str, MediaStreamTrack] = field(default_factory=dict)
    stage: dict[str, StageTrack] = field(default_factory=dict)
    drains: list[asyncio.Task[None]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {"peer": self.peer_id, "name": self.name, "role": self.role, "hand": self.hand,
                "media": sorted(self.uplink)}


class Room:
    def __init__(self, meeting_id: UUID, settings: MeetingsSettings) -> None:
        self.meeting_id = meeting_id
        self.settings = settings
        self.members: dict[str, Member] = {}
        self.floor: str | None = None
        self.relay = MediaRelay()
        self._lock = asyncio.Lock()

    def configuration(self) -> RTCConfiguration:
        return RTCConfiguration(iceServers=[RTCIceServer(urls=url) for url in self.settings.ice_servers])

    def stage_source(self, viewer: Member, kind: str) -> MediaStreamTrack | None:
        """The floor holder's track of this kind; a speaker does not hear themselves."""
        speaker = self.members.get(self.floor) if self.floor else None
        if speaker is None or (kind == "audio" and speaker is viewer):
            return None
        return speaker.uplink.get(kind)

    def state(self) -> dict[str, Any]:
        return {"type": "state", "floor": self.floor, "members": [m.public() for m in self.members.values()]}

    async def broadcast(self, message: dict[str, Any]) -> None:
        for member in list(self.members.values()):
            with contextlib.suppress(Exception):  # a member whose socket just closed is removed by its own handler
                await member.send(message)

    async def join(self, member: Member) -> Member:
        async with self._lock:
            if len(self.members) >= self.settings.room_max_participants:
                raise RoomFull
            self.members[member.peer_id] = member
        await member.send({**self.state(), "type": "welcome", "peer": member.peer_id, "role": member.role,
                           "ice_servers": list(self.settings.ice_servers)})
        await self.broadcast(self.state())
        return member

    async def offer(self, member: Member, sdp: str, kind: str = "offer") -> dict[str, Any]:
        """Answer the browser's offer: its tracks come up, the stage goes down on the same transceivers."""
        if member.pc is not None:
            raise ValueError("already connected: one offer per join")
        pc = RTCPeerConnection(self.configuration())
        member.pc = pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            member.uplink[track.kind] = track
            drain = self.relay.subscribe(track, buffered=False)
            member.drains.append(asyncio.ensure_future(_drain(drain)))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.leave(member)

        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=kind))
        for media in ("audio", "video"):
            stage = StageTrack(self, member, media)
            member.stage[media] = stage
            pc.addTrack(stage)
        await pc.setLocalDescription(await pc.createAnswer())
        await self.broadcast(self.state())
        return {"type": "answer", "sdp": pc.localDescription.sdp}

    async def give_floor(self, by: Member, peer_id: str | None) -> None:
        """The chair gives the floor (or takes it back with ``None``); a speaker may yield it."""
        if by.role != "organizer" and not (peer_id is None and self.floor == by.peer_id):
            raise PermissionError("only the chair gives the floor")
        if peer_id is not None and peer_id not in self.members:
            raise LookupError("no such member in the room")
        self.floor = peer_id
        if peer_id is not None:
            self.members[peer_id].hand = False
        await self.broadcast(self.state())

    async def raise_hand(self, member: Member, up: bool) -> None:
        member.hand = bool(up)
        await self.broadcast(self.state())

    async def leave(self, member: Member) -> None:
        async with self._lock:
            if self.members.pop(member.peer_id, None) is None:
                return
            if self.floor == member.peer_id:
                self.floor = None
        for task in member.drains:
            task.cancel()
        for track in member.stage.values():
            track.stop()
        if member.pc is not None:
            await member.pc.close()
        await self.broadcast(self.state())

    async def close(self) -> None:
        for member in list(self.members.values()):
            await self.leave(member)


async def _drain(track: MediaStreamTrack) -> None:
    """Read an uplink all the time: decoded frames must not pile up while its owner is off the stage."""
    with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
        while True:
            await track.recv()


class Rooms:
    """The rooms of this process, one per meeting (a meeting's participants all reach the same worker)."""

    def __init__(self, platform: Platform, settings: MeetingsSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.rooms: dict[UUID, Room] = {}

    def room(self, meeting_id: UUID) -> Room:
        if meeting_id not in self.rooms:
            self.rooms[meeting_id] = Room(meeting_id, self.settings)
        return self.rooms[meeting_id]

    async def close_all(self) -> None:
        for room in list(self.rooms.values()):
            await room.close()
        self.rooms.clear()
