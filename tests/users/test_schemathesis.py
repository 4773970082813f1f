"""Schemathesis over the OpenAPI of the users, auth and access endpoints: no input causes a 5xx."""

import asyncio
import os
import sys
from pathlib import Path

import pytest

from core.testing import live_server
from core.users.sessions import Sessions
from core.users.testing import FAST_HASHING, make_user

pytestmark = pytest.mark.slow

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
ENDPOINTS = r"^/api/v1/(auth|users|notifications|admin/users|admin/access|admin/audit|admin/outbox)"


async def fuzz(base_url: str, token: str | None, examples: int, workdir: Path) -> tuple[int, str]:
    args = [
        str(SCHEMATHESIS),
        "run",
        f"{base_url}/schema/openapi.json",
        "--checks",
        "not_a_server_error",
        "--include-path-regex",
        ENDPOINTS,
        "--max-examples",
        str(examples),
        "--workers",
        "1",
        "--seed",
        "20261122",
        "--request-timeout",
        "20",
        "--max-time",
        "45",
        "--output-truncate",
        "true",
    ]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    process = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
        cwd=workdir,  # it keeps a cache folder in the working directory
    )
    output, _ = await process.communicate()
    return process.returncode, output.decode(errors="replace")


async def test_no_server_errors(make_platform, tmp_path):
    """As a superadmin with an API token: every operation is reachable, the anonymous ones too."""
    platform = await make_platform(settings=FAST_HASHING)
    admin = await make_user(platform, "fuzz.admin@example.com", roles=("customer", "superadmin"))
    token, _token_id = await platform.service(Sessions).create_token(admin.id, "schemathesis")
    async with live_server(platform) as base_url:
        code, output = await fuzz(base_url, token, examples=20, workdir=tmp_path)
    assert code == 0, output[-8000:]
    assert "passed" in output and "failed" not in output.split("Seed:")[0].split("WARNINGS")[0], output[
        -8000:
    ]
