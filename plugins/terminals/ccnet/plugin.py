"""CashCode CCNET bill validators for cash terminals (a driver of the ``terminals`` plugin)."""

from core import hookimpl
from plugins.terminals.ccnet.driver import CcnetDriver
from plugins.terminals.driver_settings import DriverSettings


@hookimpl
def plugin_requires():
    return ["terminals"]


@hookimpl
def settings_schema():
    return DriverSettings


@hookimpl
def register_terminal_drivers(register, settings):
    register(CcnetDriver(baudrate=settings.baudrate, reply_timeout_s=settings.reply_timeout_ms / 1000))
