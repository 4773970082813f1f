"""Who is behind the current piece of work: the request's identity, address and id.

The users plugin's middleware sets it for every request; commands and tasks may set it
with :func:`acting_as`. The audit log and the rate limits read it, so callers never pass
the request around just to say who did something.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from core.access import ANONYMOUS, Identity


@dataclass(frozen=True)
class RequestInfo:
    identity: Identity = ANONYMOUS
    ip: str | None = None
    request_id: str | None = None
    user_agent: str | None = None
    #: Who acts when nobody signed in does: "system", "cli:<user>", "task:<name>".
    actor: str = "system"


_NOBODY = RequestInfo()
_current: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar(
    "kopilka_request_info", default=None
)


def current() -> RequestInfo:
    return _current.get() or _NOBODY


def set_current(info: RequestInfo) -> contextvars.Token[RequestInfo | None]:
    return _current.set(info)


def reset(token: contextvars.Token[RequestInfo | None]) -> None:
    _current.reset(token)


@contextlib.contextmanager
def acting_as(actor: str, identity: Identity = ANONYMOUS) -> Iterator[RequestInfo]:
    """Attribute the work inside the block to ``actor`` (a command, a task)."""
    info = RequestInfo(identity=identity, actor=actor)
    token = _current.set(info)
    try:
        yield info
    finally:
        _current.reset(token)


def client_ip(scope: Any, trusted_proxies: Sequence[str] = ()) -> str | None:
    """The client's address; ``X-Forwarded-For`` counts only when the peer is a trusted proxy.

    Walks the forwarded chain from the right and returns the first address that is not
    itself a trusted proxy, so a client cannot pick its own address by sending the header.
    """
    client = scope.get("client")
    peer = client[0] if client else None
    if not trusted_proxies or peer is None:
        return peer
    networks = []
    for entry in trusted_proxies:
        with contextlib.suppress(ValueError):
            networks.append(ipaddress.ip_network(entry, strict=False))

    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    if not trusted(peer):
        return peer
    headers = dict(scope.get("headers") or [])
    forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return peer
