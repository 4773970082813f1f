"""What signing people in costs: sessions, the security middleware, passwords, audit and rate limits.

    python -m bench auth [--seconds 5] [--json]

Runs the essential plugins on a throwaway embedded PostgreSQL and measures, each next to
its baseline in the same run:

* requests/s of ``GET /api/v1/users/me`` with a session cookie (the middleware resolves the
  session, roles, permissions and unread count in one query) against ``GET /healthz``
  anonymously (one ``SELECT 1``), in-process over ASGI;
* a sign-in (argon2id at the deployment's default cost, plus the session and audit rows)
  against a bare argon2id hash;
* ``AuditLog.record`` and ``RateLimiter.hit`` per second against ``SELECT 1`` round trips.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

PASSWORD = "correct horse battery staple"


def _deployment(data_dir: Path) -> str:
    return (
        '[platform]\nname = "bench"\nplugins = []\n'
        f'data_dir = "{data_dir}"\n'
        '[jobs]\nbroker = "memory"\n'
        '[web]\ndefault_locale = "en"\n'
    )


async def _rate(seconds: float, work) -> tuple[float, float]:
    """Operations per second and the median latency in ms of ``await work()`` for ``seconds``."""
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        await work()
        latencies.append(time.perf_counter() - started)
    total = sum(latencies)
    return len(latencies) / total, statistics.median(latencies) * 1000


async def run(seconds: float) -> dict[str, Any]:
    import httpx

    from core.access.audit import AuditLog
    from core.access.ratelimit import Limit, RateLimiter
    from core.platform import Platform
    from core.users.service import Users
    from core.web.app import create_app
    from core.web.logging import configure_logging

    configure_logging(level="WARNING")  # one access-log line per request would swamp the figures
    with tempfile.TemporaryDirectory(prefix="kb-", dir="/tmp") as tmp:
        platform = Platform.from_deployment("bench.toml", text=_deployment(Path(tmp)))
        with contextlib.redirect_stdout(io.StringIO()):  # piccolo prints each migration it runs
            await platform.start(migrate=True)
        try:
            users = platform.service(Users)
            user = await users.create("bench@example.com", PASSWORD, display_name="Bench")
            app = create_app(platform)
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                signed = await client.post(
                    "/api/v1/auth/login", json={"login": user.login, "password": PASSWORD}
                )
                assert signed.status_code == 200, signed.text
                cookie = dict(client.cookies)
                client.cookies.clear()

                async def anonymous() -> None:
                    assert (await client.get("/healthz")).status_code == 200

                async def with_session() -> None:
                    assert (await client.get("/api/v1/users/me", cookies=cookie)).status_code == 200

                async def sign_in() -> None:
                    response = await client.post(
                        "/api/v1/auth/login", json={"login": user.login, "password": PASSWORD}
                    )
                    assert response.status_code == 200
                    client.cookies.clear()

                baseline_rps, baseline_ms = await _rate(seconds, anonymous)
                session_rps, session_ms = await _rate(seconds, with_session)
                login_rps, login_ms = await _rate(seconds, sign_in)
                hash_rps, hash_ms = await _rate(seconds, lambda: users.hasher.hash(PASSWORD))

            db = platform.db
            audit = platform.service(AuditLog)
            limiter = platform.service(RateLimiter)
            limit = Limit("bench.hits", 10**9, 3600)
            select_rps, _ = await _rate(seconds, lambda: db.fetchval("SELECT 1"))
            audit_rps, _ = await _rate(seconds, lambda: audit.record(action="bench.event", target="bench:1"))
            limit_rps, _ = await _rate(seconds, lambda: limiter.hit(limit, "bench"))
        finally:
            await platform.stop()
    return {
        "requests": {
            "anonymous_healthz_rps": round(baseline_rps),
            "anonymous_healthz_ms": round(baseline_ms, 2),
            "session_me_rps": round(session_rps),
            "session_me_ms": round(session_ms, 2),
        },
        "sign_in": {
            "login_per_s": round(login_rps, 1),
            "login_ms": round(login_ms, 1),
            "argon2_hash_per_s": round(hash_rps, 1),
            "argon2_hash_ms": round(hash_ms, 1),
        },
        "database": {
            "select_1_per_s": round(select_rps),
            "audit_record_per_s": round(audit_rps),
            "rate_limit_hit_per_s": round(limit_rps),
        },
    }


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench auth", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3, help="how long each measurement runs")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.seconds))
    if args.json:
        print(json.dumps(result))
        return result
    rows = [
        (
            "GET /healthz, anonymous (baseline)",
            f"{result['requests']['anonymous_healthz_rps']} req/s",
            f"{result['requests']['anonymous_healthz_ms']} ms",
        ),
        (
            "GET /api/v1/users/me, session cookie",
            f"{result['requests']['session_me_rps']} req/s",
            f"{result['requests']['session_me_ms']} ms",
        ),
        (
            "argon2id hash (baseline)",
            f"{result['sign_in']['argon2_hash_per_s']} /s",
            f"{result['sign_in']['argon2_hash_ms']} ms",
        ),
        (
            "POST /api/v1/auth/login",
            f"{result['sign_in']['login_per_s']} /s",
            f"{result['sign_in']['login_ms']} ms",
        ),
        ("SELECT 1 (baseline)", f"{result['database']['select_1_per_s']} /s", ""),
        ("AuditLog.record", f"{result['database']['audit_record_per_s']} /s", ""),
        ("RateLimiter.hit", f"{result['database']['rate_limit_hit_per_s']} /s", ""),
    ]
    width = max(len(r[0]) for r in rows)
    for name, rate, latency in rows:
        print(f"{name:<{width}}  {rate:>14}  {latency:>10}")
    return result


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
