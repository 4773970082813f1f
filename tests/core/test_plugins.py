"""The plugin system's promises to plugin authors: what every hook may take, and how events fail."""

import inspect
import logging
import types

import pytest

import core.hookspecs
from core import hookimpl
from core.errors import ConfigError
from core.platform import Platform
from core.plugins import PluginSet

BEFORE_SETTINGS = {"plugin_requires", "settings_schema"}  # called before any settings exist


def hook_names():
    return [n for n, fn in inspect.getmembers(core.hookspecs, inspect.isfunction) if hasattr(fn, "kopilka_spec")]


@pytest.mark.parametrize("hook", sorted(set(hook_names()) - BEFORE_SETTINGS))
def test_every_hook_may_take_settings(hook):
    """hooks.md and the hookspecs promise it; pluggy refuses an argument its spec lacks."""
    assert "settings" in inspect.signature(getattr(core.hookspecs, hook)).parameters
    plugin = types.ModuleType("greedy")
    setattr(plugin, hook, hookimpl(lambda settings: None))
    PluginSet().add("greedy", plugin)


def test_a_hook_asking_for_an_argument_it_is_not_given_fails_in_one_line():
    plugin = types.ModuleType("typo")
    plugin.on_publication = hookimpl(lambda platform, pub: None)
    with pytest.raises(ConfigError) as info:
        Platform.from_deployment("deployments/site.toml", text="[platform]\nplugins = []\n",
                                 extra_plugins={"typo": plugin})
    assert str(info.value) == (
        "deployments/site.toml: plugin 'typo': key 'on_publication': asks for pub, which the hook does not give: "
        "on_publication(platform, publication, settings)"
    )


async def test_a_failing_listener_is_logged_and_the_others_still_hear_the_event():
    heard = []

    def listener(name, fails):
        plugin = types.ModuleType(name)

        async def on_user_registered(user):
            heard.append((name, user))
            if fails:
                raise RuntimeError("mail server down")

        plugin.on_user_registered = hookimpl(on_user_registered)
        return plugin

    plugins = PluginSet()
    plugins.add("first", listener("first", fails=False))
    plugins.add("broken", listener("broken", fails=True))
    plugins.add("last", listener("last", fails=False))
    logged: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = logged.append
    logger = logging.getLogger("core.plugins")
    logger.addHandler(handler)
    try:
        await plugins.emit("on_user_registered", user="ann")  # the registration stands: no error here
    finally:
        logger.removeHandler(handler)
    assert sorted(heard) == [("broken", "ann"), ("first", "ann"), ("last", "ann")]
    assert [r.getMessage() for r in logged] == ["plugin 'broken': on_user_registered listener failed"]
    assert logged[0].exc_info[0] is RuntimeError
    with pytest.raises(RuntimeError, match="mail server down"):
        await plugins.emit("on_user_registered", user="bob", strict=True)


async def test_two_file_stores_with_one_name_stop_the_start(make_platform):
    class Store:
        def __init__(self, where):
            self.name, self.where = "s3", where

    plugin = types.ModuleType("stores")
    plugin.register_file_stores = hookimpl(lambda register: [register(Store("a")), register(Store("b"))])
    with pytest.raises(ValueError, match="file store 's3' is already registered by 'stores'"):
        await make_platform([], settings={"core.projects": {"file_store": "s3"}}, extra_plugins={"stores": plugin})


async def test_a_service_that_cannot_start_stops_the_ones_that_did(make_platform):
    events = []

    class Listener:
        async def start(self):
            events.append("listener started")

        async def stop(self):
            events.append("listener stopped")

    class Broken:
        async def start(self):
            raise RuntimeError("cannot reach the bureau")

    plugin = types.ModuleType("services")
    plugin.register_services = hookimpl(lambda register: [register(Listener()), register(Broken())])
    with pytest.raises(RuntimeError, match="cannot reach the bureau"):
        await make_platform([], extra_plugins={"services": plugin})
    assert events == ["listener started", "listener stopped"]
