"""Start-up fails with one line naming the file, the plugin and the key for each misconfiguration."""

import types

import pytest
from pydantic import BaseModel, ConfigDict, SecretStr

from core import hookimpl
from core.errors import ConfigError
from core.platform import Platform


def plugin_module(name, **hooks):
    module = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(module, hook_name, hookimpl(fn))
    return module


class GatewaySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    merchant_id: int
    secret_key: SecretStr
    sandbox: bool = True


def gateway_plugin():
    return plugin_module("acme", settings_schema=lambda: GatewaySettings, plugin_requires=lambda: ["core.ledger"])


def build(text, **extra):
    return Platform.from_deployment("deployments/site.toml", text=text, extra_plugins=extra or None)


def error_of(text, **extra) -> str:
    with pytest.raises(ConfigError) as info:
        build(text, **extra)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("deployments/site.toml: plugin '")
    return message


def test_unknown_plugin():
    message = error_of('[platform]\nplugins = ["payments.nosuch"]\n')
    assert "plugin 'payments.nosuch': key 'plugins': unknown plugin" in message


def test_unknown_hook():
    bad = plugin_module("typo", regster_routes=lambda: [])
    message = error_of("[platform]\nplugins = []\n", typo=bad)
    assert "plugin 'typo': key 'regster_routes': unknown hook" in message


def test_missing_setting():
    message = error_of('[platform]\nplugins = []\n[plugins.acme]\nmerchant_id = 1\n', acme=gateway_plugin())
    assert message.endswith("plugin 'acme': key 'secret_key': missing required setting")


def test_ill_typed_setting():
    text = '[platform]\nplugins = []\n[plugins.acme]\nmerchant_id = "abc"\nsecret_key = "s"\n'
    message = error_of(text, acme=gateway_plugin())
    assert "plugin 'acme': key 'merchant_id':" in message and "integer" in message and "'abc'" in message


def test_unknown_setting():
    text = '[platform]\nplugins = []\n[plugins.acme]\nmerchant_id = 1\nsecret_key = "s"\nsandbx = false\n'
    assert "plugin 'acme': key 'sandbx': unknown setting" in error_of(text, acme=gateway_plugin())


def test_missing_dependency():
    needy = plugin_module("needy", plugin_requires=lambda: ["payments"])
    message = error_of("[platform]\nplugins = []\n", needy=needy)
    assert "plugin 'needy': key 'plugins': requires plugin 'payments', which is not enabled" in message


def test_secret_from_missing_environment_variable(monkeypatch):
    monkeypatch.delenv("ACME_SECRET", raising=False)
    text = '[platform]\nplugins = []\n[plugins.acme]\nmerchant_id = 1\nsecret_key = { env = "ACME_SECRET" }\n'
    assert "plugin 'acme': key 'secret_key': environment variable ACME_SECRET is not set" in error_of(
        text, acme=gateway_plugin()
    )


def test_settings_for_a_plugin_that_is_not_enabled():
    message = error_of('[platform]\nplugins = []\n[plugins."payments.fondy"]\nmerchant_id = 1\n')
    assert "plugin 'payments.fondy': key '(section)': settings given for a plugin that is not enabled" in message


def test_core_setting_typo():
    assert "plugin 'core': key 'database.pool_maxx': unknown setting" in error_of(
        "[platform]\nplugins = []\n[database]\npool_maxx = 3\n"
    )


def test_secrets_by_reference_are_resolved_and_redacted(monkeypatch, tmp_path):
    from core.deployment import redact

    monkeypatch.setenv("ACME_SECRET", "s3cret")
    key_file = tmp_path / "merchant"
    key_file.write_text("42\n")
    text = (
        '[platform]\nplugins = []\n[plugins.acme]\n'
        f'merchant_id = {{ file = "{key_file}" }}\nsecret_key = {{ env = "ACME_SECRET" }}\n'
    )
    platform = build(text, acme=gateway_plugin())
    settings = platform.settings("acme")
    assert settings.merchant_id == 42 and settings.secret_key.get_secret_value() == "s3cret"
    shown = redact(settings, "plugins.acme", platform.deployment.secret_paths)
    assert shown == {"merchant_id": "********", "secret_key": "********", "sandbox": True}


def test_cli_prints_the_one_line_and_exits_2(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.toml"
    bad.write_text('[platform]\nplugins = ["nosuch"]\n')
    result = subprocess.run([sys.executable, "-m", "core.cli", "-d", str(bad), "plugins"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {bad}: plugin 'nosuch': key 'plugins':")


def test_an_ill_typed_secret_is_named_but_not_quoted(monkeypatch, tmp_path):
    """The one-line error quotes a bad value to help, but never a secret (it would land in logs)."""
    monkeypatch.setenv("ACME_SECRET", "s3cret-not-a-number")
    by_reference = '[platform]\nplugins = []\n[plugins.acme]\nmerchant_id = { env = "ACME_SECRET" }\nsecret_key = "s"\n'
    message = error_of(by_reference, acme=gateway_plugin())
    assert "key 'merchant_id':" in message and "(got ********)" in message and "s3cret" not in message
    declared = '[platform]\nplugins = []\n[plugins.acme]\nmerchant_id = 1\nsecret_key = 1234567\n'
    message = error_of(declared, acme=gateway_plugin())
    assert "key 'secret_key':" in message and "1234567" not in message
    monkeypatch.setenv("DB_URL", "postgresql://kopilka:pw@db/kopilka")
    message = error_of('[platform]\nplugins = []\n[database]\npool_max = { env = "DB_URL" }\n')
    assert "key 'database.pool_max':" in message and "pw@db" not in message
    assert "(got 'x')" in error_of('[platform]\nplugins = []\n[database]\npool_max = "x"\n')  # not a secret


def test_an_unknown_broker_fails_with_the_file_not_with_the_first_worker():
    message = error_of('[platform]\nplugins = []\n[jobs]\nbroker = "amqp://localhost"\n')
    assert "plugin 'core': key 'jobs.broker':" in message and "redis://" in message
