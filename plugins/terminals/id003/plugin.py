"""JCM ID-003 bill validators for cash terminals (a driver of the ``terminals`` plugin)."""

from core import hookimpl
from plugins.terminals.driver_settings import DriverSettings
from plugins.terminals.id003.driver import Id003Driver


@hookimpl
def plugin_requires():
    return ["terminals"]


@hookimpl
def settings_schema():
    return DriverSettings


@hookimpl
def register_terminal_drivers(register, settings):
    register(Id003Driver(baudrate=settings.baudrate, reply_timeout_s=settings.reply_timeout_ms / 1000))
