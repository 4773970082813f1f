"""The command line: every command answers --help; plugins and settings are listed."""

import json

import click
from click.testing import CliRunner

from core.cli import cli


def all_commands(group: click.Group, ctx: click.Context, prefix=()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, ctx, (*prefix, name))


def test_every_command_has_help():
    runner = CliRunner()
    ctx = click.Context(cli, info_name="kopilka", obj=None)
    ctx.params["deployment"] = "demo"
    paths = list(all_commands(cli, ctx))
    assert {("serve",), ("worker",), ("scheduler",), ("db", "migrate"), ("db", "status"), ("plugins",),
            ("demo", "load"), ("business-date", "close")} <= {p for p, _ in paths}
    for path, command in paths:
        result = runner.invoke(cli, ["-d", "demo", *path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert command.help or command.short_help, f"kopilka {' '.join(path)} has no help text"


def test_plugins_json_lists_contributions():
    result = CliRunner().invoke(cli, ["-d", "demo", "plugins", "--json"])
    assert result.exit_code == 0, result.output
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    example = plugins["example"]
    assert example["enabled"] and example["version"] == "0.1.0"
    assert "register_tasks" in example["hooks"] and "settings_schema" in example["hooks"]
    assert "/example/tips" in example["routes"]
    assert example["tables"] == ["example_tips"] and example["tasks"] == ["example.add_tip"]
    assert plugins["core.jobs"]["essential"] and "core.close_of_day" in plugins["core.jobs"]["tasks"]


def test_plugins_lists_the_installed_plugins_a_deployment_leaves_off():
    result = CliRunner().invoke(cli, ["-d", "core", "plugins", "--json"])
    assert result.exit_code == 0, result.output
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["core.ledger"]["enabled"]
    example = plugins["example"]
    assert not example["enabled"] and example["version"] == "0.1.0" and "register_tasks" in example["hooks"]
    assert example["routes"] == example["tables"] == example["tasks"] == []  # off: it adds nothing
    only_enabled = CliRunner().invoke(cli, ["-d", "core", "plugins", "--json", "--enabled"])
    assert all(p["enabled"] for p in json.loads(only_enabled.stdout))
    table = CliRunner().invoke(cli, ["-d", "core", "plugins"])
    assert "payments.bank_transfer" in table.stdout and "…" not in table.stdout  # not cut short in a pipe


def test_kopilka_deployment_chooses_the_file_and_demo_is_the_default(tmp_path):
    def enabled(env, *args):
        result = CliRunner().invoke(cli, [*args, "plugins", "--json", "--enabled"], env=env)
        assert result.exit_code == 0, result.output
        return {p["name"] for p in json.loads(result.stdout)}

    assert "example" not in enabled({"KOPILKA_DEPLOYMENT": "core"})
    site = tmp_path / "site.toml"
    site.write_text('[platform]\nplugins = ["example"]\n')
    assert "example" in enabled({"KOPILKA_DEPLOYMENT": str(site)})
    from core.plugins import ESSENTIAL_PLUGINS, available_plugins

    # Without either, deployments/demo.toml: every installed plugin.
    assert enabled({"KOPILKA_DEPLOYMENT": None}) == set(ESSENTIAL_PLUGINS) | set(available_plugins())
    assert "example" not in enabled({"KOPILKA_DEPLOYMENT": str(site)}, "-d", "core")  # the flag wins


def test_settings_are_shown_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv("EXAMPLE_GREETING", "top secret greeting")
    path = tmp_path / "d.toml"
    path.write_text('[platform]\nplugins = ["example"]\n[plugins.example]\ngreeting = { env = "EXAMPLE_GREETING" }\n')
    result = CliRunner().invoke(cli, ["-d", str(path), "settings"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["plugins"]["example"]["greeting"] == "********"
    assert shown["core"]["web"]["secret_key"] == "********"
    assert "top secret" not in result.output


def test_a_real_deployment_does_not_run_on_the_development_secret(tmp_path):
    """Session CSRF tokens, code hashes and (without pii_keys) personal data all derive from it."""
    path = tmp_path / "site.toml"
    path.write_text('[platform]\nname = "real site"\n')
    for command in ("serve", "worker", "scheduler"):
        result = CliRunner().invoke(cli, ["-d", str(path), command])
        assert result.exit_code != 0 and "web.secret_key" in result.output, (command, result.output)


def test_a_real_deployment_refuses_the_sandbox_outbox(tmp_path):
    """The outbox shows every one-time code to admins: fine in a demo, an account takeover in production."""
    path = tmp_path / "site.toml"
    path.write_text('[platform]\nplugins = ["notify.outbox"]\n[web]\nsecret_key = "this site\'s own key"\n')
    result = CliRunner().invoke(cli, ["-d", str(path), "worker"])
    assert result.exit_code != 0, result.output
    assert "plugin 'notify.outbox': key 'plugins': sandbox only" in result.output


def test_a_real_https_deployment_keeps_its_cookies_secure(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('[web]\nbase_url = "https://kopilka.example"\nsecret_key = "own key"\ncookie_secure = false\n')
    result = CliRunner().invoke(cli, ["-d", str(path), "scheduler"])
    assert result.exit_code != 0 and "web.cookie_secure = false" in result.output, result.output


def test_cookies_are_secure_by_default_on_https():
    from core.deployment import WebSection

    assert WebSection(base_url="https://kopilka.example").secure_cookies
    assert not WebSection(base_url="http://127.0.0.1:8000").secure_cookies
    assert not WebSection(base_url="https://kopilka.example", cookie_secure=False).secure_cookies
