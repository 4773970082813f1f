"""The shared session logic on scripted status replies (no line): what it does between the
report of a stacked note and the host's acknowledgement."""

from __future__ import annotations

from core.contracts.terminals import DeviceState, TerminalEventKind
from core.money import Money
from plugins.terminals.validator_session import Reading, ValidatorSession

HUNDRED = Money.of("100", "RUB")


class Scripted(ValidatorSession):
    """Answers status requests from a script and records what it was told to do."""

    def __init__(self, *readings: Reading) -> None:
        super().__init__(line=None, terminal_id="t", currency="RUB")  # type: ignore[arg-type]
        self.script = list(readings)
        self.did: list[str] = []
        self._needs_start = False
        self._accept = frozenset({HUNDRED})

    async def _status(self) -> Reading:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    async def _acknowledge_stacked(self, reading: Reading) -> None:
        self.did.append("ack stacked")

    async def _stack(self) -> None:
        self.did.append("stack")

    async def _return(self) -> None:
        self.did.append("return")


async def test_a_note_in_escrow_is_not_stacked_before_the_previous_one_is_settled():
    session = Scripted(Reading("stacked", note=HUNDRED), Reading("stacked", note=HUNDRED),
                       Reading("escrow", note=HUNDRED), Reading("escrow", note=HUNDRED))
    [note] = await session.poll()
    assert note.kind is TerminalEventKind.STACKED
    await session.acknowledge(note)
    assert session.did == ["ack stacked"]  # the host settles the first note before the next poll...
    events = await session.poll()
    assert session.did == ["ack stacked", "stack"]  # ...which stacks the second
    assert [(e.kind, e.detail) for e in events] == [(TerminalEventKind.STATE, DeviceState.ESCROW)]
