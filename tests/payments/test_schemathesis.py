"""Schemathesis over the payments API (customer, admin, provider callbacks): no input causes a 5xx."""

import asyncio
import os
import sys
from pathlib import Path

import pytest

from core.testing import live_server
from core.users.sessions import Sessions
from core.users.testing import FAST_HASHING, make_user

from .conftest import GATEWAY_PLUGINS

pytestmark = pytest.mark.slow

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
ENDPOINTS = r"^/api/v1/(payments|admin/payments)"


async def test_no_server_errors(make_platform, emulators, tmp_path):
    platform = await make_platform(["notify.outbox", "payments", *GATEWAY_PLUGINS],
                                   settings={**emulators.settings(), **FAST_HASHING})
    admin = await make_user(platform, "fuzz.payments@example.com", roles=("customer", "superadmin"))
    token, _token_id = await platform.service(Sessions).create_token(admin.id, "schemathesis")
    async with live_server(platform) as base_url:
        process = await asyncio.create_subprocess_exec(
            str(SCHEMATHESIS), "run", f"{base_url}/schema/openapi.json", "--checks", "not_a_server_error",
            "--include-path-regex", ENDPOINTS, "--max-examples", "15", "--workers", "1", "--seed", "20261122",
            "--request-timeout", "20", "--max-time", "30", "--output-truncate", "true",
            "-H", f"Authorization: Bearer {token}",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path,
            env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"})
        output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-8000:]
    assert "/api/v1/payments/callbacks/{gateway}" in text, text[-3000:]
