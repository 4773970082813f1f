"""Deployments compose different apps; a disabled plugin contributes nothing; third-party plugins load by entry point."""

from importlib import metadata

from core.platform import Platform
from core.testing import app_client
from core.web.app import create_app


def contributions(platform):
    app = create_app(platform)
    routes = {route.path for route in app.routes}
    platform.piccolo_app_modules()
    tables = {t for loaded in platform.plugins for t in loaded.tables}
    tasks = set(platform.tasks.names())
    return routes, tables, tasks


def test_demo_and_core_deployments_differ():
    demo = Platform.from_deployment("demo")
    core = Platform.from_deployment("core")
    demo_routes, demo_tables, demo_tasks = contributions(demo)
    core_routes, core_tables, core_tasks = contributions(core)
    assert set(core.plugins.plugins) < set(demo.plugins.plugins)
    assert core_routes < demo_routes and core_tables < demo_tables and core_tasks <= demo_tasks
    assert "/healthz" in core_routes and "taskiq_messages" in core_tables


def test_a_disabled_plugin_contributes_nothing():
    enabled = Platform.from_deployment("t.toml", text='[platform]\nplugins = ["example"]\n')
    disabled = Platform.from_deployment("t.toml", text="[platform]\nplugins = []\n")
    on_routes, on_tables, on_tasks = contributions(enabled)
    off_routes, off_tables, off_tasks = contributions(disabled)
    assert on_routes - off_routes == {"/example/tips", "/api/v1/example/tips"}
    assert on_tables - off_tables == {"example_tips"}
    assert on_tasks - off_tasks == {"example.add_tip"}
    assert "example" not in disabled.plugins
    assert all(not name.startswith("example") for name in off_tasks)


def test_example_plugin_is_installed_through_its_entry_point():
    names = {ep.name: ep.value for ep in metadata.entry_points(group="kopilka.plugins")}
    assert names.get("example") == "kopilka_example.plugin"


async def test_example_plugin_end_to_end(make_platform, jobs):
    platform = await make_platform(["example"], settings={"example": {"greeting": "Копите", "tip_every_minutes": 5}})
    definition = platform.tasks.get("example.add_tip")
    assert definition.schedule[0]["cron"] == "*/5 * * * *"
    await definition.fn(platform)
    async with app_client(platform) as http:
        page = await http.get("/example/tips", headers={"accept-language": "ru"})
        assert page.status_code == 200 and "Копите" in page.text and "Советы по накоплению" in page.text
        tips = (await http.get("/api/v1/example/tips")).json()
        assert len(tips) == 1 and tips[0]["text"]
        home = await http.get("/", headers={"accept-language": "en"})
        assert "Saving tips" in home.text


async def test_a_throwaway_plugin_listens_for_one_block(platform):
    from core import hookimpl

    heard = []

    class Listener:
        @hookimpl
        def on_user_registered(self, user):
            heard.append(user)

    with platform.plugins.temporary("listener", Listener()):
        await platform.plugins.emit("on_user_registered", platform=platform, user="ann")
    await platform.plugins.emit("on_user_registered", platform=platform, user="bob")
    assert heard == ["ann"] and "listener" not in platform.plugins
