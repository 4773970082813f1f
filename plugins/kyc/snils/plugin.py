"""SNILS: the insurance number's check digits, by the Pension Fund's algorithm."""

from core import hookimpl
from plugins.kyc.snils.check import SnilsCheck


@hookimpl
def plugin_requires():
    return ["kyc"]


@hookimpl
def register_kyc_checks(register):
    register(SnilsCheck())
