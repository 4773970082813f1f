"""HTTP for scoring providers: one call, and every way it can fail turned into a result.

A provider must not raise for a business outcome, and a bureau that does not answer is
one. :meth:`Wire.post` returns either the answer (whatever its HTTP status: SOAP faults
and some bureaus' refusals come with 4xx/5xx and a body worth reading) or an ``ERROR``
result saying what went wrong and whether asking again may help.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from core.contracts.scoring import CONNECTION_FAILED, TIMEOUT, UNREADABLE, ScoringResult, ScoringStatus

#: Answers larger than this are refused unread (a report is a few hundred kilobytes at most).
MAX_ANSWER_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Answer:
    status_code: int
    text: str
    content_type: str

    def json(self) -> Any:
        return json.loads(self.text)


class Wire:
    """Makes one provider's calls. ``transport`` routes them elsewhere (the sandbox emulator, tests)."""

    def __init__(self, provider: str, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.provider = provider
        self.timeout_s = timeout_s
        self.transport = transport

    def failure(self, code: str, message: str, *, retryable: bool = True, document: str = "") -> ScoringResult:
        return ScoringResult(ScoringStatus.ERROR, self.provider, error_code=code, error=message, retryable=retryable,
                             document=document[:2000])

    async def post(self, url: str, *, body: bytes, headers: Mapping[str, str]) -> Answer | ScoringResult:
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, transport=self.transport) as client:
                response = await client.post(url, content=body, headers=dict(headers))
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return self.failure(CONNECTION_FAILED, f"could not reach {url}: {exc!r}")
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            return self.failure(CONNECTION_FAILED, f"{url} is not a usable address: {exc}", retryable=False)
        except httpx.TimeoutException:
            return self.failure(TIMEOUT, f"no answer from {url} within {self.timeout_s:g} s")
        except httpx.HTTPError as exc:
            return self.failure(CONNECTION_FAILED, f"call to {url} failed: {exc!r}")
        if len(response.content) > MAX_ANSWER_BYTES:
            return self.failure(UNREADABLE, f"{url} answered {len(response.content)} bytes, more than we read")
        return Answer(response.status_code, response.text, response.headers.get("content-type", ""))

    async def post_json(self, url: str, payload: Any, headers: Mapping[str, str] | None = None
                        ) -> tuple[dict[str, Any], Answer] | ScoringResult:
        """POST JSON and read a JSON object back; anything else is an unreadable (retryable) answer."""
        answer = await self.post(url, body=json.dumps(payload, ensure_ascii=False).encode(),
                                 headers={"content-type": "application/json", "accept": "application/json",
                                          **(headers or {})})
        if isinstance(answer, ScoringResult):
            return answer
        try:
            data = answer.json()
        except ValueError:
            return self.failure(UNREADABLE, f"{url} answered HTTP {answer.status_code} with something that is not JSON",
                                document=answer.text)
        if not isinstance(data, dict):
            return self.failure(UNREADABLE, f"{url} answered JSON that is not an object", document=answer.text)
        return data, answer
