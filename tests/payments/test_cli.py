"""``kopilka payments emulator <provider>``: a deployer's sandbox on its own port."""

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

from core.contracts.payments import GatewayStatus, PaymentRef
from core.money import Money
from core.testing import free_port, wait_for_http
from plugins.payments.testing import CallbackCollector, GatewayHarness

ROOT = Path(__file__).parents[2]


async def test_the_emulator_command_serves_a_provider_the_gateway_can_talk_to():
    from click.testing import CliRunner

    from core.cli import cli
    from plugins.payments.fondy.gateway import FondyGateway

    assert "Serve PROVIDER's emulator" in CliRunner().invoke(cli, ["-d", "demo", "payments", "emulator", "--help"]).output
    unknown = CliRunner().invoke(cli, ["-d", "demo", "payments", "emulator", "paypal"])
    assert unknown.exit_code != 0 and "unknown provider 'paypal'" in unknown.output

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "-d", "demo", "payments", "emulator", "fondy", "--port", str(port),
         "--mode", "no_callback"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_for_http(f"{url}/_emulator", timeout=60)
        gateway = FondyGateway(merchant_id=1396424, secret_key="test", api_url=f"{url}/api",
                               currencies=frozenset({"RUB"}), timeout_s=5)
        from plugins.payments.emulation import ProviderEmulator

        harness = GatewayHarness(gateway, ProviderEmulator(public_url=url), CallbackCollector(gateway))
        request = harness.request("10.00")
        started = await gateway.purchase(request)
        assert started.status is GatewayStatus.PENDING, started
        await harness.customer_pays(request, started.redirect)
        status = await gateway.status(PaymentRef(request.payment_id, Money.of("10.00", "RUB"),
                                                 created_at=dt.datetime.now(dt.UTC)))
        assert status.status is GatewayStatus.PROCESSED
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
