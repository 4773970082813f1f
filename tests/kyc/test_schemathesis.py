"""Schemathesis over the kyc API (customer and reviewer): no input causes a 5xx."""

import asyncio
import os
import sys
from pathlib import Path

import pytest

from core.testing import live_server
from core.users.sessions import Sessions
from core.users.testing import make_user

pytestmark = pytest.mark.slow

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
ENDPOINTS = r"^/api/v1/(kyc|admin/kyc)"


async def test_no_server_errors(platform, tmp_path):
    reviewer = await make_user(platform, "fuzz.kyc@example.com", roles=("customer", "superadmin"))
    token, _token_id = await platform.service(Sessions).create_token(reviewer.id, "schemathesis")
    async with live_server(platform) as base_url:
        process = await asyncio.create_subprocess_exec(
            str(SCHEMATHESIS), "run", f"{base_url}/schema/openapi.json", "--checks", "not_a_server_error",
            "--include-path-regex", ENDPOINTS, "--max-examples", "12", "--workers", "1", "--seed", "20261124",
            "--request-timeout", "20", "--max-time", "20", "--output-truncate", "true",
            "-H", f"Authorization: Bearer {token}",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path,
            env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"})
        output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-8000:]
    assert "/api/v1/kyc/submissions" in text, text[-3000:]
