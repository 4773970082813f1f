"""A serial line to a device that answers each frame with one frame (CCNET, ID-003).

The port is opened with pyserial's ``serial_for_url``, so a terminal's port may be a device
path (``/dev/ttyUSB0``) or a URL (``socket://10.0.0.7:4001`` for a serial-over-IP box,
``spy:///dev/ttyUSB0?file=line.log`` to log the conversation). pyserial is blocking: every
exchange runs in a worker thread, one at a time, so the event loop never waits on the line.

Frames are ``SYNC ... LNG ... CRC_L CRC_H`` with LNG the whole frame's length and the
CRC-16/KERMIT of :mod:`plugins.terminals.crc`; :class:`FrameFormat` says where LNG is.
Whatever goes wrong on the line surfaces as :class:`~core.contracts.terminals.TerminalLineError`.
"""

from __future__ import annotations

import asyncio
import os
import termios
import time
from dataclasses import dataclass
from typing import Any

import serial

from core.contracts.terminals import TerminalLineError
from plugins.terminals.crc import crc_ok

#: Reads wait at most this long before the deadline is checked again (a fixed port timeout:
#: changing it reconfigures the port, which costs a system call and some ptys refuse).
READ_SLICE_S = 0.02


@dataclass(frozen=True)
class FrameFormat:
    sync: int
    #: Index of the length byte (CCNET: SYNC ADR LNG; ID-003: SYNC LNG).
    length_at: int
    #: The shortest valid frame: header, command and CRC.
    min_length: int

    def split(self, buffer: bytearray) -> tuple[list[bytes], bytearray]:
        """Whole frames at the start of ``buffer`` (bytes before a SYNC are dropped), and the rest.

        A frame whose CRC is wrong is returned as it is: the caller decides what to answer.
        """
        frames: list[bytes] = []
        while buffer:
            start = buffer.find(bytes([self.sync]))
            if start < 0:
                return frames, bytearray()
            del buffer[:start]
            if len(buffer) <= self.length_at:
                break
            length = buffer[self.length_at]
            if length < self.min_length:  # not a frame start: a SYNC value inside noise
                del buffer[:1]
                continue
            if len(buffer) < length:
                break
            frames.append(bytes(buffer[:length]))
            del buffer[:length]
        return frames, buffer


def _pseudo_terminal(port: str) -> bool:
    return os.path.realpath(port).startswith("/dev/pts/")


class SerialLine:
    """One open port; ``exchange`` sends a frame and reads the reply frame."""

    def __init__(self, port: str, frame: FrameFormat, *, baudrate: int = 9600, parity: str = serial.PARITY_NONE,
                 reply_timeout_s: float = 0.3) -> None:
        self.port = port
        self.frame = frame
        self.baudrate = baudrate
        self.parity = parity
        self.reply_timeout_s = reply_timeout_s
        self._serial: Any = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        try:
            self._serial = await asyncio.to_thread(self._open)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TerminalLineError(f"cannot open {self.port}: {exc}") from exc

    def _open(self) -> Any:
        try:
            return self._open_with(self.parity)
        except (serial.SerialException, termios.error, OSError):
            if self.parity == serial.PARITY_NONE or not _pseudo_terminal(self.port):
                raise
            # Some kernels refuse parity on pseudo-terminals (emulators, socat): there is no wire
            # to carry a parity bit anyway.
            return self._open_with(serial.PARITY_NONE)

    def _open_with(self, parity: str) -> Any:
        port = serial.serial_for_url(self.port, do_not_open=True, baudrate=self.baudrate, bytesize=serial.EIGHTBITS,
                                     parity=parity, stopbits=serial.STOPBITS_ONE, timeout=READ_SLICE_S,
                                     write_timeout=1.0)
        if hasattr(port, "exclusive"):
            try:
                port.exclusive = True  # two processes on one line would answer each other's replies
            except (ValueError, serial.SerialException):
                pass  # URL handlers (socket://) have no lock to take
        port.open()
        port.reset_input_buffer()  # whatever the device said to nobody while the line was closed
        return port

    async def close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                await asyncio.to_thread(port.close)
            except Exception:  # closing a dead line must not hide why it died
                pass

    async def exchange(self, frame: bytes) -> bytes:
        """Send ``frame`` and return the device's reply frame (its CRC checked)."""
        async with self._lock:
            return await asyncio.to_thread(self._exchange, frame, True)

    async def send(self, frame: bytes) -> None:
        """Send a frame the device does not answer (an acknowledgement)."""
        async with self._lock:
            await asyncio.to_thread(self._exchange, frame, False)

    def _exchange(self, frame: bytes, reply: bool) -> bytes:
        port = self._serial
        if port is None:
            raise TerminalLineError(f"{self.port} is closed")
        try:
            port.reset_input_buffer()
            port.write(frame)
            port.flush()
            return self._read_frame(port) if reply else b""
        except (serial.SerialException, OSError, termios.error) as exc:
            raise TerminalLineError(f"{self.port}: {exc}") from exc

    def _read_frame(self, port: Any) -> bytes:
        deadline = time.monotonic() + self.reply_timeout_s
        buffer = bytearray()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                what = f"an incomplete reply ({buffer.hex(' ')})" if buffer else "no reply"
                raise TerminalLineError(f"{self.port}: {what} within {self.reply_timeout_s:.2f} s")
            need = self.frame.length_at + 1 if len(buffer) <= self.frame.length_at else buffer[self.frame.length_at]
            chunk = port.read(max(1, need - len(buffer)))
            if not chunk:
                continue
            buffer += chunk
            frames, buffer = self.frame.split(buffer)
            if frames:
                if not crc_ok(frames[0]):
                    raise TerminalLineError(f"{self.port}: corrupt reply {frames[0].hex(' ')} (CRC)")
                return frames[0]
