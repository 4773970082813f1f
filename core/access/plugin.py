"""Permissions and roles: the vocabulary of who may do what."""

from core import hookimpl


@hookimpl
def permissions(register):
    register("admin.access", "Open the admin area")
