"""What `make run` does: serve the demo deployment on an embedded PostgreSQL, with its demo data."""

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from core.testing import free_port, wait_for_http

ROOT = Path(__file__).parents[2]


@pytest.mark.slow
async def test_serve_demo_on_embedded_postgres():
    data_dir = Path(tempfile.mkdtemp(prefix="kpr-", dir="/tmp"))
    demo = (ROOT / "deployments" / "demo.toml").read_text()
    deployment = data_dir / "demo.toml"
    deployment.write_text(demo.replace("[platform]\n", f'[platform]\ndata_dir = "{data_dir}"\n', 1))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    # The log goes to a file: a pipe nobody reads fills up and blocks the server mid-write.
    log = (data_dir / "serve.log").open("w+b")
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "-d", str(deployment), "serve", "--port", str(port), "--demo"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
    )
    try:
        await wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=120)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            home = await http.get("/")
            assert home.status_code == 200 and "Kopilka demo" in home.text
            schema = await http.get("/schema/openapi.json")
            assert schema.status_code == 200 and schema.json()["info"]["title"] == "Kopilka demo API"
            assert (await http.get("/readyz")).json()["database"] == "reachable"
            # A header the client sends does not choose the address the limits and the audit log see.
            spoofed = await http.post("/api/v1/auth/login", headers={"x-forwarded-for": "203.0.113.9"},
                                      json={"login": "nobody@example.com", "password": "not the password"})
            assert spoofed.status_code == 401
            signed_in = await http.post("/api/v1/auth/login",
                                        json={"login": "admin@example.com", "password": "copper kettle demo 2026"})
            assert signed_in.status_code == 200, signed_in.text
            audit = await http.get("/api/v1/admin/audit", params={"action": "auth.login.failed", "limit": 1})
            assert audit.json()["entries"][0]["ip"] == "127.0.0.1"
            # The demo's cash terminals run on their emulators in this process's worker.
            for _ in range(150):
                terminals = {t["id"]: t for t in (await http.get("/api/v1/admin/terminals")).json()}
                if all(t["status"] == "online" for t in terminals.values()):
                    break
                await asyncio.sleep(0.2)
            assert {i: (t["driver"], t["status"]) for i, t in terminals.items()} == {
                "lobby-1": ("ccnet", "online"), "lobby-2": ("id003", "online")}
            # The demo's credit assessments were made against the in-process bureau emulators.
            scored = await http.get("/api/v1/scoring/assessments/demo:loan-application:1")
            assert scored.status_code == 200 and scored.json()["outcome"] in ("approve", "review"), scored.text
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    log.seek(0)
    assert process.returncode in (0, -signal.SIGINT), log.read().decode()[-2000:]
    log.close()
    # The embedded server stopped with the last process that used it.
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()
