"""Every admin route of the demo deployment is guarded: 403 for customers, 401/sign-in for strangers."""

import tomllib
from pathlib import Path

from core.access.testing import admin_cases, assert_admin_routes_guarded
from core.testing import all_plugin_names, app_client
from core.users.testing import FAST_HASHING, make_user, sign_in
from core.web.app import create_app

DEMO = Path(__file__).resolve().parents[2] / "deployments" / "demo.toml"


def demo_plugins() -> list[str]:
    enabled = tomllib.loads(DEMO.read_text())["platform"]["plugins"]
    return sorted(set(enabled) | set(all_plugin_names()))


async def test_every_admin_route_refuses_customers_and_strangers(make_platform):
    platform = await make_platform(plugins=demo_plugins(), settings=FAST_HASHING)
    app = create_app(platform)
    customer = await make_user(platform)
    async with app_client(platform, app=app) as as_customer, app_client(platform, app=app) as anonymous:
        await sign_in(as_customer, customer.login)
        cases = await assert_admin_routes_guarded(app, customer=as_customer, anonymous=anonymous)
    walked = {case.template for case in cases}
    # The walk finds routes by itself: these are only a sample of what it must have seen.
    assert {"/admin", "/admin/users", "/api/v1/admin/users/{user_id:uuid}", "/admin/audit"} <= walked


async def test_the_walk_catches_an_unguarded_route(make_platform):
    from litestar import get

    from core import hookimpl

    @get("/admin/oops", include_in_schema=False)
    async def oops() -> str:
        return "open"

    class Careless:
        @hookimpl
        def routes(self):
            return [oops]

    platform = await make_platform(settings=FAST_HASHING, extra_plugins={"careless": Careless()})
    app = create_app(platform)
    assert any(c.template == "/admin/oops" for c in admin_cases(app))
    async with app_client(platform, app=app) as anonymous:
        try:
            await assert_admin_routes_guarded(app, customer=anonymous, anonymous=anonymous)
        except AssertionError as exc:
            assert "/admin/oops" in str(exc)
        else:
            raise AssertionError("an unguarded admin route went unnoticed")
