"""Schemathesis over the meetings API (creditors' and organizers'): no input causes a 5xx."""

import pytest

from core.testing import live_server
from core.users.sessions import Sessions
from core.users.testing import FAST_HASHING, make_user
from tests.users.test_schemathesis import fuzz

pytestmark = pytest.mark.slow


async def test_no_server_errors(make_platform, tmp_path, monkeypatch):
    platform = await make_platform(settings=FAST_HASHING)
    admin = await make_user(platform, "fuzz.meetings@example.com", roles=("customer", "superadmin"))
    token, _token_id = await platform.service(Sessions).create_token(admin.id, "schemathesis")
    monkeypatch.setattr("tests.users.test_schemathesis.ENDPOINTS", r"^/api/v1/(admin/)?meetings")
    async with live_server(platform) as base_url:
        code, output = await fuzz(base_url, token, examples=8, workdir=tmp_path)
    assert code == 0, output[-8000:]
    assert "passed" in output and "failed" not in output.split("Seed:")[0].split("WARNINGS")[0], output[-8000:]
