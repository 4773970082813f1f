"""What every messaging provider's channel builds on: settings, HTTP calls, and the failure vocabulary.

A channel turns the provider's answers into a :class:`DeliveryResult`: a timeout, a
connection failure, HTTP 5xx/429 or refused credentials are :class:`Transient` (the
platform tries again later); the provider refusing *this message* is :class:`Refused`
(no retry). :func:`delivering` does that mapping around a channel's ``send``, and logs
only the delivery id and a masked address: message texts may hold one-time codes.
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from core.access.pii import mask
from core.contracts.notifications import DeliveryResult, OutgoingMessage

log = logging.getLogger("kopilka.notify")

ChannelT = TypeVar("ChannelT")


class ProviderSettings(BaseModel):
    """Settings every provider plugin has; its own section adds the credentials."""

    model_config = ConfigDict(extra="forbid")

    #: The provider's API address; empty: production, or the emulator at ``/sandbox/<provider>/``
    #: with ``[platform] sandbox = true``.
    base_url: str | None = None
    #: Seconds one call to the provider may take before the message is retried later.
    timeout_s: float = Field(10, gt=0, le=60)


class Transient(Exception):
    """The provider could not take the message now: try again later."""


class Refused(Exception):
    """The provider refused this message for good (an invalid address, rejected content)."""


class ProviderHttp:
    """An HTTP client for one provider that raises :class:`Transient` for everything worth a retry."""

    def __init__(self, provider: str, base_url: str, timeout_s: float, **client_options: Any) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.client_options = client_options

    async def request(self, method: str, path: str, *, passthrough: tuple[int, ...] = (), **kwargs: Any
                      ) -> httpx.Response:
        """The provider's answer; statuses in ``passthrough`` are returned for the caller to read."""
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, **self.client_options) as client:
                response = await client.request(method, f"{self.base_url}{path}", **kwargs)
        except httpx.TimeoutException:
            raise Transient(f"{self.provider}: no answer within {self.timeout_s:g}s") from None
        except httpx.TransportError as exc:
            raise Transient(f"{self.provider}: cannot reach {self.base_url}: {type(exc).__name__}") from None
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise Transient(f"{self.provider}: HTTP {response.status_code}")
        if response.status_code in (401, 403) and response.status_code not in passthrough:
            # Our credentials, not the message: keep it for when they are fixed.
            log.error("%s refused the platform's credentials (HTTP %s): check the plugin's settings",
                      self.provider, response.status_code)
            raise Transient(f"{self.provider}: credentials refused (HTTP {response.status_code})")
        return response


def json_of(response: httpx.Response, provider: str) -> Any:
    """The answer's JSON; an answer that is not JSON is the provider misbehaving (transient)."""
    try:
        return response.json()
    except ValueError:
        raise Transient(f"{provider}: HTTP {response.status_code} with a body that is not JSON") from None


def delivering(
    send: Callable[[ChannelT, OutgoingMessage], Awaitable[str]],
) -> Callable[[ChannelT, OutgoingMessage], Awaitable[DeliveryResult]]:
    """Wrap a channel's ``send`` that returns the provider's message id (or raises) into the contract's."""

    @functools.wraps(send)
    async def wrapped(self: Any, message: OutgoingMessage) -> DeliveryResult:
        where = f"{self.name}: delivery {message.delivery_id} to {mask(message.to.value)}"
        try:
            reference = await send(self, message)
        except Transient as exc:
            log.warning("%s: will retry: %s", where, exc)
            return DeliveryResult.retry(str(exc))
        except Refused as exc:
            log.warning("%s: refused: %s", where, exc)
            return DeliveryResult.rejected(str(exc))
        log.info("%s: accepted as %s", where, reference)
        return DeliveryResult.sent(reference)

    return wrapped


def as_html(text: str) -> str:
    """Plain text as a minimal HTML part (escaped, line breaks kept), for e-mail APIs that want one."""
    return "<p>" + "<br>".join(html.escape(line) for line in text.splitlines()) + "</p>"


def digits_only(phone: str) -> str:
    """``+7 (999) 123-45-67`` -> ``79991234567``: what SMS APIs take."""
    return "".join(ch for ch in phone if ch.isdigit())


def channel_wanted(platform: Any, plugin: str, configured: bool) -> bool:
    """Whether to register a provider's channel: it has credentials, or the sandbox lends the emulator's.

    Enabled without credentials outside a sandbox, the channel stays out (and says so),
    rather than sending every message to a provider that will refuse it.
    """
    from core.sandbox import sandbox_on

    if configured or sandbox_on(platform):
        return True
    log.warning('%s is enabled but has no credentials: its channel is off (set them in [plugins."%s"])',
                plugin, plugin)
    return False


def secret_or(value: Any, sandbox_default: str) -> str:
    """A SecretStr setting's value, or the emulator's credential when none is set (sandbox only)."""
    return value.get_secret_value() if value is not None else sandbox_default
